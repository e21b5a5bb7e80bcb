"""The webhook events of approvals, post creation and social-account changes (contract
§3.15.11, §3.16, §4.6, §4.7): when each fires, its exact `data`, and the order of events one
request causes. Read from the `record` mode outbox."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sandbox._flows import (
    completed_container,
    connect_account,
    create_project,
    ok,
    schedule,
    shift,
)
from tests.sandbox._hooks import ENDPOINTS, OUTBOX
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
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
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
    first = shift(await api.now(), 600)
    target = [{"socialAccountId": sa, "mode": "publish"}]
    ok(await schedule(api, cid, first, target), 202)
    ok(await schedule(api, cid, shift(first, 300), target), 202)
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
    for event, post_id, when in zip(events[1:], promoted, [first, shift(first, 300)], strict=True):
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
    target = [{"socialAccountId": sa, "mode": "publish"}]
    ok(await schedule(api, cid, shift(await api.now(), 600), target), 202)
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
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
    cid = await completed_container(api, pid)
    target = [{"socialAccountId": sa, "mode": "publish"}]
    later = shift(await api.now(), 3600)
    scheduled = ok(await schedule(api, cid, later, target), 201)["scheduledPostIds"]
    now = await api.now()
    published = ok(await api.post(f"/v1/content/{cid}/publish", {"targets": target}), 201)
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
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid, platform="instagram")
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
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
    cid = await completed_container(api, pid)
    target = [{"socialAccountId": sa, "mode": "publish"}]
    [sp] = ok(await schedule(api, cid, shift(await api.now(), 600), target), 201)[
        "scheduledPostIds"
    ]
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
    elsewhere = (await create_project(api, app=False))["id"]
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
