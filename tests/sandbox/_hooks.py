"""Webhook test helpers: a real receiver on 127.0.0.1, an HMAC computed here (not by the
sandbox or the SDK), and raw-HTTP shortcuts for endpoints and their deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from tests.sandbox._flows import connect_account, create_project, ok, schedule, shift
from tests.sandbox._http import Api

ENDPOINTS = "/v1/webhook-endpoints"
OUTBOX = "/_sandbox/webhooks/outbox"
#: The waits before attempts 2 to 8 (virtual seconds).
LADDER = [30, 60, 300, 900, 3600, 21600, 86400]


class Receiver:
    """An aiohttp.web app on 127.0.0.1 recording every POST and answering `status`.

    Endpoints may add `?to=<tag>` to its `url`; `tags` records the tag of each hit, so that
    one receiver tells several endpoints apart."""

    def __init__(self) -> None:
        self.hits: list[tuple[dict[str, str], bytes]] = []
        self.tags: list[str] = []
        #: Cleared, the receiver holds its answers (requests are recorded) until it is set.
        self.answer = asyncio.Event()
        self.answer.set()
        self.status = 200
        self.arrived = asyncio.Condition()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request and answer the configured status."""
        body = await request.read()
        async with self.arrived:
            self.hits.append((dict(request.headers), body))
            self.tags.append(request.query.get("to", ""))
            self.arrived.notify_all()
        await self.answer.wait()
        if self.status == 0:  # never answer in time
            await asyncio.sleep(1)
        return web.Response(status=self.status)

    async def wait_for(self, count: int) -> None:
        """Until `count` requests have arrived."""
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.hits) >= count), 10)


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    """A `Receiver` served on 127.0.0.1 and a free port; its `url` is the hook path."""
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rec.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield rec
    finally:
        await runner.cleanup()


def expected(secret: str, t: str, body: bytes) -> str:
    """The v1 signature computed independently of the sandbox."""
    key = secret.encode()
    return hmac.new(key, t.encode() + b"." + body, hashlib.sha256).hexdigest()


def signatures(headers: dict[str, str]) -> tuple[str, list[str]]:
    """`t` and the `v1` values of an `X-Layers-Signature` header."""
    parts = [p.split("=", 1) for p in headers["X-Layers-Signature"].split(",")]
    t = [v for k, v in parts if k == "t"]
    assert len(t) == 1
    return t[0], [v for k, v in parts if k == "v1"]


async def endpoint(
    api: Api, url: str, headers: dict[str, str] | None = None, **fields: Any
) -> tuple[str, str]:
    """Create an endpoint for `url`; return (id, signing secret)."""
    body = {"url": url, "events": ["job.completed", "post.published"], **fields}
    out = ok(await api.post(ENDPOINTS, body, headers=headers or {}), 201)
    return out["endpoint"]["id"], out["signingSecret"]


async def deliveries(
    api: Api, wh: str, headers: dict[str, str] | None = None, **query: str
) -> list[dict[str, Any]]:
    """GET .../deliveries as a list of WebhookDelivery objects."""
    path = f"{ENDPOINTS}/{wh}/deliveries"
    items: list[dict[str, Any]] = ok(await api.get(path, params=query, headers=headers))["items"]
    return items


async def settled(
    api: Api, wh: str, headers: dict[str, str] | None = None, **query: str
) -> list[Any]:
    """The deliveries once no attempt is in flight."""
    for _ in range(200):
        items = await deliveries(api, wh, headers, **query)
        if all(d["status"] != "delivering" for d in items):
            return items
        await asyncio.sleep(0.01)
    raise AssertionError("a delivery stayed in flight")


async def failed_once(
    api: Api, receiver: Receiver, status: int = 500, expect: int | None = 500, **headers: str
) -> Any:
    """Ping a new endpoint of `receiver` answering `status`; after the first attempt failed,
    return (endpoint id, the test answer, the pending delivery)."""
    receiver.status = status
    wh, _ = await endpoint(api, receiver.url, headers=headers)
    sent = ok(await api.post(f"{ENDPOINTS}/{wh}/test", headers=headers))
    await api.get("/v1/whoami")
    await receiver.wait_for(1)
    [d] = await settled(api, wh, headers=headers)
    assert (d["status"], d["attempts"], d["lastResponseStatus"]) == ("pending", 1, expect)
    return wh, sent, d


def publish_to(sa: str) -> list[dict[str, Any]]:
    """The targets of a post to account `sa` in `publish` mode."""
    return [{"socialAccountId": sa, "mode": "publish"}]


async def project_with_account(api: Api, platform: str = "tiktok") -> tuple[str, str]:
    """A new project (no app fields) with a connected account: (project id, account id)."""
    pid = str((await create_project(api, app=False))["id"])
    return pid, await connect_account(api, pid, platform=platform)


async def schedule_in(api: Api, cid: str, sa: str, seconds: float, status: int = 201) -> Any:
    """Schedule `cid` on account `sa` `seconds` after the sandbox's now; the answer body."""
    when = shift(await api.now(), seconds)
    return ok(await schedule(api, cid, when, publish_to(sa)), status)
