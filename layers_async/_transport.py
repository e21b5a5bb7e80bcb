"""The one place a request is sent: URL and headers, Idempotency-Key, timeouts, error mapping.

Every resource method builds a `RequestSpec` and calls `Transport.send`. Retries and rate limiting
slot in around `Transport._attempt` without touching resource code.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NamedTuple, TypeVar

import aiohttp
import attrs
from multidict import CIMultiDictProxy

from ._config import Timeouts
from ._errors import APIConnectionError, APIStatusError, APITimeoutError, error_from_response
from ._serde import dumps, loads, structure
from .models._base import LayersModel, ResponseMeta

__all__ = [
    "NOT_GIVEN",
    "CallOptions",
    "NotGiven",
    "RawResponse",
    "RequestSpec",
    "Transport",
    "decode",
]

log = logging.getLogger("layers_async")
#: aiohttp adds `Content-Type: application/octet-stream` to bodiless POST/PATCH; we send none.
_NO_AUTO_CONTENT_TYPE = ("Content-Type",)
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
    """What a resource method asks the transport to send."""

    method: str
    path: str
    params: Sequence[tuple[str, str]] | None = None
    body: Mapping[str, Any] | None = None
    options: CallOptions = DEFAULT_CALL
    accept_not_modified: bool = False


class RawResponse(NamedTuple):
    """A successful (2xx or accepted 304) response, read whole."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    meta: ResponseMeta


def decode(raw: RawResponse, cls: type[M]) -> M:
    """Decode a JSON body into `cls` and attach the response metadata."""
    obj = structure(loads(raw.body), cls)
    object.__setattr__(obj, "_meta", raw.meta)
    return obj


class Transport:
    """Sends requests for one client view (its headers and default timeouts)."""

    __slots__ = ("_base_url", "_default_timeout", "_headers", "_key_hint", "_session")

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        base_url: str,
        headers: dict[str, str],
        timeouts: Timeouts,
        key_hint: str,
    ) -> None:
        self._session = session
        self._base_url = base_url
        self._headers = headers
        self._default_timeout = self._client_timeout(timeouts)
        self._key_hint = key_hint

    @staticmethod
    def _client_timeout(t: Timeouts) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=t.total, sock_connect=t.connect, sock_read=t.read)

    def _timeout_for(self, value: float | Timeouts | NotGiven | None) -> aiohttp.ClientTimeout:
        if isinstance(value, NotGiven):
            return self._default_timeout
        if value is None:
            return aiohttp.ClientTimeout(total=None, sock_connect=None, sock_read=None)
        if isinstance(value, Timeouts):
            return self._client_timeout(value)
        return aiohttp.ClientTimeout(
            total=float(value),
            sock_connect=self._default_timeout.sock_connect,
            sock_read=self._default_timeout.sock_read,
        )

    async def send(self, spec: RequestSpec) -> RawResponse:
        """Send one logical call; raises the typed error for any non-2xx answer."""
        opts = spec.options
        headers = self._headers
        if spec.method != "GET" or spec.body is not None or opts.extra_headers:
            headers = dict(headers)
            if spec.method != "GET":
                # One key per logical call, made before the first attempt (contract §1.8).
                headers["Idempotency-Key"] = opts.idempotency_key or str(uuid.uuid4())
            if spec.body is not None:
                headers["Content-Type"] = "application/json"
            if opts.extra_headers:
                headers.update(opts.extra_headers)
        data = dumps(spec.body) if spec.body is not None else None
        return await self._attempt(spec, headers, data, self._timeout_for(opts.timeout))

    async def _attempt(
        self,
        spec: RequestSpec,
        headers: Mapping[str, str],
        data: bytes | None,
        timeout: aiohttp.ClientTimeout,
    ) -> RawResponse:
        method = spec.method
        path = spec.path
        try:
            async with self._session().request(
                method,
                self._base_url + path,
                params=spec.params,
                data=data,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                skip_auto_headers=_NO_AUTO_CONTENT_TYPE if data is None else None,
            ) as resp:
                body = await resp.read()
                status = resp.status
                rheaders = resp.headers
        except asyncio.TimeoutError:
            # On Python >= 3.11 this also catches aiohttp's ServerTimeoutError.
            log.debug("%s %s -> timeout key=%s", method, path, self._key_hint)
            raise APITimeoutError(
                "The request timed out before a response arrived.", method=method, path=path
            ) from None
        except aiohttp.ClientError as exc:
            log.debug("%s %s -> %s key=%s", method, path, type(exc).__name__, self._key_hint)
            raise APIConnectionError(
                f"Connection failed: {type(exc).__name__}: {exc}", method=method, path=path
            ) from None
        request_id = rheaders.get("X-Request-Id")
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %s request_id=%s key=%s",
                method,
                path,
                status,
                request_id,
                self._key_hint,
            )
        if status >= 300 and not (status == 304 and spec.accept_not_modified):
            payload: Any = None
            if body:
                try:
                    payload = loads(body)
                except ValueError:
                    payload = None
            raise error_from_response(
                status,
                payload,
                request_id=request_id,
                retry_after=rheaders.get("Retry-After"),
                method=method,
                path=path,
            )
        meta = ResponseMeta(status, rheaders)
        return RawResponse(status, rheaders, body, meta)


def is_status_error(exc: BaseException, code: str) -> bool:
    """True when `exc` is an APIStatusError with the given code."""
    return isinstance(exc, APIStatusError) and exc.code == code
