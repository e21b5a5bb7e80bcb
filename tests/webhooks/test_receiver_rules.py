"""The receiver's rules that do not depend on the front door, over real HTTP through the
aiohttp.web handler: the bounded dedup store, ids remembered only once accepted (so the
sandbox's retry after a 5xx is processed), `client=` feeding, `key_form`, and the ASGI app's
own path check and lifespan."""

from __future__ import annotations

import asyncio

import pytest

from layers_async import (
    MemoryDedupStore,
    PollPolicy,
    TestPingEvent,
    WebhookEvent,
    WebhookReceiver,
)
from tests.webhooks._serve import _socket, serve, uvicorn_server
from tests.webhooks.conftest import Calls, Rig, ping_event

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("rig", ["aiohttp"], indirect=True),
]

#: A safety net that never polls within a test: only events can end the waits.
NEVER = PollPolicy(initial=600.0, max_interval=600.0, jitter=0.0, first_delay=600.0)


async def settled(rig: Rig, attempts: int) -> tuple[str, int | None]:
    """(status, last response status) of the endpoint's only delivery once it has made
    `attempts` attempts and none is in flight."""
    for _ in range(500):
        [d] = await rig.client.webhook_endpoints.deliveries(rig.endpoint_id).to_list()
        if d.attempts == attempts and d.status != "delivering":
            return d.status, d.last_response_status
        await asyncio.sleep(0.01)
    raise AssertionError("the delivery never settled")


async def test_the_memory_store_keeps_only_the_newest_ids(rig: Rig) -> None:
    """With `MemoryDedupStore(max_events=2)` the oldest id is evicted by a third event: the
    first event, sent again, is processed again, while the newest is still a duplicate."""
    calls = Calls()
    rig.receiver.on(TestPingEvent)(calls)
    rig.receiver.dedup = store = MemoryDedupStore(max_events=2)
    await rig.register()
    for name in ("evt_a", "evt_b", "evt_c", "evt_a", "evt_a"):
        await rig.deliver(ping_event(name))
    await rig.receiver.drain()
    assert [e.id for e in calls.events] == ["evt_a", "evt_b", "evt_c", "evt_a"]
    assert (len(store), "evt_b" in store, "evt_c" in store) == (2, False, True)


class FlakyStore(MemoryDedupStore):
    """A dedup store whose first call fails, as a shared store that is briefly unreachable."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def seen_or_add(self, event_id: str) -> bool:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("store unreachable")
        return await super().seen_or_add(event_id)


async def test_a_delivery_answered_5xx_is_processed_on_the_senders_retry(rig: Rig) -> None:
    """When the dedup store fails the receiver answers 500 and remembers nothing; the
    sandbox's retry 30 s later is accepted and the handler runs once."""
    calls = Calls()
    rig.receiver.on(TestPingEvent)(calls)
    rig.receiver.dedup = FlakyStore()
    await rig.register()
    event_id = await rig.ping()
    assert await settled(rig, 1) == ("pending", 500)
    await rig.sandbox.advance(30)
    assert await settled(rig, 2) == ("delivered", 200)
    [event] = await calls.wait()
    assert event.id == event_id


async def test_a_dispatch_failure_forgets_the_id(rig: Rig) -> None:
    """If the event cannot be dispatched the answer is 500 `dispatch_failed` and its id is
    not kept, so the same delivery sent again is accepted."""
    calls = Calls()
    rig.receiver.on(TestPingEvent)(calls)
    await rig.register()

    def broken(event: WebhookEvent) -> None:
        raise RuntimeError("registry failure")

    rig.receiver._taps.append(broken)
    status, answer = await rig.deliver(ping_event())
    assert (status, answer["reason"]) == (500, "dispatch_failed")
    rig.receiver._taps.remove(broken)
    status, answer = await rig.deliver(ping_event())
    assert (status, answer["reason"]) == (200, "accepted")
    assert len(await calls.wait()) == 1


class Feeds:
    """Stands for `client.webhooks`: records what it is fed."""

    def __init__(self) -> None:
        self.fed: list[WebhookEvent] = []

    def feed(self, event: WebhookEvent) -> None:
        self.fed.append(event)


class FakeClient:
    """Any object with `webhooks.feed(event)` can be the receiver's `client=`."""

    def __init__(self) -> None:
        self.webhooks = Feeds()


async def test_client_is_fed_every_accepted_event_once(rig: Rig) -> None:
    """`client=` gets each verified, non-duplicate event, and nothing for refused or
    duplicate deliveries."""
    fake = FakeClient()
    receiver = WebhookReceiver(["whsec_placeholder"], client=fake)
    await rig.register()
    receiver.set_secrets([rig.secret])
    body, headers = rig.signed(ping_event())
    async with serve(receiver, "aiohttp") as url:
        answers = [
            await rig.post(body, headers, url=url),
            await rig.post(body, headers, url=url),
            await rig.post(body + b" ", headers, url=url),
        ]
    assert [a["reason"] for _, a, _ in answers] == ["accepted", "duplicate", "no_match"]
    assert [e.id for e in fake.webhooks.fed] == [ping_event()["id"]]
    assert receiver.client is fake


async def test_a_layers_client_wakes_its_job_wait_on_the_delivered_event(rig: Rig) -> None:
    """`client=` a `LayersClient`: the sandbox's job.completed delivery ends that client's
    `wait_for_job` on the event alone (its safety net never polls within the test)."""
    receiver = WebhookReceiver(["whsec_placeholder"], client=rig.client)
    async with serve(receiver, "aiohttp") as url:
        rig.url = url
        await rig.register()
        receiver.set_secrets([rig.secret])
        rig.client.webhooks.enable(NEVER)
        project = await rig.client.projects.create(name="Acme", timezone="UTC")
        job = await rig.client.content.slideshow_builder(project.id, hook="Hello")
        waiting = asyncio.create_task(rig.client.wait_for_job(job, timeout=30))
        polls = rig.client.polls_sent
        await rig.sandbox.advance(600)
        done = await waiting
        await receiver.aclose()
    assert (done.job_id, done.status) == (job.job_id, "completed")
    assert rig.client.webhooks.answered_by_events == 1
    assert rig.client.polls_sent == polls


async def test_key_form_is_applied_to_every_delivery(rig: Rig) -> None:
    """A receiver told the key is the text after `whsec_` refuses the sandbox's deliveries
    (signed with the whole secret) with 400, which the sandbox records; no handler runs."""
    calls = Calls()
    await rig.register()
    receiver = WebhookReceiver([rig.secret], key_form="unprefixed")
    receiver.on_unhandled(calls)
    async with serve(receiver, "aiohttp") as url:
        await rig.client.webhook_endpoints.update(rig.endpoint_id, url=url)
        await rig.ping()
        assert await settled(rig, 1) == ("pending", 400)
    await receiver.drain()
    assert calls.events == []


async def test_the_bare_asgi_app_checks_its_path_and_drains_on_shutdown(rig: Rig) -> None:
    """Served alone by uvicorn with a path, the ASGI app answers 404 elsewhere, and the
    server's lifespan shutdown completes only after the running handler finished."""
    order: list[str] = []
    started = Calls()
    receiver = WebhookReceiver([rig.secret or "whsec_placeholder"])

    async def slow(event: WebhookEvent) -> None:
        await started(event)
        for _ in range(20):
            await asyncio.sleep(0.001)
        order.append("handler finished")

    receiver.on("test.ping")(slow)
    await rig.register()
    receiver.set_secrets([rig.secret])
    sock = _socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with uvicorn_server(receiver, sock, "asgi"):
        body, headers = rig.signed(ping_event())
        status, answer, _ = await rig.post(body, headers, url=f"{base}/elsewhere")
        assert (status, answer["reason"]) == (404, "not_found")
        status, answer, _ = await rig.post(body, headers, url=f"{base}/layers/webhooks")
        assert (status, answer["reason"]) == (200, "accepted")
        await started.wait()
    order.append("server stopped")
    sock.close()
    assert order == ["handler finished", "server stopped"]
