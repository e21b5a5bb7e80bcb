"""The ``aiohttp.web`` front door of a `WebhookReceiver` (imported only when asked for, so
``import layers_async`` does not load ``aiohttp.web``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from ._receiver import EVENT_ID_HEADER, WebhookResult
from ._verify import SIGNATURE_HEADER

if TYPE_CHECKING:
    from ._receiver import WebhookReceiver

__all__ = ["aiohttp_handler"]

_ALLOW = {"Allow": "POST"}


def _answer(result: WebhookResult) -> web.Response:
    headers = _ALLOW if result.status == 405 else None
    return web.Response(
        status=result.status, body=result.body(), content_type="application/json", headers=headers
    )


async def _read(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is over `limit` bytes (the rest is not read)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(65_536):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def aiohttp_handler(
    receiver: WebhookReceiver,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An ``aiohttp.web`` handler passing each request to `receiver` (see
    `WebhookReceiver.aiohttp_handler`)."""

    async def handle_webhook(request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            return _answer(WebhookResult(405, "method_not_allowed"))
        body = await _read(request, receiver.max_body_bytes)
        if body is None:
            return _answer(WebhookResult(413, "too_large"))
        headers = request.headers
        result = await receiver.receive(
            body, headers.get(SIGNATURE_HEADER), headers.get(EVENT_ID_HEADER)
        )
        return _answer(result)

    return handle_webhook
