"""Every event the sandbox emits decodes to its typed model in the SDK (contract §3.15.11):
one run causes each catalogue event, and `decode_event` turns each recorded body into the
model of its type, never the generic fallback, with the documented `data` fields."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import pytest

from layers_async.models.webhooks import EVENT_CLASSES
from layers_async.sandbox import Sandbox
from layers_async.webhooks import decode_event
from tests.sandbox._flows import (
    builder_job,
    completed_container,
    connect_account,
    create_project,
    ok,
    schedule,
    shift,
)
from tests.sandbox._http import Api

pytestmark = pytest.mark.anyio

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


@pytest.fixture
async def api(
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
    session: aiohttp.ClientSession,
) -> AsyncIterator[Api]:
    """A paused sandbox without jitter in `record` mode."""
    async with make_sandbox(webhook_delivery="record", jitter=0) as sb:
        yield Api(session, sb.url, sb.api_key)


async def every_event(api: Api) -> list[dict[str, Any]]:
    """Cause each event the sandbox emits once or more; the recorded bodies, oldest first."""
    body = {"url": "https://example.com/hook", "events": sorted(EVENT_CLASSES)}
    wh = ok(await api.post("/v1/webhook-endpoints", body), 201)["endpoint"]["id"]
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
    cnt = await completed_container(api, pid)
    target = [{"socialAccountId": sa, "mode": "publish"}]
    ok(await schedule(api, cnt, shift(await api.now(), 60), target), 201)
    await api.advance(120)  # published
    [sp] = ok(await schedule(api, cnt, shift(await api.now(), 600), target), 201)[
        "scheduledPostIds"
    ]
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
    ok(await api.post(f"/v1/content/{cnt}/publish", {"targets": target}), 201)
    ok(await schedule(api, cnt, shift(await api.now(), 60), target), 201)
    ok(await api.post(f"/_sandbox/social-accounts/{sa}/needs-reauth"))
    await api.advance(120)  # failed: the token went bad before the post went out
    ok(await api.delete(f"/v1/social-accounts/{sa}"))
    ok(await api.post(f"/v1/webhook-endpoints/{wh}/test"))
    items = ok(await api.get("/_sandbox/webhooks/outbox"))["items"]
    return [json.loads(i["body"]) for i in items]


async def test_every_emitted_event_decodes_to_its_typed_model(api: Api) -> None:
    """Each catalogue event but the Tier 3 lease events is emitted, carries exactly its
    documented `data` fields, and decodes to the model `EVENT_CLASSES` names for its type."""
    bodies = await every_event(api)
    assert {b["type"] for b in bodies} == set(EVENT_CLASSES) - NEVER_EMITTED
    for body in bodies:
        assert set(body["data"]) == CATALOGUE[body["type"]] | {"organizationId"}, body
        event = decode_event(body)
        assert type(event) is EVENT_CLASSES[body["type"]], body
        assert (event.id, event.type, event.replay_of) == (body["id"], body["type"], None)
        assert event.created_at is not None
        assert event.data.organization_id == body["data"]["organizationId"]


async def test_a_replayed_event_decodes_with_replay_of(api: Api) -> None:
    """A replay of a recorded delivery decodes to the same model with `replay_of` set."""
    body = {"url": "https://example.com/hook", "events": ["job.completed"]}
    wh = ok(await api.post("/v1/webhook-endpoints", body), 201)["endpoint"]["id"]
    sent = ok(await api.post(f"/v1/webhook-endpoints/{wh}/test"))
    again = ok(await api.post(f"/v1/webhook-deliveries/{sent['deliveryId']}/replay"))
    last = ok(await api.get("/_sandbox/webhooks/outbox"))["items"][-1]
    event = decode_event(json.loads(last["body"]))
    assert type(event) is EVENT_CLASSES["test.ping"]
    assert (event.id, event.replay_of) == (again["eventId"], sent["deliveryId"])
