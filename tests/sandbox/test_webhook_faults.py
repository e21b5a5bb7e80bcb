"""Webhook faults for tests (`webhookDropRate`, `webhookFailRate`): a seeded share of delivery
attempts never reaches the receiver; a dropped one is booked as delivered (lost after the
sender saw success), a failed one climbs the retry ladder."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import aiohttp
import pytest

from layers_async.sandbox import Sandbox, SandboxConfigError
from tests.sandbox._flows import ok
from tests.sandbox._hooks import ENDPOINTS, OUTBOX, Receiver, endpoint, settled
from tests.sandbox._http import Api

pytestmark = pytest.mark.anyio

FAILED_BY_FAULT = "Connection failed: injected by webhookFailRate."
MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]


async def ping(api: Api, wh: str, count: int = 1) -> list[str]:
    """Send `count` test pings and run their first attempts; their delivery ids."""
    ids = [ok(await api.post(f"{ENDPOINTS}/{wh}/test"))["deliveryId"] for _ in range(count)]
    await api.get("/v1/whoami")  # the next request runs the due attempts
    return ids


async def test_a_dropped_delivery_never_arrives_and_counts_as_delivered(
    api: Api, receiver: Receiver
) -> None:
    """With `webhookDropRate: 1` nothing reaches the receiver, the delivery is `delivered`
    after one attempt with no response status, and no retry ever comes."""
    await api.configure({"webhookDropRate": 1})
    wh, _ = await endpoint(api, receiver.url)
    [sent] = await ping(api, wh)
    [d] = await settled(api, wh)
    assert (d["id"], d["status"], d["attempts"]) == (sent, "delivered", 1)
    assert (d["lastResponseStatus"], d["lastErrorMessage"], d["nextRetryAt"]) == (None,) * 3
    await api.advance(86400 * 2)
    assert receiver.hits == []
    e = ok(await api.get(f"{ENDPOINTS}/{wh}"))
    assert (e["consecutiveFailureCount"], e["lastFailureAt"]) == (0, None)


async def test_a_failed_attempt_is_unseen_and_retried_on_the_ladder(
    api: Api, receiver: Receiver
) -> None:
    """With `webhookFailRate: 1` the receiver sees nothing, the attempt fails with a message
    naming the fault and the retry is due 30 s later; once the rate is 0 that retry arrives
    with the same event id."""
    await api.configure({"webhookFailRate": 1})
    wh, _ = await endpoint(api, receiver.url)
    await ping(api, wh)
    [d] = await settled(api, wh)
    assert (d["status"], d["attempts"], d["lastResponseStatus"]) == ("pending", 1, None)
    assert d["lastErrorMessage"] == FAILED_BY_FAULT
    assert d["nextRetryAt"] == "2026-05-14T16:00:30.000Z"
    assert receiver.hits == []
    e = ok(await api.get(f"{ENDPOINTS}/{wh}"))
    assert e["consecutiveFailureCount"] == 1
    await api.configure({"webhookFailRate": 0})
    await api.advance(30)
    await receiver.wait_for(1)
    [d] = await settled(api, wh)
    assert (d["status"], d["attempts"]) == ("delivered", 2)
    assert receiver.hits[0][0]["X-Layers-Event-Id"] == d["eventId"]


async def test_faults_leave_the_outbox_empty_in_record_mode(record_api: Api) -> None:
    """In `record` mode a dropped or failed attempt writes nothing to the outbox."""
    await record_api.configure({"webhookDropRate": 0.5, "webhookFailRate": 0.5})
    wh, _ = await endpoint(record_api, "https://example.com/hook")
    await ping(record_api, wh, 6)
    statuses = {d["status"] for d in await settled(record_api, wh)}
    assert statuses <= {"delivered", "pending"}
    assert ok(await record_api.get(OUTBOX))["items"] == []


async def outcomes(make_sandbox: MakeSandbox, session: aiohttp.ClientSession, seed: int) -> str:
    """Which of 40 pings were dropped ("x") or recorded (".") at drop rate 0.5 and `seed`."""
    async with make_sandbox(seed=seed, webhook_delivery="record", webhook_drop_rate=0.5) as sb:
        api = Api(session, sb.url, sb.api_key)
        wh, _ = await endpoint(api, "https://example.com/hook")
        await ping(api, wh, 40)
        recorded = {i["deliveryId"] for i in ok(await api.get(OUTBOX))["items"]}
        items = await settled(api, wh, limit="100")
        assert {d["status"] for d in items} == {"delivered"}
        return "".join("." if d["id"] in recorded else "x" for d in reversed(items))


async def test_the_same_seed_drops_the_same_deliveries(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """The drops are drawn from a stream seeded by `seed`: the same seed drops the same
    deliveries, another seed others, and about the configured share."""
    first = await outcomes(make_sandbox, session, 3)
    assert first == await outcomes(make_sandbox, session, 3)
    assert first != await outcomes(make_sandbox, session, 4)
    assert 10 <= first.count("x") <= 30


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"webhook_drop_rate": 1.5}, "webhookDropRate"),
        ({"webhook_fail_rate": -0.1}, "webhookFailRate"),
        ({"webhook_fail_rate": "0.2"}, "webhookFailRate"),
        ({"webhook_drop_rate": True}, "webhookDropRate"),
        ({"webhook_drop_rate": 0.6, "webhook_fail_rate": 0.5}, "webhookFailRate"),
    ],
)
async def test_fault_rates_are_validated_at_start(options: dict[str, object], path: str) -> None:
    """A rate outside 0-1, not a number, or two rates adding up to more than 1 are refused."""
    with pytest.raises(SandboxConfigError) as caught:
        Sandbox(**options)
    assert [i["path"] for i in caught.value.issues] == [path]


async def test_fault_rates_are_options_and_patchable(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """`Sandbox(webhook_drop_rate=…)` sets the key (default 0), `PATCH /_sandbox/config` changes
    both and refuses a bad value with 422 naming it."""
    async with make_sandbox(webhook_drop_rate=0.2) as sb:
        assert (sb.config["webhookDropRate"], sb.config["webhookFailRate"]) == (0.2, 0)
        api = Api(session, sb.url, sb.api_key)
        cfg = await api.configure({"webhookDropRate": 0, "webhookFailRate": 0.25})
        assert (cfg["webhookDropRate"], cfg["webhookFailRate"]) == (0, 0.25)
        r = await api.patch("/_sandbox/config", {"webhookFailRate": 2})
        assert (r.status, r.issue_paths) == (422, ["webhookFailRate"])
        assert (await sb.configure(webhook_drop_rate=0.5))["webhookDropRate"] == 0.5
