"""Webhook delivery rules over real HTTP to a receiver on 127.0.0.1 (contract §3.15.4-§3.15.10,
§4.10): rotation overlap, replay, routing to own, project-filtered and firehose endpoints,
deliveries held for a suspended child, and what pause and delete do to deliveries. Every
signature is checked with an HMAC computed here; time moves only by advancing the clock."""

from __future__ import annotations

import json

import pytest

from tests.sandbox._flows import builder_job, create_project, ok
from tests.sandbox._hooks import (
    ENDPOINTS,
    Receiver,
    deliveries,
    endpoint,
    expected,
    failed_once,
    settled,
    signatures,
)
from tests.sandbox._http import Api
from tests.sandbox._orgs import acting, allocate, make_child

pytestmark = pytest.mark.anyio

#: Long enough for any slideshow-builder job to end (60 s nominal, jitter up to 20 %).
JOB_SECONDS = 120


async def first_attempts(api: Api) -> None:
    """Run the attempts due now (the sandbox applies due work before each request)."""
    await api.get("/v1/whoami")


def check_signed(hit: tuple[dict[str, str], bytes], *secrets: str) -> dict[str, object]:
    """Assert the hit carries exactly one `v1` per secret, in order, each reproduced here;
    return its parsed body."""
    headers, body = hit
    t, v1 = signatures(headers)
    assert v1 == [expected(s, t, body) for s in secrets]
    event: dict[str, object] = json.loads(body)
    assert headers["X-Layers-Event-Id"] == event["id"]
    return event


async def test_rotation_overlap_reaches_the_receiver_with_both_signatures(
    api: Api, receiver: Receiver
) -> None:
    """After a rotation the receiver gets two v1 signatures (new secret first) that verify;
    a second rotation keeps the two newest secrets; 24 h later only the newest signs."""
    wh, first = await endpoint(api, receiver.url)
    second = ok(await api.post(f"{ENDPOINTS}/{wh}/rotate-secret"))["signingSecret"]
    ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    await first_attempts(api)
    await receiver.wait_for(1)
    check_signed(receiver.hits[0], second, first)
    third = ok(await api.post(f"{ENDPOINTS}/{wh}/rotate-secret"))["signingSecret"]
    ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    await first_attempts(api)
    await receiver.wait_for(2)
    check_signed(receiver.hits[1], third, second)
    await api.advance(24 * 3600)
    ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    await first_attempts(api)
    await receiver.wait_for(3)
    check_signed(receiver.hits[2], third)


async def test_a_replay_reaches_the_receiver_as_a_new_signed_event(
    api: Api, receiver: Receiver
) -> None:
    """A replay arrives as a new event (new `X-Layers-Event-Id`) with the original data and a
    top-level `replayOf` naming the replayed delivery, signed like any delivery."""
    wh, secret = await endpoint(api, receiver.url)
    sent = ok(await api.post(f"{ENDPOINTS}/{wh}/test", {"payload": {"n": 1}}))
    await first_attempts(api)
    await receiver.wait_for(1)
    again = ok(await api.post(f"/v1/webhook-deliveries/{sent['deliveryId']}/replay"))
    await first_attempts(api)
    await receiver.wait_for(2)
    original = check_signed(receiver.hits[0], secret)
    replayed = check_signed(receiver.hits[1], secret)
    assert replayed["id"] == again["eventId"] != original["id"]
    assert (replayed["replayOf"], replayed["type"]) == (sent["deliveryId"], "test.ping")
    assert replayed["data"] == original["data"] == {"n": 1}
    assert "replayOf" not in original
    statuses = [d["status"] for d in await settled(api, wh)]
    assert statuses == ["delivered", "delivered"]


async def test_routing_to_own_project_filtered_and_firehose_endpoints(
    api: Api, receiver: Receiver
) -> None:
    """A parent's job reaches its organization-wide endpoint and the endpoint of the job's
    project only; a child's job reaches the child's own endpoint and the parent's
    `all_children` endpoint (with the child's organizationId), never the parent's own."""
    p1 = (await create_project(api, app=False))["id"]
    p2 = (await create_project(api, app=False))["id"]
    await endpoint(api, receiver.url + "?to=wide")
    await endpoint(api, receiver.url + "?to=p1", projectId=p1)
    await endpoint(api, receiver.url + "?to=p2", projectId=p2)
    await endpoint(api, receiver.url + "?to=fire", scope="all_children")
    child = (await make_child(api))["id"]
    await allocate(api, child, 1000)
    await endpoint(api, receiver.url + "?to=child", acting(child))
    await builder_job(api, p1)
    await api.advance(JOB_SECONDS)
    await receiver.wait_for(2)
    assert sorted(receiver.tags) == ["p1", "wide"]
    body = {"name": "Child project", "timezone": "UTC"}
    child_project = ok(await api.post("/v1/projects", body, headers=acting(child)), 201)["id"]
    path = f"/v1/projects/{child_project}/content/slideshow-builder"
    ok(await api.post(path, {"hook": "h"}, headers=acting(child)), 202)
    await api.advance(JOB_SECONDS)
    await receiver.wait_for(4)
    assert sorted(receiver.tags[2:]) == ["child", "fire"]
    orgs = {tag: json.loads(body)["data"]["organizationId"] for tag, (_, body) in
            zip(receiver.tags, receiver.hits, strict=True)}  # fmt: skip
    assert orgs["child"] == orgs["fire"] == child != orgs["wide"]


async def test_a_suspended_childs_new_events_are_held_but_the_firehose_is_not(
    api: Api, receiver: Receiver
) -> None:
    """An event of a suspended child goes to the parent's firehose at once, while the child's
    own endpoint gets it only after resume (first attempts are held like retries)."""
    await endpoint(api, receiver.url + "?to=fire", scope="all_children")
    child = (await make_child(api))["id"]
    await allocate(api, child, 1000)
    own, _ = await endpoint(api, receiver.url + "?to=child", acting(child))
    body = {"name": "Child project", "timezone": "UTC"}
    pid = ok(await api.post("/v1/projects", body, headers=acting(child)), 201)["id"]
    path = f"/v1/projects/{pid}/content/slideshow-builder"
    ok(await api.post(path, {"hook": "h"}, headers=acting(child)), 202)
    ok(await api.post(f"/v1/organizations/{child}/suspend"))
    await api.advance(JOB_SECONDS)
    await receiver.wait_for(1)
    await api.advance(3600)
    assert receiver.tags == ["fire"]
    [d] = await settled(api, own, acting(child))
    assert (d["status"], d["attempts"], d["eventType"]) == ("pending", 0, "job.completed")
    ok(await api.post(f"/v1/organizations/{child}/resume"))
    await first_attempts(api)
    await receiver.wait_for(2)
    assert receiver.tags == ["fire", "child"]
    [d] = await settled(api, own, acting(child))
    assert (d["status"], d["attempts"]) == ("delivered", 1)


async def test_nothing_is_queued_for_a_paused_endpoint(api: Api, receiver: Receiver) -> None:
    """Events that happen while an endpoint is paused are never queued for it, not even after
    it is active again; later events are."""
    wh, _ = await endpoint(api, receiver.url)
    pid = (await create_project(api, app=False))["id"]
    ok(await api.patch(f"{ENDPOINTS}/{wh}", {"status": "paused"}))
    await builder_job(api, pid)
    await api.advance(JOB_SECONDS)
    assert await settled(api, wh) == []
    ok(await api.patch(f"{ENDPOINTS}/{wh}", {"status": "active"}))
    await api.advance(JOB_SECONDS)
    assert await settled(api, wh) == []
    job = await builder_job(api, pid)
    await api.advance(JOB_SECONDS)
    await receiver.wait_for(1)
    assert len(receiver.hits) == 1
    event = json.loads(receiver.hits[0][1])
    assert (event["type"], event["data"]["jobId"]) == ("job.completed", job["jobId"])


async def test_delete_drops_a_pending_retry(api: Api, receiver: Receiver) -> None:
    """Deleting an endpoint whose delivery waits for its retry drops it: no further attempt
    reaches the receiver, and the delivery is gone."""
    wh, sent, _ = await failed_once(api, receiver)
    receiver.status = 200
    ok(await api.delete(f"{ENDPOINTS}/{wh}"))
    await api.advance(24 * 3600)
    await first_attempts(api)
    assert len(receiver.hits) == 1
    r = await api.post(f"/v1/webhook-deliveries/{sent['deliveryId']}/replay")
    assert r.status == 404


async def test_attempts_in_flight_when_auto_paused_are_abandoned_not_retried(
    api: Api, receiver: Receiver
) -> None:
    """With more failing attempts in flight than the auto-pause threshold, those that fail
    after the endpoint became `auto_paused` are abandoned too: no retry ever reaches it."""
    receiver.status = 503
    receiver.answer.clear()  # every attempt stays in flight until all 25 have arrived
    wh, _ = await endpoint(api, receiver.url)
    for _ in range(25):
        ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    await first_attempts(api)
    await receiver.wait_for(25)
    receiver.answer.set()
    items = await settled(api, wh, limit="100")
    assert ok(await api.get(f"{ENDPOINTS}/{wh}"))["status"] == "auto_paused"
    assert {(d["status"], d["nextRetryAt"]) for d in items} == {("abandoned", None)}
    await api.advance(3600)
    await first_attempts(api)
    assert len(receiver.hits) == 25


async def test_an_attempt_in_flight_when_paused_is_abandoned_if_it_fails(
    api: Api, receiver: Receiver
) -> None:
    """Pausing while an attempt is in flight: when that attempt fails, the delivery is
    abandoned (not queued for a retry the paused endpoint would receive)."""
    await api.configure({"webhookTimeoutSeconds": 0.3})
    receiver.status = 0  # answers too late
    wh, _ = await endpoint(api, receiver.url)
    ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    await first_attempts(api)
    [d] = await deliveries(api, wh)
    assert d["status"] == "delivering"
    ok(await api.patch(f"{ENDPOINTS}/{wh}", {"status": "paused"}))
    [d] = await settled(api, wh)
    assert (d["status"], d["attempts"], d["nextRetryAt"]) == ("abandoned", 1, None)
    assert d["lastErrorMessage"] == "No answer within 0.3 seconds."
