"""The §6 acceptance path (the Getting started flow) as end-to-end contract tests.

The sandbox is paused: the clock is advanced instead of waited on. Every `/v1` response is
checked for `X-Request-Id` and the §1.11 rate-limit headers, and every `/v1` write carries an
`Idempotency-Key`.
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._flows import (
    CNT_RE,
    JOB_RE,
    MED_RE,
    PRJ_RE,
    REQ_RE,
    SA_RE,
    SP_RE,
    ST_RE,
    TIKTOK_ID_RE,
    err,
    invalid,
    ok,
    parse_ts,
    shift,
)
from tests.sandbox._http import Api, MakeSandbox, Reply

GUIDE_PROJECT = {
    "name": "Acme Coffee",
    "customerExternalId": "acme-coffee",
    "timezone": "America/Los_Angeles",
    "primaryLanguage": "en",
    "appName": "Acme Coffee",
    "appDescription": (
        "Daily ritual coffee subscriptions for runners and night-shift workers. Fresh beans "
        "roasted weekly and shipped on your schedule, so the bag never goes stale."
    ),
    "tagline": "Coffee that shows up before you run out.",
    "brandVoice": "warm",
    "targetGender": "all",
}
CALLBACK = "http://localhost:3000/social/connect/callback"
LONG_RUNNING_SUFFIXES = (
    "/influencers",
    "/keywords/refresh",
    "/content/slideshow-remix",
    "/content/video-remix",
    "/content/slideshow-builder",
    "/content/ugc-remix",
)
LIMITS = {"read-light": 120, "write-light": 60, "long-running": 20}
MB = 1024 * 1024


def seconds_between(a: str, b: str) -> float:
    return (parse_ts(b) - parse_ts(a)).total_seconds()


class Checked:
    """Wraps `Api`: adds an Idempotency-Key to /v1 writes and checks every response's headers."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.v1_writes: list[tuple[str, str, str]] = []

    def _is_v1(self, path: str) -> bool:
        return path.startswith(("/v1/", self.api.base_url + "/v1/"))

    async def call(self, method: str, path: str, **kw: Any) -> Reply:
        v1 = self._is_v1(path)
        if v1 and method in ("POST", "PATCH", "DELETE"):
            if kw.get("idem") is None:
                kw["idem"] = str(uuid.uuid4())
            self.v1_writes.append((method, path, kw["idem"]))
        r = await self.api.call(method, path, **kw)
        assert REQ_RE.match(r.headers.get("X-Request-Id", "")), (method, path, r.headers)
        if v1:
            self._check_rate_headers(method, path, r)
        elif "/_sandbox/" in path:
            # /_sandbox/ routes have no rate limits (contract §5.7), so no bucket headers
            assert "X-RateLimit-Limit" not in r.headers, (path, dict(r.headers))
        return r

    @staticmethod
    def _check_rate_headers(method: str, path: str, r: Reply) -> None:
        if method == "GET":
            expected = "read-light"
        elif method == "POST" and path.split("?")[0].endswith(LONG_RUNNING_SUFFIXES):
            expected = "long-running"
        else:
            expected = "write-light"
        h = r.headers
        assert h.get("X-RateLimit-Endpoint-Class") == expected, (method, path, dict(h))
        assert int(h["X-RateLimit-Limit"]) == LIMITS[expected], (method, path, dict(h))
        remaining = int(h["X-RateLimit-Remaining"])
        assert 0 <= remaining < LIMITS[expected]
        assert 0 <= int(h["X-RateLimit-Reset"]) <= 60

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> Reply:
        if json is not None:
            kw["json"] = json
        return await self.call("POST", path, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.call("DELETE", path, **kw)

    async def now(self) -> str:
        r = await self.call("GET", "/_sandbox/clock")
        return str(ok(r)["now"])

    async def advance(self, seconds: float) -> None:
        ok(await self.call("POST", "/_sandbox/clock/advance", json={"seconds": seconds}))


async def run_steps_1_to_11(sb: Sandbox, c: Checked, *, live: bool) -> dict[str, Any]:
    """Steps 1-11 of §6; credits move only with a live key. Returns the ids the later steps use."""
    # 1. whoami
    who = ok(await c.get("/v1/whoami"))
    assert who == {
        **who,
        "organizationName": "Sandbox Partner",
        "rateLimitTier": "standard",
        "parentOrganizationId": None,
        "creditBalance": 6000,
    }

    # 2. credits
    w = ok(await c.get("/v1/credits"))
    assert w == {
        **w,
        "balance": 6000,
        "available": 6000,
        "reservedCredits": 0,
        "includedRemaining": 1000,
        "prepaidBalance": 5000,
    }
    assert w["estimatedCreditsPerFormat"]["slideshow_remix"] == 50

    # 3. create the project; replay; conflict with a new key
    t_project = await c.now()
    key = str(uuid.uuid4())
    r3 = await c.post("/v1/projects", GUIDE_PROJECT, idem=key)
    project = ok(r3, 201)
    pid = project["id"]
    assert PRJ_RE.match(pid)
    assert project["status"] == "active"
    replay = await c.post("/v1/projects", GUIDE_PROJECT, idem=key)
    assert replay.status == 201
    assert replay.body == r3.body
    assert replay.headers.get("Idempotency-Replayed") == "true"
    conflict = err(await c.post("/v1/projects", GUIDE_PROJECT), 409, "CONFLICT")
    assert conflict["details"]["projectId"] == pid

    # 3a. the first influencer is listed at once
    [first_inf] = ok(await c.get(f"/v1/projects/{pid}/influencers"))["items"]
    assert first_inf["status"] == "pending"

    # 3b. the keyword bank is empty
    bank = ok(await c.get(f"/v1/projects/{pid}/keywords"))
    assert (bank["hashtags"], bank["refreshedAt"]) == ([], None)

    # 4. lookup by customerExternalId
    page = ok(await c.get("/v1/projects", params={"customerExternalId": "acme-coffee"}))
    assert [p["id"] for p in page["items"]] == [pid]

    # 5. app media
    uploads = [
        ("logo", "https://cdn.acmecoffee.com/brand/logo-512.png", "image/png", 5 * MB),
        ("screenshot", "https://cdn.acmecoffee.com/product/home.png", "image/png", 10 * MB),
        ("demo-video", "https://cdn.acmecoffee.com/marketing/30s-demo.mp4", "video/mp4", 200 * MB),
    ]
    media = []
    for kind, url, mime, limit in uploads:
        m = ok(await c.post(f"/v1/projects/{pid}/app-media", {"kind": kind, "url": url}), 201)
        assert MED_RE.match(m["id"])
        assert (m["kind"], m["mimeType"]) == (kind, mime)
        assert 0 < m["byteSize"] < limit
        media.append(m)
    listed = ok(await c.get(f"/v1/projects/{pid}/app-media"))["items"]
    assert len(listed) == 3
    assert {m["id"] for m in listed} == {m["id"] for m in media}
    assert ok(await c.get(f"/v1/projects/{pid}"))["brandContext"]["logoUrl"] == media[0]["url"]

    # 5a. SSRF guard
    bad = {"kind": "logo", "url": "https://10.0.0.5/logo.png"}
    invalid(await c.post(f"/v1/projects/{pid}/app-media", bad), "url")

    # 6. OAuth URL
    now = await c.now()
    minted = ok(
        await c.post(
            f"/v1/projects/{pid}/social/oauth-url", {"platform": "tiktok", "returnUrl": CALLBACK}
        )
    )
    state = minted["state"]
    assert ST_RE.match(state)
    assert minted["authorizeUrl"].startswith(f"{sb.url}/_sandbox/oauth/authorize?")
    assert minted["expiresAt"] == shift(now, 600)

    # 6a. pending
    status_path = f"/v1/projects/{pid}/social/oauth-status"
    assert ok(await c.get(status_path, params={"state": state}))["status"] == "pending"

    # 6b. the browser visit
    r6b = await Checked(c.api.with_key(None)).get(minted["authorizeUrl"])
    assert r6b.status == 302, r6b
    assert r6b.headers["Location"] == f"{CALLBACK}?state={state}&status=success"

    # 6c. completed, account listed
    attempt = ok(await c.get(status_path, params={"state": state}))
    assert attempt["status"] == "completed"
    sa = attempt["socialAccountId"]
    assert SA_RE.match(sa)
    accounts = ok(await c.get(f"/v1/projects/{pid}/social-accounts"))["items"]
    assert [(a["socialAccountId"], a["status"]) for a in accounts] == [(sa, "connected")]

    # 7. poll the influencers until one is ready (~60 s)
    ready = None
    for _ in range(12):
        await c.advance(10)
        items = ok(await c.get(f"/v1/projects/{pid}/influencers"))["items"]
        ready = next((i for i in items if i["status"] == "ready"), None)
        if ready:
            break
    assert ready is not None
    assert 48 <= seconds_between(t_project, await c.now()) <= 80
    iid = ready["influencerId"]

    # 8. portfolio before research ends
    sr = f"/v1/projects/{pid}/content/source-recommendations"
    port = ok(await c.get(sr, params={"kind": "slideshow", "limit": "20"}))
    assert (port["source"], port["items"]) == ("portfolio", [])

    # 8a. live search
    live_page = ok(await c.get(sr, params={"keyword": "morning routine", "kind": "slideshow"}))
    assert live_page["source"] == "live_search"
    items = live_page["items"]
    assert len(items) == 20
    for item in items:
        assert item["kind"] == "slideshow"
        assert TIKTOK_ID_RE.match(item["tiktokId"])
        assert 3 <= item["imageCount"] <= 10
        assert isinstance(item["author"], dict)
        assert isinstance(item["stats"], dict)

    # 9. slideshow-remix
    remix_path = f"/v1/projects/{pid}/content/slideshow-remix"
    t_remix = await c.now()
    env = ok(
        await c.post(remix_path, {"tiktokVideoId": items[0]["tiktokId"], "influencerId": iid}),
        202,
    )
    assert env == {
        **env,
        "kind": "content_generate",
        "status": "running",
        "stage": None,
        "locationUrl": f"/v1/jobs/{env['jobId']}",
    }
    assert JOB_RE.match(env["jobId"])
    [cid] = env["containerIds"]
    assert CNT_RE.match(cid)
    w = ok(await c.get("/v1/credits"))
    if live:
        assert (w["reservedCredits"], w["available"]) == (50, 5950)
    else:
        assert (w["reservedCredits"], w["available"]) == (0, 6000)

    # 9a. a fresh (pending) influencer is refused
    new_inf = ok(await c.post(f"/v1/projects/{pid}/influencers", {}), 202)["influencerId"]
    e = err(
        await c.post(remix_path, {"tiktokVideoId": items[0]["tiktokId"], "influencerId": new_inf}),
        409,
        "CONFLICT",
    )
    assert e["details"] == {**e["details"], "influencerId": new_inf, "status": "pending"}

    # 10. poll the job with If-None-Match
    job_path = env["locationUrl"]
    etag = None
    job: dict[str, Any] = {}
    last_progress = 0.0
    for _ in range(30):
        await c.advance(5)
        headers = {"If-None-Match": etag} if etag else None
        r = await c.get(job_path, headers=headers)
        if r.status == 304:
            assert r.body == b""
            continue
        job = ok(r)
        etag = r.headers["ETag"]
        assert job["progress"] >= last_progress
        last_progress = job["progress"]
        if job["status"] != "running":
            break
    assert job["status"] == "completed"
    assert 96 <= seconds_between(t_remix, job["finishedAt"]) <= 144
    assert (job["stage"], job["progress"]) == ("finalizing", 1)
    assert job["result"]["containerId"] == cid
    final = await c.get(job_path, headers={"If-None-Match": etag})
    assert final.status == 304
    assert final.body == b""

    # 11. the container and the wallet
    cont = ok(await c.get(f"/v1/content/{cid}"))
    assert (cont["status"], cont["format"], cont["approvalStatus"]) == (
        "completed",
        "slideshow-remix",
        "not_required",
    )
    assert cont["preview"]["kind"] == "slideshow"
    assert cont["preview"]["imageUrls"]
    assert cont["preview"]["primaryUrl"] == cont["preview"]["imageUrls"][0]
    w = ok(await c.get("/v1/credits"))
    if live:
        assert (w["reservedCredits"], w["usedThisPeriod"], w["includedRemaining"]) == (0, 50, 950)
        assert w["balance"] == 5950
    else:
        assert (w["reservedCredits"], w["usedThisPeriod"], w["includedRemaining"]) == (0, 0, 1000)
        assert (w["balance"], w["available"]) == (6000, 6000)

    return {"pid": pid, "sa": sa, "cid": cid, "t_project": t_project}


@pytest.mark.anyio
async def test_acceptance_path_live_key(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """The whole §6 Getting started flow, steps 1-15, with the demo-live key on a paused clock."""
    async with make_sandbox() as sb:
        c = Checked(Api(session, sb.url, sb.api_key))
        ctx = await run_steps_1_to_11(sb, c, live=True)
        pid, sa, cid = ctx["pid"], ctx["sa"], ctx["cid"]

        # 8 (continued). once research has finished (~270 s after step 3), the portfolio fills
        elapsed = seconds_between(ctx["t_project"], await c.now())
        if elapsed < 330:
            await c.advance(330 - elapsed)
        sr = f"/v1/projects/{pid}/content/source-recommendations"
        port = ok(await c.get(sr, params={"kind": "slideshow", "limit": "20"}))
        assert port["source"] == "portfolio"
        assert len(port["items"]) == 20
        assert {i["kind"] for i in port["items"]} == {"slideshow"}

        # 12. schedule now + 60 s
        now = await c.now()
        when = shift(now, 60)
        target = [{"socialAccountId": sa, "mode": "publish"}]
        sched = ok(
            await c.post(f"/v1/content/{cid}/schedule", {"scheduledFor": when, "targets": target}),
            201,
        )
        [post_id] = sched["scheduledPostIds"]
        assert SP_RE.match(post_id)
        assert (sched["gateStatus"], sched["scheduledFor"]) == ("queued", when)

        # 12a. offset form and too-soon
        for bad in ("2026-05-15T09:00:00-07:00", shift(now, 10)):
            r = await c.post(
                f"/v1/content/{cid}/schedule", {"scheduledFor": bad, "targets": target}
            )
            invalid(r, "scheduledFor")

        # 13. queued → publishing → published
        post_path = f"/v1/scheduled-posts/{post_id}"
        await c.advance(30)
        assert ok(await c.get(post_path))["status"] == "queued"
        await c.advance(29)
        assert ok(await c.get(post_path))["status"] == "queued"
        await c.advance(2)
        assert ok(await c.get(post_path))["status"] == "publishing"
        post: dict[str, Any] = {}
        for _ in range(10):
            await c.advance(2)
            post = ok(await c.get(post_path))
            if post["status"] != "publishing":
                break
        assert post["status"] == "published"
        assert TIKTOK_ID_RE.match(post["externalId"])
        assert post["externalUrl"].endswith(f"/video/{post['externalId']}")
        assert 8 <= seconds_between(when, post["publishedAt"]) <= 12

        # 14. schedule, reschedule, cancel, cancel again (new key), retry (first key)
        now = await c.now()
        second = ok(
            await c.post(
                f"/v1/content/{cid}/schedule",
                {"scheduledFor": shift(now, 60), "targets": target},
            ),
            201,
        )["scheduledPostIds"][0]
        moved = ok(
            await c.post(
                f"/v1/scheduled-posts/{second}/reschedule", {"scheduledFor": shift(now, 120)}
            )
        )
        assert (moved["status"], moved["scheduledFor"]) == ("queued", shift(now, 120))
        cancel_key = str(uuid.uuid4())
        first_cancel = await c.delete(f"/v1/scheduled-posts/{second}", idem=cancel_key)
        body = ok(first_cancel)
        assert (body["status"], body["canceledAt"]) == ("canceled", now)
        err(await c.delete(f"/v1/scheduled-posts/{second}"), 409, "CONFLICT")
        retry = await c.delete(f"/v1/scheduled-posts/{second}", idem=cancel_key)
        assert retry.status == 200
        assert retry.body == first_cancel.body
        assert retry.headers.get("Idempotency-Replayed") == "true"

        # 15. the sandbox state
        r15 = await c.get("/_sandbox/state")
        counts = ok(r15)["counts"]
        assert "X-Request-Id" in r15.headers
        assert counts["projects"]["total"] == 1
        assert counts["projects"]["byStatus"].get("active") == 1
        assert counts["appMedia"]["total"] == 3
        assert counts["socialAccounts"]["total"] == 1
        assert counts["socialAccounts"]["byStatus"].get("connected") == 1
        assert counts["influencers"]["byStatus"].get("ready") == 2
        assert counts["jobs"]["byStatus"].get("completed") == 2
        assert counts["containers"]["byStatus"].get("completed") == 1
        assert counts["scheduledPosts"]["byStatus"].get("published") == 1
        assert counts["scheduledPosts"]["byStatus"].get("canceled") == 1

        # every /v1 write carried an Idempotency-Key
        assert c.v1_writes
        assert all(k for _, _, k in c.v1_writes)
        assert any(m == "POST" for m, _, _ in c.v1_writes)


@pytest.mark.anyio
async def test_acceptance_path_test_key(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """Steps 1-11 with the demo-test key give the same results, but credits never move."""
    async with make_sandbox() as sb:
        c = Checked(Api(session, sb.url, sb.keys["demo-test"]))
        await run_steps_1_to_11(sb, c, live=False)
        w = ok(await c.get("/v1/credits"))
        assert (w["balance"], w["available"], w["reservedCredits"]) == (6000, 6000, 0)
        assert (w["usedThisPeriod"], w["includedRemaining"], w["prepaidBalance"]) == (0, 1000, 5000)
        assert w["currentPeriod"]["usedCredits"] == 0
        state = ok(await c.get("/_sandbox/state"))
        assert state["counts"]["containers"]["byStatus"].get("completed") == 1
