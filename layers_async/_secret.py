"""`Secret`: a minted secret that never shows itself by accident; `key_hint`, a key's safe form."""

from __future__ import annotations

import hmac
import re
from typing import NoReturn

__all__ = ["Secret", "key_hint", "secret_hint"]

_KEY_PREFIX = re.compile(r"^lp_(live|test)_[0-9A-HJKMNP-TV-Z]{16}")
#: A webhook signing secret starts with this; the rest is the secret.
_SIGNING_PREFIX = "whsec_"


def key_hint(key: str) -> str:
    """The log-safe form of a key: its `lp_<env>_<keyId16>` prefix, never the secret."""
    m = _KEY_PREFIX.match(key)
    return f"{m.group(0)}_…" if m else "<redacted>"


def secret_hint(value: str) -> str:
    """The log-safe form of a minted secret: an API key's prefix, or `whsec_…` for a webhook
    signing secret; nothing of the secret part either way."""
    if value.startswith(_SIGNING_PREFIX):
        return _SIGNING_PREFIX + "…"
    return key_hint(value)


class Secret:
    """A secret the API shows once: a child API key, a rotated key, a webhook signing secret.

    Its `repr`, `str` and f-string form show only a log-safe hint (an API key's public
    prefix ``lp_live_<keyId16>_…``, or ``whsec_…``), never the secret, so printing a minted
    key, logging a response or putting one in an exception message does not leak it. Read the
    value on purpose with `reveal()` (or its alias `get_secret_value()`, as pydantic's
    `SecretStr` spells it), e.g. to store it in your secrets manager.

    A `Secret` is accepted wherever the SDK takes a key: ``client.with_options(api_key=secret)``.
    Two secrets are equal when their values are (compared in constant time); a secret never
    equals a plain string. It refuses to be pickled (`TypeError`): pickling would write it in
    clear, so pickle ``secret.reveal()`` explicitly if you must. Models holding a `Secret`
    (`ChildApiKeyCreated`, ...) therefore do not pickle either, and their ``to_dict()`` shows
    the hint, not the secret.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds a string, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The secret itself. Store it somewhere safe; never log it."""
        return self._value

    def get_secret_value(self) -> str:
        """The secret itself (the name pydantic's `SecretStr` uses); same as `reveal()`."""
        return self._value

    @property
    def hint(self) -> str:
        """The log-safe form: an API key's public prefix, or `whsec_…`."""
        return secret_hint(self._value)

    def __repr__(self) -> str:
        return f"Secret({self.hint!r})"

    def __str__(self) -> str:
        return self.hint

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __copy__(self) -> Secret:
        return self  # immutable

    def __deepcopy__(self, memo: object) -> Secret:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a Secret is not pickled (that would write it in clear); "
            "pickle secret.reveal() explicitly if you must"
        )
