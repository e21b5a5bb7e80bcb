"""`client.content`: sources, formats, hooks, containers and progress (contract §3.7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest

from layers_async import (
    APIStatusError,
    Asset,
    ConflictError,
    Container,
    ContentProgress,
    ErrorInfo,
    Hook,
    HookBank,
    Job,
    LayersClient,
    NotFoundError,
    PaymentRequiredError,
    Preview,
    Sandbox,
    ScheduleTarget,
    SourceAuthor,
    SourceItem,
    SourceRecommendations,
    SourceStats,
    UnprocessableEntityError,
)
from tests.client._decoded import assert_aware, assert_job_envelope, assert_request_id
from tests.client._ids import (
    CNT_RE,
    GHOST_CNT,
    GHOST_INF,
    GHOST_MED,
    GHOST_PRJ,
    GHOST_SA,
    TIKTOK_ID,
)
from tests.client._refusals import (
    api_refusal,
    assert_running_jobs_capped,
    issue_paths,
    refused_field,
)
from tests.client._route_tables import Route, needs_scope_test, not_found_test
from tests.client._setup import (
    PACIFIC,
    OpenSandbox,
    Persona,
    Remix,
    World,
    connect_account,
    count,
    low_credit_options,
    new_project,
    now,
    pending_influencer,
    raw,
    ready_influencer,
    upload_demo_video,
)

FORMATS = ["slideshow-remix", "video-remix", "slideshow-builder", "ugc-remix"]
ACTOR_FORMATS = ["slideshow-remix", "video-remix", "ugc-remix"]
ESTIMATES = {"slideshow-remix": 50, "video-remix": 120, "slideshow-builder": 50, "ugc-remix": 120}


def start(
    client: LayersClient,
    fmt: str,
    project_id: str,
    *,
    influencer_id: str | None = None,
    social_account_id: str | None = None,
) -> Awaitable[Job]:
    """Call the SDK method of `fmt` with valid format-specific arguments."""
    c = client.content
    actor: dict[str, Any] = {
        "influencer_id": influencer_id,
        "social_account_id": social_account_id,
    }
    if fmt == "slideshow-remix":
        return c.slideshow_remix(project_id, tiktok_video_id=TIKTOK_ID, **actor)
    if fmt == "video-remix":
        return c.video_remix(project_id, tiktok_video_id=TIKTOK_ID, **actor)
    if fmt == "slideshow-builder":
        return c.slideshow_builder(project_id, hook="Mornings are hard\\nCoffee helps", **actor)
    return c.ugc_remix(project_id, **actor)


# --- source recommendations (contract §3.7.1) -----------------------------------------------------
@pytest.mark.anyio
async def test_source_recommendations_live_search(client: LayersClient) -> None:
    """A keyword search decodes into SourceItems with author, stats and slide counts."""
    pid = await new_project(client)
    recs = await client.content.source_recommendations(
        pid, kind="slideshow", keyword="coffee", limit=5
    )
    assert isinstance(recs, SourceRecommendations)
    assert recs.source == "live_search"
    assert recs.next_cursor is None
    assert_request_id(recs)
    assert len(recs.items) == 5
    for item in recs.items:
        assert isinstance(item, SourceItem)
        assert item.kind == "slideshow"
        assert item.tiktok_id.isdigit()
        assert len(item.tiktok_id) == 19
        assert item.image_count is not None
        assert 3 <= item.image_count <= 10
        assert isinstance(item.author, SourceAuthor)
        assert isinstance(item.author.handle, str)
        assert isinstance(item.stats, SourceStats)
        assert item.stats.like_count is not None
        assert item.stats.view_count is not None
        assert item.stats.like_count <= item.stats.view_count
        assert item.thumbnail_url.startswith("http")


@pytest.mark.anyio
async def test_source_recommendations_portfolio(client: LayersClient, sandbox: Sandbox) -> None:
    """Portfolio mode is empty before research and mixed (slideshow first) after it."""
    pid = await new_project(client, app=True)
    early = await client.content.source_recommendations(pid)
    assert early.items == ()
    assert early.source == "portfolio"
    await sandbox.advance(330)
    recs = await client.content.source_recommendations(pid, kind="mixed", limit=4)
    assert recs.source == "portfolio"
    assert [i.kind for i in recs.items] == ["slideshow", "video", "slideshow", "video"]
    assert recs.items[1].image_count is None


# --- the four formats (contract §3.7.2-§3.7.6) ----------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_returns_job_envelope(
    client: LayersClient, demo_persona: Persona, fmt: str
) -> None:
    """Each format answers the 202 envelope as a Job; its container starts queued."""
    pid, iid = demo_persona
    job = await start(client, fmt, pid, influencer_id=iid)
    assert_job_envelope(job, "content_generate", pid)
    assert len(job.container_ids) == 1
    assert CNT_RE.match(job.container_ids[0])
    assert_aware(job.started_at)
    container = await client.content.get(job.container_ids[0])
    assert container.status == "queued"
    assert container.format == fmt
    assert container.influencer_id == iid
    assert container.job_id == job.job_id


@pytest.mark.anyio
async def test_format_sends_optional_fields(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession, persona: Persona
) -> None:
    """hook, media_id and social_account_id reach the container; builder needs no actor."""
    pid, iid = persona
    sa = await connect_account(session, sandbox, pid)
    mid = await upload_demo_video(session, sandbox, pid)
    ugc = await client.content.ugc_remix(
        pid, social_account_id=sa, hook="Wait for it\\nworth it", media_id=mid
    )
    c = await client.content.get(ugc.container_ids[0])
    assert (c.social_account_id, c.influencer_id, c.media_id) == (sa, iid, mid)
    assert c.hook == "Wait for it\\nworth it"
    remix = await client.content.video_remix(
        pid, tiktok_video_id=TIKTOK_ID, influencer_id=iid, social_account_id=sa
    )
    c = await client.content.get(remix.container_ids[0])
    assert (c.source_tiktok_id, c.social_account_id, c.hook) == (TIKTOK_ID, sa, None)
    builder = await client.content.slideshow_builder(pid, hook="x")
    c = await client.content.get(builder.container_ids[0])
    assert (c.hook, c.influencer_id, c.social_account_id) == ("x", None, None)


#: What a format start is refused with: (error class, project id, actor arguments, `details`
#: expected, or None where the test pins no details).
Refusal = tuple[type[APIStatusError], str, dict[str, str], dict[str, Any] | None]


async def _unknown_project(world: World) -> Refusal:
    """An unknown project: NotFoundError."""
    return NotFoundError, GHOST_PRJ, {"influencer_id": GHOST_INF}, None


async def _unknown_influencer(world: World) -> Refusal:
    """An influencer of no project of ours: NotFoundError {resource, id}."""
    pid = await new_project(world.client)
    expected = {"resource": "influencer", "id": GHOST_INF}
    return NotFoundError, pid, {"influencer_id": GHOST_INF}, expected


async def _unknown_account(world: World) -> Refusal:
    """An account of no project of ours: NotFoundError {resource, id}."""
    pid = await new_project(world.client)
    expected = {"resource": "social_account", "id": GHOST_SA}
    return NotFoundError, pid, {"social_account_id": GHOST_SA}, expected


async def _influencer_not_ready(world: World) -> Refusal:
    """A persona still being created: ConflictError {influencerId, status}."""
    client, sandbox, session = world
    pid = await new_project(client, app=True)
    iid = await pending_influencer(session, sandbox, pid)
    expected = {"influencerId": iid, "status": "pending"}
    return ConflictError, pid, {"influencer_id": iid}, expected


async def _account_not_connected(world: World) -> Refusal:
    """An account needing re-authorization: ConflictError {socialAccountId, status}."""
    client, sandbox, session = world
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sandbox, pid)
    sa = await connect_account(session, sandbox, pid)
    await raw(session, sandbox, "POST", f"/_sandbox/social-accounts/{sa}/needs-reauth")
    expected = {"socialAccountId": sa, "status": "reauth_required"}
    return ConflictError, pid, {"influencer_id": iid, "social_account_id": sa}, expected


async def _account_without_ready_influencer(world: World) -> Refusal:
    """Only an account, no ready persona to wire: ConflictError reason no_ready_influencer."""
    client, sandbox, session = world
    pid = await new_project(client)
    sa = await connect_account(session, sandbox, pid)
    expected = {"socialAccountId": sa, "reason": "no_ready_influencer"}
    return ConflictError, pid, {"social_account_id": sa}, expected


async def _archived_project(world: World) -> Refusal:
    """An archived project: ConflictError {projectId, status: archived}."""
    pid = await new_project(world.client)
    await world.client.projects.archive(pid)
    expected = {"projectId": pid, "status": "archived"}
    return ConflictError, pid, {"influencer_id": GHOST_INF}, expected


@pytest.mark.anyio
@pytest.mark.parametrize(
    "refusal",
    [
        _unknown_project,
        _unknown_influencer,
        _unknown_account,
        _influencer_not_ready,
        _account_not_connected,
        _account_without_ready_influencer,
        _archived_project,
    ],
    ids=lambda case: case.__name__.lstrip("_"),
)
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_refused(
    client: LayersClient,
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    fmt: str,
    refusal: Callable[[World], Awaitable[Refusal]],
) -> None:
    """Each format: unknown project/actor is NotFoundError, an unusable one ConflictError (why)."""
    cls, pid, actors, expected = await refusal(World(client, sandbox, session))
    refused = await api_refusal(cls, start(client, fmt, pid, **actors))
    if expected is not None:
        assert refused.details == expected


@pytest.mark.anyio
async def test_ugc_remix_needs_a_demo_video(
    client: LayersClient, sandbox: Sandbox, persona: Persona
) -> None:
    """No demo video, or a media_id that is not one, is a 422 with issue path mediaId."""
    pid, iid = persona
    for media_id in (None, GHOST_MED):
        ugc = client.content.ugc_remix(pid, influencer_id=iid, media_id=media_id)
        refused = await api_refusal(UnprocessableEntityError, ugc)
        assert issue_paths(refused) == ["mediaId"]
        assert "missingFields" not in refused.details
    assert await count(sandbox, "containers") == 0


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_billing_exhausted(
    open_sandbox: OpenSandbox, session: aiohttp.ClientSession, fmt: str
) -> None:
    """Too few credits is PaymentRequiredError with required, available, reason and format."""
    sb, client = await open_sandbox(**low_credit_options(20))
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sb, pid)
    await upload_demo_video(session, sb, pid)
    refused = await api_refusal(PaymentRequiredError, start(client, fmt, pid, influencer_id=iid))
    assert refused.details == {
        "required": ESTIMATES[fmt],
        "available": 20,
        "reason": "insufficient_credits",
        "format": fmt.replace("-", "_"),
    }
    assert await count(sb, "containers") == 0


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_jobs_cap(client: LayersClient, demo_persona: Persona, fmt: str) -> None:
    """Past the running-jobs cap a start is RateLimitError concurrent_jobs with Retry-After."""
    pid, iid = demo_persona
    await assert_running_jobs_capped(
        lambda: client.content.slideshow_builder(pid, hook="hold"),
        lambda: start(client, fmt, pid, influencer_id=iid),
    )


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", ACTOR_FORMATS)
async def test_format_actor_required_client_side(
    client: LayersClient, sandbox: Sandbox, fmt: str
) -> None:
    """The remix formats and ugc need an actor: refused before sending, nothing is created."""
    pid = await new_project(client)
    assert await refused_field(start, client, fmt, pid) == "influencer_id"
    assert await count(sandbox, "containers") == 0
    assert await count(sandbox, "jobs") == 0


SA = GHOST_SA
SA2 = f"sa_{GHOST_CNT[4:-1]}1"
REMIX = {"tiktok_video_id": TIKTOK_ID, "influencer_id": GHOST_INF}
#: Each method's valid arguments: its first (id) parameter's name and value, then keywords.
VALID: dict[str, tuple[str, str, dict[str, Any]]] = {
    "source_recommendations": ("project_id", GHOST_PRJ, {}),
    "hooks": ("project_id", GHOST_PRJ, {}),
    "slideshow_remix": ("project_id", GHOST_PRJ, REMIX),
    "video_remix": ("project_id", GHOST_PRJ, REMIX),
    "slideshow_builder": ("project_id", GHOST_PRJ, {"hook": "hi"}),
    "ugc_remix": ("project_id", GHOST_PRJ, {"influencer_id": GHOST_INF}),
    "schedule": (
        "container_id",
        GHOST_CNT,
        {
            "scheduled_for": datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc),
            "targets": [ScheduleTarget(SA, "publish")],
        },
    ),
}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "kwargs", "field"),
    [
        ("source_recommendations", {"project_id": "prj_nope"}, "project_id"),
        ("source_recommendations", {"kind": "both"}, "kind"),
        ("source_recommendations", {"keyword": ""}, "keyword"),
        ("source_recommendations", {"keyword": "k" * 201}, "keyword"),
        ("source_recommendations", {"limit": 0}, "limit"),
        ("source_recommendations", {"limit": 21}, "limit"),
        ("source_recommendations", {"limit": True}, "limit"),
        ("slideshow_remix", {"project_id": "nope"}, "project_id"),
        ("slideshow_remix", {"tiktok_video_id": "73x"}, "tiktok_video_id"),
        ("slideshow_remix", {"tiktok_video_id": ""}, "tiktok_video_id"),
        ("slideshow_remix", {"tiktok_video_id": "1" * 33}, "tiktok_video_id"),
        ("slideshow_remix", {"influencer_id": GHOST_SA}, "influencer_id"),
        ("slideshow_remix", {"social_account_id": GHOST_INF}, "social_account_id"),
        ("video_remix", {"tiktok_video_id": 7301}, "tiktok_video_id"),
        ("video_remix", {"influencer_id": "inf_123"}, "influencer_id"),
        ("slideshow_builder", {"hook": ""}, "hook"),
        ("slideshow_builder", {"hook": "h" * 2001}, "hook"),
        ("slideshow_builder", {"social_account_id": "sa_x"}, "social_account_id"),
        ("ugc_remix", {"hook": ""}, "hook"),
        ("ugc_remix", {"hook": "h" * 2001}, "hook"),
        ("ugc_remix", {"media_id": GHOST_MED[4:]}, "media_id"),
        ("ugc_remix", {"media_id": GHOST_INF}, "media_id"),
        ("ugc_remix", {"idempotency_key": "has space"}, "idempotency_key"),
        ("hooks", {"limit": 0}, "limit"),
        ("hooks", {"limit": 51}, "limit"),
        ("hooks", {"project_id": "x"}, "project_id"),
        ("schedule", {"container_id": "cnt_1"}, "container_id"),
        ("schedule", {"scheduled_for": datetime(2030, 1, 1, 12, 0)}, "scheduled_for"),
        ("schedule", {"scheduled_for": "2030-01-01T12:00:00Z"}, "scheduled_for"),
        ("schedule", {"targets": []}, "targets"),
        ("schedule", {"targets": [ScheduleTarget(SA, "publish")] * 51}, "targets"),
        ("schedule", {"targets": ScheduleTarget(SA, "publish")}, "targets"),
        ("schedule", {"targets": [{"socialAccountId": SA, "mode": "publish"}]}, "targets[0]"),
        (
            "schedule",
            {"targets": [ScheduleTarget("acct", "publish")]},
            "targets[0].social_account_id",
        ),
        ("schedule", {"targets": [ScheduleTarget(SA, "post")]}, "targets[0].mode"),  # type: ignore[arg-type]
        (
            "schedule",
            {"targets": [ScheduleTarget(SA, "publish", caption_override="c" * 4001)]},
            "targets[0].caption_override",
        ),
        (
            "schedule",
            {"targets": [ScheduleTarget(SA, "publish", first_comment_override="c" * 4001)]},
            "targets[0].first_comment_override",
        ),
        (
            "schedule",
            {"targets": [ScheduleTarget(SA, "publish", tiktok_post_settings=["x"])]},  # type: ignore[arg-type]
            "targets[0].tiktok_post_settings",
        ),
        (
            "schedule",
            {
                "targets": [
                    ScheduleTarget(SA, "publish"),
                    ScheduleTarget(SA2, "draft", tiktok_music={"id": "m"}),
                ]
            },
            "targets[1].tiktok_music",
        ),
        (
            "schedule",
            {"targets": [ScheduleTarget(SA, "publish", share_reel_to_feed=1)]},  # type: ignore[arg-type]
            "targets[0].share_reel_to_feed",
        ),
        (
            "schedule",
            {
                "targets": [
                    ScheduleTarget(SA, "publish"),
                    ScheduleTarget(SA2, "publish"),
                    ScheduleTarget(SA, "publish", caption_override="again"),
                ]
            },
            "targets[2]",
        ),
    ],
)
async def test_client_side_validation(
    client: LayersClient, sandbox: Sandbox, method: str, kwargs: dict[str, Any], field: str
) -> None:
    """Bad content arguments are refused before sending, naming the Python parameter."""
    first, default, valid = VALID[method]
    args = {first: default, **valid, **kwargs}
    assert await refused_field(getattr(client.content, method), args.pop(first), **args) == field
    assert await count(sandbox, "jobs") == 0
    assert await count(sandbox, "scheduledPosts") == 0


# --- hooks (contract §3.7.7) ----------------------------------------------------------------------
def test_hook_text_replaces_the_escaped_break() -> None:
    """Hook.text turns the two-character backslash-n break into a real newline."""
    h = Hook(hook="I kept running out of coffee\\nso I fixed it")
    assert h.text == "I kept running out of coffee\nso I fixed it"
    assert h.hook.count("\n") == 0


@pytest.mark.anyio
async def test_hooks_bank(client: LayersClient) -> None:
    """hooks() decodes a HookBank in the project's voice with `limit` items."""
    pid = await new_project(client, app=True)
    bank = await client.content.hooks(pid, limit=7)
    assert isinstance(bank, HookBank)
    assert (bank.project_id, bank.brand_voice, bank.language) == (pid, "warm", "en")
    assert len(bank.items) == 7
    for h in bank.items:
        assert isinstance(h, Hook)
        assert "\\n" in h.hook
        assert "\n" in h.text
        assert "\\n" not in h.text
    assert len((await client.content.hooks(pid)).items) == 10


@pytest.mark.anyio
async def test_hooks_missing_brand_fields(client: LayersClient) -> None:
    """A project without appName/appDescription is a 422 with details.missingFields."""
    pid = await new_project(client)
    refused = await api_refusal(UnprocessableEntityError, client.content.hooks(pid))
    assert refused.details["missingFields"] == ["appName", "appDescription"]
    assert sorted(issue_paths(refused)) == ["appDescription", "appName"]


# --- containers (contract §3.7.8-§3.7.10) ---------------------------------------------------------
@pytest.mark.anyio
async def test_get_completed_container(client: LayersClient, remix: Remix) -> None:
    """A completed remix decodes with preview, assets, caption and tz-aware timestamps."""
    pid, iid, cid = remix
    c = await client.content.get(cid)
    assert isinstance(c, Container)
    assert (c.id, c.project_id, c.influencer_id) == (cid, pid, iid)
    assert (c.status, c.format, c.creative_type) == ("completed", "slideshow-remix", "generated")
    assert c.approval_status == "not_required"
    assert c.source_tiktok_id is not None
    assert c.caption
    assert c.last_error is None
    assert c.failed_at is None
    assert isinstance(c.preview, Preview)
    assert c.preview.kind == "slideshow"
    assert c.preview.image_urls
    assert c.preview.primary_url == c.preview.image_urls[0]
    assert c.preview.aspect_ratio == "9:16"
    assert c.preview.video_url is None
    assert len(c.assets) == len(c.preview.image_urls)
    assert all(isinstance(a, Asset) and a.kind == "image" for a in c.assets)
    assert_aware(c.created_at, c.updated_at, c.completed_at)
    assert c.completed_at is not None
    assert c.completed_at > c.created_at
    assert_request_id(c)
    bare = await client.content.get(cid.removeprefix("cnt_"))
    assert bare == c


@pytest.mark.anyio
async def test_get_failed_container(open_sandbox: OpenSandbox) -> None:
    """A failed generation shows last_error GENERATION_FAILED and failed_at, no preview."""
    sb, client = await open_sandbox(failure_rates={"content_generate": 1.0})
    job = await client.content.slideshow_builder(await new_project(client), hook="doomed")
    await sb.advance(80)
    c = await client.content.get(job.container_ids[0])
    assert c.status == "failed"
    assert isinstance(c.last_error, ErrorInfo)
    assert c.last_error.code == "GENERATION_FAILED"
    assert_aware(c.failed_at)
    assert c.completed_at is None
    assert c.assets == ()


@pytest.mark.anyio
async def test_progress(client: LayersClient, sandbox: Sandbox, persona: Persona) -> None:
    """progress() decodes mid-generation (stage, share, eta) and after completion (1, 0)."""
    pid, iid = persona
    job = await client.content.slideshow_remix(pid, tiktok_video_id=TIKTOK_ID, influencer_id=iid)
    cid = job.container_ids[0]
    first = await client.content.progress(cid)
    assert isinstance(first, ContentProgress)
    assert (first.container_id, first.status, first.stage) == (cid, "queued", "queued")
    await sandbox.advance(40)
    mid = await client.content.progress(cid)
    assert (mid.status, mid.stage) == ("processing", "generating_visuals")
    assert 0 < mid.stage_progress < 1
    assert mid.eta_seconds is not None
    assert mid.eta_seconds > 0
    assert_aware(mid.updated_at)
    await sandbox.advance(200)
    done = await client.content.progress(cid)
    assert (done.status, done.stage, done.stage_progress, done.eta_seconds) == (
        "completed",
        "finalizing",
        1,
        0,
    )


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["get", "progress"])
@pytest.mark.parametrize("cid", ["cnt_123", f"sp_{GHOST_CNT[4:]}", "", 42])
async def test_container_id_validation(client: LayersClient, method: str, cid: Any) -> None:
    """A malformed container id is refused before sending."""
    assert await refused_field(getattr(client.content, method), cid) == "container_id"


@pytest.mark.anyio
async def test_list_containers_filters_and_pages(
    client: LayersClient, sandbox: Sandbox, persona: Persona
) -> None:
    """list() filters by status, format, creative type and time; pages newest first."""
    pid, iid = persona
    t0 = await now(sandbox)
    done = await client.content.slideshow_builder(pid, hook="one")
    await sandbox.advance(80)
    t1 = await now(sandbox)
    remix = await client.content.slideshow_remix(pid, tiktok_video_id=TIKTOK_ID, influencer_id=iid)
    await sandbox.advance(10)  # the remix leaves `queued`
    builder = await client.content.slideshow_builder(pid, hook="three")
    newest_first = [builder.container_ids[0], remix.container_ids[0], done.container_ids[0]]

    page = await client.content.list(pid)
    assert [c.id for c in page.items] == newest_first
    assert all(isinstance(c, Container) for c in page.items)
    assert page.next_cursor is None
    walked = [c.id async for c in client.content.list(pid, limit=1)]
    assert walked == newest_first
    first = await client.content.list(pid, limit=2)
    assert first.next_cursor is not None
    rest = await client.content.list(pid, limit=2, cursor=first.next_cursor)
    assert [c.id for c in rest.items] == newest_first[2:]

    completed = await client.content.list(pid, status="completed")
    assert [c.id for c in completed.items] == newest_first[2:]
    both = await client.content.list(pid, status=["completed", "queued"])
    assert [c.id for c in both.items] == [newest_first[0], newest_first[2]]
    remixes = await client.content.list(pid, format=("slideshow-remix", "video-remix"))
    assert [c.id for c in remixes.items] == [newest_first[1]]
    assert len((await client.content.list(pid, creative_type="generated")).items) == 3
    assert (await client.content.list(pid, creative_type="uploaded")).items == ()
    window = await client.content.list(pid, since=t0.astimezone(PACIFIC), until=t0)
    assert [c.id for c in window.items] == newest_first[2:]
    after = await client.content.list(pid, since=t1)
    assert [c.id for c in after.items] == newest_first[:2]


# --- scopes and unknown resources -----------------------------------------------------------------
ROUTES: list[Route] = [
    (
        "source_recommendations",
        "content:read",
        lambda c: c.content.source_recommendations(GHOST_PRJ),
    ),
    (
        "slideshow_remix",
        "content:write",
        lambda c: c.content.slideshow_remix(
            GHOST_PRJ, tiktok_video_id=TIKTOK_ID, influencer_id=GHOST_INF
        ),
    ),
    (
        "video_remix",
        "content:write",
        lambda c: c.content.video_remix(
            GHOST_PRJ, tiktok_video_id=TIKTOK_ID, influencer_id=GHOST_INF
        ),
    ),
    (
        "slideshow_builder",
        "content:write",
        lambda c: c.content.slideshow_builder(GHOST_PRJ, hook="h"),
    ),
    (
        "ugc_remix",
        "content:write",
        lambda c: c.content.ugc_remix(GHOST_PRJ, influencer_id=GHOST_INF),
    ),
    ("hooks", "content:read", lambda c: c.content.hooks(GHOST_PRJ)),
    ("list", "content:read", lambda c: c.content.list(GHOST_PRJ)),
    ("get", "content:read", lambda c: c.content.get(GHOST_CNT)),
    ("progress", "content:read", lambda c: c.content.progress(GHOST_CNT)),
    (
        "schedule",
        "publish:write",
        lambda c: c.content.schedule(
            GHOST_CNT,
            scheduled_for=datetime(2030, 1, 1, tzinfo=timezone.utc),
            targets=[ScheduleTarget(GHOST_SA, "publish")],
        ),
    ),
]

test_content_routes_need_their_scope = needs_scope_test(
    ROUTES, "A key without the route's scope gets PermissionDeniedError {requiredScope}."
)
test_unknown_resource_is_not_found = not_found_test(
    [
        (
            "source_recommendations",
            "content:read",
            lambda c: c.content.source_recommendations(GHOST_PRJ, keyword="coffee"),
        ),
        *[route for route in ROUTES if route[0] in ("hooks", "get", "progress", "list")],
    ],
    "An unknown project or container is NotFoundError on every read route.",
)
