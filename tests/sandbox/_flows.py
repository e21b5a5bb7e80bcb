"""Flows and record checks for the contract tests: id and time formats, reply assertions,
the steps to a ready influencer, a connected account, a completed container and a scheduled
post, the fields of each record, and the route-scope test.

Everything here talks to the sandbox over plain HTTP through `tests.sandbox._http.Api`;
nothing imports SDK or sandbox code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from tests.sandbox._http import Api, Reply

if TYPE_CHECKING:
    from layers_async.sandbox import Sandbox

# --- id and timestamp formats (contract §1.5, §1.6) -----------------------------------------------
UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
ULID = r"[0-9A-HJKMNP-TV-Z]{26}"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _prefixed(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{prefix}_{UUID4}$")


PRJ_RE = _prefixed("prj")
ORG_RE = _prefixed("org")
MED_RE = _prefixed("med")
SA_RE = _prefixed("sa")
INF_RE = _prefixed("inf")
CNT_RE = _prefixed("cnt")
SP_RE = _prefixed("sp")
AST_RE = _prefixed("ast")
JOB_RE = re.compile(rf"^job_{ULID}$")
ST_RE = re.compile(rf"^st_{ULID}$")
REQ_RE = re.compile(rf"^req_{ULID}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TIKTOK_ID_RE = re.compile(r"^7\d{18}$")
ETAG_RE = re.compile(r'^"[0-9a-f]{16}"$')

#: A valid `appDescription` (100-1000 chars).
DESCRIPTION = (
    "Daily ritual coffee subscriptions for runners and night-shift workers. Fresh beans roasted "
    "weekly, shipped on your schedule, never stale, never late."
)
assert 100 <= len(DESCRIPTION) <= 1000

#: Well-formed ids that name nothing.
GHOST_UUID = "0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
GHOST_INF = f"inf_{GHOST_UUID}"
GHOST_SA = f"sa_{GHOST_UUID}"
GHOST_CNT = f"cnt_{GHOST_UUID}"
GHOST_SP = f"sp_{GHOST_UUID}"
GHOST_PRJ = f"prj_{GHOST_UUID}"
GHOST_MED = f"med_{GHOST_UUID}"
GHOST_JOB = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"
GHOST_STATE = "st_01HXZ8K2M4P5QRS6TV7WXYZ9AB"

START = "2026-05-14T16:00:00.000Z"

FORMAT_SECONDS = {
    "slideshow-remix": 120,
    "video-remix": 240,
    "slideshow-builder": 60,
    "ugc-remix": 180,
}
FORMAT_CREDITS = {
    "slideshow-remix": 50,
    "video-remix": 120,
    "slideshow-builder": 50,
    "ugc-remix": 120,
}
VIDEO_FORMATS = ("video-remix", "ugc-remix")
SOURCE_TIKTOK_ID = "7301234567890123456"


# --- time helpers ---------------------------------------------------------------------------------
def parse_ts(value: str) -> datetime:
    """Parse a `...Z` timestamp."""
    assert isinstance(value, str), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def fmt_ts(dt: datetime) -> str:
    """Format as the contract's millisecond `Z` form."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def shift(value: str, seconds: float) -> str:
    """`value` plus `seconds`, in the ms `Z` form."""
    return fmt_ts(parse_ts(value) + timedelta(seconds=seconds))


def assert_ts(value: Any) -> None:
    """A response timestamp in the exact ms `Z` form."""
    assert isinstance(value, str), value
    assert TS_RE.match(value), value


def ulid_ms(value: str) -> int:
    """The millisecond timestamp encoded in the first 10 characters of a ULID."""
    n = 0
    for ch in value[:10]:
        n = n * 32 + CROCKFORD.index(ch)
    return n


def ts_ms(value: str) -> int:
    """Milliseconds since the epoch of a `Z` timestamp."""
    return int(parse_ts(value).timestamp() * 1000)


# --- reply helpers --------------------------------------------------------------------------------
def ok(r: Reply, status: int = 200) -> Any:
    """Assert the status and return the JSON body."""
    assert r.status == status, r
    return r.json


def err(r: Reply, status: int, code: str) -> dict[str, Any]:
    """Assert an error envelope with the given status and code; return `error`."""
    assert r.status == status, r
    e = r.error
    assert e["code"] == code, r
    assert isinstance(e["message"], str)
    assert e["requestId"] == r.headers.get("X-Request-Id"), r
    return e


def invalid(r: Reply, *paths: str) -> dict[str, Any]:
    """Assert `422 VALIDATION` naming every given issue path; return `error`."""
    e = err(r, 422, "VALIDATION")
    issues = e["details"]["issues"]
    assert issues, r
    for issue in issues:
        assert isinstance(issue["path"], str)
        assert isinstance(issue["message"], str)
    for p in paths:
        assert p in r.issue_paths, (p, r)
    return e


def not_found_or_invalid(r: Reply, status: int, param: str) -> None:
    """Assert 404 NOT_FOUND when `status` is 404, else 422 VALIDATION at path `param`."""
    if status == 404:
        err(r, 404, "NOT_FOUND")
    else:
        invalid(r, param)


def assert_jobs_cap(r: Reply, running: int = 10, cap: int = 10) -> None:
    """429 RATE_LIMITED concurrent_jobs: `running` of `cap` jobs run, the earliest due in 60 s."""
    e = err(r, 429, "RATE_LIMITED")
    assert e["details"] == {
        **e["details"],
        "limitType": "concurrent_jobs",
        "endpointClass": "long-running",
        "running": running,
        "max": cap,
    }
    assert r.headers["Retry-After"] == "60"


def query_of(url: str) -> dict[str, list[str]]:
    """Parsed query string of a URL."""
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


# --- domain helpers -------------------------------------------------------------------------------
async def org_id(api: Api) -> str:
    """The caller's organization id (whoami)."""
    return str(ok(await api.get("/v1/whoami"))["organizationId"])


async def wallet(api: Api) -> dict[str, Any]:
    """GET /v1/credits."""
    w: dict[str, Any] = ok(await api.get("/v1/credits"))
    return w


async def create_project(api: Api, *, app: bool = True, **fields: Any) -> dict[str, Any]:
    """POST /v1/projects; with `app` the brand fields are sent (starting the background work)."""
    body: dict[str, Any] = {"name": "Acme Coffee", "timezone": "America/Los_Angeles"}
    if app:
        body.update(appName="Acme Coffee", appDescription=DESCRIPTION, brandVoice="warm")
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not None}
    p: dict[str, Any] = ok(await api.post("/v1/projects", body), 201)
    return p


async def ready_influencer(api: Api, project_id: str, *, wait: float = 80) -> str:
    """Advance `wait` seconds and return the newest `ready` influencer of the project."""
    if wait:
        await api.advance(wait)
    page = ok(await api.get(f"/v1/projects/{project_id}/influencers", params={"status": "ready"}))
    assert page["items"], page
    return str(page["items"][0]["influencerId"])


async def setup_project(api: Api, *, wait: float = 80) -> tuple[str, str]:
    """A project with a ready first influencer: (projectId, influencerId)."""
    pid = (await create_project(api))["id"]
    return pid, await ready_influencer(api, pid, wait=wait)


def inf_path(project_id: str) -> str:
    """The influencers collection of a project."""
    return f"/v1/projects/{project_id}/influencers"


def kw_path(project_id: str) -> str:
    """The keyword bank of a project."""
    return f"/v1/projects/{project_id}/keywords"


async def mint_state(
    api: Api,
    project_id: str,
    *,
    platform: str = "tiktok",
    return_url: str = "http://localhost:3000/cb",
) -> dict[str, Any]:
    """POST …/social/oauth-url and return the 200 body."""
    body = {"platform": platform, "returnUrl": return_url}
    out: dict[str, Any] = ok(await api.post(f"/v1/projects/{project_id}/social/oauth-url", body))
    return out


async def authorize(api: Api, state: str, decision: str | None = None) -> Reply:
    """GET /_sandbox/oauth/authorize like a browser (no key, redirects not followed)."""
    params = {"state": state}
    if decision is not None:
        params["decision"] = decision
    return await api.with_key(None).get("/_sandbox/oauth/authorize", params=params)


async def oauth_status(api: Api, project_id: str, state: str) -> Reply:
    """GET …/social/oauth-status?state=…"""
    return await api.get(f"/v1/projects/{project_id}/social/oauth-status", params={"state": state})


async def connect_account(api: Api, project_id: str, *, platform: str = "tiktok") -> str:
    """Run the OAuth flow through the authorize page and return the new socialAccountId."""
    minted = await mint_state(api, project_id, platform=platform)
    r = await authorize(api, minted["state"])
    assert r.status == 302, r
    attempt = ok(await oauth_status(api, project_id, minted["state"]))
    assert attempt["status"] == "completed", attempt
    return str(attempt["socialAccountId"])


async def social_account(api: Api, project_id: str, sa_id: str) -> dict[str, Any]:
    """Find one account in the project's social-accounts list."""
    page = ok(await api.get(f"/v1/projects/{project_id}/social-accounts"))
    for item in page["items"]:
        if item["socialAccountId"] == sa_id:
            found: dict[str, Any] = item
            return found
    raise AssertionError(f"{sa_id} not listed: {page}")


async def upload_demo_video(api: Api, project_id: str, name: str = "demo") -> str:
    """POST a demo-video app-media item; return its id."""
    body = {"kind": "demo-video", "url": f"https://cdn.acmecoffee.com/marketing/{name}.mp4"}
    m = ok(await api.post(f"/v1/projects/{project_id}/app-media", body), 201)
    return str(m["id"])


def format_body(fmt: str, **actor: Any) -> dict[str, Any]:
    """A minimal valid body for a content format (actor fields added as given)."""
    body: dict[str, Any] = {}
    if fmt in ("slideshow-remix", "video-remix"):
        body["tiktokVideoId"] = SOURCE_TIKTOK_ID
    if fmt == "slideshow-builder":
        body["hook"] = "I kept running out of coffee\\nso I fixed it"
    body.update({k: v for k, v in actor.items() if v is not None})
    return body


async def start_content(api: Api, project_id: str, fmt: str, body: dict[str, Any]) -> Reply:
    """POST one of the four content formats."""
    return await api.post(f"/v1/projects/{project_id}/content/{fmt}", body)


async def builder_job(api: Api, project_id: str) -> dict[str, Any]:
    """Start a slideshow-builder generation (it needs no actor); return its 202 envelope."""
    env: dict[str, Any] = ok(
        await start_content(api, project_id, "slideshow-builder", format_body("slideshow-builder")),
        202,
    )
    return env


async def get_job(api: Api, job_id: str) -> dict[str, Any]:
    """GET /v1/jobs/{jobId} as JSON."""
    j: dict[str, Any] = ok(await api.get(f"/v1/jobs/{job_id}"))
    return j


async def get_container(api: Api, container_id: str) -> dict[str, Any]:
    """GET /v1/content/{containerId} as JSON."""
    c: dict[str, Any] = ok(await api.get(f"/v1/content/{container_id}"))
    return c


async def completed_container(
    api: Api,
    project_id: str,
    *,
    fmt: str = "slideshow-builder",
    body: dict[str, Any] | None = None,
    wait: float | None = None,
) -> str:
    """Generate content (no-actor slideshow-builder by default) and advance until completed."""
    env = ok(await start_content(api, project_id, fmt, body or format_body(fmt)), 202)
    cid = str(env["containerIds"][0])
    await api.advance(wait if wait is not None else FORMAT_SECONDS[fmt] * 1.25)
    c = await get_container(api, cid)
    assert c["status"] == "completed", c
    return cid


async def schedule(
    api: Api, container_id: str, scheduled_for: str, targets: list[dict[str, Any]]
) -> Reply:
    """POST /v1/content/{containerId}/schedule."""
    body = {"scheduledFor": scheduled_for, "targets": targets}
    return await api.post(f"/v1/content/{container_id}/schedule", body)


async def get_post(api: Api, post_id: str) -> dict[str, Any]:
    """GET /v1/scheduled-posts/{id} as JSON."""
    p: dict[str, Any] = ok(await api.get(f"/v1/scheduled-posts/{post_id}"))
    return p


def two_organizations() -> list[dict[str, Any]]:
    """Two top-level organizations, `partner` and `other`, each with the default wallet."""
    return [
        {
            "ref": ref,
            "name": name,
            "includedThisPeriod": 1000,
            "prepaidBalance": 5000,
            "subscriptionTier": "pro",
        }
        for ref, name in (("partner", "Sandbox Partner"), ("other", "Other Partner"))
    ]


def standard_key(name: str, organization: str, scopes: list[str], **more: Any) -> dict[str, Any]:
    """An API key configuration on the standard tier."""
    return {
        "name": name,
        "organization": organization,
        "rateLimitTier": "standard",
        "scopes": scopes,
        **more,
    }


def two_org_options() -> dict[str, Any]:
    """make_sandbox options for two top-level organizations, each with a full-access live key."""
    local = {"env": "live", "returnUrlAllowlist": ["localhost", "127.0.0.1"]}
    keys = [
        standard_key("demo-live", "partner", ["*", "org:admin"], **local),
        standard_key("other-live", "other", ["*", "org:admin"], **local),
    ]
    return {"organizations": two_organizations(), "api_keys": keys}


# --- shape checks (contract §3.0) -----------------------------------------------------------------
SOCIAL_ACCOUNT_FIELDS = {
    "socialAccountId",
    "projectId",
    "platform",
    "handle",
    "displayName",
    "avatarUrl",
    "status",
    "leased",
    "connectedAt",
    "tokenExpiresAt",
    "disconnectedAt",
    "disconnectedReason",
}

OAUTH_ATTEMPT_FIELDS = {
    "state",
    "status",
    "projectId",
    "platform",
    "socialAccountId",
    "error",
    "expiresAt",
    "completedAt",
}

INFLUENCER_FIELDS = {
    "influencerId",
    "projectId",
    "name",
    "imageUrl",
    "gender",
    "ageRange",
    "brandVoice",
    "language",
    "status",
    "errorMessage",
    "createdAt",
    "updatedAt",
}

INFLUENCER_SUMMARY_FIELDS = {
    "influencerId",
    "name",
    "gender",
    "ageRange",
    "status",
    "thumbnailUrl",
    "createdAt",
}

CONTAINER_FIELDS = {
    "id",
    "projectId",
    "jobId",
    "status",
    "format",
    "creativeType",
    "hook",
    "influencerId",
    "socialAccountId",
    "sourceTiktokId",
    "mediaId",
    "caption",
    "firstComment",
    "preview",
    "assets",
    "approvalStatus",
    "lastError",
    "createdAt",
    "updatedAt",
    "completedAt",
    "failedAt",
}

PREVIEW_FIELDS = {
    "kind",
    "primaryUrl",
    "thumbnailUrl",
    "imageUrls",
    "videoUrl",
    "hlsUrl",
    "durationMs",
    "aspectRatio",
}

ENVELOPE_FIELDS = {
    "jobId",
    "kind",
    "status",
    "stage",
    "progress",
    "projectId",
    "locationUrl",
    "startedAt",
}

JOB_FIELDS = ENVELOPE_FIELDS | {"updatedAt", "finishedAt", "result", "error"}

SCHEDULED_POST_FIELDS = {
    "id",
    "containerId",
    "projectId",
    "socialAccountId",
    "platform",
    "mode",
    "status",
    "externalId",
    "externalUrl",
    "scheduledFor",
    "attemptedAt",
    "publishedAt",
    "canceledAt",
    "lastError",
    "createdAt",
    "updatedAt",
}


def has_fields(obj: Any, fields: set[str]) -> None:
    """Every listed field is present (extra fields are allowed, §1.14)."""
    assert isinstance(obj, dict), obj
    missing = fields - obj.keys()
    assert not missing, (missing, obj)


def check_social_account(sa: dict[str, Any], *, project_id: str, platform: str) -> None:
    """Full §3.0.5 shape."""
    has_fields(sa, SOCIAL_ACCOUNT_FIELDS)
    assert SA_RE.match(sa["socialAccountId"]), sa
    assert sa["projectId"] == project_id
    assert sa["platform"] == platform
    assert isinstance(sa["handle"], str)
    assert sa["handle"]
    assert not sa["handle"].startswith("@")
    assert isinstance(sa["displayName"], str)
    assert sa["displayName"]
    assert sa["avatarUrl"] is None or isinstance(sa["avatarUrl"], str)
    assert sa["status"] in ("connected", "reauth_required", "disconnected")
    assert sa["leased"] is False
    assert_ts(sa["connectedAt"])
    if sa["tokenExpiresAt"] is not None:
        assert_ts(sa["tokenExpiresAt"])


def check_envelope(
    env: dict[str, Any], *, kind: str, project_id: str, now: str | None = None
) -> None:
    """A `202` job envelope (§1.12)."""
    has_fields(env, ENVELOPE_FIELDS)
    assert JOB_RE.match(env["jobId"]), env
    assert env["kind"] == kind
    assert env["status"] == "running"
    assert env["stage"] is None
    assert env["progress"] == 0
    assert env["projectId"] == project_id
    assert env["locationUrl"] == f"/v1/jobs/{env['jobId']}"
    assert_ts(env["startedAt"])
    if now is not None:
        assert env["startedAt"] == now
        assert ulid_ms(env["jobId"][4:]) == ts_ms(now)


def check_job(job: dict[str, Any]) -> None:
    """Full §3.0.10 shape and its per-status invariants."""
    has_fields(job, JOB_FIELDS)
    assert JOB_RE.match(job["jobId"])
    assert job["locationUrl"] == f"/v1/jobs/{job['jobId']}"
    assert job["status"] in ("running", "completed", "failed", "canceled")
    p = job["progress"]
    assert isinstance(p, (int, float))
    assert not isinstance(p, bool)
    assert 0 <= p <= 1
    assert round(p, 2) == p, p
    assert_ts(job["startedAt"])
    assert_ts(job["updatedAt"])
    if job["status"] == "running":
        assert job["finishedAt"] is None
        assert job["result"] is None
        assert job["error"] is None
    else:
        assert_ts(job["finishedAt"])
    if job["status"] == "completed":
        assert job["progress"] == 1
        assert isinstance(job["result"], dict)
        assert job["error"] is None
    if job["status"] == "failed":
        assert job["result"] is None
        assert set(job["error"]) >= {"code", "message"}
    if job["status"] == "canceled":
        assert job["result"] is None
        assert job["error"] is None


def check_container(c: dict[str, Any]) -> None:
    """Full §3.0.9 shape and its per-status invariants."""
    has_fields(c, CONTAINER_FIELDS)
    assert CNT_RE.match(c["id"]), c
    assert PRJ_RE.match(c["projectId"])
    assert c["jobId"] is None or JOB_RE.match(c["jobId"])
    assert c["status"] in ("queued", "processing", "completed", "failed", "canceled")
    assert c["format"] in FORMAT_SECONDS
    assert c["creativeType"] == "generated"
    assert isinstance(c["assets"], list)
    assert c["approvalStatus"] in ("not_required", "pending", "approved", "rejected")
    assert_ts(c["createdAt"])
    assert_ts(c["updatedAt"])
    if c["status"] in ("queued", "processing"):
        assert c["preview"] is None
        assert c["assets"] == []
        assert c["caption"] is None
        assert c["completedAt"] is None
        assert c["failedAt"] is None
        assert c["lastError"] is None
    if c["status"] == "completed":
        assert_ts(c["completedAt"])
        assert c["failedAt"] is None
        assert c["lastError"] is None
        assert isinstance(c["caption"], str)
        assert 0 < len(c["caption"]) <= 2200
        check_preview(c["preview"])
        assert c["assets"]
        for a in c["assets"]:
            assert set(a) >= {"assetId", "kind", "url", "thumbnailUrl"}, a
            assert AST_RE.match(a["assetId"]), a
            assert a["kind"] in ("image", "video")
            assert isinstance(a["url"], str)
    if c["status"] == "failed":
        assert_ts(c["failedAt"])
        assert c["completedAt"] is None
        assert set(c["lastError"]) >= {"code", "message"}


def check_preview(pv: dict[str, Any]) -> None:
    """Full Preview shape (§3.0.9)."""
    has_fields(pv, PREVIEW_FIELDS)
    assert pv["kind"] in ("slideshow", "video", "image")
    assert isinstance(pv["primaryUrl"], str)
    assert pv["primaryUrl"]
    assert pv["hlsUrl"] is None
    assert pv["aspectRatio"] == "9:16"
    if pv["kind"] == "slideshow":
        assert pv["imageUrls"]
        assert pv["primaryUrl"] == pv["imageUrls"][0]
        assert pv["videoUrl"] is None
        assert pv["durationMs"] is None
    if pv["kind"] == "video":
        assert pv["imageUrls"] == []
        assert isinstance(pv["videoUrl"], str)
        assert pv["primaryUrl"] == pv["videoUrl"]
        assert isinstance(pv["durationMs"], int)
        assert 15000 <= pv["durationMs"] <= 60000


def check_post(p: dict[str, Any]) -> None:
    """Full §3.0.11 shape and its per-status invariants."""
    has_fields(p, SCHEDULED_POST_FIELDS)
    assert SP_RE.match(p["id"]), p
    assert CNT_RE.match(p["containerId"])
    assert PRJ_RE.match(p["projectId"])
    assert SA_RE.match(p["socialAccountId"])
    assert p["platform"] in ("tiktok", "instagram")
    assert p["mode"] in ("publish", "draft", "managed")
    assert p["status"] in ("queued", "publishing", "published", "failed", "canceled", "draft")
    assert_ts(p["scheduledFor"])
    assert_ts(p["createdAt"])
    assert_ts(p["updatedAt"])
    if p["status"] == "queued":
        for f in ("externalId", "externalUrl", "attemptedAt", "publishedAt", "canceledAt"):
            assert p[f] is None, (f, p)
        assert p["lastError"] is None
    if p["status"] == "published":
        assert_ts(p["publishedAt"])
        assert_ts(p["attemptedAt"])
        assert isinstance(p["externalId"], str)
        assert isinstance(p["externalUrl"], str)
        assert p["lastError"] is None
    if p["status"] == "failed":
        assert set(p["lastError"]) >= {"code", "message", "platformCode"}
    if p["status"] == "canceled":
        assert_ts(p["canceledAt"])


# --- scope checks (contract §1.3, §2.1) -----------------------------------------------------------
ROUTE_SCOPES = (
    "social:read",
    "social:write",
    "influencers:write",
    "projects:read",
    "projects:write",
    "content:read",
    "content:write",
    "jobs:read",
    "jobs:cancel",
    "publish:read",
    "publish:write",
)


def scoped_key_options() -> dict[str, Any]:
    """make_sandbox options: `demo-live` (full), `bare` (unrelated scope), one key per scope."""
    base = {
        "organization": "partner",
        "env": "live",
        "rateLimitTier": "standard",
        "returnUrlAllowlist": ["localhost", "127.0.0.1"],
    }
    keys = [
        {**base, "name": "demo-live", "scopes": ["*", "org:admin"]},
        {**base, "name": "bare", "scopes": ["ads:read"]},
    ]
    keys += [{**base, "name": f"only-{s}", "scopes": [s]} for s in ROUTE_SCOPES]
    return {"api_keys": keys}


async def assert_route_scope(
    api: Api, keys: dict[str, str], method: str, path: str, scope: str
) -> None:
    """Without `scope` → 403 FORBIDDEN_SCOPE {requiredScope}; with only `scope` → past it."""
    r = await api.with_key(keys["bare"]).call(method, path)
    e = err(r, 403, "FORBIDDEN_SCOPE")
    assert e["details"]["requiredScope"] == scope, r
    r2 = await api.with_key(keys[f"only-{scope}"]).call(method, path)
    assert r2.status != 403, (method, path, r2)


def route_scope_test(cases: list[tuple[str, str, str]], doc: str) -> Callable[..., Any]:
    """A test, parametrized over `(method, path, scope)` cases, that each route needs its scope
    (`assert_route_scope`); `doc` is its docstring. Assign it to a `test_*` name."""

    @pytest.mark.anyio
    @pytest.mark.parametrize(("method", "path", "scope"), cases)
    async def test(
        make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        scope: str,
    ) -> None:
        async with make_sandbox(**scoped_key_options()) as sb:
            await assert_route_scope(Api(session, sb.url, None), sb.keys, method, path, scope)

    test.__doc__ = doc
    return test
