"""A client fed by real webhook deliveries: a `WebhookReceiver` on 127.0.0.1 registered with the
sandbox as an endpoint, its `client=` the client under test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from layers_async import LayersClient, WebhookReceiver
from layers_async.cli.webhook_demo import local_receiver


@asynccontextmanager
async def fed(client: LayersClient) -> AsyncIterator[WebhookReceiver]:
    """Deliveries of the client's organization's waiter events reach `client.webhooks.feed`."""
    async with local_receiver(client) as (receiver, _):
        yield receiver
