"""Contract tests for scheduling and scheduled posts (§3.9, §4.6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox._checks import query_validation_test
from tests.sandbox._flows import (
    GHOST_CNT,
    GHOST_PRJ,
    GHOST_SA,
    GHOST_SP,
    SP_RE,
    builder_job,
    check_post,
    completed_container,
    connect_account,
    create_project,
    err,
    format_body,
    get_container,
    get_post,
    invalid,
    not_found_or_invalid,
    ok,
    ready_influencer,
    route_scope_test,
    schedule,
    shift,
    social_account,
    start_content,
)
from tests.sandbox._http import Api

_AUTO: Any = object()


class Setup:
    """A project with a completed slideshow container and a connected TikTok account."""

    def __init__(self, api: Api, pid: str, cid: str, sa: str) -> None:
        self.api = api
        self.pid = pid
        self.cid = cid
        self.sa = sa

    async def now(self) -> str:
        return await self.api.now()

    async def at(self, seconds: float) -> str:
        return shift(await self.api.now(), seconds)

    async def schedule(
        self,
        targets: list[dict[str, Any]] | None = None,
        *,
        ahead: float = 60,
        scheduled_for: Any = _AUTO,
        cid: str | None = None,
    ) -> Any:
        when = await self.at(ahead) if scheduled_for is _AUTO else scheduled_for
        tg = targets if targets is not None else [{"socialAccountId": self.sa, "mode": "publish"}]
        return await schedule(self.api, cid or self.cid, when, tg)

    async def one(self, mode: str = "publish", ahead: float = 60, sa: str | None = None) -> str:
        r = await self.schedule([{"socialAccountId": sa or self.sa, "mode": mode}], ahead=ahead)
        return str(ok(r, 201)["scheduledPostIds"][0])


async def setup(api: Api) -> Setup:
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
    cid = await completed_container(api, pid)
    return Setup(api, pid, cid, sa)


async def video_container(api: Api, pid: str) -> str:
    """A completed video-remix container (creates a ready influencer first)."""
    ok(await api.post(f"/v1/projects/{pid}/influencers", {}), 202)
    iid = await ready_influencer(api, pid, wait=80)
    body = format_body("video-remix", influencerId=iid)
    return await completed_container(api, pid, fmt="video-remix", body=body)


# --- schedule: success (contract §3.9.1) ----------------------------------------------------------
@pytest.mark.anyio
async def test_schedule_success_shape(api: Api) -> None:
    """201 {scheduledPostIds, gateStatus, scheduledFor}; the post is queued, every field set."""
    s = await setup(api)
    now = await s.now()
    when = shift(now, 60)
    r = await s.schedule(scheduled_for=when)
    body = ok(r, 201)
    assert body == {**body, "gateStatus": "queued", "scheduledFor": when}
    [post_id] = body["scheduledPostIds"]
    assert SP_RE.match(post_id)
    assert r.headers["X-RateLimit-Endpoint-Class"] == "write-light"
    post = await get_post(api, post_id)
    check_post(post)
    assert post == {
        **post,
        "id": post_id,
        "containerId": s.cid,
        "projectId": s.pid,
        "socialAccountId": s.sa,
        "platform": "tiktok",
        "mode": "publish",
        "status": "queued",
        "externalId": None,
        "externalUrl": None,
        "scheduledFor": when,
        "attemptedAt": None,
        "publishedAt": None,
        "canceledAt": None,
        "lastError": None,
        "createdAt": now,
        "updatedAt": now,
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("suffix", "expected_ms"),
    [
        ("Z", ".000Z"),
        (".5Z", ".500Z"),
        (".12Z", ".120Z"),
        (".123456Z", ".123Z"),
        (".000Z", ".000Z"),
    ],
)
async def test_schedule_normalises_scheduled_for(api: Api, suffix: str, expected_ms: str) -> None:
    """scheduledFor with 0-6 fractional digits is accepted and echoed in the ms Z form."""
    s = await setup(api)
    base = (await s.at(120))[:19]
    body = ok(await s.schedule(scheduled_for=base + suffix), 201)
    assert body["scheduledFor"] == base + expected_ms
    assert (await get_post(api, body["scheduledPostIds"][0]))["scheduledFor"] == base + expected_ms


@pytest.mark.anyio
async def test_schedule_exactly_30s_ahead(api: Api) -> None:
    """scheduledFor exactly 30 s after the server's now is accepted; 29.999 s is not."""
    s = await setup(api)
    ok(await s.schedule(ahead=30), 201)
    invalid(await s.schedule(ahead=29.999), "scheduledFor")


@pytest.mark.anyio
async def test_schedule_ids_follow_target_order(api: Api) -> None:
    """scheduledPostIds follow the order of targets; same account in two modes is allowed."""
    s = await setup(api)
    sa2 = await connect_account(api, s.pid)
    insta = await connect_account(api, s.pid, platform="instagram")
    targets = [
        {"socialAccountId": sa2, "mode": "draft"},
        {"socialAccountId": s.sa, "mode": "publish", "captionOverride": "c" * 4000},
        {"socialAccountId": s.sa, "mode": "managed", "firstCommentOverride": "f" * 4000},
        {"socialAccountId": insta, "mode": "publish", "tiktokPostSettings": {"privacy": "x"}},
        {"socialAccountId": sa2, "mode": "publish", "tiktokMusic": {"id": "m1"}},
    ]
    body = ok(await s.schedule(targets), 201)
    ids = body["scheduledPostIds"]
    assert len(ids) == 5
    assert len(set(ids)) == 5
    for post_id, target in zip(ids, targets, strict=True):
        post = await get_post(api, post_id)
        check_post(post)
        assert (post["socialAccountId"], post["mode"]) == (
            target["socialAccountId"],
            target["mode"],
        )
        assert post["platform"] == ("instagram" if target["socialAccountId"] == insta else "tiktok")


# --- schedule: validation (contract §3.9.1) -------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize(
    "value",
    [
        "2026-05-15T09:00:00-07:00",
        "2026-05-15T16:00:00+00:00",
        "2026-05-15T16:00:00.000+00:00",
        "2026-05-15T16:00:00",
        "2026-05-15T16:00:00.1234567Z",
        "2026-05-15",
        "tomorrow",
        "2026-05-15T16:00:00z",
        "",
        1778860800,
        None,
    ],
)
async def test_schedule_scheduled_for_format(api: Api, value: Any) -> None:
    """scheduledFor must be a string ending in Z with 0-6 fractional digits → else 422."""
    s = await setup(api)
    invalid(await s.schedule(scheduled_for=value), "scheduledFor")


@pytest.mark.anyio
@pytest.mark.parametrize("ahead", [29, 10, 0, -60, -86400])
async def test_schedule_scheduled_for_too_soon(api: Api, ahead: float) -> None:
    """scheduledFor less than 30 s ahead (or in the past) → 422 path scheduledFor."""
    s = await setup(api)
    invalid(await s.schedule(ahead=ahead), "scheduledFor")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("targets", "path"),
    [
        (None, "targets"),
        ([], "targets"),
        ("sa", "targets"),
        ({"socialAccountId": "x"}, "targets"),
        ([{"mode": "publish"}], "targets.0.socialAccountId"),
        ([{"socialAccountId": "SA", "mode": "publish"}], "targets.0.socialAccountId"),
        ([{"socialAccountId": "<sa>"}], "targets.0.mode"),
        ([{"socialAccountId": "<sa>", "mode": "post"}], "targets.0.mode"),
        ([{"socialAccountId": "<sa>", "mode": None}], "targets.0.mode"),
        ([{"socialAccountId": "<sa>", "mode": "publish", "extra": 1}], "targets.0.extra"),
        (
            [{"socialAccountId": "<sa>", "mode": "publish", "captionOverride": "c" * 4001}],
            "targets.0.captionOverride",
        ),
        (
            [{"socialAccountId": "<sa>", "mode": "publish", "firstCommentOverride": "f" * 4001}],
            "targets.0.firstCommentOverride",
        ),
        (
            [{"socialAccountId": "<sa>", "mode": "publish", "shareReelToFeed": "yes"}],
            "targets.0.shareReelToFeed",
        ),
        (["<sa>"], "targets.0"),
    ],
)
async def test_schedule_target_syntax(api: Api, targets: Any, path: str) -> None:
    """targets must be 1-50 objects with socialAccountId and a mode enum; strict target keys."""
    s = await setup(api)

    def fill(v: Any) -> Any:
        if v == "<sa>":
            return s.sa
        if isinstance(v, dict):
            return {k: fill(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fill(x) for x in v]
        return v

    body: dict[str, Any] = {"scheduledFor": await s.at(60)}
    if targets is not None:
        body["targets"] = fill(targets)
    invalid(await api.post(f"/v1/content/{s.cid}/schedule", body), path)


@pytest.mark.anyio
async def test_schedule_too_many_targets(api: Api) -> None:
    """More than 50 targets → 422 path targets."""
    s = await setup(api)
    targets = [{"socialAccountId": s.sa, "mode": "publish"}] * 51
    invalid(await s.schedule(targets), "targets")


@pytest.mark.anyio
async def test_schedule_strict_body(api: Api) -> None:
    """An unknown top-level key → 422 with that key as path; a non-object body → path ""."""
    s = await setup(api)
    body = {
        "scheduledFor": await s.at(60),
        "targets": [{"socialAccountId": s.sa, "mode": "publish"}],
        "timezone": "UTC",
    }
    invalid(await api.post(f"/v1/content/{s.cid}/schedule", body), "timezone")
    invalid(await api.post(f"/v1/content/{s.cid}/schedule", [body]), "")


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["unknown", "reauth", "disconnected", "other_project"])
async def test_schedule_account_not_connected(api: Api, kind: str) -> None:
    """A target account not connected in this project → 422 targets.<i>.socialAccountId."""
    s = await setup(api)
    if kind == "unknown":
        bad = GHOST_SA
    elif kind == "other_project":
        other = (await create_project(api, app=False, name="Other Project"))["id"]
        bad = await connect_account(api, other)
    else:
        bad = await connect_account(api, s.pid)
        if kind == "reauth":
            ok(await api.post(f"/_sandbox/social-accounts/{bad}/needs-reauth"))
        else:
            ok(await api.delete(f"/v1/social-accounts/{bad}"))
    targets = [
        {"socialAccountId": s.sa, "mode": "publish"},
        {"socialAccountId": bad, "mode": "publish"},
    ]
    e = invalid(await s.schedule(targets), "targets.1.socialAccountId")
    assert "targets.0.socialAccountId" not in [i["path"] for i in e["details"]["issues"]]
    assert ok(await api.get(f"/v1/projects/{s.pid}/scheduled-posts"))["items"] == []


@pytest.mark.anyio
async def test_schedule_duplicate_target(api: Api) -> None:
    """Two targets with the same account and mode → 422 path targets.<i> of the later one."""
    s = await setup(api)
    targets = [
        {"socialAccountId": s.sa, "mode": "publish"},
        {"socialAccountId": s.sa, "mode": "draft"},
        {"socialAccountId": s.sa, "mode": "publish", "captionOverride": "different"},
    ]
    e = invalid(await s.schedule(targets), "targets.2")
    paths = [i["path"] for i in e["details"]["issues"]]
    assert "targets.0" not in paths
    assert "targets.1" not in paths


@pytest.mark.anyio
async def test_schedule_reports_every_target_issue(api: Api) -> None:
    """All targets are checked together: one issue per bad target, nothing written."""
    s = await setup(api)
    targets = [
        {"socialAccountId": GHOST_SA, "mode": "publish"},
        {"socialAccountId": s.sa, "mode": "publish"},
        {"socialAccountId": s.sa, "mode": "publish"},
        {"socialAccountId": s.sa, "mode": "draft", "tiktokMusic": {"id": "m"}},
    ]
    invalid(
        await s.schedule(targets),
        "targets.0.socialAccountId",
        "targets.2",
        "targets.3.tiktokMusic",
    )
    state = await api.state()
    assert state["counts"]["scheduledPosts"]["total"] == 0


@pytest.mark.anyio
async def test_schedule_tiktok_music_rules(api: Api) -> None:
    """tiktokMusic is refused on draft targets and on video content (path of the field)."""
    s = await setup(api)
    draft = [{"socialAccountId": s.sa, "mode": "draft", "tiktokMusic": {"id": "m"}}]
    invalid(await s.schedule(draft), "targets.0.tiktokMusic")
    ok(
        await s.schedule(
            [{"socialAccountId": s.sa, "mode": "publish", "tiktokMusic": {"id": "m"}}]
        ),
        201,
    )
    vid = await video_container(api, s.pid)
    target = [
        {"socialAccountId": s.sa, "mode": "managed"},
        {"socialAccountId": s.sa, "mode": "publish", "tiktokMusic": {"id": "m"}},
    ]
    invalid(await s.schedule(target, cid=vid), "targets.1.tiktokMusic")


@pytest.mark.anyio
async def test_schedule_share_reel_to_feed_rules(api: Api) -> None:
    """shareReelToFeed is only for Instagram publish targets with video content."""
    s = await setup(api)
    insta = await connect_account(api, s.pid, platform="instagram")
    vid = await video_container(api, s.pid)

    def tgt(sa: str, mode: str) -> list[dict[str, Any]]:
        return [{"socialAccountId": sa, "mode": mode, "shareReelToFeed": True}]

    invalid(await s.schedule(tgt(s.sa, "publish"), cid=vid), "targets.0.shareReelToFeed")
    invalid(await s.schedule(tgt(insta, "draft"), cid=vid), "targets.0.shareReelToFeed")
    invalid(await s.schedule(tgt(insta, "managed"), cid=vid), "targets.0.shareReelToFeed")
    invalid(await s.schedule(tgt(insta, "publish")), "targets.0.shareReelToFeed")
    ok(await s.schedule(tgt(insta, "publish"), cid=vid), 201)


# --- schedule: state errors and order (contract §3.9.1) -------------------------------------------
@pytest.mark.anyio
async def test_schedule_container_not_completed(api: Api) -> None:
    """A container that is not completed → 409 {containerId, status}."""
    s = await setup(api)
    env = ok(
        await start_content(api, s.pid, "slideshow-builder", format_body("slideshow-builder")), 202
    )
    cid = env["containerIds"][0]
    e = err(await s.schedule(cid=cid), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "containerId": cid, "status": "queued"}
    await api.advance(20)
    e = err(await s.schedule(cid=cid), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "containerId": cid, "status": "processing"}
    ok(await api.post(f"/v1/jobs/{env['jobId']}/cancel"), 202)
    await api.advance(60)
    assert (await get_container(api, cid))["status"] == "canceled"
    e = err(await s.schedule(cid=cid), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "containerId": cid, "status": "canceled"}


@pytest.mark.anyio
@pytest.mark.sandbox_options(failure_rates={"content_generate": 1.0})
async def test_schedule_failed_container(custom_api: Api) -> None:
    """A failed container → 409 {containerId, status: failed}."""
    pid = (await create_project(custom_api, app=False))["id"]
    sa = await connect_account(custom_api, pid)
    env = await builder_job(custom_api, pid)
    await custom_api.advance(80)
    cid = env["containerIds"][0]
    r = await schedule(
        custom_api,
        cid,
        shift(await custom_api.now(), 60),
        [{"socialAccountId": sa, "mode": "publish"}],
    )
    e = err(r, 409, "CONFLICT")
    assert e["details"] == {**e["details"], "containerId": cid, "status": "failed"}


@pytest.mark.anyio
async def test_schedule_archived_project(api: Api) -> None:
    """A completed container of an archived project → 409 {projectId, status: archived}."""
    s = await setup(api)
    ok(await api.delete(f"/v1/projects/{s.pid}"))
    e = err(await s.schedule(), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "projectId": s.pid, "status": "archived"}


@pytest.mark.anyio
@pytest.mark.parametrize(("cid", "status"), [(GHOST_CNT, 404), ("cnt_x", 422), ("job_1", 422)])
async def test_schedule_container_id(api: Api, cid: str, status: int) -> None:
    """Unknown container → 404; malformed containerId → 422 path containerId."""
    s = await setup(api)
    r = await s.schedule(cid=cid)
    not_found_or_invalid(r, status, "containerId")


@pytest.mark.anyio
async def test_schedule_bare_uuid_container(api: Api) -> None:
    """The containerId path accepts a bare UUID."""
    s = await setup(api)
    body = ok(await s.schedule(cid=s.cid[4:]), 201)
    assert (await get_post(api, body["scheduledPostIds"][0]))["containerId"] == s.cid


@pytest.mark.anyio
async def test_schedule_check_order(api: Api) -> None:
    """Order: body syntax 422 → container 404 → target 422 → container state 409."""
    s = await setup(api)
    bad_target = [{"socialAccountId": GHOST_SA, "mode": "publish"}]
    # body syntax before existence
    r = await s.schedule(cid=GHOST_CNT, scheduled_for="2026-05-15T09:00:00-07:00")
    invalid(r, "scheduledFor")
    # existence before target checks
    err(await s.schedule(bad_target, cid=GHOST_CNT), 404, "NOT_FOUND")
    # target checks before container state
    env = ok(
        await start_content(api, s.pid, "slideshow-builder", format_body("slideshow-builder")), 202
    )
    invalid(await s.schedule(bad_target, cid=env["containerIds"][0]), "targets.0.socialAccountId")
    err(await s.schedule(cid=env["containerIds"][0]), 409, "CONFLICT")


# --- sandbox publishing lifecycle (contract §3.9.1) -----------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["publish", "managed"])
async def test_publish_lifecycle(nominal_api: Api, mode: str) -> None:
    """queued → publishing at scheduledFor → published 10 s later with TikTok ids."""
    api = nominal_api
    s = await setup(api)
    handle = (await social_account(api, s.pid, s.sa))["handle"]
    when = await s.at(60)
    post_id = ok(
        await s.schedule([{"socialAccountId": s.sa, "mode": mode}], scheduled_for=when), 201
    )["scheduledPostIds"][0]
    await api.advance(59)
    assert (await get_post(api, post_id))["status"] == "queued"
    await api.advance(2)
    post = await get_post(api, post_id)
    check_post(post)
    assert post["status"] == "publishing"
    assert post["attemptedAt"] == when
    assert post["publishedAt"] is None
    assert post["externalId"] is None
    await api.advance(8)
    assert (await get_post(api, post_id))["status"] == "publishing"
    await api.advance(2)
    post = await get_post(api, post_id)
    check_post(post)
    assert post["status"] == "published"
    assert post["publishedAt"] == shift(when, 10)
    assert post["attemptedAt"] == when
    assert post["externalId"] is not None
    assert len(post["externalId"]) == 19
    assert post["externalId"].isdigit()
    assert post["externalId"].startswith("7")
    assert post["externalUrl"] == f"https://www.tiktok.com/@{handle}/video/{post['externalId']}"
    assert post["lastError"] is None
    assert post["canceledAt"] is None


@pytest.mark.anyio
async def test_publish_instagram(nominal_api: Api) -> None:
    """An Instagram post publishes with a 17-digit externalId and an instagram.com/p/ URL."""
    s = await setup(nominal_api)
    insta = await connect_account(nominal_api, s.pid, platform="instagram")
    post_id = await s.one(sa=insta)
    await nominal_api.advance(75)
    post = await get_post(nominal_api, post_id)
    assert post["status"] == "published"
    assert post["platform"] == "instagram"
    assert len(post["externalId"]) == 17
    assert post["externalId"].isdigit()
    assert post["externalUrl"] == f"https://www.instagram.com/p/{post['externalId']}/"


@pytest.mark.anyio
async def test_draft_mode(nominal_api: Api) -> None:
    """A draft-mode post passes through publishing and ends `draft`."""
    s = await setup(nominal_api)
    post_id = await s.one(mode="draft")
    await nominal_api.advance(61)
    assert (await get_post(nominal_api, post_id))["status"] == "publishing"
    await nominal_api.advance(10)
    post = await get_post(nominal_api, post_id)
    check_post(post)
    assert post["status"] == "draft"
    assert post["lastError"] is None


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["publish", "managed"])
@pytest.mark.sandbox_options(jitter=0, failure_rates={"publish": 1.0})
async def test_publish_failure_rate(custom_api: Api, mode: str) -> None:
    """publish failure rate 1.0 → failed with PLATFORM_ERROR and platformCode sandbox_rejected."""
    s = await setup(custom_api)
    post_id = await s.one(mode=mode)
    await custom_api.advance(61)
    assert (await get_post(custom_api, post_id))["status"] == "publishing"
    await custom_api.advance(10)
    post = await get_post(custom_api, post_id)
    check_post(post)
    assert post["status"] == "failed"
    assert post["lastError"] == {
        **post["lastError"],
        "code": "PLATFORM_ERROR",
        "platformCode": "sandbox_rejected",
    }
    assert isinstance(post["lastError"]["message"], str)
    assert post["publishedAt"] is None
    assert post["externalId"] is None


@pytest.mark.anyio
@pytest.mark.sandbox_options(jitter=0, failure_rates={"publish": 1.0})
async def test_publish_failure_rate_spares_drafts(custom_api: Api) -> None:
    """The publish failure rate does not apply to draft mode, which still ends `draft`."""
    s = await setup(custom_api)
    post_id = await s.one(mode="draft")
    await custom_api.advance(75)
    assert (await get_post(custom_api, post_id))["status"] == "draft"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["publish", "draft", "managed"])
async def test_reauth_required_fails_with_credential_invalid(nominal_api: Api, mode: str) -> None:
    """Account reauth_required at publish start → failed CREDENTIAL_INVALID after 10 s."""
    api = nominal_api
    s = await setup(api)
    post_id = await s.one(mode=mode)
    ok(await api.post(f"/_sandbox/social-accounts/{s.sa}/needs-reauth"))
    await api.advance(61)
    assert (await get_post(api, post_id))["status"] == "publishing"
    await api.advance(8)
    assert (await get_post(api, post_id))["status"] == "publishing"
    await api.advance(2)
    post = await get_post(api, post_id)
    check_post(post)
    assert post["status"] == "failed"
    assert post["lastError"]["code"] == "CREDENTIAL_INVALID"
    assert post["lastError"]["platformCode"] is None
    assert post["externalId"] is None


# --- list (contract §3.9.2) -----------------------------------------------------------------------
@pytest.mark.anyio
async def test_list_order_and_filters(nominal_api: Api) -> None:
    """Latest scheduledFor first; filters status, socialAccountId, since, until."""
    s = await setup(nominal_api)
    sa2 = await connect_account(nominal_api, s.pid)
    t = await s.now()
    p_pub = await s.one(ahead=30)  # fires at t+30
    p_late = await s.one(ahead=3600)
    p_mid = await s.one(ahead=600, sa=sa2)
    p_cancel = await s.one(ahead=1200, mode="draft")
    ok(await nominal_api.delete(f"/v1/scheduled-posts/{p_cancel}"))
    await nominal_api.advance(45)  # p_pub published at t+40
    base = f"/v1/projects/{s.pid}/scheduled-posts"

    async def ids(params: Any = None) -> list[str]:
        page = ok(await nominal_api.get(base, params=params))
        for p in page["items"]:
            check_post(p)
        return [p["id"] for p in page["items"]]

    assert await ids() == [p_late, p_cancel, p_mid, p_pub]
    assert await ids({"status": "queued"}) == [p_late, p_mid]
    assert await ids({"status": "published"}) == [p_pub]
    assert await ids({"status": "canceled"}) == [p_cancel]
    assert await ids([("status", "published"), ("status", "canceled")]) == [p_cancel, p_pub]
    assert await ids({"status": "published,canceled"}) == [p_cancel, p_pub]
    assert await ids({"status": "draft"}) == []
    assert await ids({"socialAccountId": sa2}) == [p_mid]
    assert await ids({"socialAccountId": GHOST_SA}) == []
    assert await ids({"since": shift(t, 600)}) == [p_late, p_cancel, p_mid]
    assert await ids({"until": shift(t, 600)}) == [p_mid, p_pub]
    assert await ids({"since": shift(t, 600), "until": shift(t, 1200)}) == [p_cancel, p_mid]
    assert await ids({"status": "queued", "socialAccountId": s.sa}) == [p_late]
    page = ok(await nominal_api.get(base, params={"limit": "3"}))
    assert [p["id"] for p in page["items"]] == [p_late, p_cancel, p_mid]
    page2 = ok(await nominal_api.get(base, params={"limit": "3", "cursor": page["nextCursor"]}))
    assert [p["id"] for p in page2["items"]] == [p_pub]
    assert page2["nextCursor"] is None


test_list_validation = query_validation_test(
    "scheduled-posts",
    [
        "status=sent status=queued,nope socialAccountId=sa_1"
        " socialAccountId=inf_0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
        " since=2026-05-14T16:00:00+00:00 until=2026-05-14T16:00:00 limit=0 limit=101"
        " cursor=@@",
    ],
    """Bad status, socialAccountId, since/until, limit (1-100) or cursor → 422 with that path.""",
)


@pytest.mark.anyio
async def test_list_limit_bounds(api: Api) -> None:
    """limit 1 and 100 are accepted."""
    pid = (await create_project(api, app=False))["id"]
    for limit in ("1", "100"):
        r = await api.get(f"/v1/projects/{pid}/scheduled-posts", params={"limit": limit})
        assert ok(r) == {**r.json, "items": [], "nextCursor": None}


# --- get (contract §3.9.3) ------------------------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize(
    ("post_id", "status"),
    [(GHOST_SP, 404), ("sp_1", 422), (GHOST_SP[3:], 422), ("cnt_" + GHOST_SP[3:], 422)],
)
async def test_get_post_errors(api: Api, post_id: str, status: int) -> None:
    """Unknown post → 404; malformed id (bare UUID too) → 422 on get, reschedule, cancel."""
    when = shift(await api.now(), 120)
    for r in (
        await api.get(f"/v1/scheduled-posts/{post_id}"),
        await api.post(f"/v1/scheduled-posts/{post_id}/reschedule", {"scheduledFor": when}),
        await api.delete(f"/v1/scheduled-posts/{post_id}"),
    ):
        not_found_or_invalid(r, status, "scheduledPostId")


# --- reschedule (contract §3.9.4) -----------------------------------------------------------------
@pytest.mark.anyio
async def test_reschedule_moves_the_post(nominal_api: Api) -> None:
    """Reschedule → 200 {id, status, scheduledFor, updatedAt}; the post fires at the new time."""
    s = await setup(nominal_api)
    post_id = await s.one(ahead=60)
    await nominal_api.advance(5)
    now = await s.now()
    new_when = shift(now, 300)
    r = await nominal_api.post(
        f"/v1/scheduled-posts/{post_id}/reschedule", {"scheduledFor": new_when[:19] + "Z"}
    )
    assert ok(r) == {
        **r.json,
        "id": post_id,
        "status": "queued",
        "scheduledFor": new_when,
        "updatedAt": now,
    }
    assert r.headers["X-RateLimit-Endpoint-Class"] == "write-light"
    post = await get_post(nominal_api, post_id)
    assert (post["scheduledFor"], post["updatedAt"], post["status"]) == (
        new_when,
        now,
        "queued",
    )
    await nominal_api.advance(120)  # past the old time
    assert (await get_post(nominal_api, post_id))["status"] == "queued"
    await nominal_api.advance(181)  # just past the new time
    post = await get_post(nominal_api, post_id)
    assert post["status"] == "publishing"
    assert post["attemptedAt"] == new_when


@pytest.mark.anyio
async def test_reschedule_earlier(nominal_api: Api) -> None:
    """A post moved earlier fires at the earlier time."""
    s = await setup(nominal_api)
    post_id = await s.one(ahead=3600)
    new_when = await s.at(40)
    ok(
        await nominal_api.post(
            f"/v1/scheduled-posts/{post_id}/reschedule", {"scheduledFor": new_when}
        )
    )
    await nominal_api.advance(55)
    assert (await get_post(nominal_api, post_id))["status"] == "published"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"scheduledFor": "2026-05-15T09:00:00-07:00"},
        {"scheduledFor": "2026-05-15T16:00:00+00:00"},
        {"scheduledFor": None},
        {"scheduledFor": 5},
        {"scheduledFor": "<+10>"},
        {"scheduledFor": "<-10>"},
        {"scheduledFor": "<+120>", "socialAccountId": GHOST_SA},
        {"scheduledFor": "<+120>", "captionOverride": "new"},
    ],
)
async def test_reschedule_validation(api: Api, body: dict[str, Any]) -> None:
    """Reschedule: scheduledFor required, Z form, ≥ 30 s ahead; strict body."""
    s = await setup(api)
    post_id = await s.one()
    fixed = dict(body)
    if isinstance(fixed.get("scheduledFor"), str) and fixed["scheduledFor"].startswith("<"):
        fixed["scheduledFor"] = await s.at(float(fixed["scheduledFor"][1:-1]))
    extra = [k for k in fixed if k != "scheduledFor"]
    paths = extra or ["scheduledFor"]
    invalid(await api.post(f"/v1/scheduled-posts/{post_id}/reschedule", fixed), *paths)
    assert (await get_post(api, post_id))["status"] == "queued"


@pytest.mark.anyio
async def test_reschedule_not_queued(nominal_api: Api) -> None:
    """Reschedule of a post that is not queued → 409 {scheduledPostId, status}."""
    s = await setup(nominal_api)
    canceled = await s.one(ahead=600)
    ok(await nominal_api.delete(f"/v1/scheduled-posts/{canceled}"))
    firing = await s.one(ahead=30)
    await nominal_api.advance(31)
    for post_id, status in ((canceled, "canceled"), (firing, "publishing")):
        r = await nominal_api.post(
            f"/v1/scheduled-posts/{post_id}/reschedule", {"scheduledFor": await s.at(300)}
        )
        e = err(r, 409, "CONFLICT")
        assert e["details"] == {**e["details"], "scheduledPostId": post_id, "status": status}
    await nominal_api.advance(15)
    r = await nominal_api.post(
        f"/v1/scheduled-posts/{firing}/reschedule", {"scheduledFor": await s.at(300)}
    )
    e = err(r, 409, "CONFLICT")
    assert e["details"] == {**e["details"], "scheduledPostId": firing, "status": "published"}


# --- cancel (contract §3.9.5) ---------------------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("body", [None, {}, {"reason": "customer asked"}, {"reason": "r" * 1024}])
async def test_cancel_post(api: Api, body: Any) -> None:
    """DELETE → 200 {id, status canceled, canceledAt}; optional {reason}; the post never fires."""
    s = await setup(api)
    post_id = await s.one(ahead=60)
    await api.advance(3)
    now = await s.now()
    path = f"/v1/scheduled-posts/{post_id}"
    r = await (api.delete(path) if body is None else api.delete(path, body))
    assert ok(r) == {**r.json, "id": post_id, "status": "canceled", "canceledAt": now}
    assert r.headers["X-RateLimit-Endpoint-Class"] == "write-light"
    post = await get_post(api, post_id)
    check_post(post)
    assert (post["status"], post["canceledAt"]) == ("canceled", now)
    await api.advance(120)
    post = await get_post(api, post_id)
    assert post["status"] == "canceled"
    assert post["attemptedAt"] is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"reason": "r" * 1025}, "reason"),
        ({"reason": 5}, "reason"),
        ({"why": "x"}, "why"),
        ({"reason": "ok", "force": True}, "force"),
    ],
)
async def test_cancel_post_validation(api: Api, body: dict[str, Any], path: str) -> None:
    """The cancel body is strict: reason ≤ 1024 chars, no other keys."""
    s = await setup(api)
    post_id = await s.one()
    invalid(await api.delete(f"/v1/scheduled-posts/{post_id}", body), path)
    assert (await get_post(api, post_id))["status"] == "queued"


@pytest.mark.anyio
async def test_cancel_not_queued(nominal_api: Api) -> None:
    """Cancel of a post that is not queued → 409 {scheduledPostId, status}."""
    s = await setup(nominal_api)
    canceled = await s.one(ahead=600)
    ok(await nominal_api.delete(f"/v1/scheduled-posts/{canceled}"))
    firing = await s.one(ahead=30)
    draft = await s.one(ahead=30, mode="draft")
    await nominal_api.advance(31)
    checks = [(canceled, "canceled"), (firing, "publishing")]
    for post_id, status in checks:
        e = err(await nominal_api.delete(f"/v1/scheduled-posts/{post_id}"), 409, "CONFLICT")
        assert e["details"] == {**e["details"], "scheduledPostId": post_id, "status": status}
    await nominal_api.advance(15)
    for post_id, status in ((firing, "published"), (draft, "draft")):
        e = err(await nominal_api.delete(f"/v1/scheduled-posts/{post_id}"), 409, "CONFLICT")
        assert e["details"] == {**e["details"], "scheduledPostId": post_id, "status": status}


@pytest.mark.anyio
@pytest.mark.sandbox_options(failure_rates={"publish": 1.0})
async def test_cancel_failed_post(custom_api: Api) -> None:
    """Cancel of a failed post → 409 {scheduledPostId, status: failed}."""
    s = await setup(custom_api)
    post_id = await s.one(ahead=30)
    await custom_api.advance(60)
    e = err(await custom_api.delete(f"/v1/scheduled-posts/{post_id}"), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "scheduledPostId": post_id, "status": "failed"}


# --- scopes (contract §2.1 rows 33-37) ------------------------------------------------------------
test_routes_require_scope = route_scope_test(
    [
        ("POST", f"/v1/content/{GHOST_CNT}/schedule", "publish:write"),
        ("GET", f"/v1/projects/{GHOST_PRJ}/scheduled-posts", "publish:read"),
        ("GET", f"/v1/scheduled-posts/{GHOST_SP}", "publish:read"),
        ("POST", f"/v1/scheduled-posts/{GHOST_SP}/reschedule", "publish:write"),
        ("DELETE", f"/v1/scheduled-posts/{GHOST_SP}", "publish:write"),
    ],
    """Scheduling routes need publish:write, reads need publish:read (403 before 404/422).""",
)


@pytest.mark.anyio
async def test_post_timestamps_track_transitions(nominal_api: Api) -> None:
    """updatedAt follows each transition: scheduledFor at publishing, publishedAt when published."""
    s = await setup(nominal_api)
    created = await s.now()
    when = shift(created, 45)
    post_id = ok(await s.schedule(scheduled_for=when), 201)["scheduledPostIds"][0]
    await nominal_api.advance(46)
    post = await get_post(nominal_api, post_id)
    assert (post["createdAt"], post["updatedAt"]) == (created, when)
    await nominal_api.advance(10)
    post = await get_post(nominal_api, post_id)
    assert post["updatedAt"] == post["publishedAt"] == shift(when, 10)
    assert post["createdAt"] == created


@pytest.mark.anyio
async def test_schedule_on_other_organization_container(two_live_org_apis: dict[str, Api]) -> None:
    """Another organization's container or post → 404 (never 403)."""
    mine = two_live_org_apis["demo-live"]
    theirs = two_live_org_apis["other-live"]
    s = await setup(theirs)
    post_id = await s.one()
    my_pid = (await create_project(mine, app=False))["id"]
    my_sa = await connect_account(mine, my_pid)
    when = shift(await mine.now(), 120)
    r = await schedule(mine, s.cid, when, [{"socialAccountId": my_sa, "mode": "publish"}])
    err(r, 404, "NOT_FOUND")
    err(await mine.get(f"/v1/scheduled-posts/{post_id}"), 404, "NOT_FOUND")
    err(await mine.delete(f"/v1/scheduled-posts/{post_id}"), 404, "NOT_FOUND")
    r = await mine.post(f"/v1/scheduled-posts/{post_id}/reschedule", {"scheduledFor": when})
    err(r, 404, "NOT_FOUND")
    assert (await get_post(theirs, post_id))["status"] == "queued"


@pytest.mark.anyio
async def test_reschedule_exactly_30s_ahead(api: Api) -> None:
    """Reschedule accepts a time exactly 30 s ahead and refuses 29 s."""
    s = await setup(api)
    post_id = await s.one(ahead=600)
    path = f"/v1/scheduled-posts/{post_id}/reschedule"
    invalid(await api.post(path, {"scheduledFor": await s.at(29)}), "scheduledFor")
    when = await s.at(30)
    assert ok(await api.post(path, {"scheduledFor": when}))["scheduledFor"] == when
