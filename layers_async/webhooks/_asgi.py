"""The ASGI 3 front door of a `WebhookReceiver`: no framework needed, any ASGI server runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from ._receiver import EVENT_ID_HEADER, WebhookResult
from ._verify import SIGNATURE_HEADER

if TYPE_CHECKING:
    from ._receiver import WebhookReceiver

__all__ = ["ASGIReceive", "ASGIScope", "ASGISend", "WebhookASGIApp"]

#: The ASGI types, as Starlette spells them (so the app goes where an ``ASGIApp`` does).
ASGIScope = MutableMapping[str, Any]
ASGIReceive = Callable[[], Awaitable[MutableMapping[str, Any]]]
ASGISend = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_SIGNATURE = SIGNATURE_HEADER.lower().encode("latin-1")
_EVENT_ID = EVENT_ID_HEADER.lower().encode("latin-1")


class WebhookASGIApp:
    """An ASGI 3 application delivering each ``POST`` to a `WebhookReceiver` (make one with
    `WebhookReceiver.asgi`). Answers ``405`` to other methods, ``404`` to other paths when
    it has a `path`, lifespan startup at once and lifespan shutdown after the receiver's
    handlers drained; a websocket is closed."""

    __slots__ = ("path", "receiver")

    def __init__(self, receiver: WebhookReceiver, path: str | None = None) -> None:
        self.receiver = receiver
        #: The only path served, or None for any (under a router, the route decides).
        self.path = path

    async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1003})

    async def _lifespan(self, receive: ASGIReceive, send: ASGISend) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.receiver.drain()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        if self.path is not None and scope.get("path") != self.path:
            await _respond(send, WebhookResult(404, "not_found"))
            return
        if scope.get("method") != "POST":
            await _respond(send, WebhookResult(405, "method_not_allowed"))
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope.get("headers", ()):
            headers.setdefault(bytes(name).lower(), bytes(value))
        try:
            length = headers.get(b"content-length")
            body = await _read(receive, length, self.receiver.max_body_bytes)
        except _Disconnected:
            return  # the sender left: nobody to answer, nothing accepted
        if body is None:
            await _respond(send, WebhookResult(413, "too_large"))
            return
        result = await self.receiver.receive(
            body, _text(headers.get(_SIGNATURE)), _text(headers.get(_EVENT_ID))
        )
        await _respond(send, result)

    def __repr__(self) -> str:
        return f"WebhookASGIApp(path={self.path!r})"


class _Disconnected(Exception):
    """The client went away before the whole body arrived."""


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


async def _read(receive: ASGIReceive, length: bytes | None, limit: int) -> bytes | None:
    """The whole body, or None once it is over `limit` bytes; `_Disconnected` if the client
    left first."""
    if length is not None and length.strip().isdigit() and int(length) > limit:
        return None
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(body)


async def _respond(send: ASGISend, result: WebhookResult) -> None:
    headers = [(b"content-type", b"application/json")]
    if result.status == 405:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": result.status, "headers": headers})
    await send({"type": "http.response.body", "body": result.body()})
