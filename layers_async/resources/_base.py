"""What every resource namespace shares: building requests and decoding answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from .._config import Timeouts
from .._errors import LayersValidationError
from .._pagination import AsyncPaginator, Page
from .._transport import CallOptions, NotGiven, RawResponse, RequestSpec, decode, decode_page
from .._validation import check_idempotency_key, check_int
from ..models import JSON
from ..models._base import LayersModel
from ..models.jobs import Job

if TYPE_CHECKING:
    from .._client import LayersClient

__all__ = ["Params", "Resource", "options"]

M = TypeVar("M", bound=LayersModel)
Params = list[tuple[str, str]]


def options(
    timeout: float | Timeouts | NotGiven | None,
    idempotency_key: str | None,
    extra_headers: Mapping[str, str] | None,
) -> CallOptions:
    """Validate the per-call keywords every method takes."""
    if (
        not isinstance(timeout, (NotGiven, Timeouts))
        and timeout is not None
        and (not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0)
    ):
        raise LayersValidationError(
            "timeout", "must be a positive number of seconds, a Timeouts or None"
        )
    if idempotency_key is not None:
        check_idempotency_key(idempotency_key)
    if extra_headers is not None:
        if not isinstance(extra_headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in extra_headers.items()
        ):
            raise LayersValidationError("extra_headers", "must map header names to string values")
        if any(k.lower() == "authorization" for k in extra_headers):
            raise LayersValidationError(
                "extra_headers", "must not set Authorization (the client sends the API key)"
            )
    if isinstance(timeout, NotGiven) and idempotency_key is None and extra_headers is None:
        return _DEFAULT
    return CallOptions(
        timeout=timeout, idempotency_key=idempotency_key, extra_headers=extra_headers
    )


_DEFAULT = CallOptions()


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

    async def _send(self, spec: RequestSpec) -> RawResponse:
        return await self._client._transport.send(spec)

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
        opts: CallOptions,
        *,
        limit: int | None,
        lo: int,
        hi: int,
        cursor: str | None = None,
    ) -> AsyncPaginator[M]:
        """The pages of `GET path`, items decoded into `cls`: a read-light route."""
        base = paging(params, None, limit, lo, hi)  # validates limit now, before any request

        async def fetch(cur: str | None) -> Page[M]:
            query = base if cur is None else [*base, ("cursor", cur)]
            raw = await self._send(RequestSpec("GET", path, "read-light", query, None, opts))
            items, nxt = decode_page(raw, cls)
            return Page(items, nxt, raw.meta)

        return AsyncPaginator(fetch, cursor)
