"""Contract tests for content (§3.7) and the content state machine (§4.4): sources, the four
formats, credits, hooks, the list, one container and its progress."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import query_validation_test
from tests.sandbox._flows import (
    CNT_RE,
    DESCRIPTION,
    FORMAT_SECONDS,
    GHOST_CNT,
    GHOST_INF,
    GHOST_JOB,
    GHOST_MED,
    GHOST_PRJ,
    GHOST_SA,
    SOURCE_TIKTOK_ID,
    TIKTOK_ID_RE,
    VIDEO_FORMATS,
    assert_jobs_cap,
    assert_ts,
    builder_job,
    check_container,
    check_envelope,
    check_job,
    connect_account,
    create_project,
    err,
    format_body,
    get_container,
    get_job,
    invalid,
    not_found_or_invalid,
    ok,
    org_id,
    ready_influencer,
    route_scope_test,
    setup_project,
    shift,
    start_content,
    upload_demo_video,
    wallet,
)
from tests.sandbox._http import Api, MakeSandbox

FORMATS = list(FORMAT_SECONDS)
ACTOR_FORMATS = ["slideshow-remix", "video-remix", "ugc-remix"]


def sr_path(project_id: str) -> str:
    return f"/v1/projects/{project_id}/content/source-recommendations"


async def body_for(api: Api, pid: str, fmt: str, **actor: Any) -> dict[str, Any]:
    """A valid body for `fmt`, uploading a demo video first for ugc-remix."""
    if (
        fmt == "ugc-remix"
        and not ok(await api.get(f"/v1/projects/{pid}/app-media", params={"kind": "demo-video"}))[
            "items"
        ]
    ):
        await upload_demo_video(api, pid)
    return format_body(fmt, **actor)


def check_source_item(item: dict[str, Any], base: str) -> None:
    assert set(item) >= {
        "tiktokId",
        "kind",
        "thumbnailUrl",
        "caption",
        "author",
        "stats",
        "imageCount",
    }, item
    assert TIKTOK_ID_RE.match(item["tiktokId"]), item
    assert item["kind"] in ("slideshow", "video")
    assert isinstance(item["thumbnailUrl"], str)
    assert item["thumbnailUrl"].startswith(f"{base}/_sandbox/media/")
    assert isinstance(item["caption"], str)
    author = item["author"]
    assert set(author) >= {"handle", "displayName", "avatarUrl", "followerCount"}, author
    assert isinstance(author["handle"], str)
    assert isinstance(author["displayName"], str)
    assert author["avatarUrl"] is None or author["avatarUrl"].startswith(f"{base}/_sandbox/media/")
    assert isinstance(author["followerCount"], int)
    assert author["followerCount"] >= 0
    stats = item["stats"]
    assert set(stats) >= {"viewCount", "likeCount", "commentCount", "shareCount"}, stats
    for v in stats.values():
        assert isinstance(v, int)
        assert v >= 0
    assert stats["likeCount"] <= stats["viewCount"]
    if item["kind"] == "slideshow":
        assert isinstance(item["imageCount"], int)
        assert 3 <= item["imageCount"] <= 10
    else:
        assert item["imageCount"] is None


def assert_kinds(items: list[dict[str, Any]], kind: str) -> None:
    if kind == "mixed":
        expected = ["slideshow" if i % 2 == 0 else "video" for i in range(len(items))]
        assert [i["kind"] for i in items] == expected
    else:
        assert {i["kind"] for i in items} == {kind}


# --- source recommendations (contract §3.7.1) -----------------------------------------------------
@pytest.mark.anyio
async def test_portfolio_empty_until_research(api: Api, sandbox: Sandbox) -> None:
    """Portfolio mode returns [] before the first research run ends, then `limit` items."""
    pid = (await create_project(api))["id"]
    r = await api.get(sr_path(pid))
    assert ok(r) == {**r.json, "items": [], "source": "portfolio", "nextCursor": None}
    assert r.headers["X-RateLimit-Endpoint-Class"] == "read-light"
    await api.advance(330)
    page = ok(await api.get(sr_path(pid)))
    assert page["source"] == "portfolio"
    assert page["nextCursor"] is None
    assert len(page["items"]) == 20
    assert_kinds(page["items"], "mixed")
    for item in page["items"]:
        check_source_item(item, sandbox.url)
    small = ok(await api.get(sr_path(pid), params={"limit": "5", "kind": "slideshow"}))
    assert len(small["items"]) == 5
    assert_kinds(small["items"], "slideshow")
    assert ok(await api.get(sr_path(pid))) == page


@pytest.mark.anyio
async def test_portfolio_empty_without_research(api: Api) -> None:
    """A project that never ran research has an empty portfolio whatever the limit."""
    pid = (await create_project(api, app=False))["id"]
    await api.advance(400)
    page = ok(await api.get(sr_path(pid), params={"limit": "20", "kind": "video"}))
    assert page["items"] == []
    assert page["source"] == "portfolio"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "limit"), [("mixed", 20), ("slideshow", 20), ("video", 7), (None, 1)]
)
async def test_live_search(api: Api, sandbox: Sandbox, kind: str | None, limit: int) -> None:
    """Live search returns exactly `limit` well-formed items of the requested kind."""
    pid = (await create_project(api, app=False))["id"]
    params = {"keyword": "morning routine", "limit": str(limit)}
    if kind is not None:
        params["kind"] = kind
    page = ok(await api.get(sr_path(pid), params=params))
    assert page["source"] == "live_search"
    assert page["nextCursor"] is None
    assert len(page["items"]) == limit
    assert_kinds(page["items"], kind or "mixed")
    for item in page["items"]:
        check_source_item(item, sandbox.url)


@pytest.mark.anyio
async def test_live_search_deterministic(api: Api) -> None:
    """Live search is a function of (seed, keyword, kind): same inputs, same items, any project."""
    pa = (await create_project(api, app=False, name="Project A"))["id"]
    pb = (await create_project(api, app=False, name="Project B"))["id"]
    params = {"keyword": "morning routine", "kind": "slideshow"}
    first = ok(await api.get(sr_path(pa), params=params))
    assert ok(await api.get(sr_path(pa), params=params)) == first
    assert ok(await api.get(sr_path(pb), params=params)) == first
    other = ok(await api.get(sr_path(pa), params={**params, "keyword": "night shift"}))
    assert [i["tiktokId"] for i in other["items"]] != [i["tiktokId"] for i in first["items"]]
    ids = [i["tiktokId"] for i in first["items"]]
    assert len(set(ids)) == len(ids)


@pytest.mark.anyio
async def test_source_recommendations_ignore_cursor(api: Api) -> None:
    """`cursor` is accepted and ignored, even when it is not a valid cursor."""
    pid = (await create_project(api, app=False))["id"]
    params = {"keyword": "coffee", "limit": "3"}
    plain = ok(await api.get(sr_path(pid), params=params))
    with_cursor = ok(await api.get(sr_path(pid), params={**params, "cursor": "!!garbage!!"}))
    assert with_cursor == plain


test_source_recommendations_validation = query_validation_test(
    "content/source-recommendations",
    [
        "limit=0 limit=21 limit=abc limit=2.5 kind=image kind=Slideshow keyword=",
        {"keyword": "k" * 201},
    ],
    """limit 1-20, kind enum and keyword 1-200 chars are enforced with the parameter as path.""",
)


@pytest.mark.anyio
async def test_source_recommendations_keyword_bounds(api: Api) -> None:
    """A 200-char keyword and limit 20 are accepted."""
    pid = (await create_project(api, app=False))["id"]
    page = ok(await api.get(sr_path(pid), params={"keyword": "k" * 200, "limit": "20"}))
    assert len(page["items"]) == 20


# --- format routes: envelope and initial container (contract §3.7.2) ------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_format_envelope_and_queued_container(api: Api, fmt: str) -> None:
    """Each format answers a 202 content_generate envelope and creates one queued container."""
    pid, iid = await setup_project(api)
    body = await body_for(api, pid, fmt, influencerId=iid)
    media = ok(await api.get(f"/v1/projects/{pid}/app-media"))["items"]
    now = await api.now()
    r = await start_content(api, pid, fmt, body)
    env = ok(r, 202)
    check_envelope(env, kind="content_generate", project_id=pid, now=now)
    assert r.headers["X-RateLimit-Endpoint-Class"] == "long-running"
    [cid] = env["containerIds"]
    assert CNT_RE.match(cid)
    c = await get_container(api, cid)
    check_container(c)
    assert c == {
        **c,
        "id": cid,
        "projectId": pid,
        "jobId": env["jobId"],
        "status": "queued",
        "format": fmt,
        "creativeType": "generated",
        "hook": body.get("hook"),
        "influencerId": iid,
        "socialAccountId": None,
        "sourceTiktokId": SOURCE_TIKTOK_ID if fmt in ("slideshow-remix", "video-remix") else None,
        "mediaId": media[0]["id"] if fmt == "ugc-remix" else None,
        "caption": None,
        "preview": None,
        "assets": [],
        "approvalStatus": "not_required",
        "lastError": None,
        "completedAt": None,
        "failedAt": None,
        "createdAt": now,
    }
    job = await get_job(api, env["jobId"])
    check_job(job)
    assert job["stage"] == "queued"
    assert job["containerIds"] == [cid]


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", ACTOR_FORMATS)
async def test_actor_required(api: Api, fmt: str) -> None:
    """slideshow-remix, video-remix and ugc-remix with neither actor → 422 on both fields."""
    pid, _ = await setup_project(api)
    body = await body_for(api, pid, fmt)
    invalid(await start_content(api, pid, fmt, body), "influencerId", "socialAccountId")
    assert ok(await api.get(f"/v1/projects/{pid}/content"))["items"] == []


@pytest.mark.anyio
async def test_slideshow_builder_without_actor(api: Api) -> None:
    """slideshow-builder with neither actor is accepted and carries no persona."""
    pid = (await create_project(api, app=False))["id"]
    env = ok(await start_content(api, pid, "slideshow-builder", {"hook": "Hi\\nthere"}), 202)
    c = await get_container(api, env["containerIds"][0])
    assert c["influencerId"] is None
    assert c["socialAccountId"] is None
    assert c["hook"] == "Hi\\nthere"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fmt", "body", "path"),
    [
        ("slideshow-remix", {"influencerId": GHOST_INF}, "tiktokVideoId"),
        ("slideshow-remix", {"tiktokVideoId": "abc", "influencerId": GHOST_INF}, "tiktokVideoId"),
        ("slideshow-remix", {"tiktokVideoId": "", "influencerId": GHOST_INF}, "tiktokVideoId"),
        ("video-remix", {"tiktokVideoId": "1" * 33, "influencerId": GHOST_INF}, "tiktokVideoId"),
        (
            "video-remix",
            {"tiktokVideoId": 7301234567890123456, "influencerId": GHOST_INF},
            "tiktokVideoId",
        ),
        ("slideshow-remix", {"tiktokVideoId": "7", "influencerId": "inf_1"}, "influencerId"),
        (
            "slideshow-remix",
            {"tiktokVideoId": "7", "socialAccountId": GHOST_INF},
            "socialAccountId",
        ),
        ("slideshow-remix", {"tiktokVideoId": "7", "influencerId": GHOST_INF, "hook": "x"}, "hook"),
        ("slideshow-builder", {}, "hook"),
        ("slideshow-builder", {"hook": ""}, "hook"),
        ("slideshow-builder", {"hook": "h" * 2001}, "hook"),
        ("slideshow-builder", {"hook": "x", "tiktokVideoId": "7"}, "tiktokVideoId"),
        ("ugc-remix", {"influencerId": GHOST_INF, "hook": ""}, "hook"),
        ("ugc-remix", {"influencerId": GHOST_INF, "mediaId": "med_1"}, "mediaId"),
        ("ugc-remix", {"influencerId": GHOST_INF, "style": "raw"}, "style"),
    ],
)
async def test_format_body_validation(api: Api, fmt: str, body: dict[str, Any], path: str) -> None:
    """Strict format bodies: required fields, id patterns, hook 1-2000 chars, unknown keys."""
    pid = (await create_project(api, app=False))["id"]
    invalid(await start_content(api, pid, fmt, body), path)


@pytest.mark.anyio
async def test_format_accepts_bounds(api: Api) -> None:
    """A 2000-char hook and a 1-32 digit tiktokVideoId are accepted."""
    pid, iid = await setup_project(api)
    r1 = await start_content(api, pid, "slideshow-builder", {"hook": "h" * 2000})
    assert r1.status == 202, r1
    r2 = await start_content(
        api, pid, "slideshow-remix", {"tiktokVideoId": "1" * 32, "influencerId": iid}
    )
    assert r2.status == 202, r2
    r3 = await start_content(api, pid, "video-remix", {"tiktokVideoId": "7", "influencerId": iid})
    assert r3.status == 202, r3


async def assert_unknown_actor(
    api: Api, pid: str, fmt: str, field: str, ids: tuple[str, ...], resource: str
) -> None:
    """Each of `ids` as the actor `field` of a `fmt` request → 404 {resource, id}."""
    for actor in ids:
        body = await body_for(api, pid, fmt, **{field: actor})
        e = err(await start_content(api, pid, fmt, body), 404, "NOT_FOUND")
        assert e["details"] == {**e["details"], "resource": resource, "id": actor}


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_unknown_influencer(api: Api, fmt: str) -> None:
    """An influencer not of this project → 404 {resource: influencer, id}."""
    pid, _ = await setup_project(api)
    other = (await create_project(api, name="Other Project"))["id"]
    foreign = await ready_influencer(api, other, wait=80)
    await assert_unknown_actor(api, pid, fmt, "influencerId", (GHOST_INF, foreign), "influencer")


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_influencer_not_ready(api: Api, fmt: str) -> None:
    """An influencer that is not ready → 409 {influencerId, status}."""
    pid = (await create_project(api, app=False))["id"]
    iid = ok(await api.post(f"/v1/projects/{pid}/influencers", {}), 202)["influencerId"]
    body = await body_for(api, pid, fmt, influencerId=iid)
    e = err(await start_content(api, pid, fmt, body), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "influencerId": iid, "status": "pending"}
    await api.advance(20)
    e = err(await start_content(api, pid, fmt, body), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "influencerId": iid, "status": "training"}


@pytest.mark.anyio
async def test_failed_influencer_conflict(api: Api) -> None:
    """A failed influencer is not ready either: 409 with status failed."""
    pid = (await create_project(api, app=False))["id"]
    env = ok(await api.post(f"/v1/projects/{pid}/influencers", {}), 202)
    ok(await api.post(f"/v1/jobs/{env['jobId']}/cancel"), 202)
    body = format_body("slideshow-remix", influencerId=env["influencerId"])
    e = err(await start_content(api, pid, "slideshow-remix", body), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "influencerId": env["influencerId"], "status": "failed"}


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_unknown_social_account(api: Api, fmt: str) -> None:
    """An account not of this project → 404 {resource: social_account, id}."""
    pid, _ = await setup_project(api)
    other = (await create_project(api, app=False, name="Other Project"))["id"]
    foreign = await connect_account(api, other)
    ids = (GHOST_SA, foreign)
    await assert_unknown_actor(api, pid, fmt, "socialAccountId", ids, "social_account")


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_social_account_not_connected(api: Api, fmt: str) -> None:
    """A reauth_required account → 409 {socialAccountId, status: reauth_required}."""
    pid, iid = await setup_project(api)
    sa = await connect_account(api, pid)
    ok(await api.post(f"/_sandbox/social-accounts/{sa}/needs-reauth"))
    body = await body_for(api, pid, fmt, socialAccountId=sa, influencerId=iid)
    e = err(await start_content(api, pid, fmt, body), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "socialAccountId": sa, "status": "reauth_required"}


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_social_account_only_uses_latest_ready_influencer(api: Api, fmt: str) -> None:
    """socialAccountId alone: the newest ready influencer is used, the account anchors."""
    pid, _first = await setup_project(api)
    second = ok(await api.post(f"/v1/projects/{pid}/influencers", {}), 202)["influencerId"]
    await api.advance(80)
    ok(await api.post(f"/v1/projects/{pid}/influencers", {}), 202)  # newer, still pending
    sa = await connect_account(api, pid)
    body = await body_for(api, pid, fmt, socialAccountId=sa)
    env = ok(await start_content(api, pid, fmt, body), 202)
    c = await get_container(api, env["containerIds"][0])
    assert c["influencerId"] == second
    assert c["socialAccountId"] == sa


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_social_account_only_without_ready_influencer(api: Api, fmt: str) -> None:
    """socialAccountId alone, no ready influencer → 409 reason no_ready_influencer."""
    pid = (await create_project(api))["id"]  # first influencer still pending
    sa = await connect_account(api, pid)
    body = await body_for(api, pid, fmt, socialAccountId=sa)
    e = err(await start_content(api, pid, fmt, body), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "socialAccountId": sa, "reason": "no_ready_influencer"}


@pytest.mark.anyio
async def test_both_actors(api: Api) -> None:
    """With both actors, influencerId is the persona and socialAccountId anchors."""
    pid, first = await setup_project(api)
    second = ok(await api.post(f"/v1/projects/{pid}/influencers", {}), 202)["influencerId"]
    await api.advance(80)
    sa = await connect_account(api, pid)
    body = format_body("slideshow-remix", influencerId=first, socialAccountId=sa)
    env = ok(await start_content(api, pid, "slideshow-remix", body), 202)
    c = await get_container(api, env["containerIds"][0])
    assert (c["influencerId"], c["socialAccountId"]) == (first, sa)
    assert second != first


# --- ugc-remix precondition (contract §3.7.6) -----------------------------------------------------
@pytest.mark.anyio
async def test_ugc_remix_needs_demo_video(api: Api) -> None:
    """ugc-remix with no demo video → 422 path mediaId, without missingFields."""
    pid, iid = await setup_project(api)
    ok(
        await api.post(
            f"/v1/projects/{pid}/app-media",
            {"kind": "screenshot", "url": "https://cdn.acmecoffee.com/home.png"},
        ),
        201,
    )
    e = invalid(await start_content(api, pid, "ugc-remix", {"influencerId": iid}), "mediaId")
    assert "missingFields" not in e["details"]


@pytest.mark.anyio
async def test_ugc_remix_media_rules(api: Api) -> None:
    """mediaId must be a live demo video of this project; the default is the oldest demo video."""
    pid, iid = await setup_project(api)
    other = (await create_project(api, app=False, name="Other Project"))["id"]
    foreign = await upload_demo_video(api, other, "foreign")
    shot = ok(
        await api.post(
            f"/v1/projects/{pid}/app-media",
            {"kind": "screenshot", "url": "https://cdn.acmecoffee.com/home.png"},
        ),
        201,
    )["id"]
    oldest = await upload_demo_video(api, pid, "first")
    await api.advance(1)
    newest = await upload_demo_video(api, pid, "second")
    gone = await upload_demo_video(api, pid, "third")
    ok(await api.delete(f"/v1/projects/{pid}/app-media/{gone}"))
    for bad in (shot, foreign, gone, GHOST_MED):
        r = await start_content(api, pid, "ugc-remix", {"influencerId": iid, "mediaId": bad})
        invalid(r, "mediaId")
    env = ok(await start_content(api, pid, "ugc-remix", {"influencerId": iid}), 202)
    assert (await get_container(api, env["containerIds"][0]))["mediaId"] == oldest
    body = {"influencerId": iid, "mediaId": newest, "hook": "POV: fresh beans\\nevery week"}
    env = ok(await start_content(api, pid, "ugc-remix", body), 202)
    c = await get_container(api, env["containerIds"][0])
    assert (c["mediaId"], c["hook"]) == (newest, body["hook"])


# --- handler check order --------------------------------------------------------------------------
@pytest.mark.anyio
async def test_check_order_validation_before_archived(api: Api) -> None:
    """Body validation (422) comes before the archived-project conflict (409)."""
    pid = (await create_project(api, app=False))["id"]
    ok(await api.delete(f"/v1/projects/{pid}"))
    invalid(await start_content(api, pid, "slideshow-builder", {"hook": ""}), "hook")


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_check_order_archived_first(api: Api, fmt: str) -> None:
    """An archived project → 409 {projectId, status: archived} even with an unknown influencer."""
    pid = (await create_project(api, app=False))["id"]
    await upload_demo_video(api, pid)
    ok(await api.delete(f"/v1/projects/{pid}"))
    e = err(
        await start_content(api, pid, fmt, format_body(fmt, influencerId=GHOST_INF)),
        409,
        "CONFLICT",
    )
    assert e["details"] == {**e["details"], "projectId": pid, "status": "archived"}


@pytest.mark.anyio
async def test_check_order_existence_state_precondition(api: Api) -> None:
    """404 (actor existence) before 409 (actor state) before 422 (demo-video precondition)."""
    pid, iid = await setup_project(api)
    sa = await connect_account(api, pid)
    ok(await api.post(f"/_sandbox/social-accounts/{sa}/needs-reauth"))
    pending = ok(await api.post(f"/v1/projects/{pid}/influencers", {}), 202)["influencerId"]
    # unknown influencer + reauth account + no demo video → 404
    r = await start_content(
        api, pid, "ugc-remix", {"influencerId": GHOST_INF, "socialAccountId": sa}
    )
    assert err(r, 404, "NOT_FOUND")["details"]["resource"] == "influencer"
    # pending influencer + no demo video → 409
    r = await start_content(api, pid, "ugc-remix", {"influencerId": pending})
    assert err(r, 409, "CONFLICT")["details"]["influencerId"] == pending
    # ready influencer + reauth account + no demo video → 409 on the account
    r = await start_content(api, pid, "ugc-remix", {"influencerId": iid, "socialAccountId": sa})
    assert err(r, 409, "CONFLICT")["details"]["socialAccountId"] == sa
    # ready influencer + no demo video → 422
    invalid(await start_content(api, pid, "ugc-remix", {"influencerId": iid}), "mediaId")


def low_credit_org(prepaid: int = 5000) -> dict[str, Any]:
    """make_sandbox options: one organization with no included credits."""
    return {
        "organizations": [
            {
                "ref": "partner",
                "name": "Sandbox Partner",
                "includedThisPeriod": 0,
                "prepaidBalance": prepaid,
                "subscriptionTier": "pro",
            }
        ]
    }


async def drain_to(api: Api, available: int) -> None:
    """Use POST /_sandbox/credits (negative) to leave exactly `available` credits."""
    w = await wallet(api)
    delta = available - w["available"]
    r = await api.post("/_sandbox/credits", {"organizationId": await org_id(api), "credits": delta})
    assert ok(r)["available"] == available


@pytest.mark.anyio
@pytest.mark.sandbox_options(**low_credit_org())
async def test_check_order_precondition_before_credits(custom_api: Api) -> None:
    """The demo-video precondition (422) is checked before credits (402)."""
    pid, iid = await setup_project(custom_api)
    await drain_to(custom_api, 10)
    invalid(await start_content(custom_api, pid, "ugc-remix", {"influencerId": iid}), "mediaId")


@pytest.mark.anyio
@pytest.mark.sandbox_options(**low_credit_org())
async def test_check_order_actor_state_before_credits(custom_api: Api) -> None:
    """Actor existence (404) and state (409) come before credits (402)."""
    pid = (await create_project(custom_api))["id"]
    pending = (ok(await custom_api.get(f"/v1/projects/{pid}/influencers")))["items"][0]
    await drain_to(custom_api, 0)
    body = format_body("slideshow-remix", influencerId=pending["influencerId"])
    err(await start_content(custom_api, pid, "slideshow-remix", body), 409, "CONFLICT")
    body = format_body("slideshow-remix", influencerId=GHOST_INF)
    err(await start_content(custom_api, pid, "slideshow-remix", body), 404, "NOT_FOUND")


# --- credits --------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_credits_reserve_and_debit(nominal_api: Api) -> None:
    """A live key reserves 50/120 on acceptance and debits exactly that on completion."""
    pid, iid = await setup_project(nominal_api, wait=61)
    w0 = await wallet(nominal_api)
    assert (w0["available"], w0["reservedCredits"], w0["usedThisPeriod"]) == (6000, 0, 0)
    for fmt, reserved in (("slideshow-remix", 50), ("video-remix", 170)):
        body = format_body(fmt, influencerId=iid)
        ok(await start_content(nominal_api, pid, fmt, body), 202)
        w = await wallet(nominal_api)
        assert (w["reservedCredits"], w["available"]) == (reserved, 6000 - reserved)
        assert w["balance"] == 6000
    await nominal_api.advance(121)
    w = await wallet(nominal_api)
    assert w["reservedCredits"] == 120
    assert w["usedThisPeriod"] == 50
    assert w["currentPeriod"]["usedCredits"] == 50
    assert w["includedRemaining"] == 950
    assert w["prepaidBalance"] == 5000
    assert (w["balance"], w["available"]) == (5950, 5830)
    await nominal_api.advance(120)
    w = await wallet(nominal_api)
    assert (w["reservedCredits"], w["usedThisPeriod"], w["includedRemaining"]) == (0, 170, 830)
    assert (w["balance"], w["available"]) == (5830, 5830)


@pytest.mark.anyio
@pytest.mark.sandbox_options(jitter=0, failure_rates={"content_generate": 1.0})
async def test_credits_released_on_failure(custom_api: Api) -> None:
    """A failed generation releases its reservation and charges nothing."""
    pid = (await create_project(custom_api, app=False))["id"]
    await builder_job(custom_api, pid)
    assert (await wallet(custom_api))["reservedCredits"] == 50
    await custom_api.advance(61)
    w = await wallet(custom_api)
    assert (w["reservedCredits"], w["usedThisPeriod"], w["available"]) == (0, 0, 6000)


@pytest.mark.anyio
async def test_credits_released_on_cancel(api: Api) -> None:
    """Canceling a queued generation releases its reservation at once."""
    pid = (await create_project(api, app=False))["id"]
    env = await builder_job(api, pid)
    assert (await wallet(api))["reservedCredits"] == 50
    ok(await api.post(f"/v1/jobs/{env['jobId']}/cancel"), 202)
    w = await wallet(api)
    assert (w["reservedCredits"], w["usedThisPeriod"], w["available"]) == (0, 0, 6000)


@pytest.mark.anyio
@pytest.mark.sandbox_options(**low_credit_org())
async def test_billing_exhausted(custom_api: Api) -> None:
    """available below the estimate → 402 BILLING_EXHAUSTED with full details."""
    pid, iid = await setup_project(custom_api)
    await drain_to(custom_api, 20)
    r = await start_content(
        custom_api, pid, "slideshow-remix", format_body("slideshow-remix", influencerId=iid)
    )
    e = err(r, 402, "BILLING_EXHAUSTED")
    assert e["details"] == {
        **e["details"],
        "required": 50,
        "available": 20,
        "reason": "insufficient_credits",
        "format": "slideshow_remix",
    }
    state = await custom_api.state()
    assert state["counts"]["containers"]["total"] == 0
    assert state["counts"]["jobs"]["total"] == 0
    await drain_to(custom_api, 100)
    await builder_job(custom_api, pid)
    assert (await wallet(custom_api))["available"] == 50
    r = await start_content(
        custom_api, pid, "ugc-remix", await body_for(custom_api, pid, "ugc-remix", influencerId=iid)
    )
    e = err(r, 402, "BILLING_EXHAUSTED")
    assert e["details"] == {
        **e["details"],
        "required": 120,
        "available": 50,
        "reason": "insufficient_credits",
        "format": "ugc_remix",
    }


@pytest.mark.anyio
async def test_test_key_never_reserves(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """A test key reserves nothing, is never refused with 402, and charges nothing on completion."""
    async with make_sandbox(**low_credit_org()) as sb:
        api = Api(session, sb.url, sb.keys["demo-test"])
        pid, iid = await setup_project(api)
        await drain_to(api, 10)
        for fmt in FORMATS:
            body = await body_for(api, pid, fmt, influencerId=iid)
            ok(await start_content(api, pid, fmt, body), 202)
            w = await wallet(api)
            assert (w["reservedCredits"], w["available"]) == (0, 10)
        await api.advance(300)
        w = await wallet(api)
        assert (w["reservedCredits"], w["usedThisPeriod"], w["available"]) == (0, 0, 10)
        content = ok(await api.get(f"/v1/projects/{pid}/content"))["items"]
        assert {c["status"] for c in content} == {"completed"}


# --- lifecycle ------------------------------------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_lifecycle(nominal_api: Api, fmt: str) -> None:
    """jitter=0: queued (0-5 %) → processing/generating_visuals → finalizing (85 %) → completed."""
    api = nominal_api
    pid, iid = await setup_project(api, wait=61)
    body = await body_for(api, pid, fmt, influencerId=iid)
    image_count = None
    if fmt in ("slideshow-remix", "video-remix"):
        kind = "slideshow" if fmt == "slideshow-remix" else "video"
        items = ok(
            await api.get(sr_path(pid), params={"keyword": "morning routine", "kind": kind})
        )["items"]
        body["tiktokVideoId"] = items[0]["tiktokId"]
        image_count = items[0]["imageCount"]
    start = await api.now()
    env = ok(await start_content(api, pid, fmt, body), 202)
    cid, jid = env["containerIds"][0], env["jobId"]
    total = FORMAT_SECONDS[fmt]
    t = 0.0
    last = 0.0
    for frac, stage, status in [
        (0.0, "queued", "queued"),
        (0.04, "queued", "queued"),
        (0.06, "generating_visuals", "processing"),
        (0.5, "generating_visuals", "processing"),
        (0.84, "generating_visuals", "processing"),
        (0.86, "finalizing", "processing"),
        (0.99, "finalizing", "processing"),
    ]:
        at = frac * total
        if at > t:
            await api.advance(at - t)
            t = at
        job = await get_job(api, jid)
        check_job(job)
        assert (job["status"], job["stage"]) == ("running", stage), (frac, job)
        assert job["progress"] >= last
        last = job["progress"]
        c = await get_container(api, cid)
        check_container(c)
        assert c["status"] == status, (frac, c)
        prog = ok(await api.get(f"/v1/content/{cid}/progress"))
        assert (prog["status"], prog["stage"]) == (status, stage)
    await api.advance(total + 1 - t)
    job = await get_job(api, jid)
    check_job(job)
    assert (job["status"], job["stage"], job["progress"]) == ("completed", "finalizing", 1)
    assert job["finishedAt"] == shift(start, total)
    c = await get_container(api, cid)
    check_container(c)
    assert c["status"] == "completed"
    assert c["completedAt"] == shift(start, total)
    assert job["result"] == {**job["result"], "containerId": cid, "assets": c["assets"]}
    pv = c["preview"]
    if fmt in VIDEO_FORMATS:
        assert pv["kind"] == "video"
        assert len(c["assets"]) == 1
        assert c["assets"][0]["kind"] == "video"
    else:
        assert pv["kind"] == "slideshow"
        slides = image_count if fmt == "slideshow-remix" else 6
        assert len(pv["imageUrls"]) == slides
        assert len(c["assets"]) == slides
        assert {a["kind"] for a in c["assets"]} == {"image"}
    prog = ok(await api.get(f"/v1/content/{cid}/progress"))
    assert prog == {
        **prog,
        "containerId": cid,
        "status": "completed",
        "stage": "finalizing",
        "stageProgress": 1,
        "etaSeconds": 0,
    }


@pytest.mark.anyio
@pytest.mark.sandbox_options(jitter=0, failure_rates={"content_generate": 1.0})
async def test_generation_failure(custom_api: Api) -> None:
    """content_generate failure rate 1.0 → job and container failed with GENERATION_FAILED."""
    pid = (await create_project(custom_api, app=False))["id"]
    env = await builder_job(custom_api, pid)
    await custom_api.advance(10)  # failure point is in 20-90 % of the 60 s
    assert (await get_job(custom_api, env["jobId"]))["status"] == "running"
    await custom_api.advance(51)
    job = await get_job(custom_api, env["jobId"])
    check_job(job)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "GENERATION_FAILED"
    assert isinstance(job["error"]["message"], str)
    c = await get_container(custom_api, env["containerIds"][0])
    check_container(c)
    assert c["status"] == "failed"
    assert c["lastError"]["code"] == "GENERATION_FAILED"
    assert c["failedAt"] == job["finishedAt"]
    assert c["assets"] == []
    assert c["caption"] is None
    prog = ok(await custom_api.get(f"/v1/content/{env['containerIds'][0]}/progress"))
    assert prog["status"] == "failed"
    assert prog["etaSeconds"] is None


# --- hooks (contract §3.7.7) ----------------------------------------------------------------------
@pytest.mark.anyio
async def test_hooks_shape_and_limits(api: Api) -> None:
    """Hooks: {projectId, brandVoice, language, items}; default 10; limit 1 and 50; calls differ."""
    pid = (await create_project(api, primaryLanguage="es"))["id"]
    path = f"/v1/projects/{pid}/content/hooks"
    r = await api.get(path)
    body = ok(r)
    assert body == {**body, "projectId": pid, "brandVoice": "warm", "language": "es"}
    assert len(body["items"]) == 10
    for item in body["items"]:
        assert isinstance(item["hook"], str)
        assert item["hook"]
        assert "\n" not in item["hook"]
    assert r.headers["X-RateLimit-Endpoint-Class"] == "read-light"
    again = ok(await api.get(path))
    assert again["items"] != body["items"]
    assert len(ok(await api.get(path, params={"limit": "1"}))["items"]) == 1
    assert len(ok(await api.get(path, params={"limit": "50"}))["items"]) == 50


@pytest.mark.anyio
async def test_hooks_voice_fallback(api: Api) -> None:
    """Without an explicit brandVoice/primaryLanguage the hooks use authentic and en."""
    pid = (await create_project(api, app=False, appName="Acme Coffee", appDescription=DESCRIPTION))[
        "id"
    ]
    body = ok(await api.get(f"/v1/projects/{pid}/content/hooks"))
    assert (body["brandVoice"], body["language"]) == ("authentic", "en")


@pytest.mark.anyio
@pytest.mark.parametrize("limit", ["0", "51", "x", "-1"])
async def test_hooks_limit_validation(api: Api, limit: str) -> None:
    """hooks limit outside 1-50 → 422 path limit."""
    pid = (await create_project(api))["id"]
    invalid(await api.get(f"/v1/projects/{pid}/content/hooks", params={"limit": limit}), "limit")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"appName": "Acme Coffee"}, ["appDescription"]),
        ({"appDescription": DESCRIPTION}, ["appName"]),
        ({}, ["appName", "appDescription"]),
    ],
)
async def test_hooks_missing_fields(api: Api, fields: dict[str, str], missing: list[str]) -> None:
    """Hooks need appName and appDescription: 422 with missingFields and one issue per field."""
    pid = (await create_project(api, app=False, **fields))["id"]
    e = invalid(await api.get(f"/v1/projects/{pid}/content/hooks"), *missing)
    assert sorted(e["details"]["missingFields"]) == sorted(missing)


# --- list (contract §3.7.8) -----------------------------------------------------------------------
async def list_ids(api: Api, pid: str, params: Any = None) -> list[str]:
    page = ok(await api.get(f"/v1/projects/{pid}/content", params=params))
    for c in page["items"]:
        check_container(c)
    return [c["id"] for c in page["items"]]


@pytest.mark.anyio
async def test_content_list_filters(nominal_api: Api) -> None:
    """Content list: newest first; status/format repeated or comma form; other filters."""
    pid, iid = await setup_project(nominal_api, wait=61)
    t0 = await nominal_api.now()
    c1 = (await builder_job(nominal_api, pid))["containerIds"][0]
    await nominal_api.advance(10)
    c2 = ok(
        await start_content(
            nominal_api, pid, "slideshow-remix", format_body("slideshow-remix", influencerId=iid)
        ),
        202,
    )["containerIds"][0]
    await nominal_api.advance(10)
    c3 = ok(
        await start_content(
            nominal_api, pid, "video-remix", format_body("video-remix", influencerId=iid)
        ),
        202,
    )["containerIds"][0]
    await nominal_api.advance(10)
    env4 = await builder_job(nominal_api, pid)
    c4 = env4["containerIds"][0]
    ok(await nominal_api.post(f"/v1/jobs/{env4['jobId']}/cancel"), 202)
    await nominal_api.advance(31)  # c1 completes at t0 + 60

    assert await list_ids(nominal_api, pid) == [c4, c3, c2, c1]
    assert await list_ids(nominal_api, pid, {"status": "completed"}) == [c1]
    assert await list_ids(nominal_api, pid, {"status": "processing"}) == [c3, c2]
    assert await list_ids(nominal_api, pid, {"status": "canceled"}) == [c4]
    assert await list_ids(nominal_api, pid, [("status", "completed"), ("status", "canceled")]) == [
        c4,
        c1,
    ]
    assert await list_ids(nominal_api, pid, {"status": "completed,canceled"}) == [c4, c1]
    assert await list_ids(nominal_api, pid, {"format": "slideshow-builder"}) == [c4, c1]
    assert await list_ids(nominal_api, pid, {"format": "video-remix,slideshow-remix"}) == [c3, c2]
    assert await list_ids(
        nominal_api, pid, [("format", "slideshow-remix"), ("format", "video-remix")]
    ) == [c3, c2]
    assert await list_ids(nominal_api, pid, {"status": "processing", "format": "video-remix"}) == [
        c3
    ]
    assert await list_ids(nominal_api, pid, {"creativeType": "generated"}) == [c4, c3, c2, c1]
    assert await list_ids(nominal_api, pid, {"creativeType": "uploaded"}) == []
    assert await list_ids(nominal_api, pid, {"since": shift(t0, 10)}) == [c4, c3, c2]
    assert await list_ids(nominal_api, pid, {"until": shift(t0, 20)}) == [c3, c2, c1]
    assert await list_ids(nominal_api, pid, {"since": shift(t0, 10), "until": shift(t0, 20)}) == [
        c3,
        c2,
    ]
    six = shift(t0, 10)[:-1] + "000Z"
    assert await list_ids(nominal_api, pid, {"since": six, "until": six}) == [c2]
    no_frac = shift(t0, 10)[:19] + "Z"
    assert await list_ids(nominal_api, pid, {"since": no_frac, "until": no_frac}) == [c2]
    page = ok(await nominal_api.get(f"/v1/projects/{pid}/content", params={"limit": "3"}))
    assert [c["id"] for c in page["items"]] == [c4, c3, c2]
    assert isinstance(page["nextCursor"], str)
    page2 = ok(
        await nominal_api.get(
            f"/v1/projects/{pid}/content", params={"limit": "3", "cursor": page["nextCursor"]}
        )
    )
    assert [c["id"] for c in page2["items"]] == [c1]
    assert page2["nextCursor"] is None


test_content_list_validation = query_validation_test(
    "content",
    [
        "status=generating status=completed,bogus format=slideshow_remix creativeType=ai",
        [("creativeType", "generated"), ("creativeType", "generated")],
        "since=2026-05-14T16:00:00+00:00 since=2026-05-14T16:00:00"
        " since=2026-05-14T09:00:00-07:00 since=2026-05-14T16:00:00.1234567Z"
        " until=2026-05-14T16:00:00.000+00:00 until=yesterday limit=0 limit=201 cursor=???",
    ],
    """Bad filters → 422: enums, single creativeType, Z-only times, limit 1-200, cursor.""",
)


@pytest.mark.anyio
async def test_content_list_accepts_edge_params(api: Api) -> None:
    """since with 6 fractional digits, until with none, and limit 200 are accepted."""
    pid = (await create_project(api, app=False))["id"]
    params = {
        "since": "2026-05-14T15:00:00.123456Z",
        "until": "2026-05-15T00:00:00Z",
        "limit": "200",
    }
    r = await api.get(f"/v1/projects/{pid}/content", params=params)
    assert ok(r) == {**r.json, "items": [], "nextCursor": None}


# --- one container and its progress (contract §3.7.9, §3.7.10) ---------------------------------
@pytest.mark.anyio
async def test_get_container_id_forms(api: Api) -> None:
    """GET /v1/content accepts cnt_<uuid>, a bare UUID and uppercase; the response is prefixed."""
    pid = (await create_project(api, app=False))["id"]
    cid = (await builder_job(api, pid))["containerIds"][0]
    bare = cid[4:]
    for form in (cid, bare, bare.upper(), "cnt_" + bare.upper()):
        c = ok(await api.get(f"/v1/content/{form}"))
        assert c["id"] == cid
        prog = ok(await api.get(f"/v1/content/{form}/progress"))
        assert prog["containerId"] == cid


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("cid", "status"),
    [(GHOST_CNT, 404), (GHOST_CNT[4:], 404), ("cnt_1", 422), ("prj_" + GHOST_CNT[4:], 422)],
)
async def test_get_container_errors(api: Api, cid: str, status: int) -> None:
    """Unknown container → 404; malformed containerId → 422 path containerId (get and progress)."""
    for path in (f"/v1/content/{cid}", f"/v1/content/{cid}/progress"):
        r = await api.get(path)
        not_found_or_invalid(r, status, "containerId")


@pytest.mark.anyio
async def test_progress_shape_and_reset(nominal_api: Api) -> None:
    """The progress object has every field and stageProgress resets at each stage."""
    pid = (await create_project(nominal_api, app=False))["id"]
    env = await builder_job(nominal_api, pid)
    cid = env["containerIds"][0]
    path = f"/v1/content/{cid}/progress"

    async def read() -> dict[str, Any]:
        p: dict[str, Any] = ok(await nominal_api.get(path))
        assert set(p) >= {
            "containerId",
            "status",
            "stage",
            "stageProgress",
            "etaSeconds",
            "updatedAt",
        }
        assert p["containerId"] == cid
        assert 0 <= p["stageProgress"] <= 1
        assert p["etaSeconds"] is None or (
            isinstance(p["etaSeconds"], int) and p["etaSeconds"] >= 0
        )
        assert_ts(p["updatedAt"])
        return p

    p0 = await read()
    assert (p0["status"], p0["stage"]) == ("queued", "queued")
    await nominal_api.advance(4)  # generating_visuals: 3-51 s
    early = await read()
    assert early["stage"] == "generating_visuals"
    await nominal_api.advance(46)  # 50 s
    late = await read()
    assert late["stage"] == "generating_visuals"
    assert late["stageProgress"] > early["stageProgress"]
    await nominal_api.advance(2)  # 52 s: finalizing 51-60 s
    fin = await read()
    assert fin["stage"] == "finalizing"
    assert fin["stageProgress"] < late["stageProgress"]


@pytest.mark.anyio
async def test_progress_after_cancel(api: Api) -> None:
    """A canceled container's progress keeps the stage reached and has etaSeconds null."""
    pid = (await create_project(api, app=False))["id"]
    env = await builder_job(api, pid)
    ok(await api.post(f"/v1/jobs/{env['jobId']}/cancel"), 202)
    prog = ok(await api.get(f"/v1/content/{env['containerIds'][0]}/progress"))
    assert (prog["status"], prog["stage"], prog["etaSeconds"]) == ("canceled", "queued", None)
    c = await get_container(api, env["containerIds"][0])
    check_container(c)
    assert c["status"] == "canceled"
    assert c["preview"] is None


# --- scopes, running-jobs cap, served media -------------------------------------------------------
_P = f"/v1/projects/{GHOST_PRJ}/content"


test_routes_require_scope = route_scope_test(
    [
        ("GET", f"{_P}/source-recommendations", "content:read"),
        ("POST", f"{_P}/slideshow-remix", "content:write"),
        ("POST", f"{_P}/video-remix", "content:write"),
        ("POST", f"{_P}/slideshow-builder", "content:write"),
        ("POST", f"{_P}/ugc-remix", "content:write"),
        ("GET", f"{_P}/hooks", "content:read"),
        ("GET", _P, "content:read"),
        ("GET", f"/v1/content/{GHOST_CNT}", "content:read"),
        ("GET", f"/v1/content/{GHOST_CNT}/progress", "content:read"),
        ("GET", f"/v1/jobs/{GHOST_JOB}", "jobs:read"),
        ("POST", f"/v1/jobs/{GHOST_JOB}/cancel", "jobs:cancel"),
    ],
    """Content and job routes need their scope: 403 FORBIDDEN_SCOPE {requiredScope}.""",
)


@pytest.mark.anyio
async def test_running_jobs_cap_before_credits(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """At the running-jobs cap a generation gets 429 concurrent_jobs before the 402 for credits."""
    async with make_sandbox(jitter=0, **low_credit_org()) as sb:
        api = Api(session, sb.url, sb.api_key)
        test_api = api.with_key(sb.keys["demo-test"])
        pid = (await create_project(api, app=False))["id"]
        for _ in range(10):
            await builder_job(test_api, pid)
        await drain_to(api, 0)
        r = await start_content(api, pid, "slideshow-builder", format_body("slideshow-builder"))
        assert_jobs_cap(r)
        await api.advance(61)
        r = await start_content(api, pid, "slideshow-builder", format_body("slideshow-builder"))
        assert err(r, 402, "BILLING_EXHAUSTED")["details"]["available"] == 0


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", ["slideshow-builder", "video-remix"])
async def test_output_media_is_served(api: Api, sandbox: Sandbox, fmt: str) -> None:
    """Preview and asset URLs are sandbox media URLs that the sandbox serves with the right type."""
    pid, iid = await setup_project(api)
    env = ok(await start_content(api, pid, fmt, format_body(fmt, influencerId=iid)), 202)
    await api.advance(FORMAT_SECONDS[fmt] * 1.25)
    c = await get_container(api, env["containerIds"][0])
    for asset in c["assets"]:
        assert asset["url"].startswith(f"{sandbox.url}/_sandbox/media/")
        r = await api.get(asset["url"])
        assert r.status == 200, (asset, r)
        expected = "video/mp4" if asset["kind"] == "video" else "image/png"
        assert r.headers["Content-Type"].startswith(expected)
    r = await api.get(c["preview"]["primaryUrl"])
    assert r.status == 200


@pytest.mark.anyio
async def test_remix_slide_count_follows_tiktok_id(api: Api) -> None:
    """slideshow-remix makes 3-10 slides, a deterministic function of tiktokVideoId."""
    pid, iid = await setup_project(api)
    counts = []
    for tid in ("7301234567890123456", "7301234567890123456", "7999999999999999999"):
        body = {"tiktokVideoId": tid, "influencerId": iid}
        env = ok(await start_content(api, pid, "slideshow-remix", body), 202)
        await api.advance(150)
        c = await get_container(api, env["containerIds"][0])
        assert c["sourceTiktokId"] == tid
        counts.append(len(c["preview"]["imageUrls"]))
    assert all(3 <= n <= 10 for n in counts)
    assert counts[0] == counts[1]


@pytest.mark.anyio
@pytest.mark.sandbox_options(jitter=0, failure_rates={"content_generate": 1.0})
async def test_failure_within_20_to_90_percent(custom_api: Api) -> None:
    """A failing generation is still running before 20 % of its duration and failed by 90 %."""
    pid, iid = await setup_project(custom_api, wait=61)
    body = format_body("video-remix", influencerId=iid)
    env = ok(await start_content(custom_api, pid, "video-remix", body), 202)
    await custom_api.advance(47)  # 19.6 % of 240 s
    assert (await get_job(custom_api, env["jobId"]))["status"] == "running"
    await custom_api.advance(170)  # 90.4 %
    job = await get_job(custom_api, env["jobId"])
    assert job["status"] == "failed"
    assert job["stage"] in ("generating_visuals", "finalizing")
    assert (await get_container(custom_api, env["containerIds"][0]))["status"] == "failed"


@pytest.mark.anyio
async def test_envelope_replay_keeps_stage_null(api: Api) -> None:
    """A replayed format POST returns the original envelope (stage null) and starts no job."""
    pid = (await create_project(api, app=False))["id"]
    body = format_body("slideshow-builder")
    first = await api.post(f"/v1/projects/{pid}/content/slideshow-builder", body, idem="gen-1")
    assert first.status == 202
    await api.advance(20)
    again = await api.post(f"/v1/projects/{pid}/content/slideshow-builder", body, idem="gen-1")
    assert again.status == 202
    assert again.body == first.body
    assert again.json["stage"] is None
    assert again.headers.get("Idempotency-Replayed") == "true"
    assert len(ok(await api.get(f"/v1/projects/{pid}/content"))["items"]) == 1
    assert (await wallet(api))["reservedCredits"] == 50
