"""A receiver fed to a client lets the waiters an event wakes return before it answers the
delivery: the answer's socket write is not on the path from receipt to a waiter's return."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import aiohttp
import pytest

from layers_async import WebhookEvent, WebhookReceiver, WebhookResult
from tests.webhooks._serve import DOORS, Door, serve
from tests.webhooks.conftest import ping_event

pytestmark = pytest.mark.anyio
SECRET = "whsec_wake-order-test-secret"


class OneWaiter:
    """A receiver's `client=` whose ``webhooks.feed`` wakes one waiting task, as a client's
    `feed` wakes its waiters."""

    def __init__(self) -> None:
        self.woken: asyncio.Future[WebhookEvent] = asyncio.get_running_loop().create_future()

    @property
    def webhooks(self) -> OneWaiter:
        """The event sink (itself)."""
        return self

    def feed(self, event: WebhookEvent) -> int:
        """Wake the waiter with `event`."""
        if not self.woken.done():
            self.woken.set_result(event)
        return 1


class Recording(WebhookReceiver):
    """A receiver noting in `order` when `receive` hands its answer to the front door."""

    order: list[str]

    async def receive(
        self, raw_body: bytes, signature: str | None, event_id: str | None = None
    ) -> WebhookResult:
        """`WebhookReceiver.receive`, then "answered" (the door writes the answer after)."""
        result = await super().receive(raw_body, signature, event_id)
        self.order.append("answered")
        return result


@pytest.mark.parametrize("door", DOORS)
async def test_a_woken_waiter_returns_before_the_delivery_is_answered(
    door: Door, session: aiohttp.ClientSession
) -> None:
    """Through every front door, the task an accepted event wakes has returned before the
    receiver's answer is written, and the answer is still 200 accepted."""
    sink = OneWaiter()
    receiver = Recording([SECRET], client=sink)
    receiver.order = []

    async def waiter() -> None:
        await sink.woken
        receiver.order.append("waiter returned")

    waiting = asyncio.create_task(waiter())
    body = json.dumps(ping_event()).encode()
    t = int(time.time())
    v1 = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    async with serve(receiver, door) as url:
        headers = {"X-Layers-Signature": f"t={t},v1={v1}"}
        async with session.post(url, data=body, headers=headers) as r:
            assert (r.status, (await r.json())["reason"]) == (200, "accepted")
        await waiting
    await receiver.aclose()
    assert receiver.order == ["waiter returned", "answered"]
