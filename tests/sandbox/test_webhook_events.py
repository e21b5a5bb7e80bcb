"""Webhook events (contract §3.15.11, §3.16, §4.6, §4.7): when the events of approvals, post
creation and social-account changes fire, their exact `data` and the order of events one
request causes; and every event the sandbox emits decodes to its typed model in the SDK
(`decode_event`, never the generic fallback). Read from the `record` mode outbox."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest

from layers_async import WebhookEventType
from layers_async.models.webhooks import EVENT_CLASSES
from layers_async.sandbox.routes.webhook_endpoints import EVENT_TYPES
from layers_async.webhooks import decode_event
from tests.sandbox._flows import builder_job, completed_container, ok, shift
from tests.sandbox._hooks import (
    ENDPOINTS,
    OUTBOX,
    project_with_account,
    publish_to,
    schedule_in,
)
from tests.sandbox._http import Api

pytestmark = pytest.mark.anyio

REVIEW_EVENTS = ["content.approved", "content.rejected", "post.scheduled"]
ACCOUNT_EVENTS = ["social_account.needs_reauth", "social_account.revoked", "post.canceled"]


async def listen(api: Api, events: list[str], **fields: Any) -> str:
    """An endpoint for `events`; its id."""
    body = {"url": "https://example.com/hook", "events": events, **fields}
    return str(ok(await api.post(ENDPOINTS, body), 201)["endpoint"]["id"])


async def sent(api: Api, **query: str) -> list[dict[str, Any]]:
    """The event bodies in the outbox, oldest first."""
    return [json.loads(i["body"]) for i in ok(await api.get(OUTBOX, params=query))["items"]]


async def whoami(api: Api) -> dict[str, Any]:
    """GET /v1/whoami."""
    me: dict[str, Any] = ok(await api.get("/v1/whoami"))
    return me


async def pending_content(api: Api) -> tuple[str, str, str]:
    """A project under `review_all` with a connected account and a completed container
    awaiting approval: (project id, account id, container id)."""
    pid, sa = await project_with_account(api)
    policy = {"policy": "review_all"}
    ok(await api.patch(f"/v1/projects/{pid}/content-review-policy", policy))
    return pid, sa, await completed_container(api, pid)


async def test_approval_emits_approved_then_post_scheduled_per_promoted_post(
    record_api: Api,
) -> None:
    """Approving content with parked intents sends `content.approved` (id, project, when and
    by which key) and then `post.scheduled` for each promoted post, in order."""
    api = record_api
    await listen(api, REVIEW_EVENTS)
    pid, sa, cid = await pending_content(api)
    now = await api.now()
    await schedule_in(api, cid, sa, 600, 202)
    await schedule_in(api, cid, sa, 900, 202)
    assert await sent(api) == []  # parking a schedule creates no post
    answer = ok(await api.post(f"/v1/content/{cid}/approve", {"note": "ok"}))
    me = await whoami(api)
    events = await sent(api)
    assert [e["type"] for e in events] == ["content.approved", "post.scheduled", "post.scheduled"]
    assert events[0]["data"] == {
        "organizationId": me["organizationId"],
        "id": cid,
        "projectId": pid,
        "approvedAt": answer["approvedAt"],
        "approvedBy": me["apiKeyId"],
    }
    promoted = answer["pendingSchedulePromotion"]["scheduledPostIds"]
    times = [shift(now, 600), shift(now, 900)]
    for event, post_id, when in zip(events[1:], promoted, times, strict=True):
        assert event["data"] == {
            "organizationId": me["organizationId"],
            "scheduledPostId": post_id,
            "containerId": cid,
            "projectId": pid,
            "socialAccountId": sa,
            "scheduledFor": when,
        }


async def test_rejection_emits_content_rejected_with_the_reason(record_api: Api) -> None:
    """Rejecting content sends `content.rejected` with when, by which key and why; its parked
    intents are dropped without any `post.*` event."""
    api = record_api
    await listen(api, REVIEW_EVENTS)
    pid, sa, cid = await pending_content(api)
    await schedule_in(api, cid, sa, 600, 202)
    answer = ok(await api.post(f"/v1/content/{cid}/reject", {"reason": "Off brand"}))
    me = await whoami(api)
    [event] = await sent(api)
    assert event["type"] == "content.rejected"
    assert event["data"] == {
        "organizationId": me["organizationId"],
        "id": cid,
        "projectId": pid,
        "rejectedAt": answer["rejectedAt"],
        "rejectedBy": me["apiKeyId"],
        "reason": "Off brand",
    }


async def test_schedule_and_publish_now_emit_post_scheduled(record_api: Api) -> None:
    """Every post schedule or publish-now creates sends `post.scheduled` with its
    `scheduledFor` (now for publish-now); content without review emits no approval event."""
    api = record_api
    await listen(api, REVIEW_EVENTS)
    pid, sa = await project_with_account(api)
    cid = await completed_container(api, pid)
    now = await api.now()
    later = shift(now, 3600)
    scheduled = (await schedule_in(api, cid, sa, 3600))["scheduledPostIds"]
    published = ok(await api.post(f"/v1/content/{cid}/publish", {"targets": publish_to(sa)}), 201)
    events = await sent(api)
    assert [e["type"] for e in events] == ["post.scheduled", "post.scheduled"]
    got = [(e["data"]["scheduledPostId"], e["data"]["scheduledFor"]) for e in events]
    assert got == [(scheduled[0], later), (published["scheduledPostIds"][0], now)]
    assert {e["data"]["projectId"] for e in events} == {pid}


async def test_needs_reauth_is_emitted_once_on_the_transition(record_api: Api) -> None:
    """The sandbox's needs-reauth route sends `social_account.needs_reauth` (account, project,
    platform) when a connected account turns `reauth_required`, not again when it already is."""
    api = record_api
    await listen(api, ACCOUNT_EVENTS)
    pid, sa = await project_with_account(api, "instagram")
    for _ in range(2):
        ok(await api.post(f"/_sandbox/social-accounts/{sa}/needs-reauth"))
    [event] = await sent(api)
    assert event["type"] == "social_account.needs_reauth"
    assert event["data"] == {
        "organizationId": (await whoami(api))["organizationId"],
        "socialAccountId": sa,
        "projectId": pid,
        "platform": "instagram",
    }


async def test_disconnect_emits_revoked_before_the_posts_it_cancels(record_api: Api) -> None:
    """DELETE of an account sends `social_account.revoked` with the reason and time of the
    answer, then `post.canceled` for each queued post of the account."""
    api = record_api
    pid, sa = await project_with_account(api)
    cid = await completed_container(api, pid)
    [sp] = (await schedule_in(api, cid, sa, 600))["scheduledPostIds"]
    await listen(api, ACCOUNT_EVENTS)
    gone = ok(await api.delete(f"/v1/social-accounts/{sa}"))
    events = await sent(api)
    assert [e["type"] for e in events] == ["social_account.revoked", "post.canceled"]
    assert events[0]["data"] == {
        "organizationId": (await whoami(api))["organizationId"],
        "socialAccountId": sa,
        "projectId": pid,
        "platform": "tiktok",
        "disconnectedReason": gone["disconnectedReason"],
        "disconnectedAt": gone["disconnectedAt"],
    }
    assert events[1]["data"]["scheduledPostId"] == sp


async def test_new_events_follow_the_project_filter(record_api: Api) -> None:
    """An endpoint narrowed to another project gets none of these events; an
    organization-wide one gets them all."""
    api = record_api
    elsewhere, _ = await project_with_account(api)
    narrow = await listen(api, REVIEW_EVENTS + ACCOUNT_EVENTS, projectId=elsewhere)
    wide = await listen(api, REVIEW_EVENTS + ACCOUNT_EVENTS)
    _, sa, cid = await pending_content(api)
    ok(await api.post(f"/v1/content/{cid}/approve"))
    ok(await api.post(f"/_sandbox/social-accounts/{sa}/needs-reauth"))
    ok(await api.delete(f"/v1/social-accounts/{sa}"))
    assert await sent(api, endpointId=narrow) == []
    assert [e["type"] for e in await sent(api, endpointId=wide)] == [
        "content.approved",
        "social_account.needs_reauth",
        "social_account.revoked",
    ]


#: The `data` fields of each event type besides `organizationId` (contract §3.15.11).
CATALOGUE = {
    "job.completed": {"jobId", "kind", "projectId", "result"},
    "job.failed": {"jobId", "kind", "projectId", "error"},
    "job.canceled": {"jobId", "kind", "projectId"},
    "content.generated": {"id", "projectId", "format", "preview", "assets"},
    "content.approved": {"id", "projectId", "approvedAt", "approvedBy"},
    "content.rejected": {"id", "projectId", "rejectedAt", "rejectedBy", "reason"},
    "post.scheduled": {
        "scheduledPostId", "containerId", "projectId", "socialAccountId", "scheduledFor",
    },
    "post.published": {
        "scheduledPostId", "containerId", "projectId", "socialAccountId", "externalId",
        "externalUrl", "publishedAt",
    },
    "post.failed": {"scheduledPostId", "containerId", "projectId", "socialAccountId", "lastError"},
    "post.canceled": {
        "scheduledPostId", "containerId", "projectId", "socialAccountId", "canceledAt",
    },
    "social_account.connected": {
        "socialAccountId", "projectId", "platform", "displayName", "connectedAt",
    },
    "social_account.needs_reauth": {"socialAccountId", "projectId", "platform"},
    "social_account.revoked": {
        "socialAccountId", "projectId", "platform", "disconnectedReason", "disconnectedAt",
    },
    "test.ping": {"message", "endpointId"},
}  # fmt: skip
#: Tier 3 events the sandbox never emits (it has no leased accounts).
NEVER_EMITTED = {"lease_request.assigned", "lease_request.rejected"}


async def every_event(api: Api) -> list[dict[str, Any]]:
    """Cause each event the sandbox emits once or more; the recorded bodies, oldest first."""
    body = {"url": "https://example.com/hook", "events": sorted(EVENT_CLASSES)}
    wh = ok(await api.post(ENDPOINTS, body), 201)["endpoint"]["id"]
    pid, sa = await project_with_account(api)
    cnt = await completed_container(api, pid)
    await schedule_in(api, cnt, sa, 60)
    await api.advance(120)  # published
    [sp] = (await schedule_in(api, cnt, sa, 600))["scheduledPostIds"]
    ok(await api.delete(f"/v1/scheduled-posts/{sp}"))
    job = await builder_job(api, pid)
    ok(await api.post(f"/v1/jobs/{job['jobId']}/cancel"), 202)
    await api.configure({"failureRates": {"content_generate": 1}})
    await builder_job(api, pid)
    await api.advance(120)  # failed
    await api.configure({"failureRates": {"content_generate": 0}})
    ok(await api.patch(f"/v1/projects/{pid}/content-review-policy", {"policy": "review_all"}))
    for verdict, answer in (("approve", {}), ("reject", {"reason": "Off brand"})):
        pending = await completed_container(api, pid)
        ok(await api.post(f"/v1/content/{pending}/{verdict}", answer))
    ok(await api.post(f"/v1/content/{cnt}/publish", {"targets": publish_to(sa)}), 201)
    await schedule_in(api, cnt, sa, 60)
    ok(await api.post(f"/_sandbox/social-accounts/{sa}/needs-reauth"))
    await api.advance(120)  # failed: the token went bad before the post went out
    ok(await api.delete(f"/v1/social-accounts/{sa}"))
    ok(await api.post(f"/v1/webhook-endpoints/{wh}/test"))
    items = ok(await api.get(OUTBOX))["items"]
    return [json.loads(i["body"]) for i in items]


async def test_every_emitted_event_decodes_to_its_typed_model(record_api: Api) -> None:
    """Each catalogue event but the Tier 3 lease events is emitted, carries exactly its
    documented `data` fields, and decodes to the model `EVENT_CLASSES` names for its type."""
    bodies = await every_event(record_api)
    assert {b["type"] for b in bodies} == set(EVENT_CLASSES) - NEVER_EMITTED
    for body in bodies:
        assert set(body["data"]) == CATALOGUE[body["type"]] | {"organizationId"}, body
        event = decode_event(body)
        assert type(event) is EVENT_CLASSES[body["type"]], body
        assert (event.id, event.type, event.replay_of) == (body["id"], body["type"], None)
        assert event.created_at is not None
        assert event.data.organization_id == body["data"]["organizationId"]


async def test_a_replayed_event_decodes_with_replay_of(record_api: Api) -> None:
    """A replay of a recorded delivery decodes to the same model with `replay_of` set."""
    api = record_api
    body = {"url": "https://example.com/hook", "events": ["job.completed"]}
    wh = ok(await api.post(ENDPOINTS, body), 201)["endpoint"]["id"]
    sent = ok(await api.post(f"/v1/webhook-endpoints/{wh}/test"))
    again = ok(await api.post(f"/v1/webhook-deliveries/{sent['deliveryId']}/replay"))
    last = ok(await api.get(OUTBOX))["items"][-1]
    event = decode_event(json.loads(last["body"]))
    assert type(event) is EVENT_CLASSES["test.ping"]
    assert (event.id, event.replay_of) == (again["eventId"], sent["deliveryId"])


def test_the_sandbox_and_the_sdk_list_the_same_catalogue() -> None:
    """The sandbox keeps its own copy of the event catalogue (it must not trust the SDK it
    tests); the copy and the SDK's `WebhookEventType` name the same events in the same order."""
    assert get_args(WebhookEventType) == EVENT_TYPES
    assert set(EVENT_TYPES) == set(EVENT_CLASSES)
