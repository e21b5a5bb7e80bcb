"""`client.content.schedule`: a completed container to accounts at a time (contract §3.9.1); its
client-side refusals are in the table of test_content.py."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from layers_async import (
    APIStatusError,
    ConflictError,
    LayersClient,
    NotFoundError,
    Sandbox,
    ScheduleResult,
    ScheduleTarget,
    UnprocessableEntityError,
)
from tests.client._ids import GHOST_CNT, GHOST_SA, SP_RE, TIKTOK_ID
from tests.client._refusals import api_refusal, issue_paths
from tests.client._setup import (
    PACIFIC,
    Scheduled,
    World,
    connect_account,
    count,
    later,
    new_project,
    now,
    ready_influencer,
)
from tests.client._tracing import body_recorder, traced_client


@pytest.mark.anyio
async def test_schedule_success(
    client: LayersClient, sandbox: Sandbox, scheduled: Scheduled, second_account: str
) -> None:
    """schedule() decodes ScheduleResult; ids follow target order; the instant is kept."""
    when = later(await now(sandbox), 60).astimezone(PACIFIC)
    result = await client.content.schedule(
        scheduled.container_id,
        scheduled_for=when,
        targets=[
            ScheduleTarget(social_account_id=scheduled.account_id, mode="publish"),
            ScheduleTarget(social_account_id=second_account, mode="draft", caption_override="Hi"),
            ScheduleTarget(social_account_id=scheduled.account_id, mode="managed"),
        ],
    )
    assert isinstance(result, ScheduleResult)
    assert result.gate_status == "queued"
    assert result.scheduled_for == when
    assert result.scheduled_for.utcoffset() == timedelta(0)
    assert len(result.scheduled_post_ids) == 3
    assert all(SP_RE.match(i) for i in result.scheduled_post_ids)
    assert result.meta is not None
    assert result.meta.status_code == 201
    posts = [await client.scheduled_posts.get(i) for i in result.scheduled_post_ids]
    assert [(p.social_account_id, p.mode) for p in posts] == [
        (scheduled.account_id, "publish"),
        (second_account, "draft"),
        (scheduled.account_id, "managed"),
    ]
    assert all(p.status == "queued" and p.container_id == scheduled.container_id for p in posts)


@pytest.mark.anyio
async def test_schedule_target_wire_form(sandbox: Sandbox, scheduled: Scheduled) -> None:
    """A ScheduleTarget goes out camelCase with its None fields omitted; the time as UTC Z."""
    s = scheduled
    trace, chunks = body_recorder()
    async with traced_client(sandbox, trace) as client:
        when = later(await now(sandbox), 90)
        await client.content.schedule(
            s.container_id,
            scheduled_for=when,
            targets=[
                ScheduleTarget(
                    social_account_id=s.account_id,
                    mode="publish",
                    caption_override="",
                    first_comment_override="First!",
                    tiktok_post_settings={"privacy": "public"},
                    tiktok_music={"id": "m1"},
                ),
                ScheduleTarget(s.account_id, "draft"),
            ],
        )
    body = json.loads(b"".join(chunk for _, chunk in chunks))
    assert body == {
        "scheduledFor": "2026-05-14T16:02:50.000Z",
        "targets": [
            {
                "socialAccountId": s.account_id,
                "mode": "publish",
                "captionOverride": "",
                "firstCommentOverride": "First!",
                "tiktokPostSettings": {"privacy": "public"},
                "tiktokMusic": {"id": "m1"},
            },
            {"socialAccountId": s.account_id, "mode": "draft"},
        ],
    }


#: A scheduling the server refuses: the container, how many seconds ahead, the targets, the
#: error class, and its issue paths (a 422) or `details` (None where the test pins none).
ScheduleRefusal = tuple[str, float, list[ScheduleTarget], type[APIStatusError], Any]


async def _too_soon(world: World, s: Scheduled) -> ScheduleRefusal:
    """Under 30 s ahead: a 422 on scheduledFor."""
    targets = [ScheduleTarget(social_account_id=s.account_id, mode="publish")]
    return s.container_id, 10, targets, UnprocessableEntityError, ["scheduledFor"]


async def _target_rules(world: World, s: Scheduled) -> ScheduleRefusal:
    """An unknown account and TikTok share_reel_to_feed: a 422 naming both targets."""
    targets = [
        ScheduleTarget(social_account_id=GHOST_SA, mode="publish"),
        ScheduleTarget(s.account_id, "publish", share_reel_to_feed=True),
    ]
    paths = ["targets.0.socialAccountId", "targets.1.shareReelToFeed"]
    return s.container_id, 60, targets, UnprocessableEntityError, paths


async def _music_on_video(world: World, s: Scheduled) -> ScheduleRefusal:
    """tiktok_music on video content: a 422 on targets.0.tiktokMusic."""
    client, sandbox, session = world
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sandbox, pid)
    sa = await connect_account(session, sandbox, pid)
    job = await client.content.video_remix(pid, tiktok_video_id=TIKTOK_ID, influencer_id=iid)
    await sandbox.advance(300)
    targets = [ScheduleTarget(sa, "publish", tiktok_music={"id": "m"})]
    return job.container_ids[0], 60, targets, UnprocessableEntityError, ["targets.0.tiktokMusic"]


async def _unknown_container(world: World, s: Scheduled) -> ScheduleRefusal:
    """An unknown container: NotFoundError."""
    return GHOST_CNT, 60, [ScheduleTarget(GHOST_SA, "publish")], NotFoundError, None


async def _container_not_completed(world: World, s: Scheduled) -> ScheduleRefusal:
    """A container still generating: ConflictError {containerId, status}."""
    job = await world.client.content.slideshow_builder(s.project_id, hook="soon")
    await world.sandbox.advance(20)
    cid = job.container_ids[0]
    expected = {"containerId": cid, "status": "processing"}
    return cid, 60, [ScheduleTarget(s.account_id, "publish")], ConflictError, expected


async def _archived_project_schedule(world: World, s: Scheduled) -> ScheduleRefusal:
    """An archived project: ConflictError {projectId, status: archived}."""
    await world.client.projects.archive(s.project_id)
    expected = {"projectId": s.project_id, "status": "archived"}
    return s.container_id, 60, [ScheduleTarget(s.account_id, "publish")], ConflictError, expected


@pytest.mark.anyio
@pytest.mark.parametrize(
    "refusal",
    [
        _too_soon,
        _target_rules,
        _music_on_video,
        _unknown_container,
        _container_not_completed,
        _archived_project_schedule,
    ],
    ids=lambda case: case.__name__.lstrip("_"),
)
async def test_schedule_refused_by_the_server(
    client: LayersClient,
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    scheduled: Scheduled,
    refusal: Callable[[World, Scheduled], Awaitable[ScheduleRefusal]],
) -> None:
    """Each scheduling the server refuses is its 422, 404 or 409, and schedules nothing."""
    cid, ahead, targets, cls, expected = await refusal(World(client, sandbox, session), scheduled)
    when = later(await now(sandbox), ahead)
    scheduling = client.content.schedule(cid, scheduled_for=when, targets=targets)
    refused = await api_refusal(cls, scheduling)
    if isinstance(refused, UnprocessableEntityError):
        assert sorted(issue_paths(refused)) == expected
    elif expected is not None:
        assert refused.details == expected
    assert await count(sandbox, "scheduledPosts") == 0


def test_schedule_target_is_a_frozen_input() -> None:
    """ScheduleTarget is built by keyword, defaults its options to None and is immutable."""
    t = ScheduleTarget(social_account_id=GHOST_SA, mode="publish")
    assert (t.caption_override, t.tiktok_music, t.share_reel_to_feed) == (None, None, None)
    with pytest.raises(AttributeError):
        t.mode = "draft"  # type: ignore[misc]
