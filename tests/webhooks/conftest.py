"""Fixtures of the receiver tests: a `WebhookReceiver` served through one front door, wired
to the paused sandbox by a real webhook endpoint, and handlers that record what they get."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import attrs
import pytest

from layers_async import LayersClient, Sandbox, WebhookEvent, WebhookEventType, WebhookReceiver
from tests.webhooks._serve import DOORS, Door, serve

pytestmark = pytest.mark.anyio


class Calls:
    """An async handler recording every event it gets; `wait` until it has `count`."""

    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: WebhookEvent) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait(self, count: int = 1) -> list[WebhookEvent]:
        """The events once there are at least `count` (a hang guard of 10 s)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.events) >= count), 10)
        return self.events


@attrs.define
class Rig:
    """A receiver served at `url` through `door`, the paused `sandbox`, an SDK `client`, and a
    plain `session` to send hand-made deliveries."""

    door: Door
    receiver: WebhookReceiver
    url: str
    sandbox: Sandbox
    client: LayersClient
    session: aiohttp.ClientSession
    endpoint_id: str = ""
    secret: str = ""

    async def register(self, events: Sequence[WebhookEventType] = ("job.completed",)) -> str:
        """Create a sandbox endpoint for `url`; the receiver gets its secret. Its id."""
        created = await self.client.webhook_endpoints.create(url=self.url, events=events)
        self.endpoint_id = created.endpoint.id
        self.secret = created.signing_secret.reveal()
        self.receiver.set_secrets([self.secret])
        return self.endpoint_id

    async def ping(self) -> str:
        """Have the sandbox send a signed `test.ping`; its event id."""
        return (await self.client.webhook_endpoints.test(self.endpoint_id)).event_id

    def signed(
        self, event: dict[str, Any] | bytes, *, secret: str | None = None, age: int = 0
    ) -> tuple[bytes, dict[str, str]]:
        """`event` as a body (raw bytes as they are) and the headers a sender signing with
        `secret` (default: the endpoint's) `age` seconds ago would send."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        t = int(time.time()) - age
        key = (secret or self.secret).encode()
        v1 = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Layers-Signature": f"t={t},v1={v1}"}
        if isinstance(event, dict):
            headers["X-Layers-Event-Id"] = event["id"]
        return body, headers

    async def post(
        self, body: bytes, headers: dict[str, str], method: str = "POST", url: str | None = None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Send one request to the receiver: (status, JSON answer, response headers)."""
        async with self.session.request(method, url or self.url, data=body, headers=headers) as r:
            return r.status, await r.json(content_type=None), dict(r.headers)

    async def deliver(self, event: dict[str, Any], **signing: Any) -> tuple[int, dict[str, Any]]:
        """Sign and POST `event` (see `signed`): (status, JSON answer)."""
        status, answer, _ = await self.post(*self.signed(event, **signing))
        return status, answer


def ping_event(event_id: str = "evt_01HZZZZZZZZZZZZZZZZZZZZZZ1", **data: Any) -> dict[str, Any]:
    """A `test.ping` event body as the API sends it (`data` overrides fields)."""
    fields = {"message": "hello", "organizationId": "org_1", "endpointId": "wh_1", **data}
    return {
        "id": event_id,
        "type": "test.ping",
        "createdAt": "2026-05-14T16:00:00.000Z",
        "data": fields,
    }


@pytest.fixture(params=DOORS)
async def rig(
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    client: LayersClient,
    session: aiohttp.ClientSession,
) -> AsyncIterator[Rig]:
    """A receiver (placeholder secret until `register`) served through each front door."""
    receiver = WebhookReceiver(["whsec_placeholder"])
    async with serve(receiver, request.param) as url:
        yield Rig(request.param, receiver, url, sandbox, client, session)
        await receiver.aclose()
