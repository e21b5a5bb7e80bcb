"""Verify a webhook delivery and decode its event (contract §3.15.10).

::

    from layers_async import WebhookVerificationError, verify_webhook

    try:
        event = verify_webhook(raw_body, request.headers.get("X-Layers-Signature"), [secret])
    except WebhookVerificationError:
        return 400
    if isinstance(event, JobCompletedEvent):
        ...

Pass the raw body bytes exactly as received (not re-encoded JSON) and every secret currently
valid for the endpoint: during a secret rotation both the new and the previous one.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import re
import time
from collections.abc import Sequence
from typing import Any, Literal

from .._errors import LayersValidationError, WebhookVerificationError
from .._secret import Secret
from .._serde import _response_model_hook, converter, loads
from ..models.webhooks import EVENT_CLASSES, WebhookEvent

__all__ = ["SIGNATURE_HEADER", "KeyForm", "decode_event", "verify_webhook"]

#: The header carrying ``t=<unix seconds>,v1=<hex>`` (a second ``v1`` during a rotation).
SIGNATURE_HEADER = "X-Layers-Signature"
#: How a signing secret becomes the HMAC key: ``"full"``, the whole ``whsec_…`` string as UTF-8
#: (what the API documents); ``"unprefixed"``, the text after ``whsec_`` as UTF-8; ``"decoded"``,
#: the text after ``whsec_`` base64-decoded (the Standard Webhooks convention).
KeyForm = Literal["full", "unprefixed", "decoded"]

_PREFIX = "whsec_"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
#: Longer headers, or more signatures, are refused unread (a sender signs with at most two).
_MAX_HEADER = 1024
_MAX_SIGNATURES = 8


def _finite(value: object) -> bool:
    """True for an int or float (not a bool) that is not NaN or infinite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _key(secret: str | Secret, key_form: KeyForm) -> bytes:
    """The HMAC key for one secret; a bad secret is a configuration error, named not shown."""
    text = secret.reveal() if isinstance(secret, Secret) else secret
    if not isinstance(text, str) or not text:
        raise LayersValidationError("secrets", "each secret must be a non-empty string or Secret")
    if key_form == "full":
        return text.encode("utf-8")
    rest = text[len(_PREFIX) :] if text.startswith(_PREFIX) else text
    if key_form == "unprefixed":
        return rest.encode("utf-8")
    try:
        return base64.b64decode(rest + "=" * (-len(rest) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise LayersValidationError(
            "secrets", 'a secret is not base64 after "whsec_" (key_form="decoded")'
        ) from None


def _parse_header(header: str) -> tuple[int, list[bytes]]:
    """``t`` and every ``v1`` (as the 32 bytes it spells) of a signature header (step 1);
    other schemes are ignored."""
    if len(header) > _MAX_HEADER:
        raise WebhookVerificationError("malformed", f"the header is over {_MAX_HEADER} chars")
    timestamp: int | None = None
    signatures: list[bytes] = []
    for part in header.split(","):
        name, eq, value = part.strip().partition("=")
        if not eq:
            raise WebhookVerificationError("malformed", "a part of the header has no '='")
        if name == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(value):
                raise WebhookVerificationError("malformed", "t must appear once, in unix seconds")
            timestamp = int(value)
        elif name == "v1":
            if not _SIGNATURE.fullmatch(value):
                raise WebhookVerificationError("malformed", "a v1 signature is not 64 hex digits")
            signatures.append(bytes.fromhex(value))
    if timestamp is None:
        raise WebhookVerificationError("malformed", "the header has no t= timestamp")
    if not signatures or len(signatures) > _MAX_SIGNATURES:
        raise WebhookVerificationError("malformed", "the header needs 1 to 8 v1= signatures")
    return timestamp, signatures


def verify_webhook(
    raw_body: bytes,
    signature_header: str | None,
    secrets: Sequence[str | Secret],
    tolerance_seconds: float = 300,
    now: float | None = None,
    *,
    key_form: KeyForm = "full",
) -> WebhookEvent:
    """Verify a delivery's ``X-Layers-Signature`` and return its event (contract §3.15.10).

    1. The header is split on ``,`` and each part on its first ``=``: one integer ``t``, one
       or more 64-hex-digit ``v1`` (other schemes are ignored).
    2. ``|now - t|`` must be at most `tolerance_seconds` (default 300), either way: an old
       delivery is ``stale``, one from the future ``future``. `now` defaults to ``time.time()``.
    3. For every secret, ``HMAC-SHA256(key, f"{t}." + raw_body)`` in hex is compared, in
       constant time, with every ``v1``: any match verifies.
    4. Only then is the body parsed, into the `WebhookEvent` subclass of its ``type``
       (`decode_event`).

    `key_form` says how a secret becomes the HMAC key (`KeyForm`): ``"full"`` (the default,
    as documented) uses the whole ``whsec_…`` string; switch if the live API signs otherwise.
    Raises `WebhookVerificationError` (its `reason`: ``missing_header``, ``malformed``,
    ``stale``, ``future``, ``no_match``, ``invalid_payload``) for a delivery to refuse, and
    `LayersValidationError` for bad arguments (no secrets, a secret that is not a string).
    """
    if isinstance(secrets, (str, Secret)) or not isinstance(secrets, Sequence) or not secrets:
        raise LayersValidationError("secrets", "must be a non-empty list of signing secrets")
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        raise LayersValidationError("raw_body", "must be the raw body bytes, as received")
    if not _finite(tolerance_seconds) or tolerance_seconds < 0:
        raise LayersValidationError("tolerance_seconds", "must be a finite number >= 0")
    if now is not None and not _finite(now):
        raise LayersValidationError("now", "must be a finite unix time in seconds")
    if key_form not in ("full", "unprefixed", "decoded"):
        raise LayersValidationError("key_form", 'must be "full", "unprefixed" or "decoded"')
    return _verified(raw_body, signature_header, secrets, key_form, tolerance_seconds, now)


def _verified(
    raw_body: bytes,
    signature_header: str | None,
    secrets: Sequence[str | Secret],
    key_form: KeyForm,
    tolerance_seconds: float,
    now: float | None,
) -> WebhookEvent:
    """Steps 1 to 4 of `verify_webhook`, its arguments already checked."""
    keys = [_key(secret, key_form) for secret in secrets]
    if signature_header is not None and not isinstance(signature_header, str):
        raise WebhookVerificationError("malformed", "the header is not text")
    if signature_header is None or not signature_header.strip():
        raise WebhookVerificationError("missing_header", f"no {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse_header(signature_header)
    age = (time.time() if now is None else now) - timestamp
    if age > tolerance_seconds:
        raise WebhookVerificationError(
            "stale", f"signed {int(age)} s ago (tolerance {tolerance_seconds:g} s)"
        )
    if -age > tolerance_seconds:
        raise WebhookVerificationError(
            "future", f"signed {int(-age)} s ahead of now (tolerance {tolerance_seconds:g} s)"
        )
    body = bytes(raw_body)
    message = b"%d." % timestamp + body
    matched = False
    for key in keys:
        expected = hmac.digest(key, message, "sha256")
        for signature in signatures:
            # Every pair is compared (no early exit), each in constant time.
            matched |= hmac.compare_digest(expected, signature)
    if not matched:
        raise WebhookVerificationError("no_match", "no signature matches the secrets given")
    try:
        payload = loads(body)
    except ValueError:
        raise WebhookVerificationError("invalid_payload", "the body is not JSON") from None
    return decode_event(payload)


_generic = _response_model_hook(WebhookEvent)


def decode_event(payload: Any) -> WebhookEvent:
    """Decode a parsed event body into the model of its ``type`` (`EVENT_CLASSES`).

    An unknown type, or a known one whose ``data`` lacks what its model needs, stays a plain
    `WebhookEvent` (its `data` a dict). A payload that is not an event object (no string ``id``
    and ``type``, a ``data`` that is not an object) raises `WebhookVerificationError`
    (``invalid_payload``). Also reachable as ``converter.structure(payload, WebhookEvent)``.
    """
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("id"), str)
        or not isinstance(payload.get("type"), str)
        or not isinstance(payload.get("data", {}), dict)
    ):
        raise WebhookVerificationError("invalid_payload", "the body is not an event object")
    cls = EVENT_CLASSES.get(payload["type"])
    if cls is not None:
        try:
            return converter.structure(payload, cls)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            pass  # an event the model cannot hold is still delivered, undecoded
    try:
        event: WebhookEvent = _generic(payload, WebhookEvent)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        # createdAt or replayOf unreadable: keep what identifies the event.
        event = WebhookEvent(id=payload["id"], type=payload["type"], data=payload.get("data", {}))
    return event


converter.register_structure_hook_func(lambda t: t is WebhookEvent, lambda v, _: decode_event(v))
