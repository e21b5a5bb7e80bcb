"""What every resource namespace shares: building requests and decoding answers."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, TypedDict, TypeVar

from .._config import Timeouts
from .._errors import LayersValidationError
from .._pagination import AsyncPaginator, Page
from .._request import (
    DEFAULT_CALL,
    NOT_GIVEN,
    CallOptions,
    NotGiven,
    RawResponse,
    RequestSpec,
    decode,
    decode_page,
)
from .._validation import (
    check_extra_headers,
    check_idempotency_key,
    check_int,
    check_str,
    check_timeout,
)
from ..models import JSON
from ..models._base import LayersModel
from ..models.jobs import Job

if TYPE_CHECKING:
    from .._client import LayersClient

# A runtime import, so that `typing.get_type_hints` resolves the methods' `**options`.
if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # cattrs and aiohttp install typing_extensions on Python 3.10
    from typing_extensions import Unpack

__all__ = [
    "ListCall",
    "ListOptions",
    "Params",
    "RequestOptions",
    "Resource",
    "Unpack",
    "call_options",
    "list_options",
    "options",
]

M = TypeVar("M", bound=LayersModel)
Params = list[tuple[str, str]]


def options(
    timeout: float | Timeouts | NotGiven | None,
    idempotency_key: str | None,
    extra_headers: Mapping[str, str] | None,
) -> CallOptions:
    """Validate the per-call keywords every method takes."""
    check_timeout(timeout)
    if idempotency_key is not None:
        check_idempotency_key(idempotency_key)
    check_extra_headers(extra_headers)
    if (
        idempotency_key is not None
        and extra_headers
        and any(name.lower() == "idempotency-key" for name in extra_headers)
    ):
        # Two sources for one header: refuse rather than silently send one of them.
        raise LayersValidationError(
            "extra_headers", "sets Idempotency-Key, which idempotency_key= sets too: pass one"
        )
    if isinstance(timeout, NotGiven) and idempotency_key is None and extra_headers is None:
        return _DEFAULT
    return CallOptions(
        timeout=timeout, idempotency_key=idempotency_key, extra_headers=extra_headers
    )


#: The options of a call that passed none: the transport recognises this one object and
#: skips reading its fields.
_DEFAULT = DEFAULT_CALL


class RequestOptions(TypedDict, total=False):
    """The keywords every resource method takes besides its own, all optional.

    - `timeout`: this call's deadline: seconds, a `Timeouts`, or None for none (default: the
      client's);
    - `idempotency_key`: the `Idempotency-Key` header of a call that is not a GET (1-255
      visible ASCII characters; default: one made per call and sent again with its retries);
    - `extra_headers`: headers added to this call's request.

    Methods declare them as ``**options: Unpack[RequestOptions]``, so type checkers and IDEs
    check and complete them; `help()` and `inspect.signature` show them as keyword-only
    parameters with their defaults.
    """

    timeout: float | Timeouts | NotGiven | None
    idempotency_key: str | None
    extra_headers: Mapping[str, str] | None


class ListOptions(RequestOptions, total=False):
    """The keywords every list method takes besides its own: `limit`, the most items a page
    holds (its range is the method's), `cursor`, where to start (a page's `next_cursor`),
    and the `RequestOptions`."""

    limit: int | None
    cursor: str | None


class ListCall(NamedTuple):
    """What a list method received as `**options`, the call options validated."""

    options: CallOptions
    limit: int | None
    cursor: str | None


#: The default of each call option, as a method without it behaves.
_OPTION_DEFAULTS: dict[str, object] = {
    "timeout": NOT_GIVEN,
    "idempotency_key": None,
    "extra_headers": None,
}
#: The same for list methods, in the order their signatures show them.
_LIST_DEFAULTS: dict[str, object] = {"limit": None, "cursor": None, **_OPTION_DEFAULTS}


def _refuse_unknown(given: Mapping[str, object], known: Mapping[str, object]) -> None:
    for name in given:
        if name not in known:
            raise TypeError(
                f"got an unexpected keyword argument {name!r} (besides its own, every method "
                "takes timeout=, idempotency_key= and extra_headers=, and a list method "
                "limit= and cursor=)"
            )


def _checked(given: RequestOptions) -> CallOptions:
    return options(
        given.get("timeout", NOT_GIVEN), given.get("idempotency_key"), given.get("extra_headers")
    )


def call_options(given: RequestOptions) -> CallOptions:
    """Validate the `**options` a resource method received; refuse any other keyword."""
    if not given:
        return _DEFAULT
    _refuse_unknown(given, _OPTION_DEFAULTS)
    return _checked(given)


def list_options(given: ListOptions) -> ListCall:
    """`call_options` for a list method; `limit` is checked against the method's range later,
    when the first page is asked for."""
    if not given:
        return _NO_LIST_OPTIONS
    _refuse_unknown(given, _LIST_DEFAULTS)
    return ListCall(_checked(given), given.get("limit"), given.get("cursor"))


_NO_LIST_OPTIONS = ListCall(_DEFAULT, None, None)

#: The keywords `**options` stands for, by its annotation.
_SPELLED = {"Unpack[RequestOptions]": _OPTION_DEFAULTS, "Unpack[ListOptions]": _LIST_DEFAULTS}


def _spell_out_options(method: object) -> None:
    """Show `**options: Unpack[RequestOptions]` to `help()` and `inspect.signature` as the
    keyword-only parameters it stands for."""
    if not inspect.isfunction(method):
        return
    sig = inspect.signature(method)
    *params, last = sig.parameters.values()
    if last.kind is not inspect.Parameter.VAR_KEYWORD or last.annotation not in _SPELLED:
        return
    hints = ListOptions.__annotations__  # ForwardRefs: this module defers annotations
    spelled = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=default,
            annotation=getattr(hints[name], "__forward_arg__", hints[name]),
        )
        for name, default in _SPELLED[last.annotation].items()
    ]
    method.__signature__ = sig.replace(parameters=[*params, *spelled])  # type: ignore[attr-defined]


def paging(params: Params, cursor: str | None, limit: int | None, lo: int, hi: int) -> Params:
    """Add `limit` (validated) and `cursor` to a list call's query."""
    out = list(params)
    if limit is not None:
        out.append(("limit", str(check_int("limit", limit, lo, hi))))
    if cursor is not None:
        out.append(("cursor", cursor))
    return out


class Resource:
    """Base of the namespaces (`client.projects`, ...); holds the client view it sends through."""

    __slots__ = ("_client",)

    def __init__(self, client: LayersClient) -> None:
        self._client = client

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        for name, attr in vars(cls).items():
            if not name.startswith("_"):
                _spell_out_options(attr)

    def _send(self, spec: RequestSpec) -> Coroutine[object, object, RawResponse]:
        """The transport's `send` of `spec`, to await (no coroutine of its own in between)."""
        return self._client._transport.send(spec)

    async def _read(
        self,
        cls: type[M],
        path: str,
        opts: CallOptions,
        *,
        params: Sequence[tuple[str, str]] | None = None,
    ) -> M:
        """`GET path`, decoded into `cls`: a read-light route."""
        raw = await self._send(RequestSpec("GET", path, "read-light", params, None, opts))
        return decode(raw, cls)

    async def _write(
        self,
        cls: type[M],
        method: str,
        path: str,
        opts: CallOptions,
        *,
        body: Mapping[str, JSON] | None = None,
    ) -> M:
        """A PATCH, a DELETE or a small synchronous POST, decoded into `cls`: a write-light
        route."""
        raw = await self._send(RequestSpec(method, path, "write-light", None, body, opts))
        return decode(raw, cls)

    async def _start_job(
        self, path: str, opts: CallOptions, *, body: Mapping[str, JSON] | None = None
    ) -> Job:
        """A POST that starts a job: a long-running route."""
        raw = await self._send(RequestSpec("POST", path, "long-running", None, body, opts))
        return decode(raw, Job)

    def _list(
        self,
        cls: type[M],
        path: str,
        params: Params,
        call: ListCall,
        *,
        hi: int,
    ) -> AsyncPaginator[M]:
        """The pages of `GET path`, items decoded into `cls`: a read-light route whose pages
        hold 1 to `hi` items."""
        opts, limit, cursor = call
        base = paging(params, None, limit, 1, hi)  # validates limit now, before any request
        if cursor is not None:
            check_str("cursor", cursor)

        async def fetch(cur: str | None) -> Page[M]:
            query = base if cur is None else [*base, ("cursor", cur)]
            raw = await self._send(RequestSpec("GET", path, "read-light", query, None, opts))
            items, nxt = decode_page(raw, cls)
            return Page(items, nxt, raw.meta)

        return AsyncPaginator(fetch, cursor)
