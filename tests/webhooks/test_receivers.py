"""The webhook receivers over real HTTP on 127.0.0.1, each behaviour through every front door
(the aiohttp.web handler, the ASGI app in a Starlette app under uvicorn, the bare ASGI app
under uvicorn), fed by real sandbox deliveries or by deliveries signed here."""

from __future__ import annotations

import asyncio
import logging

import pytest

from layers_async import (
    JobCompletedEvent,
    JobFailedEvent,
    Secret,
    TestPingEvent,
    WebhookEvent,
)
from tests.webhooks.conftest import Calls, Rig, ping_event

pytestmark = pytest.mark.anyio


async def test_a_sandbox_job_completed_reaches_its_typed_handler(rig: Rig) -> None:
    """A real `job.completed` delivery runs the handler registered for `JobCompletedEvent`
    (typed, with the job's id) and the one registered by name, not the `JobFailedEvent` one."""
    by_class, by_name, failed, other = Calls(), Calls(), Calls(), Calls()
    rig.receiver.on(JobCompletedEvent)(by_class)
    rig.receiver.on("job.completed")(by_name)
    rig.receiver.on(JobFailedEvent)(failed)
    rig.receiver.on_unhandled(other)
    await rig.register(["job.completed", "job.failed"])
    project = await rig.client.projects.create(name="Acme", timezone="UTC")
    job = await rig.client.content.slideshow_builder(project.id, hook="Hello")
    await rig.sandbox.advance(600)
    [event] = await by_class.wait()
    assert isinstance(event, JobCompletedEvent)
    assert event.data.job_id == job.job_id
    assert event.data.project_id == project.id
    assert await by_name.wait() == [event]
    await rig.receiver.drain()
    assert (failed.events, other.events) == ([], [])
    [delivery] = await rig.client.webhook_endpoints.deliveries(rig.endpoint_id).to_list()
    assert (delivery.status, delivery.last_response_status) == ("delivered", 200)


async def test_a_bad_or_missing_signature_is_400_and_runs_no_handler(rig: Rig) -> None:
    """A delivery signed with another secret, or with no signature header, is answered 400
    with the reason, and no handler (nor the catch-all) runs."""
    calls = Calls()
    rig.receiver.on("test.ping")(calls)
    rig.receiver.on_unhandled(calls)
    await rig.register()
    status, answer = await rig.deliver(ping_event(), secret="whsec_not-the-one")
    assert (status, answer["reason"], answer["ok"]) == (400, "no_match", False)
    body, headers = rig.signed(ping_event())
    del headers["X-Layers-Signature"]
    status, answer, _ = await rig.post(body, headers)
    assert (status, answer["reason"]) == (400, "missing_header")
    await rig.receiver.drain()
    assert calls.events == []


async def test_a_malformed_header_or_body_is_400(rig: Rig) -> None:
    """A signature header that does not parse is `malformed`; a correctly signed body that is
    not JSON, or not an event object, is `invalid_payload`: 400 each, and no handler runs."""
    calls = Calls()
    rig.receiver.on_unhandled(calls)
    await rig.register()
    body, headers = rig.signed(ping_event())
    status, answer, _ = await rig.post(body, {**headers, "X-Layers-Signature": "t=1,v1"})
    assert (status, answer["reason"]) == (400, "malformed")
    for raw in (b"not json", b"[1, 2]", b'{"id": 5, "type": "test.ping"}'):
        status, answer, _ = await rig.post(*rig.signed(raw))
        assert (status, answer["reason"]) == (400, "invalid_payload")
    await rig.receiver.drain()
    assert calls.events == []


async def test_a_tampered_body_is_400(rig: Rig) -> None:
    """A body changed after signing (one character) no longer matches: 400 `no_match`."""
    calls = Calls()
    rig.receiver.on("test.ping")(calls)
    await rig.register()
    body, headers = rig.signed(ping_event())
    status, answer, _ = await rig.post(body.replace(b"hello", b"jello"), headers)
    assert (status, answer["reason"]) == (400, "no_match")
    await rig.receiver.drain()
    assert calls.events == []


async def test_a_stale_signature_is_400(rig: Rig) -> None:
    """A delivery signed longer ago than the tolerance (300 s) is refused as `stale`; one at
    the edge of it is accepted."""
    calls = Calls()
    rig.receiver.on(TestPingEvent)(calls)
    await rig.register()
    status, answer = await rig.deliver(ping_event(), age=400)
    assert (status, answer["reason"]) == (400, "stale")
    status, answer = await rig.deliver(ping_event(), age=290)
    assert (status, answer["reason"]) == (200, "accepted")
    assert len(await calls.wait()) == 1


async def test_a_duplicate_event_id_runs_the_handlers_once(rig: Rig) -> None:
    """The same event delivered twice is answered 200 both times, the second as `duplicate`,
    and its handler runs once; an event-id header naming another event is refused."""
    calls = Calls()
    rig.receiver.on(TestPingEvent)(calls)
    await rig.register()
    first = await rig.deliver(ping_event())
    again = await rig.deliver(ping_event())
    assert [s for s, _ in (first, again)] == [200, 200]
    assert [a["reason"] for _, a in (first, again)] == ["accepted", "duplicate"]
    assert again[1]["eventId"] == ping_event()["id"]
    body, headers = rig.signed(ping_event("evt_other"))
    headers["X-Layers-Event-Id"] = "evt_something_else"
    status, answer, _ = await rig.post(body, headers)
    assert (status, answer["reason"]) == (400, "event_id_mismatch")
    await rig.receiver.drain()
    assert len(calls.events) == 1


async def test_an_unknown_event_type_goes_to_the_catch_all(rig: Rig) -> None:
    """An event type the SDK does not know reaches the catch-all as a plain `WebhookEvent`
    with its data as a dict; the typed handlers do not run."""
    typed, caught = Calls(), Calls()
    rig.receiver.on(TestPingEvent)(typed)
    rig.receiver.on_unhandled(caught)
    await rig.register()
    event = {"id": "evt_new", "type": "widget.exploded", "data": {"size": 3}}
    status, answer = await rig.deliver(event)
    assert (status, answer["reason"]) == (200, "accepted")
    [got] = await caught.wait()
    assert type(got) is WebhookEvent
    assert (got.type, got.data) == ("widget.exploded", {"size": 3})
    assert typed.events == []


async def test_a_failing_handler_keeps_the_2xx_and_is_logged(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler raising does not change the 200 the sandbox got; the error is logged with
    the event id, and the next handler still runs."""
    after = Calls()

    async def broken(event: WebhookEvent) -> None:
        raise RuntimeError("handler bug")

    rig.receiver.on("test.ping")(broken)
    rig.receiver.on("test.ping")(after)
    await rig.register()
    with caplog.at_level(logging.ERROR, logger="layers_async.webhooks"):
        event_id = await rig.ping()
        await after.wait()
        await rig.receiver.drain()
    [delivery] = await rig.client.webhook_endpoints.deliveries(rig.endpoint_id).to_list()
    assert (delivery.event_id, delivery.last_response_status) == (event_id, 200)
    [record] = [r for r in caplog.records if r.name == "layers_async.webhooks"]
    assert event_id in record.getMessage()
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "handler bug"


async def test_a_method_other_than_post_is_405(rig: Rig) -> None:
    """GET and PUT are answered 405 with `Allow: POST`, and nothing is processed."""
    calls = Calls()
    rig.receiver.on_unhandled(calls)
    await rig.register()
    body, headers = rig.signed(ping_event())
    for method in ("GET", "PUT"):
        status, answer, response_headers = await rig.post(body, headers, method=method)
        assert (status, answer["reason"]) == (405, "method_not_allowed")
        assert response_headers["Allow"] == "POST"
    await rig.receiver.drain()
    assert calls.events == []


async def test_a_body_too_large_is_413_and_its_retry_is_processed(rig: Rig) -> None:
    """A body over `max_body_bytes` is refused with 413 without being remembered: the same
    event sent again (now within the limit) is accepted, not taken for a duplicate."""
    calls = Calls()
    rig.receiver.on(TestPingEvent)(calls)
    await rig.register()
    event = ping_event(message="x" * 600)
    rig.receiver.max_body_bytes = 512
    status, answer = await rig.deliver(event)
    assert (status, answer["reason"]) == (413, "too_large")
    rig.receiver.max_body_bytes = 4096
    status, answer = await rig.deliver(event)
    assert (status, answer["reason"]) == (200, "accepted")
    assert len(await calls.wait()) == 1


async def test_a_rotated_endpoint_verifies_with_either_secret(rig: Rig) -> None:
    """After a rotation the sandbox signs with both secrets, so a receiver holding the new one,
    the previous one, or both accepts every delivery; hand-signed, a receiver holding two
    secrets accepts a body signed by either."""
    calls = Calls()
    rig.receiver.on(TestPingEvent)(calls)
    await rig.register()
    old = rig.secret
    new = (await rig.client.webhook_endpoints.rotate_secret(rig.endpoint_id)).signing_secret
    rotations: list[list[str | Secret]] = [[new], [old], [new.reveal(), old]]
    for count, secrets in enumerate(rotations, start=1):
        rig.receiver.set_secrets(secrets)
        await rig.ping()
        await calls.wait(count)
    for n, secret in enumerate([old, new.reveal()]):
        status, answer = await rig.deliver(ping_event(f"evt_hand_{n}"), secret=secret)
        assert (status, answer["reason"]) == (200, "accepted")
    assert len(await calls.wait(5)) == 5


async def test_closing_waits_for_running_handlers_then_refuses_with_503(rig: Rig) -> None:
    """`aclose()` returns only once the running handler finished; afterwards deliveries get
    503 (the sender retries them later)."""
    release = asyncio.Event()
    started, finished = Calls(), Calls()

    async def slow(event: WebhookEvent) -> None:
        await started(event)
        await release.wait()
        await finished(event)

    rig.receiver.on("test.ping")(slow)
    await rig.register()
    assert (await rig.deliver(ping_event()))[0] == 200
    await started.wait()
    assert rig.receiver.pending == 1
    closing = asyncio.create_task(rig.receiver.aclose())
    await asyncio.sleep(0)
    assert not closing.done()
    release.set()
    await closing
    assert len(finished.events) == 1
    assert rig.receiver.pending == 0
    status, answer = await rig.deliver(ping_event("evt_late"))
    assert (status, answer["reason"]) == (503, "closed")
