"""`client.content`: sources, formats, hooks, containers, progress, schedule (§3.7, §3.9.1)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from layers_async import (
    Asset,
    ConflictError,
    ErrorInfo,
    Job,
    LayersClient,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    UnprocessableEntityError,
)
from layers_async.models.content import (
    Container,
    ContentProgress,
    Hook,
    HookBank,
    Preview,
    ScheduleResult,
    ScheduleTarget,
    SourceAuthor,
    SourceItem,
    SourceRecommendations,
    SourceStats,
)
from layers_async.sandbox import Sandbox
from tests.client._shared import (
    CNT_RE,
    GHOST_CNT,
    GHOST_INF,
    GHOST_MED,
    GHOST_PRJ,
    GHOST_SA,
    SP_RE,
    TIKTOK_ID,
    MakeSandbox,
    Route,
    api_error,
    assert_aware,
    assert_job_envelope,
    assert_not_found,
    assert_request_id,
    assert_running_jobs_capped,
    body_recorder,
    completed_container,
    connect_account,
    count,
    later,
    low_credit_options,
    needs_scope_test,
    new_project,
    not_found_test,
    now,
    pending_influencer,
    raw,
    ready_influencer,
    refused_field,
    refused_field_now,
    scheduling_setup,
    traced_client,
    upload_demo_video,
    url_recorder,
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


# --- source recommendations (§3.7.1) --------------------------------------------------------------
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


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"project_id": "prj_nope"}, "project_id"),
        ({"kind": "both"}, "kind"),
        ({"keyword": ""}, "keyword"),
        ({"keyword": "k" * 201}, "keyword"),
        ({"limit": 0}, "limit"),
        ({"limit": 21}, "limit"),
        ({"limit": True}, "limit"),
    ],
)
async def test_source_recommendations_validation(
    client: LayersClient, kwargs: dict[str, Any], field: str
) -> None:
    """Out-of-range kind, keyword and limit are refused before sending, naming the parameter."""
    args: dict[str, Any] = {"project_id": GHOST_PRJ, **kwargs}
    pid = args.pop("project_id")
    assert await refused_field(client.content.source_recommendations, pid, **args) == field


# --- the four formats (§3.7.2-§3.7.6) -------------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_returns_job_envelope(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession, fmt: str
) -> None:
    """Each format answers the 202 envelope as a Job; its container starts queued."""
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sandbox, pid)
    if fmt == "ugc-remix":
        await upload_demo_video(session, sandbox, pid)
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
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """hook, media_id and social_account_id reach the container; builder needs no actor."""
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sandbox, pid)
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


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_unknown_project(client: LayersClient, fmt: str) -> None:
    """An unknown project is NotFoundError."""
    with pytest.raises(NotFoundError) as ei:
        await start(client, fmt, GHOST_PRJ, influencer_id=GHOST_INF)
    api_error(ei.value, 404, "NOT_FOUND", NotFoundError)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("actor", "resource", "ghost"),
    [("influencer_id", "influencer", GHOST_INF), ("social_account_id", "social_account", GHOST_SA)],
    ids=["influencer", "social_account"],
)
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_unknown_actor(
    client: LayersClient, fmt: str, actor: str, resource: str, ghost: str
) -> None:
    """An influencer or account of no project of ours is NotFoundError {resource, id}."""
    pid = await new_project(client)
    details = await assert_not_found(
        lambda c: start(c, fmt, pid, **{actor: ghost}), client, strict=True
    )
    assert details == {"resource": resource, "id": ghost}


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_influencer_not_ready(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession, fmt: str
) -> None:
    """A persona still being created is ConflictError {influencerId, status}."""
    pid = await new_project(client, app=True)
    iid = await pending_influencer(session, sandbox, pid)
    with pytest.raises(ConflictError) as ei:
        await start(client, fmt, pid, influencer_id=iid)
    details = api_error(ei.value, 409, "CONFLICT", ConflictError)
    assert details == {"influencerId": iid, "status": "pending"}


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_account_not_connected(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession, fmt: str
) -> None:
    """An account needing re-authorization is ConflictError {socialAccountId, status}."""
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sandbox, pid)
    sa = await connect_account(session, sandbox, pid)
    status, _ = await raw(session, sandbox, "POST", f"/_sandbox/social-accounts/{sa}/needs-reauth")
    assert status == 200
    with pytest.raises(ConflictError) as ei:
        await start(client, fmt, pid, influencer_id=iid, social_account_id=sa)
    details = api_error(ei.value, 409, "CONFLICT", ConflictError)
    assert details == {"socialAccountId": sa, "status": "reauth_required"}


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_account_without_ready_influencer(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession, fmt: str
) -> None:
    """Only an account, and no ready persona to wire: ConflictError reason no_ready_influencer."""
    pid = await new_project(client)
    sa = await connect_account(session, sandbox, pid)
    with pytest.raises(ConflictError) as ei:
        await start(client, fmt, pid, social_account_id=sa)
    details = api_error(ei.value, 409, "CONFLICT", ConflictError)
    assert details == {"socialAccountId": sa, "reason": "no_ready_influencer"}


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_archived_project(client: LayersClient, fmt: str) -> None:
    """Generating in an archived project is ConflictError {projectId, status: archived}."""
    pid = await new_project(client)
    await client.projects.archive(pid)
    with pytest.raises(ConflictError) as ei:
        await start(client, fmt, pid, influencer_id=GHOST_INF)
    details = api_error(ei.value, 409, "CONFLICT", ConflictError)
    assert details == {"projectId": pid, "status": "archived"}


@pytest.mark.anyio
async def test_ugc_remix_needs_a_demo_video(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """No demo video, or a media_id that is not one, is a 422 with issue path mediaId."""
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sandbox, pid)
    for media_id in (None, GHOST_MED):
        with pytest.raises(UnprocessableEntityError) as ei:
            await client.content.ugc_remix(pid, influencer_id=iid, media_id=media_id)
        details = api_error(ei.value, 422, "VALIDATION", UnprocessableEntityError)
        assert [i.path for i in ei.value.issues] == ["mediaId"]
        assert "missingFields" not in details
    assert await count(sandbox, "containers") == 0


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_billing_exhausted(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession, fmt: str
) -> None:
    """Too few credits is PaymentRequiredError with required, available, reason and format."""
    async with (
        make_sandbox(**low_credit_options(20)) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url) as client,
    ):
        pid = await new_project(client, app=True)
        iid = await ready_influencer(session, sb, pid)
        await upload_demo_video(session, sb, pid)
        with pytest.raises(PaymentRequiredError) as ei:
            await start(client, fmt, pid, influencer_id=iid)
        details = api_error(ei.value, 402, "BILLING_EXHAUSTED", PaymentRequiredError)
        assert details == {
            "required": ESTIMATES[fmt],
            "available": 20,
            "reason": "insufficient_credits",
            "format": fmt.replace("-", "_"),
        }
        assert await count(sb, "containers") == 0


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_running_jobs_cap(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession, fmt: str
) -> None:
    """Past the running-jobs cap a start is RateLimitError concurrent_jobs with Retry-After."""
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sandbox, pid)
    await upload_demo_video(session, sandbox, pid)
    await assert_running_jobs_capped(
        lambda: client.content.slideshow_builder(pid, hook="hold"),
        lambda: start(client, fmt, pid, influencer_id=iid),
        cls=RateLimitError,
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


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "kwargs", "field"),
    [
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
    ],
)
async def test_format_validation(
    client: LayersClient, sandbox: Sandbox, method: str, kwargs: dict[str, Any], field: str
) -> None:
    """Bad format arguments are refused before sending, naming the Python parameter."""
    base: dict[str, Any] = {
        "slideshow_remix": {"tiktok_video_id": TIKTOK_ID, "influencer_id": GHOST_INF},
        "video_remix": {"tiktok_video_id": TIKTOK_ID, "influencer_id": GHOST_INF},
        "slideshow_builder": {"hook": "hi"},
        "ugc_remix": {"influencer_id": GHOST_INF},
    }[method]
    args = {"project_id": GHOST_PRJ, **base, **kwargs}
    pid = args.pop("project_id")
    assert await refused_field(getattr(client.content, method), pid, **args) == field
    assert await count(sandbox, "jobs") == 0


# --- hooks (§3.7.7) -------------------------------------------------------------------------------
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
    with pytest.raises(UnprocessableEntityError) as ei:
        await client.content.hooks(pid)
    details = api_error(ei.value, 422, "VALIDATION", UnprocessableEntityError)
    assert details["missingFields"] == ["appName", "appDescription"]
    assert sorted(i.path for i in ei.value.issues) == ["appDescription", "appName"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"limit": 0}, "limit"), ({"limit": 51}, "limit"), ({"project_id": "x"}, "project_id")],
)
async def test_hooks_validation(client: LayersClient, kwargs: dict[str, Any], field: str) -> None:
    """limit outside 1-50 and a malformed project id are refused before sending."""
    args: dict[str, Any] = {"project_id": GHOST_PRJ, **kwargs}
    pid = args.pop("project_id")
    assert await refused_field(client.content.hooks, pid, **args) == field


# --- containers (§3.7.8-§3.7.10) ------------------------------------------------------------------
@pytest.mark.anyio
async def test_get_completed_container(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A completed remix decodes with preview, assets, caption and tz-aware timestamps."""
    pid, iid, cid = await completed_container(client, sandbox, session)
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
async def test_get_failed_container(make_sandbox: MakeSandbox) -> None:
    """A failed generation shows last_error GENERATION_FAILED and failed_at, no preview."""
    async with (
        make_sandbox(failure_rates={"content_generate": 1.0}) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url) as client,
    ):
        pid = await new_project(client)
        job = await client.content.slideshow_builder(pid, hook="doomed")
        await sb.advance(80)
        c = await client.content.get(job.container_ids[0])
        assert c.status == "failed"
        assert isinstance(c.last_error, ErrorInfo)
        assert c.last_error.code == "GENERATION_FAILED"
        assert_aware(c.failed_at)
        assert c.completed_at is None
        assert c.assets == ()


@pytest.mark.anyio
async def test_progress(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """progress() decodes mid-generation (stage, share, eta) and after completion (1, 0)."""
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sandbox, pid)
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
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """list() filters by status, format, creative type and time; pages newest first."""
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sandbox, pid)
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
    pacific = timezone(timedelta(hours=-7))
    window = await client.content.list(pid, since=t0.astimezone(pacific), until=t0)
    assert [c.id for c in window.items] == newest_first[2:]
    after = await client.content.list(pid, since=t1)
    assert [c.id for c in after.items] == newest_first[:2]


@pytest.mark.anyio
async def test_list_sends_repeated_filters_and_utc(sandbox: Sandbox) -> None:
    """status and format go out repeated; since/until go out as UTC Z timestamps."""
    trace, urls = url_recorder()
    async with traced_client(sandbox, trace) as client:
        pid = await new_project(client)
        since = datetime(2026, 5, 14, 9, 0, tzinfo=timezone(timedelta(hours=-7)))
        await client.content.list(
            pid,
            status=["queued", "failed"],
            format=["ugc-remix", "video-remix"],
            since=since,
            until=since,
            limit=5,
        )
    q = urls[-1].split("?", 1)[1]
    assert q.count("status=") == 2
    assert "status=queued" in q
    assert "status=failed" in q
    assert "format=ugc-remix" in q
    assert "format=video-remix" in q
    assert "since=2026-05-14T16:00:00.000Z" in q
    assert "until=2026-05-14T16:00:00.000Z" in q
    assert "limit=5" in q


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"project_id": "prj_x"}, "project_id"),
        ({"status": "generating"}, "status"),
        ({"status": ["queued", "nope"]}, "status"),
        ({"status": []}, "status"),
        ({"format": "slideshow_remix"}, "format"),
        ({"creative_type": "ai"}, "creative_type"),
        ({"since": datetime(2026, 5, 14, 16, 0)}, "since"),
        ({"until": "2026-05-14T16:00:00Z"}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
    ],
)
async def test_list_validation(client: LayersClient, kwargs: dict[str, Any], field: str) -> None:
    """Bad list filters are refused when the call is made, before anything is sent."""
    args: dict[str, Any] = {"project_id": GHOST_PRJ, **kwargs}
    pid = args.pop("project_id")
    assert refused_field_now(client.content.list, pid, **args) == field


# --- schedule (§3.9.1) ----------------------------------------------------------------------------
@pytest.mark.anyio
async def test_schedule_success(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """schedule() decodes ScheduleResult; ids follow target order; the instant is kept."""
    s = await scheduling_setup(client, sandbox, session)
    second = await connect_account(session, sandbox, s.project_id)
    pacific = timezone(timedelta(hours=-7))
    when = later(await now(sandbox), 60).astimezone(pacific)
    result = await client.content.schedule(
        s.container_id,
        scheduled_for=when,
        targets=[
            ScheduleTarget(social_account_id=s.account_id, mode="publish"),
            ScheduleTarget(social_account_id=second, mode="draft", caption_override="Hi"),
            ScheduleTarget(social_account_id=s.account_id, mode="managed"),
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
        (s.account_id, "publish"),
        (second, "draft"),
        (s.account_id, "managed"),
    ]
    assert all(p.status == "queued" and p.container_id == s.container_id for p in posts)


@pytest.mark.anyio
async def test_schedule_target_wire_form(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    """A ScheduleTarget goes out camelCase with its None fields omitted; the time as UTC Z."""
    trace, chunks = body_recorder()
    async with traced_client(sandbox, trace) as client:
        s = await scheduling_setup(client, sandbox, session)
        when = later(await now(sandbox), 90)
        chunks.clear()
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


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("ahead", "targets", "paths"),
    [
        (
            10,
            lambda sa: [ScheduleTarget(social_account_id=sa, mode="publish")],
            ["scheduledFor"],
        ),
        (
            60,
            lambda sa: [
                ScheduleTarget(social_account_id=GHOST_SA, mode="publish"),
                ScheduleTarget(sa, "publish", share_reel_to_feed=True),
            ],
            ["targets.0.socialAccountId", "targets.1.shareReelToFeed"],
        ),
    ],
    ids=["too_soon", "target_rules"],
)
async def test_schedule_rules_checked_by_the_server(
    client: LayersClient,
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    ahead: float,
    targets: Callable[[str], list[ScheduleTarget]],
    paths: list[str],
) -> None:
    """Under 30 s ahead, unknown accounts or TikTok share_reel_to_feed: 422s; nothing written."""
    s = await scheduling_setup(client, sandbox, session)
    with pytest.raises(UnprocessableEntityError) as ei:
        await client.content.schedule(
            s.container_id,
            scheduled_for=later(await now(sandbox), ahead),
            targets=targets(s.account_id),
        )
    api_error(ei.value, 422, "VALIDATION", UnprocessableEntityError)
    assert sorted(i.path for i in ei.value.issues) == paths
    assert await count(sandbox, "scheduledPosts") == 0


@pytest.mark.anyio
async def test_schedule_music_on_video_content(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """tiktok_music on video content is a 422 on targets.0.tiktokMusic."""
    pid = await new_project(client, app=True)
    iid = await ready_influencer(session, sandbox, pid)
    sa = await connect_account(session, sandbox, pid)
    job = await client.content.video_remix(pid, tiktok_video_id=TIKTOK_ID, influencer_id=iid)
    await sandbox.advance(300)
    with pytest.raises(UnprocessableEntityError) as ei:
        await client.content.schedule(
            job.container_ids[0],
            scheduled_for=later(await now(sandbox), 60),
            targets=[ScheduleTarget(sa, "publish", tiktok_music={"id": "m"})],
        )
    api_error(ei.value, 422, "VALIDATION", UnprocessableEntityError)
    assert [i.path for i in ei.value.issues] == ["targets.0.tiktokMusic"]


@pytest.mark.anyio
async def test_schedule_unknown_container(client: LayersClient, sandbox: Sandbox) -> None:
    """Scheduling an unknown container is NotFoundError."""
    with pytest.raises(NotFoundError) as ei:
        await client.content.schedule(
            GHOST_CNT,
            scheduled_for=later(await now(sandbox), 60),
            targets=[ScheduleTarget(GHOST_SA, "publish")],
        )
    api_error(ei.value, 404, "NOT_FOUND", NotFoundError)


@pytest.mark.anyio
async def test_schedule_container_not_completed(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A container still generating is ConflictError {containerId, status}."""
    pid = await new_project(client)
    sa = await connect_account(session, sandbox, pid)
    job = await client.content.slideshow_builder(pid, hook="soon")
    await sandbox.advance(20)
    cid = job.container_ids[0]
    with pytest.raises(ConflictError) as ei:
        await client.content.schedule(
            cid,
            scheduled_for=later(await now(sandbox), 60),
            targets=[ScheduleTarget(sa, "publish")],
        )
    details = api_error(ei.value, 409, "CONFLICT", ConflictError)
    assert details == {"containerId": cid, "status": "processing"}


@pytest.mark.anyio
async def test_schedule_archived_project(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Scheduling in an archived project is ConflictError {projectId, status: archived}."""
    s = await scheduling_setup(client, sandbox, session)
    await client.projects.archive(s.project_id)
    with pytest.raises(ConflictError) as ei:
        await client.content.schedule(
            s.container_id,
            scheduled_for=later(await now(sandbox), 60),
            targets=[ScheduleTarget(s.account_id, "publish")],
        )
    details = api_error(ei.value, 409, "CONFLICT", ConflictError)
    assert details == {"projectId": s.project_id, "status": "archived"}


SA = GHOST_SA
SA2 = f"sa_{GHOST_CNT[4:-1]}1"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"container_id": "cnt_1"}, "container_id"),
        ({"scheduled_for": datetime(2030, 1, 1, 12, 0)}, "scheduled_for"),
        ({"scheduled_for": "2030-01-01T12:00:00Z"}, "scheduled_for"),
        ({"targets": []}, "targets"),
        ({"targets": [ScheduleTarget(SA, "publish")] * 51}, "targets"),
        ({"targets": ScheduleTarget(SA, "publish")}, "targets"),
        ({"targets": [{"socialAccountId": SA, "mode": "publish"}]}, "targets[0]"),
        ({"targets": [ScheduleTarget("acct", "publish")]}, "targets[0].social_account_id"),
        ({"targets": [ScheduleTarget(SA, "post")]}, "targets[0].mode"),  # type: ignore[arg-type]
        (
            {"targets": [ScheduleTarget(SA, "publish", caption_override="c" * 4001)]},
            "targets[0].caption_override",
        ),
        (
            {"targets": [ScheduleTarget(SA, "publish", first_comment_override="c" * 4001)]},
            "targets[0].first_comment_override",
        ),
        (
            {"targets": [ScheduleTarget(SA, "publish", tiktok_post_settings=["x"])]},  # type: ignore[arg-type]
            "targets[0].tiktok_post_settings",
        ),
        (
            {
                "targets": [
                    ScheduleTarget(SA, "publish"),
                    ScheduleTarget(SA2, "draft", tiktok_music={"id": "m"}),
                ]
            },
            "targets[1].tiktok_music",
        ),
        (
            {"targets": [ScheduleTarget(SA, "publish", share_reel_to_feed=1)]},  # type: ignore[arg-type]
            "targets[0].share_reel_to_feed",
        ),
        (
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
async def test_schedule_validation(
    client: LayersClient, sandbox: Sandbox, kwargs: dict[str, Any], field: str
) -> None:
    """Bad schedule input, including duplicate account+mode targets, is refused before sending."""
    args: dict[str, Any] = {
        "container_id": GHOST_CNT,
        "scheduled_for": datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc),
        "targets": [ScheduleTarget(SA, "publish")],
        **kwargs,
    }
    cid = args.pop("container_id")
    assert await refused_field(client.content.schedule, cid, **args) == field
    assert await count(sandbox, "scheduledPosts") == 0


def test_schedule_target_is_a_frozen_input() -> None:
    """ScheduleTarget is built by keyword, defaults its options to None and is immutable."""
    t = ScheduleTarget(social_account_id=SA, mode="publish")
    assert (t.caption_override, t.tiktok_music, t.share_reel_to_feed) == (None, None, None)
    with pytest.raises(AttributeError):
        t.mode = "draft"  # type: ignore[misc]


# --- scopes and unknown resources ----------------------------------------------------------------
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
    strict=True,
)
