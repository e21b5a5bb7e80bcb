"""A client fed by real webhook deliveries: a `WebhookReceiver` on 127.0.0.1 registered with the
sandbox as an endpoint, its `client=` the client under test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from layers_async import LayersClient, WebhookReceiver

#: The events the waiters listen to.
EVENTS = ("job.completed", "job.failed", "job.canceled", "social_account.connected")


@asynccontextmanager
async def fed(client: LayersClient) -> AsyncIterator[WebhookReceiver]:
    """Deliveries of the client's organization's events reach `client.webhooks.feed`."""
    made: list[WebhookReceiver] = []  # the receiver, once the endpoint gave its secret

    async def handle(request: web.Request) -> web.StreamResponse:
        return await made[0].aiohttp_handler()(request)

    app = web.Application()
    app.router.add_post("/hooks", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        endpoint = await client.webhook_endpoints.create(
            url=f"http://127.0.0.1:{port}/hooks", events=list(EVENTS)
        )
        made.append(WebhookReceiver([endpoint.signing_secret], client=client))
        yield made[0]
    finally:
        if made:
            await made[0].aclose()
        await runner.cleanup()
