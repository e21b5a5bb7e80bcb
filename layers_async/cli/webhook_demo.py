"""``layers-async demo --webhooks``: the demo's client fed by real webhook deliveries.

A `WebhookReceiver` on 127.0.0.1 (aiohttp.web, a free port) is registered with the embedded
sandbox as an endpoint for the events the waiters wake on, with the demo's client as its
``client=``: the flows' job and OAuth waits end the moment their event arrives and poll only as
a safety net (`SAFETY_NET_POLL`, scaled to the sandbox's speed). The summary then shows the
polls those waits sent against what they cost when polling only. `local_receiver` is the same
receiver for tests and benchmarks.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import attrs
from aiohttp import web
from aiohttp.typedefs import Middleware

from .. import (
    SAFETY_NET_POLL,
    AttemptEvent,
    LayersClient,
    SupportsWebhookFeed,
    WebhookEndpointCreated,
    WebhookEvent,
    WebhookEventType,
    WebhookReceiver,
)

__all__ = [
    "POLLING_ONLY_POLLS_PER_WAIT",
    "WAITER_EVENTS",
    "WebhookStats",
    "local_receiver",
    "receiving",
]

#: Polls per job or OAuth wait of the demo's flows when polling only, at speed 60 (measured
#: by ``benchmarks/webhooks.py``: the job wait about 4, the OAuth wait 1).
POLLING_ONLY_POLLS_PER_WAIT = 2.5
#: The events that end waits.
WAITER_EVENTS: tuple[WebhookEventType, ...] = (
    "job.completed",
    "job.failed",
    "job.canceled",
    "social_account.connected",
)
_PATH = "/layers/webhooks"


@asynccontextmanager
async def local_receiver(
    client: LayersClient,
    *,
    feed: SupportsWebhookFeed | None = None,
    events: Sequence[WebhookEventType] = WAITER_EVENTS,
    middlewares: Sequence[Middleware] = (),
) -> AsyncIterator[tuple[WebhookReceiver, WebhookEndpointCreated]]:
    """A `WebhookReceiver` served on 127.0.0.1 (a free port) and registered, for `events`, with
    the API (or sandbox) behind `client`; it feeds every verified event to `feed` (default:
    `client` itself). `middlewares` wrap the receiver's ``aiohttp.web`` handler (a benchmark
    stamps each delivery's arrival there). Yields the receiver and the endpoint; both are
    closed on exit (the endpoint stays registered)."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}{_PATH}"
        endpoint = await client.webhook_endpoints.create(url=url, events=list(events))
    except BaseException:
        sock.close()
        raise
    receiver = WebhookReceiver([endpoint.signing_secret], client=feed or client)
    app = web.Application(middlewares=list(middlewares))
    app.router.add_post(_PATH, receiver.aiohttp_handler())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield receiver, endpoint
    finally:
        await receiver.aclose()
        await runner.cleanup()
        sock.close()


@attrs.define
class WebhookStats:
    """What the receiver saw and what the event-fed waits sent."""

    #: The receiver's URL.
    url: str = ""
    #: Deliveries accepted (verified, not duplicates).
    received: int = 0
    #: Polls of job and OAuth waits.
    polls: int = 0

    def count_poll(self, event: AttemptEvent) -> None:
        """An `on_request` hook: count the polls of job and OAuth waits."""
        path = event.path.split("?", 1)[0]
        if event.method == "GET" and (
            path.startswith("/v1/jobs/") or path.endswith("/social/oauth-status")
        ):
            self.polls += 1

    def line(self, waits: int, answered: int) -> str:
        """The summary's webhooks lines for `waits` job and OAuth waits."""
        per_wait = self.polls / waits if waits else 0.0
        saved = POLLING_ONLY_POLLS_PER_WAIT * waits - self.polls
        return (
            f"webhooks: {self.received} events received on {self.url}\n"
            f"job and OAuth waits: {waits}, ended by their event alone: {answered}\n"
            f"their polls per wait: {per_wait:.2f} (polling only: about"
            f" {POLLING_ONLY_POLLS_PER_WAIT:g}), about {max(saved, 0):.0f} polls saved"
        )


@asynccontextmanager
async def receiving(client: LayersClient, speed: float, stats: WebhookStats) -> AsyncIterator[None]:
    """`local_receiver` for `client`, which becomes event-fed (its safety net scaled to the
    sandbox's `speed`) while the block runs; `stats` counts the events received."""

    async def count(event: WebhookEvent) -> None:
        stats.received += 1

    async with local_receiver(client) as (receiver, endpoint):
        stats.url = endpoint.endpoint.url
        receiver.on_unhandled(count)
        client.webhooks.enable(SAFETY_NET_POLL.scaled(1 / speed))
        yield
