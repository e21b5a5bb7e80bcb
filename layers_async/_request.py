"""What a resource method hands the transport and what it gets back.

The request side (`RequestSpec` with its `CallOptions`, `NOT_GIVEN` for a keyword the caller
did not pass), the response side (`RawResponse`, decoded into models by `decode` and
`decode_page`), and the per-attempt hooks (`AttemptEvent`, `Hooks`). The transport that sends
one lives in `_transport.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final, NamedTuple, TypeVar

import attrs

from ._config import Timeouts
from ._errors import malformed
from ._ratelimit import EndpointClass
from ._serde import converter, loads, structure
from .models._base import LayersModel, ResponseMeta

__all__ = [
    "DEFAULT_CALL",
    "NOT_GIVEN",
    "NO_HOOKS",
    "AttemptEvent",
    "CallOptions",
    "Hook",
    "Hooks",
    "NotGiven",
    "RawResponse",
    "RequestSpec",
    "decode",
    "decode_page",
]

M = TypeVar("M", bound=LayersModel)


class NotGiven:
    """Marks a keyword argument the caller did not pass (distinct from an explicit None)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()


@attrs.frozen
class CallOptions:
    """Per-call options every resource method accepts as keywords."""

    timeout: float | Timeouts | NotGiven | None = NOT_GIVEN
    idempotency_key: str | None = None
    extra_headers: Mapping[str, str] | None = None


DEFAULT_CALL = CallOptions()


class RequestSpec(NamedTuple):
    """What a resource method asks the transport to send.

    `endpoint_class` is the route's rate-limit class, declared by the resource method (the
    gate counts the call in that class's bucket).
    """

    method: str
    path: str
    endpoint_class: EndpointClass
    params: Sequence[tuple[str, str]] | None = None
    body: Mapping[str, object] | None = None
    options: CallOptions = DEFAULT_CALL
    accept_not_modified: bool = False


class RawResponse(NamedTuple):
    """A successful (2xx or accepted 304) response, read whole.

    Its status and headers live in `meta` alone (the one object the decoded model keeps).
    """

    body: bytes
    meta: ResponseMeta
    #: The request it answers (its method and path name the call in a decoding error).
    spec: RequestSpec

    @property
    def status(self) -> int:
        """HTTP status of the response."""
        return self.meta.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers."""
        return self.meta.headers


def decode(raw: RawResponse, cls: type[M]) -> M:
    """Decode a JSON body into `cls` and attach the response metadata.

    Raises `APIResponseValidationError` when the body is not a JSON object with the fields
    `cls` requires (unknown fields and enum values decode as usual).
    """
    try:
        obj = structure(loads(raw.body), cls)
    except Exception as exc:  # whatever the parser or the converter raised about this body
        raise malformed(raw, cls.__name__, exc) from None
    object.__setattr__(obj, "_meta", raw.meta)
    return obj


def decode_page(raw: RawResponse, cls: type[M]) -> tuple[tuple[M, ...], str | None]:
    """Decode a list page: its `items` into `cls`, and its `nextCursor` (None at the end).

    Raises `APIResponseValidationError` when the body is not a JSON object whose `items` is a
    list of objects with the fields `cls` requires.
    """
    try:
        data = loads(raw.body)
        found = data["items"]
        if not isinstance(found, list):
            raise TypeError("items is not a list")
        hook = _row_hook(cls)
        items = tuple([hook(item, cls) for item in found])
    except Exception as exc:  # whatever the parser or the converter raised about this body
        raise malformed(raw, f"page of {cls.__name__}", exc) from None
    nxt = data.get("nextCursor")
    return items, nxt if isinstance(nxt, str) and nxt else None


#: Each list item model's structure hook, looked up once per class rather than once per row.
_row_hooks: dict[type, Callable[[object, type], object]] = {}


def _row_hook(cls: type[M]) -> Callable[[object, type], M]:
    hook = _row_hooks.get(cls)
    if hook is None:
        hook = _row_hooks[cls] = converter.get_structure_hook(cls)
    return hook  # type: ignore[return-value]  # the converter's hook for `cls` builds a `cls`


@attrs.frozen
class AttemptEvent:
    """What the `on_request`, `on_response` and `on_retry` hooks receive about one attempt."""

    method: str
    path: str
    attempt: int
    #: HTTP status of the attempt (None before it is sent, or when no response arrived).
    status: int | None = None
    request_id: str | None = None
    #: The error this attempt ended with, if any.
    error: BaseException | None = None
    #: Seconds the call will wait before the next attempt (`on_retry` only).
    wait: float = 0.0
    #: The rate-limit class of the route (`read-light`, `write-light` or `long-running`).
    endpoint_class: EndpointClass | None = None


Hook = Callable[[AttemptEvent], None]


@attrs.frozen
class Hooks:
    """Synchronous callbacks observing attempts; a hook's exception is logged, not raised."""

    on_request: Hook | None = None
    on_response: Hook | None = None
    on_retry: Hook | None = None


NO_HOOKS = Hooks()
