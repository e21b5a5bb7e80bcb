"""The sandbox's HTTP connections: what aiohttp's parser rejects still gets the error envelope.

aiohttp answers a request its HTTP parser rejects (a request line or header over its size
limits, a control byte in a header, an invalid method, a malformed `Content-Length`) from
`RequestHandler.handle_error`, before any application code runs, with a plain-text 400. The
sandbox serves its connections with a `RequestHandler` whose `handle_error` writes the
contract's error envelope with an `X-Request-Id` instead (contract §1.10: every 4xx and 5xx
has the envelope, and `requestId` equals the header).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import http_exceptions, web

from ._errors import ApiError, internal_error
from ._responses import error_response

if TYPE_CHECKING:
    from ._app import SandboxCore

__all__ = ["SandboxProtocol", "parser_error"]

log = logging.getLogger("layers_async.sandbox")

#: aiohttp 3.10+ tells an invalid method apart from the rest of a malformed request line.
_BAD_METHOD: type[Exception] | None = getattr(http_exceptions, "BadHttpMethod", None)


def parser_error(status: int, exc: BaseException | None) -> ApiError:
    """The API error for a request aiohttp could not parse (or a failure outside the app).

    An invalid method is an unknown route (404 `NOT_FOUND`, as the app answers a well-formed
    method it has no route for); any other parser rejection is a 400 `BAD_REQUEST` naming
    what was wrong, never echoing the request's bytes (they may hold the API key).
    """
    if status >= 500:
        return internal_error()
    if _BAD_METHOD is not None and isinstance(exc, _BAD_METHOD):
        return ApiError(404, "NOT_FOUND", "No route matches this method and path.")
    if isinstance(exc, http_exceptions.LineTooLong):
        what = "The request line or a header is too long (at most 8190 bytes each)."
    elif isinstance(exc, http_exceptions.InvalidHeader):
        what = "A header is malformed (an invalid name, or a control byte in its value)."
    elif isinstance(exc, http_exceptions.BadStatusLine):
        what = "The request line is malformed (method, target or HTTP version)."
    else:
        what = "The request is not well-formed HTTP/1.1."
    return ApiError(400, "BAD_REQUEST", what)


class SandboxProtocol(web.RequestHandler):
    """aiohttp's connection handler, answering what it cannot serve with the error envelope."""

    def __init__(self, core: SandboxCore, manager: web.Server, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._sandbox_core = core

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """The envelope of `parser_error(status, exc)`; the connection closes after it."""
        if request.writer.output_size > 0:  # a response is under way: nothing can follow it
            raise ConnectionError("the response was already started; cannot send an error")
        err = parser_error(status, exc)
        if err.status != 500:  # the parser's message may quote the request, key included
            log.debug("unparseable request from %s: %s", request.remote, type(exc).__name__)
        elif not isinstance(exc, ConnectionError):  # a client that went away is no failure
            log.error("sandbox failed outside a request handler", exc_info=exc)
        resp = error_response(self._sandbox_core.request_id(), err)
        resp.force_close()
        return resp
