"""`client.scheduled_posts`: list, get, reschedule, cancel (contract §3.9.2-§3.9.5, §4.6)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest

from layers_async import (
    ConflictError,
    ErrorInfo,
    LayersClient,
    NotFoundError,
    RescheduleResult,
    Sandbox,
    ScheduledPost,
    ScheduledPostCanceled,
    ScheduleTarget,
    UnprocessableEntityError,
)
from tests.client._decoded import assert_aware, assert_request_id
from tests.client._ids import GHOST_PRJ, GHOST_SA, GHOST_SP
from tests.client._refusals import api_refusal, issue_paths, refused_field
from tests.client._route_tables import Route, needs_scope_test, not_found_test
from tests.client._setup import (
    PACIFIC,
    OpenSandbox,
    Scheduled,
    count,
    later,
    now,
    scheduling_setup,
)
from tests.client._tracing import body_recorder, traced_client


async def schedule_one(
    client: LayersClient,
    sandbox: Sandbox,
    s: Scheduled,
    *,
    ahead: float = 60,
    mode: str = "publish",
    account: str | None = None,
) -> str:
    """Schedule the setup's container to one account `ahead` seconds from now; the post id."""
    result = await client.content.schedule(
        s.container_id,
        scheduled_for=later(await now(sandbox), ahead),
        targets=[ScheduleTarget(account or s.account_id, mode)],  # type: ignore[arg-type]
    )
    return result.scheduled_post_ids[0]


# --- get (contract §3.9.3) and the publishing lifecycle -------------------------------------------
@pytest.mark.anyio
async def test_get_queued_then_published(
    client: LayersClient, sandbox: Sandbox, scheduled: Scheduled
) -> None:
    """get() decodes a queued post, then the published one with external id, URL and times."""
    s = scheduled
    when = later(await now(sandbox), 60)
    sid = await schedule_one(client, sandbox, s)
    post = await client.scheduled_posts.get(sid)
    assert isinstance(post, ScheduledPost)
    assert (post.id, post.container_id, post.project_id) == (sid, s.container_id, s.project_id)
    assert (post.social_account_id, post.platform, post.mode) == (s.account_id, "tiktok", "publish")
    assert post.status == "queued"
    assert not post.is_terminal
    assert post.scheduled_for == when
    assert (post.external_id, post.attempted_at, post.published_at, post.last_error) == (
        None,
        None,
        None,
        None,
    )
    assert_aware(post.scheduled_for, post.created_at, post.updated_at)
    assert_request_id(post)
    await sandbox.advance(61)
    publishing = await client.scheduled_posts.get(sid)
    assert publishing.status == "publishing"
    assert_aware(publishing.attempted_at)
    await sandbox.advance(20)
    done = await client.scheduled_posts.get(sid)
    assert done.status == "published"
    assert done.is_terminal
    assert done.external_id is not None
    assert done.external_id.startswith("7")
    assert done.external_url is not None
    assert done.external_url.startswith("https://www.tiktok.com/@")
    assert done.external_url.endswith(f"/video/{done.external_id}")
    assert_aware(done.published_at)
    assert done.published_at is not None
    assert done.published_at > when


@pytest.mark.anyio
async def test_get_failed_post_carries_platform_error(
    open_sandbox: OpenSandbox, session: aiohttp.ClientSession
) -> None:
    """A rejected publish decodes last_error with code PLATFORM_ERROR and its platform_code."""
    sb, client = await open_sandbox(failure_rates={"publish": 1.0})
    s = await scheduling_setup(client, sb, session)
    sid = await schedule_one(client, sb, s)
    await sb.advance(100)
    post = await client.scheduled_posts.get(sid)
    assert post.status == "failed"
    assert isinstance(post.last_error, ErrorInfo)
    assert post.last_error.code == "PLATFORM_ERROR"
    assert post.last_error.platform_code == "sandbox_rejected"


# --- list (contract §3.9.2) -----------------------------------------------------------------------
@pytest.mark.anyio
async def test_list_filters_and_pages(
    client: LayersClient, sandbox: Sandbox, scheduled: Scheduled, second_account: str
) -> None:
    """list() orders by scheduled_for desc and filters by status, account and time window."""
    base = await now(sandbox)
    soon = await schedule_one(client, sandbox, scheduled, ahead=60)
    middle = await schedule_one(client, sandbox, scheduled, ahead=600, mode="draft")
    last = await schedule_one(client, sandbox, scheduled, ahead=3600, account=second_account)
    await client.scheduled_posts.cancel(middle)

    page = await client.scheduled_posts.list(scheduled.project_id)
    assert [p.id for p in page.items] == [last, middle, soon]
    assert all(isinstance(p, ScheduledPost) for p in page.items)
    assert page.next_cursor is None
    assert [p.id async for p in client.scheduled_posts.list(scheduled.project_id, limit=1)] == [
        last,
        middle,
        soon,
    ]
    first = await client.scheduled_posts.list(scheduled.project_id, limit=2)
    assert first.next_cursor is not None
    rest = await client.scheduled_posts.list(
        scheduled.project_id, limit=2, cursor=first.next_cursor
    )
    assert [p.id for p in rest.items] == [soon]

    queued = await client.scheduled_posts.list(scheduled.project_id, status="queued")
    assert [p.id for p in queued.items] == [last, soon]
    several = await client.scheduled_posts.list(
        scheduled.project_id, status=["canceled", "published"]
    )
    assert [p.id for p in several.items] == [middle]
    mine = await client.scheduled_posts.list(scheduled.project_id, social_account_id=second_account)
    assert [p.id for p in mine.items] == [last]
    nobody = await client.scheduled_posts.list(scheduled.project_id, social_account_id=GHOST_SA)
    assert nobody.items == ()
    window = await client.scheduled_posts.list(
        scheduled.project_id,
        since=later(base, 60).astimezone(PACIFIC),
        until=later(base, 600),
    )
    assert [p.id for p in window.items] == [middle, soon]


@pytest.fixture
async def queued_post(client: LayersClient, sandbox: Sandbox, scheduled: Scheduled) -> str:
    """A publish post of the `scheduled` container to its account, 60 s ahead; its id."""
    return await schedule_one(client, sandbox, scheduled)


# --- reschedule (contract §3.9.4) -----------------------------------------------------------------
@pytest.mark.anyio
async def test_reschedule_moves_a_queued_post(
    client: LayersClient, sandbox: Sandbox, queued_post: str
) -> None:
    """reschedule() decodes {id, status, scheduledFor, updatedAt}; the post moves."""
    sid = queued_post
    when = later(await now(sandbox), 120).astimezone(PACIFIC)
    moved = await client.scheduled_posts.reschedule(sid, scheduled_for=when)
    assert isinstance(moved, RescheduleResult)
    assert (moved.id, moved.status, moved.scheduled_for) == (sid, "queued", when)
    assert_aware(moved.updated_at)
    assert moved.request_id is not None
    await sandbox.advance(70)
    assert (await client.scheduled_posts.get(sid)).status == "queued"
    assert (await client.scheduled_posts.get(sid)).scheduled_for == when


@pytest.mark.anyio
async def test_reschedule_too_soon(
    client: LayersClient, sandbox: Sandbox, queued_post: str
) -> None:
    """Less than 30 s ahead of the server's clock is a 422 on scheduledFor; the post stays."""
    before = await client.scheduled_posts.get(queued_post)
    too_soon = later(await now(sandbox), 5)
    moving = client.scheduled_posts.reschedule(queued_post, scheduled_for=too_soon)
    assert issue_paths(await api_refusal(UnprocessableEntityError, moving)) == ["scheduledFor"]
    assert (await client.scheduled_posts.get(queued_post)).scheduled_for == before.scheduled_for


@pytest.mark.anyio
async def test_reschedule_not_queued(
    client: LayersClient, sandbox: Sandbox, queued_post: str
) -> None:
    """A post already publishing is ConflictError {scheduledPostId, status}."""
    await sandbox.advance(61)
    when = later(await now(sandbox), 60)
    moving = client.scheduled_posts.reschedule(queued_post, scheduled_for=when)
    refused = await api_refusal(ConflictError, moving)
    assert refused.details == {"scheduledPostId": queued_post, "status": "publishing"}


@pytest.mark.anyio
async def test_reschedule_unknown_post(client: LayersClient, sandbox: Sandbox) -> None:
    """Rescheduling an unknown post is NotFoundError."""
    when = later(await now(sandbox), 60)
    await api_refusal(
        NotFoundError, client.scheduled_posts.reschedule(GHOST_SP, scheduled_for=when)
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("post_id", "when", "field"),
    [
        ("sp_1", datetime(2030, 1, 1, tzinfo=timezone.utc), "scheduled_post_id"),
        (GHOST_SP[3:], datetime(2030, 1, 1, tzinfo=timezone.utc), "scheduled_post_id"),
        (GHOST_SP, datetime(2030, 1, 1), "scheduled_for"),
        (GHOST_SP, "2030-01-01T00:00:00Z", "scheduled_for"),
        (GHOST_SP, 1_900_000_000, "scheduled_for"),
    ],
)
async def test_reschedule_validation(
    client: LayersClient, post_id: Any, when: Any, field: str
) -> None:
    """A malformed id or a naive/non-datetime time is refused before sending."""
    assert (
        await refused_field(client.scheduled_posts.reschedule, post_id, scheduled_for=when) == field
    )


# --- cancel (contract §3.9.5) ---------------------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("reason", [None, "customer changed their mind", "r" * 1024, ""])
async def test_cancel_queued_post(
    client: LayersClient, sandbox: Sandbox, queued_post: str, reason: str | None
) -> None:
    """cancel() decodes {id, status: canceled, canceledAt}; the row stays, canceled."""
    sid = queued_post
    out = await client.scheduled_posts.cancel(sid, reason=reason)
    assert isinstance(out, ScheduledPostCanceled)
    assert (out.id, out.status) == (sid, "canceled")
    assert out.canceled_at == await now(sandbox)
    post = await client.scheduled_posts.get(sid)
    assert (post.status, post.canceled_at) == ("canceled", out.canceled_at)
    await sandbox.advance(120)
    assert (await client.scheduled_posts.get(sid)).status == "canceled"


@pytest.mark.anyio
async def test_cancel_sends_a_body_only_with_a_reason(sandbox: Sandbox) -> None:
    """Without a reason the DELETE carries no body; with one it carries exactly {reason}."""
    trace, sent = body_recorder()
    async with traced_client(sandbox, trace) as client:
        for reason in (None, "dup"):
            with pytest.raises(NotFoundError):
                await client.scheduled_posts.cancel(GHOST_SP, reason=reason)
    deletes = [chunk for method, chunk in sent if method == "DELETE"]
    assert deletes == [b'{"reason":"dup"}']


@pytest.mark.anyio
async def test_cancel_twice_conflicts(client: LayersClient, queued_post: str) -> None:
    """Canceling a canceled post is ConflictError {scheduledPostId, status: canceled}."""
    await client.scheduled_posts.cancel(queued_post)
    refused = await api_refusal(ConflictError, client.scheduled_posts.cancel(queued_post))
    assert refused.details == {"scheduledPostId": queued_post, "status": "canceled"}


@pytest.mark.anyio
async def test_cancel_replay_with_the_same_key(client: LayersClient, queued_post: str) -> None:
    """A retry with the same idempotency_key replays the stored cancel instead of a 409."""
    first = await client.scheduled_posts.cancel(queued_post, idempotency_key="cancel-1")
    again = await client.scheduled_posts.cancel(queued_post, idempotency_key="cancel-1")
    assert again == first
    assert again.meta is not None
    assert again.meta.idempotency_replayed is True


@pytest.mark.anyio
async def test_cancel_published_post_conflicts(
    client: LayersClient, sandbox: Sandbox, scheduled: Scheduled
) -> None:
    """A draft that was delivered cannot be canceled: ConflictError with its status."""
    sid = await schedule_one(client, sandbox, scheduled, mode="draft")
    await sandbox.advance(100)
    refused = await api_refusal(ConflictError, client.scheduled_posts.cancel(sid))
    assert refused.details == {"scheduledPostId": sid, "status": "draft"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("post_id", "reason", "field"),
    [
        ("sp_nope", None, "scheduled_post_id"),
        (GHOST_SP, "r" * 1025, "reason"),
        (GHOST_SP, 42, "reason"),
    ],
)
async def test_cancel_validation(
    client: LayersClient, sandbox: Sandbox, post_id: str, reason: Any, field: str
) -> None:
    """A malformed id or an over-long reason is refused before sending."""
    assert await refused_field(client.scheduled_posts.cancel, post_id, reason=reason) == field
    assert await count(sandbox, "idempotencyRecords") == 0


# --- scopes and unknown posts ---------------------------------------------------------------------
WHEN = datetime(2030, 1, 1, tzinfo=timezone.utc)
ROUTES: list[Route] = [
    ("list", "publish:read", lambda c: c.scheduled_posts.list(GHOST_PRJ)),
    ("get", "publish:read", lambda c: c.scheduled_posts.get(GHOST_SP)),
    (
        "reschedule",
        "publish:write",
        lambda c: c.scheduled_posts.reschedule(GHOST_SP, scheduled_for=WHEN),
    ),
    ("cancel", "publish:write", lambda c: c.scheduled_posts.cancel(GHOST_SP)),
]

test_scheduled_post_routes_need_their_scope = needs_scope_test(
    ROUTES, "A key without the route's scope gets PermissionDeniedError {requiredScope}."
)
test_unknown_post_is_not_found = not_found_test(
    [route for route in ROUTES if route[0] != "reschedule"],
    "Listing an unknown project's posts, or getting or canceling an unknown post, is 404.",
)
