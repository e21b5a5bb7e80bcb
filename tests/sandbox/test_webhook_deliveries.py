"""Webhook delivery (contract §3.15.4-§3.15.11, §4.10): signed POSTs to a real receiver on
127.0.0.1, the retry ladder on the virtual clock, auto-pause, rotation overlap, replay, routing
to own, project-filtered and firehose endpoints, deliveries held for a suspended child, what
pause and delete do to deliveries (in flight too), and the `record` mode outbox. Signatures
are checked with an HMAC computed here; time moves only by advancing the clock."""

from __future__ import annotations

import json

import pytest

from tests.sandbox._flows import (
    builder_job,
    completed_container,
    connect_account,
    create_project,
    ok,
    schedule,
    shift,
)
from tests.sandbox._hooks import (
    ENDPOINTS,
    LADDER,
    OUTBOX,
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


async def test_ping_is_a_signed_post_to_the_receiver(api: Api, receiver: Receiver) -> None:
    """A test ping reaches the receiver with the documented headers and a v1 signature that an
    independent HMAC over `t.body` with the whole `whsec_` secret reproduces."""
    wh, secret = await endpoint(api, receiver.url)
    sent = ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    assert list(sent) == ["eventId", "deliveryId", "scheduledAt"]
    await api.get("/v1/whoami")  # the next tick runs the attempt
    await receiver.wait_for(1)
    headers, body = receiver.hits[0]
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Layers-Webhooks/1"
    assert headers["X-Layers-Event-Id"] == sent["eventId"]
    t, v1 = signatures(headers)
    assert v1 == [expected(secret, t, body)]
    event = json.loads(body)
    assert event["id"] == sent["eventId"]
    assert event["type"] == "test.ping"
    assert event["data"]["endpointId"] == wh
    [d] = await settled(api, wh)
    assert d["id"] == sent["deliveryId"]
    assert (d["status"], d["attempts"], d["lastResponseStatus"]) == ("delivered", 1, 200)
    e = ok(await api.get(f"{ENDPOINTS}/{wh}"))
    assert e["lastSuccessAt"] is not None
    assert e["consecutiveFailureCount"] == 0


async def test_http_mode_posts_to_loopback_only_and_records_the_rest(api: Api) -> None:
    """In `http` mode a delivery to a host off this machine is never sent: it goes to the outbox,
    signed as it would have been, so the embedded sandbox makes no outside traffic."""
    wh, secret = await endpoint(api, "https://yourapp.example/layers/webhooks")
    sent = ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    await api.get("/v1/whoami")  # the next tick runs the attempt
    [d] = await settled(api, wh)
    assert (d["id"], d["status"], d["attempts"]) == (sent["deliveryId"], "delivered", 1)
    [item] = ok(await api.get(OUTBOX, params={"endpointId": wh}))["items"]
    assert item["url"] == "https://yourapp.example/layers/webhooks"
    t, v1 = signatures(item["headers"])
    assert v1 == [expected(secret, t, item["body"].encode())]


async def test_retry_ladder_then_failed_with_a_stable_event_id(
    api: Api, receiver: Receiver
) -> None:
    """A receiver answering 500 gets 8 attempts spaced 0 s, 30 s, 1 min, 5 min, 15 min, 1 h,
    6 h, 24 h of virtual time, all with the same event id; then the delivery is `failed`."""
    wh, sent, d = await failed_once(api, receiver)
    for n, wait in enumerate(LADDER, start=2):
        await api.advance(wait - 1)
        [d] = await settled(api, wh)
        assert d["attempts"] == n - 1  # not yet due
        await api.advance(1)
        await receiver.wait_for(n)
        [d] = await settled(api, wh)
        assert d["attempts"] == n
    assert {h["X-Layers-Event-Id"] for h, _ in receiver.hits} == {sent["eventId"]}
    assert d["status"] == "failed"
    assert d["abandonedAt"] is not None
    assert d["nextRetryAt"] is None
    e = ok(await api.get(f"{ENDPOINTS}/{wh}"))
    assert e["consecutiveFailureCount"] == 8
    assert e["lastFailureAt"] is not None


async def test_twenty_consecutive_failures_auto_pause_the_endpoint(
    api: Api, receiver: Receiver
) -> None:
    """20 failed attempts in a row make the endpoint `auto_paused` and abandon its pending
    deliveries; PATCH active turns it back on with the count reset."""
    receiver.status = 503
    wh, _ = await endpoint(api, receiver.url)
    for _ in range(20):
        ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    await api.get("/v1/whoami")
    await receiver.wait_for(20)
    items = await settled(api, wh)
    e = ok(await api.get(f"{ENDPOINTS}/{wh}"))
    assert (e["status"], e["consecutiveFailureCount"]) == ("auto_paused", 20)
    assert {d["status"] for d in items} == {"abandoned"}
    r = await api.post(f"{ENDPOINTS}/{wh}/test")
    assert r.status == 409
    assert r.json["error"]["details"] == {"endpointId": wh, "status": "auto_paused"}
    e = ok(await api.patch(f"{ENDPOINTS}/{wh}", {"status": "active"}))
    assert (e["status"], e["consecutiveFailureCount"]) == ("active", 0)


async def test_rotation_overlap_signs_with_both_secrets_then_drops_the_oldest(
    record_api: Api,
) -> None:
    """After a rotation every delivery carries two v1 signatures, new first; a second rotation
    inside the overlap keeps only the two newest secrets."""
    api = record_api
    wh, first = await endpoint(api, "https://example.com/hook")
    second = ok(await api.post(f"{ENDPOINTS}/{wh}/rotate-secret"))
    assert list(second) == ["endpointId", "signingSecret", "previousSecretExpiresAt", "warning"]
    assert second["previousSecretExpiresAt"] == "2026-05-15T16:00:00.000Z"
    ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    third = ok(await api.post(f"{ENDPOINTS}/{wh}/rotate-secret"))["signingSecret"]
    ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    items = ok(await api.get(OUTBOX, params={"endpointId": wh}))["items"]
    assert len(items) == 2
    for item, secrets in zip(
        items, [[second["signingSecret"], first], [third, second["signingSecret"]]], strict=True
    ):
        body = item["body"].encode()
        t, v1 = signatures(item["headers"])
        assert v1 == [expected(s, t, body) for s in secrets]
    await api.advance(24 * 3600)
    ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    last = ok(await api.get(OUTBOX, params={"endpointId": wh}))["items"][-1]
    t, v1 = signatures(last["headers"])
    assert v1 == [expected(third, t, last["body"].encode())]


async def test_job_completed_is_routed_by_project_and_recorded(record_api: Api) -> None:
    """A finished generation job sends `job.completed` to the organization-wide endpoint and
    the endpoint of its project, not to another project's; the outbox keeps the exact body."""
    api = record_api
    p1 = (await create_project(api, app=False))["id"]
    p2 = (await create_project(api, app=False))["id"]
    wide, _ = await endpoint(api, "https://example.com/all")
    mine, _ = await endpoint(api, "https://example.com/p1", projectId=p1)
    other, _ = await endpoint(api, "https://example.com/p2", projectId=p2)
    job = await builder_job(api, p1)
    await api.advance(600)
    items = ok(await api.get(OUTBOX, params={"type": "job.completed"}))["items"]
    assert sorted(i["url"] for i in items) == ["https://example.com/all", "https://example.com/p1"]
    event = json.loads(items[0]["body"])
    assert event["data"]["jobId"] == job["jobId"]
    assert event["data"]["projectId"] == p1
    assert event["data"]["kind"] == "content_generate"
    assert "containerId" in event["data"]["result"]
    assert (await deliveries(api, other)) == []
    assert [d["status"] for d in await deliveries(api, wide)] == ["delivered"]
    assert [d["eventType"] for d in await deliveries(api, mine)] == ["job.completed"]
    cleared = ok(await api.delete(OUTBOX))["cleared"]
    assert cleared == 2
    assert ok(await api.get(OUTBOX))["items"] == []


async def test_replay_sends_a_new_event_naming_the_original(record_api: Api) -> None:
    """A replay is a new delivery with a new event id and a top-level `replayOf`."""
    api = record_api
    wh, _ = await endpoint(api, "https://example.com/hook")
    sent = ok(await api.post(f"{ENDPOINTS}/{wh}/test", {"payload": {"hello": "world"}}))
    again = ok(await api.post(f"/v1/webhook-deliveries/{sent['deliveryId']}/replay"))
    assert again["replayOf"] == sent["deliveryId"]
    assert again["eventId"] != sent["eventId"]
    items = ok(await api.get(OUTBOX))["items"]
    first, second = (json.loads(i["body"]) for i in items)
    assert first["data"] == second["data"] == {"hello": "world"}
    assert "replayOf" not in first
    assert second["replayOf"] == sent["deliveryId"]
    assert second["id"] == again["eventId"]


async def test_pause_abandons_pending_and_refuses_tests(api: Api, receiver: Receiver) -> None:
    """Pausing abandons a delivery waiting for its retry (no further attempt comes); a test or
    a replay to a paused endpoint is a 409 naming its status."""
    wh, sent, _ = await failed_once(api, receiver)
    e = ok(await api.patch(f"{ENDPOINTS}/{wh}", {"status": "paused", "description": None}))
    assert (e["status"], e["description"]) == ("paused", None)
    [d] = await deliveries(api, wh)
    assert (d["status"], d["nextRetryAt"]) == ("abandoned", None)
    await api.advance(3600)
    [d] = await settled(api, wh)
    assert (d["status"], d["attempts"]) == ("abandoned", 1)
    assert len(receiver.hits) == 1
    r = await api.post(f"{ENDPOINTS}/{wh}/test")
    assert (r.status, r.code) == (409, "CONFLICT")
    assert r.json["error"]["details"] == {"endpointId": wh, "status": "paused"}
    r = await api.post(f"/v1/webhook-deliveries/{sent['deliveryId']}/replay")
    assert (r.status, r.code) == (409, "CONFLICT")


async def test_patch_updates_url_and_events_and_refuses_auto_paused(api: Api) -> None:
    """PATCH replaces url and events; an empty body or `auto_paused` is a 422."""
    wh, _ = await endpoint(api, "https://example.com/hook")
    e = ok(
        await api.patch(
            f"{ENDPOINTS}/{wh}", {"url": "https://example.com/new", "events": ["post.failed"]}
        )
    )
    assert (e["url"], e["events"]) == ("https://example.com/new", ["post.failed"])
    assert (await api.patch(f"{ENDPOINTS}/{wh}", {})).status == 422
    r = await api.patch(f"{ENDPOINTS}/{wh}", {"status": "auto_paused"})
    assert (r.status, r.issue_paths) == (422, ["status"])


async def test_delete_removes_the_endpoint_and_its_history(record_api: Api) -> None:
    """DELETE answers `{id, deleted}`; the endpoint, its deliveries and a second delete are 404."""
    api = record_api
    wh, _ = await endpoint(api, "https://example.com/hook")
    sent = ok(await api.post(f"{ENDPOINTS}/{wh}/test"))
    assert ok(await api.delete(f"{ENDPOINTS}/{wh}")) == {"id": wh, "deleted": True}
    assert (await api.get(f"{ENDPOINTS}/{wh}")).status == 404
    assert (await api.delete(f"{ENDPOINTS}/{wh}")).status == 404
    r = await api.post(f"/v1/webhook-deliveries/{sent['deliveryId']}/replay")
    assert r.status == 404


async def test_a_suspended_childs_deliveries_are_held_until_resume(
    api: Api, receiver: Receiver
) -> None:
    """A retry due while the child is suspended is held (no attempt), then sent on resume."""
    child = (await make_child(api))["id"]
    wh, _, d = await failed_once(api, receiver, **acting(child))
    receiver.status = 200
    ok(await api.post(f"/v1/organizations/{child}/suspend"))
    await api.advance(3600)
    [d] = await settled(api, wh, acting(child))
    assert (d["status"], d["attempts"]) == ("pending", 1)
    assert len(receiver.hits) == 1
    ok(await api.post(f"/v1/organizations/{child}/resume"))
    await api.get("/v1/whoami")
    await receiver.wait_for(2)
    [d] = await settled(api, wh, acting(child))
    assert (d["status"], d["attempts"]) == ("delivered", 2)


async def test_the_firehose_gets_child_events_and_pings_stay_with_their_endpoint(
    record_api: Api,
) -> None:
    """An `all_children` endpoint of the parent gets a child's `job.completed` with the child's
    `organizationId`; a ping goes only to the tested endpoint, whatever its events filter."""
    api = record_api
    fire, _ = await endpoint(api, "https://example.com/fire", scope="all_children")
    child = (await make_child(api))["id"]
    await allocate(api, child, 1000)
    own, _ = await endpoint(api, "https://example.com/child", acting(child))
    body = {"name": "Proj", "timezone": "UTC"}
    pid = ok(await api.post("/v1/projects", body, headers=acting(child)), 201)["id"]
    path = f"/v1/projects/{pid}/content/slideshow-builder"
    ok(await api.post(path, {"hook": "h"}, headers=acting(child)), 202)
    ok(await api.post(f"{ENDPOINTS}/{own}/test", headers=acting(child)))
    await api.advance(600)
    fired = ok(await api.get(OUTBOX, params={"endpointId": fire}))["items"]
    assert [json.loads(i["body"])["type"] for i in fired] == ["job.completed"]
    assert json.loads(fired[0]["body"])["data"]["organizationId"] == child
    mine = ok(await api.get(OUTBOX, params={"endpointId": own}))["items"]
    assert sorted(json.loads(i["body"])["type"] for i in mine) == ["job.completed", "test.ping"]


async def test_post_published_carries_the_post_fields(record_api: Api) -> None:
    """A post that publishes sends `post.published` with its ids, external id and URL."""
    api = record_api
    wh, _ = await endpoint(api, "https://example.com/hook")
    pid = (await create_project(api))["id"]
    sa = await connect_account(api, pid)
    cnt = await completed_container(api, pid)
    target = [{"socialAccountId": sa, "mode": "publish"}]
    post = ok(await schedule(api, cnt, shift(await api.now(), 60), target), 201)
    await api.advance(120)
    [item] = ok(await api.get(OUTBOX, params={"type": "post.published"}))["items"]
    data = json.loads(item["body"])["data"]
    got = ok(await api.get(f"/v1/scheduled-posts/{post['scheduledPostIds'][0]}"))
    assert got["status"] == "published"
    assert data == {
        "organizationId": data["organizationId"],
        "scheduledPostId": got["id"],
        "containerId": cnt,
        "projectId": pid,
        "socialAccountId": sa,
        "externalId": got["externalId"],
        "externalUrl": got["externalUrl"],
        "publishedAt": got["publishedAt"],
    }
    assert [d["eventType"] for d in await deliveries(api, wh, eventType="post.published")] == [
        "post.published"
    ]


async def test_a_slow_receiver_fails_the_attempt_after_the_timeout(
    api: Api, receiver: Receiver
) -> None:
    """No answer within `webhookTimeoutSeconds` fails the attempt (no status, a timeout
    message) and schedules the retry 30 s later."""
    await api.configure({"webhookTimeoutSeconds": 0.2})
    _, _, d = await failed_once(api, receiver, status=0, expect=None)
    assert d["lastErrorMessage"] == "No answer within 0.2 seconds."
    assert d["nextRetryAt"] == "2026-05-14T16:00:30.000Z"


async def test_content_account_and_cancel_events_are_emitted(record_api: Api) -> None:
    """`social_account.connected` on OAuth completion, `content.generated` on a completed
    container and `post.canceled` on a cancel, each with its catalogue fields."""
    api = record_api
    events = ["content.generated", "social_account.connected", "post.canceled"]
    ok(await api.post(ENDPOINTS, {"url": "https://example.com/hook", "events": events}), 201)
    pid = (await create_project(api))["id"]
    sa = await connect_account(api, pid)
    cnt = await completed_container(api, pid)
    target = [{"socialAccountId": sa, "mode": "publish"}]
    post = ok(await schedule(api, cnt, shift(await api.now(), 3600), target), 201)
    sp = post["scheduledPostIds"][0]
    ok(await api.delete(f"/v1/scheduled-posts/{sp}"))
    got = [json.loads(i["body"]) for i in ok(await api.get(OUTBOX))["items"]]
    assert [e["type"] for e in got] == events[1:2] + events[:1] + events[2:]
    account, content, canceled = (e["data"] for e in got)
    assert (account["socialAccountId"], account["projectId"]) == (sa, pid)
    assert sorted(account) == sorted(
        ["organizationId", "socialAccountId", "projectId", "platform", "displayName", "connectedAt"]
    )
    c = ok(await api.get(f"/v1/content/{cnt}"))
    assert content == {
        "organizationId": content["organizationId"],
        "id": cnt,
        "projectId": pid,
        "format": "slideshow-builder",
        "preview": c["preview"],
        "assets": c["assets"],
    }
    assert (canceled["scheduledPostId"], canceled["containerId"]) == (sp, cnt)
    assert canceled["canceledAt"] == ok(await api.get(f"/v1/scheduled-posts/{sp}"))["canceledAt"]


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
