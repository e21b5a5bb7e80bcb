"""Handlers of every Tier 1 `/v1` route (contract §3.1-§3.9) and the route table."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import _fake
from ._clock import parse_client_ts, real_seconds
from ._errors import ApiError, Issues, conflict, not_found, validation
from ._jsonio import dumps_canonical
from ._models import AppMedia, Container, OAuthAttempt, Project, ScheduledPost
from ._routing import Ctx, Out, Param, Query, Route, paginate
from ._validate import BCP47_RE, EMAIL_RE, Body, check_https_url, is_timezone, normalize_prefixed
from ._world import FORMAT_DURATION_KEY, FORMAT_ESTIMATES, World, ts, tsn

__all__ = ["ROUTES"]

BRAND_VOICES = ("authentic", "witty", "professional", "warm", "casual", "educational")
GENDERS = ("all", "female", "male")
INF_GENDERS = ("male", "female", "non_binary")
AGE_RANGES = ("teen", "young_adult", "adult", "mid_adult", "mature", "senior")
MEDIA_KINDS = ("logo", "screenshot", "demo-video")
_MEDIA_RULES: dict[str, tuple[tuple[str, ...], int]] = {
    "logo": (("image/png", "image/jpeg", "image/webp", "image/svg+xml"), 5),
    "screenshot": (("image/png", "image/jpeg", "image/webp", "image/heic"), 10),
    "demo-video": (("video/mp4", "video/quicktime", "video/webm"), 200),
}
_MIME_BY_EXT = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "svg": "image/svg+xml",
    "heic": "image/heic",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
}
_EXT_BY_MIME = {mime: ext for ext, mime in _MIME_BY_EXT.items() if ext != "jpeg"}
_TIKTOK_ID = re.compile(r"^[0-9]{1,32}\Z")
_MB = 1_048_576

PRJ = Param("prj", bare_ok=True)
MED = Param("med")
SA = Param("sa")
INF = Param("inf")
CNT = Param("cnt", bare_ok=True)
JOB = Param("job", form="ulid")
SP = Param("sp")
ST = Param("st", form="ulid")


def _prep(ctx: Ctx, route: Route, issues: Issues) -> None:
    """Fold malformed path ids into the request's issues."""
    issues.items.extend(ctx.path_issues(route).items)


def _project(ctx: Ctx) -> Project:
    return ctx.world.project_for(ctx.org.id, ctx.params["projectId"])


def _query(ctx: Ctx, issues: Issues) -> Query:
    return Query(ctx.query, issues)


# ---------------------------------------------------------------------- §3.1
def whoami(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/whoami."""
    w = ctx.world
    org = ctx.org
    return Out(
        200,
        {
            "organizationId": org.id,
            "workspaceId": org.id,
            "organizationName": org.name,
            "parentOrganizationId": org.parent_id,
            "scopes": list(ctx.key.scopes),
            "rateLimitTier": ctx.key.tier,
            "apiKeyId": ctx.key.id,
            "creditBalance": w.wallet(org).balance,
        },
    )


def credits(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/credits."""
    return Out(200, ctx.world.wallet_json(ctx.org))


# ---------------------------------------------------------------------- §3.2
_PROJECT_FIELDS = (
    "name",
    "timezone",
    "customerExternalId",
    "ownerEmail",
    "primaryLanguage",
    "appName",
    "appDescription",
    "tagline",
    "brandVoice",
    "targetGender",
    "metadata",
)


def _metadata(b: Body, *, nullable: bool) -> dict[str, Any] | None:
    if not b.has("metadata"):
        return None
    v = b.data["metadata"]
    if v is None:
        if not nullable:
            b.issues.add("metadata", "Must be an object (send {} to clear).")
        return None
    if not isinstance(v, dict):
        b.issues.add("metadata", "Must be an object.")
        return None
    try:
        size = len(dumps_canonical(v))
    except TypeError:  # nested deeper than JSON encoders accept
        b.issues.add("metadata", "Is nested too deeply.")
        return None
    if size > 8 * 1024:
        b.issues.add("metadata", "Must be at most 8 KB serialised.")
        return None
    return v


def _project_fields(b: Body, *, patch: bool) -> dict[str, Any]:
    """Validate the project fields of a create (patch=False) or PATCH body."""
    out: dict[str, Any] = {}
    req = not patch

    def take(name: str, value: Any) -> None:
        if b.has(name) and (value is not None or b.data[name] is None):
            out[name] = value

    take("name", b.string("name", required=req, min_len=3, max_len=30))
    tz = b.string("timezone", required=req)
    if tz is not None and not is_timezone(tz):
        b.issues.add("timezone", "Must be an IANA time zone name.")
        tz = None
    take("timezone", tz)
    take(
        "customerExternalId",
        b.string("customerExternalId", min_len=1, max_len=128, nullable=True),
    )
    take(
        "ownerEmail",
        b.string(
            "ownerEmail",
            nullable=True,
            max_len=254,
            pattern=EMAIL_RE,
            pattern_message="Must be an email address.",
        ),
    )
    take(
        "primaryLanguage",
        b.string(
            "primaryLanguage",
            nullable=not patch,
            pattern=BCP47_RE,
            pattern_message="Must be a BCP 47 language tag.",
        ),
    )
    take("appName", b.string("appName", min_len=3, max_len=30, nullable=True))
    take("appDescription", b.string("appDescription", min_len=100, max_len=1000, nullable=True))
    take("tagline", b.string("tagline", min_len=1, max_len=80, nullable=True))
    take("brandVoice", b.string("brandVoice", choices=BRAND_VOICES, nullable=not patch))
    take("targetGender", b.string("targetGender", choices=GENDERS, nullable=not patch))
    md = _metadata(b, nullable=not patch)
    if md is not None:
        out["metadata"] = md
    if patch:
        for name in ("name", "timezone", "primaryLanguage", "brandVoice", "targetGender"):
            if b.has(name) and b.data[name] is None and name in out:
                del out[name]
    else:
        # On create, null means omitted.
        out = {k: v for k, v in out.items() if v is not None}
    return out


def _check_external_id(w: World, org_id: str, ext: str | None, own: str | None) -> None:
    if ext is None:
        return
    existing = w.external_ids.get((org_id, ext))
    if existing is not None and existing != own:
        raise conflict(
            "customerExternalId is already used by another project.",
            {"projectId": existing, "customerExternalId": ext},
        )


def create_project(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """POST /v1/projects."""
    data = ctx.json_body(issues)
    b = Body(data, _PROJECT_FIELDS, issues)
    f = _project_fields(b, patch=False)
    issues.raise_if_any()
    w = ctx.world
    ext = f.get("customerExternalId")
    _check_external_id(w, ctx.org.id, ext, None)
    now = ctx.now
    p = Project(
        id=w.ids.prefixed("prj"),
        org_id=ctx.org.id,
        name=f["name"],
        timezone=f["timezone"],
        created_at=now,
        updated_at=now,
        customer_external_id=ext,
        owner_email=f.get("ownerEmail"),
        primary_language=f.get("primaryLanguage", "en"),
        app_name=f.get("appName"),
        app_description=f.get("appDescription"),
        tagline=f.get("tagline"),
        brand_voice=f.get("brandVoice", "authentic"),
        target_gender=f.get("targetGender", "all"),
        metadata=f.get("metadata", {}),
    )
    w.projects[p.id] = p
    if ext is not None:
        w.external_ids[(ctx.org.id, ext)] = p.id
    if p.app_description:
        w.start_research(p, with_job=False)
        gender = p.target_gender if p.target_gender in ("female", "male") else "female"
        w.create_influencer(p, gender, "young_adult", with_job=False)
    return Out(201, w.project_json(p))


def list_projects(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects."""
    q = _query(ctx, issues)
    limit = q.limit(25, 1, 200)
    status = q.choice("status", ("active", "archived"))
    search = q.one("search")
    ext = q.one("customerExternalId")
    cursor = q.cursor()
    issues.raise_if_any()
    org_id = ctx.org.id
    needle = search.lower() if search else None
    rows = [
        p
        for p in ctx.world.projects.values()
        if p.org_id == org_id
        and (status is None or p.status == status)
        and (needle is None or needle in p.name.lower())
        and (ext is None or p.customer_external_id == ext)
    ]
    return Out(
        200,
        paginate(
            rows, lambda p: p.created_at, lambda p: p.id, limit, cursor, World.project_summary_json
        ),
    )


def get_project(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}."""
    _prep(ctx, route, issues)
    issues.raise_if_any()
    return Out(200, ctx.world.project_json(_project(ctx)))


def patch_project(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """PATCH /v1/projects/{projectId}."""
    _prep(ctx, route, issues)
    data = ctx.json_body(issues)
    b = Body(data, (*_PROJECT_FIELDS, "status"), issues)
    if data == {}:
        issues.add("", "At least one field is required.")
    status = b.string("status", choices=("active", "archived"))
    f = _project_fields(b, patch=True)
    issues.raise_if_any()
    w = ctx.world
    p = _project(ctx)
    if "customerExternalId" in f:
        _check_external_id(w, p.org_id, f["customerExternalId"], p.id)
    now = ctx.now
    old_desc = p.app_description
    if "customerExternalId" in f:
        if p.customer_external_id is not None:
            w.external_ids.pop((p.org_id, p.customer_external_id), None)
        p.customer_external_id = f["customerExternalId"]
        if p.customer_external_id is not None:
            w.external_ids[(p.org_id, p.customer_external_id)] = p.id
    attr = {
        "name": "name",
        "timezone": "timezone",
        "ownerEmail": "owner_email",
        "primaryLanguage": "primary_language",
        "appName": "app_name",
        "appDescription": "app_description",
        "tagline": "tagline",
        "brandVoice": "brand_voice",
        "targetGender": "target_gender",
        "metadata": "metadata",
    }
    for field, name in attr.items():
        if field in f:
            setattr(p, name, f[field])
    p.updated_at = now
    if status == "archived" and p.status != "archived":
        w.archive_project(p)
    elif status == "archived":
        p.archived_at = now
    elif status == "active" and p.status == "archived":
        p.status = "active"
        p.archived_at = None
    if (
        "appDescription" in f
        and f["appDescription"] is not None
        and f["appDescription"] != old_desc
    ):
        w.start_research(p, with_job=False)
    return Out(200, w.project_json(p))


def delete_project(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """DELETE /v1/projects/{projectId}: archive."""
    _prep(ctx, route, issues)
    Body(ctx.json_body(issues), (), issues)
    issues.raise_if_any()
    w = ctx.world
    p = _project(ctx)
    if p.status == "archived":
        p.archived_at = ctx.now
        p.updated_at = ctx.now
        canceled = 0
    else:
        canceled = w.archive_project(p)
    return Out(
        200,
        {
            "id": p.id,
            "status": "archived",
            "archivedAt": ts(p.archived_at or ctx.now),
            "canceledScheduledPosts": canceled,
        },
    )


# ---------------------------------------------------------------------- §3.3
def _mime_for(url: str) -> str | None:
    path = urlsplit(url).path
    last = path.rsplit("/", 1)[-1]
    if "." not in last:
        return None
    return _MIME_BY_EXT.get(last.rsplit(".", 1)[-1].lower())


def upload_media(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """POST /v1/projects/{projectId}/app-media."""
    _prep(ctx, route, issues)
    b = Body(ctx.json_body(issues), ("kind", "url"), issues)
    kind = b.string("kind", required=True, choices=MEDIA_KINDS)
    url = b.string("url", required=True, min_len=1, max_len=2048)
    mime = None
    size = 0
    if url is not None:
        msg = check_https_url(url)
        if msg is None:
            mime = _mime_for(url)
            if mime is None:
                msg = "Cannot determine the media type of this URL."
        if msg is None and kind is not None:
            allowed, max_mb = _MEDIA_RULES[kind]
            if mime not in allowed:
                msg = f"{mime} is not allowed for {kind}."
            else:
                override = [v for k, v in parse_qsl(urlsplit(url).query) if k == "sandboxByteSize"]
                if override and re.fullmatch(r"[0-9]{1,15}", override[-1]):
                    size = int(override[-1])
                else:
                    r = _fake.rng_for("bytesize", url)
                    size = r.randint(10_000, max_mb * _MB // 2)
                if size > max_mb * _MB:
                    msg = f"File exceeds the {max_mb} MB limit for {kind}."
        if msg is not None:
            issues.add("url", msg)
    issues.raise_if_any()
    assert kind is not None
    assert url is not None
    assert mime is not None
    w = ctx.world
    p = _project(ctx)
    mid = w.ids.prefixed("med")
    ext = _EXT_BY_MIME[mime]
    m = AppMedia(
        id=mid,
        project_id=p.id,
        kind=kind,
        url=w.media_url(f"{mid}.{ext}"),
        source_url=url,
        mime_type=mime,
        byte_size=size,
        created_at=ctx.now,
    )
    w.media[mid] = m
    if kind == "logo":
        if p.logo_id and p.logo_id in w.media:
            w.media[p.logo_id].live = False
        p.logo_id = mid
    return Out(201, w.media_json(m))


def list_media(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/app-media."""
    _prep(ctx, route, issues)
    q = _query(ctx, issues)
    kind = q.choice("kind", MEDIA_KINDS)
    limit = q.limit(25, 1, 100)
    cursor = q.cursor()
    issues.raise_if_any()
    p = _project(ctx)
    rows = [
        m
        for m in ctx.world.media.values()
        if m.project_id == p.id and m.live and (kind is None or m.kind == kind)
    ]
    return Out(
        200, paginate(rows, lambda m: m.created_at, lambda m: m.id, limit, cursor, World.media_json)
    )


def delete_media(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """DELETE /v1/projects/{projectId}/app-media/{mediaId}."""
    _prep(ctx, route, issues)
    Body(ctx.json_body(issues), (), issues)
    issues.raise_if_any()
    p = _project(ctx)
    m = ctx.world.media.get(ctx.params["mediaId"])
    if m is None or m.project_id != p.id or not m.live:
        raise not_found("App media not found.")
    m.live = False
    if p.logo_id == m.id:
        p.logo_id = None
    return Out(200, {"id": m.id, "deleted": True})


# ---------------------------------------------------------------------- §3.4
def oauth_url(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """POST /v1/projects/{projectId}/social/oauth-url."""
    _prep(ctx, route, issues)
    b = Body(ctx.json_body(issues), ("platform", "returnUrl", "scopes", "usageNote"), issues)
    platform = b.string("platform", required=True, choices=("tiktok", "instagram"))
    return_url = b.string("returnUrl", required=True, min_len=1, max_len=2048)
    host = None
    if return_url is not None:
        try:
            parts = urlsplit(return_url)
            host = (parts.hostname or "").lower()
        except ValueError:
            parts = None
        if parts is None or not host:
            issues.add("returnUrl", "Must be an absolute URL.")
            host = None
        elif parts.scheme == "https" or (
            parts.scheme == "http" and host in ("localhost", "127.0.0.1")
        ):
            pass
        else:
            issues.add("returnUrl", "Must use https (http only for localhost or 127.0.0.1).")
            host = None
    scopes = None
    if b.has("scopes") and b.data["scopes"] is not None:
        sv = b.data["scopes"]
        if not isinstance(sv, list) or len(sv) > 32:
            issues.add("scopes", "Must be an array of at most 32 strings.")
        else:
            for i, s in enumerate(sv):
                if not isinstance(s, str) or not 1 <= len(s) <= 64:
                    issues.add(f"scopes.{i}", "Must be a string of 1 to 64 characters.")
            scopes = [s for s in sv if isinstance(s, str)]
    note = b.string("usageNote", max_len=500, nullable=True)
    issues.raise_if_any()
    assert platform is not None
    assert return_url is not None
    assert host is not None
    w = ctx.world
    p = _project(ctx)
    if host not in ctx.key.allowlist:
        raise ApiError(
            403,
            "RETURN_URL_NOT_ALLOWED",
            "returnUrl host is not on the key's allowlist.",
            {"host": host},
        )
    now = ctx.now
    ttl = int(w.duration("oauthTtl") * 1000)
    att = OAuthAttempt(
        state="st_" + w.ids.ulid(now),
        project_id=p.id,
        org_id=p.org_id,
        key_id=ctx.key.id,
        platform=platform,
        return_url=return_url,
        expires_at=now + ttl,
        created_at=now,
        scopes=scopes,
        usage_note=note,
    )
    w.oauth[att.state] = att
    w.schedule_oauth(att)
    return Out(
        200,
        {
            "authorizeUrl": f"{w.base_url}/_sandbox/oauth/authorize?state={att.state}",
            "state": att.state,
            "expiresAt": ts(att.expires_at),
        },
    )


def _attempt(ctx: Ctx, state: str, project_id: str | None) -> OAuthAttempt:
    att = ctx.world.oauth.get(state)
    if (
        att is None
        or att.key_id != ctx.key.id
        or att.org_id != ctx.org.id
        or (project_id is not None and att.project_id != project_id)
    ):
        raise not_found("OAuth attempt not found.", {"resource": "oauth_attempt", "id": state})
    return att


def oauth_status(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/social/oauth-status?state=…"""
    _prep(ctx, route, issues)
    q = _query(ctx, issues)
    state = q.one("state")
    if state is None and "state" not in [i["path"] for i in issues.items]:
        issues.add("state", "Required.")
    elif state is not None and ST.normalize(state) is None:
        issues.add("state", "Must be a st_<ULID> state.")
    issues.raise_if_any()
    assert state is not None
    p = _project(ctx)
    return Out(200, World.oauth_json(_attempt(ctx, state, p.id)))


def oauth_status_ref(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/social/oauth-status/{state}."""
    _prep(ctx, route, issues)
    issues.raise_if_any()
    return Out(200, World.oauth_json(_attempt(ctx, ctx.params["state"], None)))


def list_accounts(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/social-accounts."""
    _prep(ctx, route, issues)
    q = _query(ctx, issues)
    platform = q.choice("platform", ("tiktok", "instagram"))
    status = q.choice("status", ("connected", "reauth_required", "disconnected"))
    leased = q.boolean("leased")
    limit = q.limit(50, 1, 200)
    cursor = q.cursor()
    issues.raise_if_any()
    p = _project(ctx)
    rows = [
        a
        for a in ctx.world.accounts.values()
        if a.project_id == p.id
        and (platform is None or a.platform == platform)
        and (status is None or a.status == status)
        and (leased is None or a.leased == leased)
    ]
    return Out(
        200,
        paginate(rows, lambda a: a.connected_at, lambda a: a.id, limit, cursor, World.account_json),
    )


def disconnect_account(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """DELETE /v1/social-accounts/{socialAccountId}."""
    _prep(ctx, route, issues)
    Body(ctx.json_body(issues), (), issues)
    issues.raise_if_any()
    w = ctx.world
    a = w.accounts.get(ctx.params["socialAccountId"])
    if a is None or a.org_id != ctx.org.id or a.status == "disconnected":
        raise not_found("Social account not found.")
    if a.leased:
        raise conflict(
            "Leased accounts are released through their own route.", {"socialAccountId": a.id}
        )
    now = ctx.now
    canceled = 0
    for post in w.posts.values():
        if post.social_account_id == a.id and post.status == "queued":
            w.cancel_post(post)
            canceled += 1
    a.status = "disconnected"
    a.disconnected_at = now
    a.disconnected_reason = "revoked_by_partner"
    return Out(
        200,
        {
            "socialAccountId": a.id,
            "status": "disconnected",
            "disconnectedReason": "revoked_by_partner",
            "canceledScheduledPosts": canceled,
            "disconnectedAt": ts(now),
        },
    )


# ---------------------------------------------------------------------- §3.5
def list_influencers(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/influencers."""
    _prep(ctx, route, issues)
    q = _query(ctx, issues)
    status = q.choice("status", ("pending", "training", "ready", "failed"))
    limit = q.limit(25, 1, 100)
    cursor = q.cursor()
    issues.raise_if_any()
    p = _project(ctx)
    rows = [
        i
        for i in ctx.world.influencers.values()
        if i.project_id == p.id and (status is None or i.status == status)
    ]
    return Out(
        200,
        paginate(
            rows,
            lambda i: i.created_at,
            lambda i: i.id,
            limit,
            cursor,
            World.influencer_summary_json,
        ),
    )


def _jobs_cap(ctx: Ctx) -> None:
    w = ctx.world
    running = w.running_count(ctx.org.id)
    cap = w.jobs_cap(ctx.key, ctx.org)
    if running >= cap:
        end = w.earliest_running_end(ctx.org.id)
        wait = (end - ctx.now) if end is not None else 1000
        ra = real_seconds(wait, w.clock.speed, minimum=1)
        raise ApiError(
            429,
            "RATE_LIMITED",
            "Too many jobs running in this organization.",
            {
                "limitType": "concurrent_jobs",
                "endpointClass": "long-running",
                "running": running,
                "max": cap,
            },
            {"Retry-After": str(ra)},
        )


def create_influencer(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """POST /v1/projects/{projectId}/influencers."""
    _prep(ctx, route, issues)
    b = Body(ctx.json_body(issues), ("gender", "ageRange", "prompt"), issues)
    gender = b.string("gender", choices=INF_GENDERS, nullable=True)
    age = b.string("ageRange", choices=AGE_RANGES, nullable=True)
    b.string("prompt", min_len=1, max_len=1000, nullable=True)
    issues.raise_if_any()
    w = ctx.world
    p = _project(ctx)
    w.ensure_active(p)
    _jobs_cap(ctx)
    if gender is None:
        gender = p.target_gender if p.target_gender in ("female", "male") else "female"
    _, work = w.create_influencer(p, gender, age or "young_adult", with_job=True)
    assert work.job is not None
    return Out(202, w.envelope_json(work.job))


def _influencer(ctx: Ctx) -> Any:
    w = ctx.world
    inf = w.influencers.get(ctx.params["influencerId"])
    if inf is None or w.projects[inf.project_id].org_id != ctx.org.id:
        raise not_found("Influencer not found.")
    return inf


def get_influencer(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/influencers/{influencerId}."""
    _prep(ctx, route, issues)
    issues.raise_if_any()
    return Out(200, World.influencer_json(_influencer(ctx)))


def patch_influencer(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """PATCH /v1/influencers/{influencerId}."""
    _prep(ctx, route, issues)
    data = ctx.json_body(issues)
    b = Body(data, ("name", "gender", "ageRange", "brandVoice", "language"), issues)
    if data == {}:
        issues.add("", "At least one field is required.")
    name = b.string("name", min_len=1, max_len=128)
    gender = b.string("gender", choices=INF_GENDERS)
    age = b.string("ageRange", choices=AGE_RANGES, nullable=True)
    voice = b.string("brandVoice", choices=BRAND_VOICES)
    lang = b.string("language", pattern=BCP47_RE, pattern_message="Must be a BCP 47 language tag.")
    issues.raise_if_any()
    inf = _influencer(ctx)
    if name is not None:
        inf.name = name
    if gender is not None:
        inf.gender = gender
    if b.has("ageRange"):
        inf.age_range = age
    if voice is not None:
        inf.brand_voice = voice
    if lang is not None:
        inf.language = lang
    inf.updated_at = ctx.now
    return Out(200, World.influencer_json(inf))


# ---------------------------------------------------------------------- §3.6
def get_keywords(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/keywords."""
    _prep(ctx, route, issues)
    issues.raise_if_any()
    p = _project(ctx)
    return Out(
        200,
        {"projectId": p.id, "hashtags": p.hashtags, "refreshedAt": tsn(p.refreshed_at)},
    )


def refresh_keywords(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """POST /v1/projects/{projectId}/keywords/refresh."""
    _prep(ctx, route, issues)
    Body(ctx.json_body(issues), (), issues)
    issues.raise_if_any()
    w = ctx.world
    p = _project(ctx)
    w.ensure_active(p)
    if not p.app_description:
        raise validation(
            [{"path": "appDescription", "message": "The project has no appDescription."}],
            missingFields=["appDescription"],
        )
    _jobs_cap(ctx)
    work = w.start_research(p, with_job=True)
    assert work.job is not None
    return Out(202, w.envelope_json(work.job))


# ---------------------------------------------------------------------- §3.7
def source_recommendations(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/content/source-recommendations."""
    _prep(ctx, route, issues)
    q = _query(ctx, issues)
    kind = q.choice("kind", ("slideshow", "video", "mixed")) or "mixed"
    keyword = q.one("keyword")
    if keyword is not None and not 1 <= len(keyword) <= 200:
        issues.add("keyword", "Must be 1 to 200 characters.")
    limit = q.limit(20, 1, 20)
    issues.raise_if_any()
    w = ctx.world
    p = _project(ctx)
    if keyword is not None:
        rng = _fake.rng_for("live", w.seed, keyword, kind)
        items = _fake.source_items(rng, w.media_url, kind, limit, keyword)
        source = "live_search"
    else:
        source = "portfolio"
        if p.refreshed_at is None:
            items = []
        else:
            tags = [h["hashtag"] for h in p.hashtags]
            rng = _fake.rng_for("portfolio", w.seed, p.id, p.refreshed_at, kind, ",".join(tags))
            items = _fake.source_items(rng, w.media_url, kind, limit, tags[0] if tags else p.name)
    return Out(200, {"items": items, "source": source, "nextCursor": None})


def _actor(
    ctx: Ctx, p: Project, inf_id: str | None, sa_id: str | None
) -> tuple[str | None, str | None]:
    """Actor existence and state checks of §3.7.2; returns (influencer id used, account id)."""
    w = ctx.world
    inf = None
    if inf_id is not None:
        inf = w.influencers.get(inf_id)
        if inf is None or inf.project_id != p.id:
            raise not_found("Influencer not found.", {"resource": "influencer", "id": inf_id})
    acc = None
    if sa_id is not None:
        acc = w.accounts.get(sa_id)
        if acc is None or acc.project_id != p.id:
            raise not_found(
                "Social account not found.", {"resource": "social_account", "id": sa_id}
            )
    if inf is not None and inf.status != "ready":
        raise conflict("Influencer is not ready.", {"influencerId": inf.id, "status": inf.status})
    if acc is not None and acc.status != "connected":
        raise conflict(
            "Social account is not connected.", {"socialAccountId": acc.id, "status": acc.status}
        )
    if inf is None and acc is not None:
        ready = [i for i in w.influencers.values() if i.project_id == p.id and i.status == "ready"]
        if not ready:
            raise conflict(
                "No ready influencer is wired to this account.",
                {"socialAccountId": acc.id, "reason": "no_ready_influencer"},
            )
        inf = max(ready, key=lambda i: (i.created_at, i.id))
    return (inf.id if inf else None), (acc.id if acc else None)


def _generate(fmt: str) -> Any:
    fields = {
        "slideshow-remix": ("tiktokVideoId", "influencerId", "socialAccountId"),
        "video-remix": ("tiktokVideoId", "influencerId", "socialAccountId"),
        "slideshow-builder": ("hook", "influencerId", "socialAccountId"),
        "ugc-remix": ("influencerId", "socialAccountId", "hook", "mediaId"),
    }[fmt]
    needs_actor = fmt != "slideshow-builder"

    def handler(ctx: Ctx, route: Route, issues: Issues) -> Out:
        _prep(ctx, route, issues)
        b = Body(ctx.json_body(issues), fields, issues)
        tiktok = None
        hook = None
        media_id = None
        if "tiktokVideoId" in fields:
            tiktok = b.string(
                "tiktokVideoId",
                required=True,
                pattern=_TIKTOK_ID,
                pattern_message="Must be a TikTok post id of 1 to 32 digits.",
            )
        if "hook" in fields:
            hook = b.string(
                "hook",
                required=fmt == "slideshow-builder",
                min_len=1,
                max_len=2000,
                nullable=fmt != "slideshow-builder",
            )
        inf_id = (
            b.prefixed_id("influencerId", "inf") if b.data.get("influencerId") is not None else None
        )
        sa_id = (
            b.prefixed_id("socialAccountId", "sa")
            if b.data.get("socialAccountId") is not None
            else None
        )
        if "mediaId" in fields and b.data.get("mediaId") is not None:
            media_id = b.prefixed_id("mediaId", "med")
        if (
            needs_actor
            and b.data.get("influencerId") is None
            and b.data.get("socialAccountId") is None
        ):
            b.issues.add("influencerId", "Either influencerId or socialAccountId is required.")
            b.issues.add("socialAccountId", "Either influencerId or socialAccountId is required.")
        issues.raise_if_any()
        w = ctx.world
        p = _project(ctx)
        w.ensure_active(p)
        used_inf, used_sa = _actor(ctx, p, inf_id, sa_id)
        if fmt == "ugc-remix":
            demos = sorted(
                (
                    m
                    for m in w.media.values()
                    if m.project_id == p.id and m.live and m.kind == "demo-video"
                ),
                key=lambda m: (m.created_at, m.id),
            )
            if media_id is not None:
                if not any(m.id == media_id for m in demos):
                    raise validation(
                        [{"path": "mediaId", "message": "Must be a demo video of this project."}]
                    )
            elif demos:
                media_id = demos[0].id
            else:
                raise validation([{"path": "mediaId", "message": "The project has no demo video."}])
        _jobs_cap(ctx)
        fmt_key = fmt.replace("-", "_")
        estimate = FORMAT_ESTIMATES[fmt_key]
        reserve = 0
        if ctx.key.env == "live":
            wallet = w.wallet(ctx.org)
            if wallet.available < estimate:
                raise ApiError(
                    402,
                    "BILLING_EXHAUSTED",
                    "Not enough credits for this generation.",
                    {
                        "required": estimate,
                        "available": wallet.available,
                        "reason": "insufficient_credits",
                        "format": fmt_key,
                    },
                )
            if (
                wallet.monthly_cap is not None
                and wallet.used_this_period + wallet.reserved + estimate > wallet.monthly_cap
            ):
                raise ApiError(
                    402,
                    "BILLING_EXHAUSTED",
                    "This generation would exceed the monthly credit cap.",
                    {
                        "required": estimate,
                        "available": wallet.available,
                        "reason": "monthly_cap",
                        "format": fmt_key,
                    },
                )
            reserve = estimate
        now = ctx.now
        cid = w.ids.prefixed("cnt")
        work = w.start_work(
            "content_generate",
            ctx.org.id,
            p.id,
            duration_key=FORMAT_DURATION_KEY[fmt],
            job_kind="content_generate",
            container_id=cid,
            reserve=reserve,
            fmt=fmt_key,
        )
        assert work.job is not None
        w.containers[cid] = Container(
            id=cid,
            project_id=p.id,
            job_id=work.job.id,
            format=fmt,
            created_at=now,
            updated_at=now,
            hook=hook,
            influencer_id=used_inf,
            social_account_id=used_sa,
            source_tiktok_id=tiktok,
            media_id=media_id,
        )
        return Out(202, w.envelope_json(work.job))

    handler.__doc__ = f"POST /v1/projects/{{projectId}}/content/{fmt}."
    return handler


def hooks(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/content/hooks."""
    _prep(ctx, route, issues)
    q = _query(ctx, issues)
    limit = q.limit(10, 1, 50)
    issues.raise_if_any()
    w = ctx.world
    p = _project(ctx)
    missing = [
        f for f, v in (("appName", p.app_name), ("appDescription", p.app_description)) if not v
    ]
    if missing:
        raise validation(
            [{"path": f, "message": "Required by hooks."} for f in missing], missingFields=missing
        )
    p.hooks_calls += 1
    rng = _fake.rng_for("hooks", w.seed, p.id, p.hooks_calls)
    words = [h["hashtag"] for h in p.hashtags[:10]] or _fake._words(p.app_description)[:10]
    items = [{"hook": h} for h in _fake.hooks(rng, p.app_name or p.name, words, limit)]
    return Out(
        200,
        {
            "projectId": p.id,
            "brandVoice": p.brand_voice or "authentic",
            "language": p.primary_language or "en",
            "items": items,
        },
    )


def _since_until(q: Query, issues: Issues) -> tuple[int | None, int | None]:
    out: list[int | None] = []
    for name in ("since", "until"):
        raw = q.one(name)
        if raw is None:
            out.append(None)
            continue
        v = parse_client_ts(raw)
        if v is None:
            issues.add(name, "Must be an ISO 8601 UTC timestamp ending in Z.")
        out.append(v)
    return out[0], out[1]


def list_content(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/content."""
    _prep(ctx, route, issues)
    q = _query(ctx, issues)
    statuses = q.choices("status", ("queued", "processing", "completed", "failed", "canceled"))
    formats = q.choices(
        "format", ("slideshow-builder", "ugc-remix", "video-remix", "slideshow-remix")
    )
    ctype = q.choice("creativeType", ("generated", "uploaded"))
    since, until = _since_until(q, issues)
    limit = q.limit(25, 1, 200)
    cursor = q.cursor()
    issues.raise_if_any()
    p = _project(ctx)
    rows = [
        c
        for c in ctx.world.containers.values()
        if c.project_id == p.id
        and (not statuses or c.status in statuses)
        and (not formats or c.format in formats)
        and (ctype is None or ctype == "generated")
        and (since is None or c.created_at >= since)
        and (until is None or c.created_at <= until)
    ]
    return Out(
        200,
        paginate(rows, lambda c: c.created_at, lambda c: c.id, limit, cursor, World.container_json),
    )


def _container(ctx: Ctx) -> Container:
    w = ctx.world
    c = w.containers.get(ctx.params["containerId"])
    if c is None or w.projects[c.project_id].org_id != ctx.org.id:
        raise not_found("Content not found.")
    return c


def get_content(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/content/{containerId}."""
    _prep(ctx, route, issues)
    issues.raise_if_any()
    return Out(200, World.container_json(_container(ctx)))


def content_progress(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/content/{containerId}/progress."""
    _prep(ctx, route, issues)
    issues.raise_if_any()
    w = ctx.world
    c = _container(ctx)
    job = w.jobs[c.job_id]
    work = job.work
    assert work is not None
    stage = work.stages[work.stage_index][0]
    if c.status == "completed":
        sp: float = 1
        eta: int | None = 0
    elif c.status in ("failed", "canceled"):
        sp = w.stage_progress(work, ctx.now)
        eta = None
    else:
        sp = w.stage_progress(work, ctx.now)
        remaining = work.start + work.duration - ctx.now
        eta = max(0, -(-remaining // 1000))
    return Out(
        200,
        {
            "containerId": c.id,
            "status": c.status,
            "stage": stage,
            "stageProgress": sp,
            "etaSeconds": eta,
            "updatedAt": ts(c.updated_at),
        },
    )


# ---------------------------------------------------------------------- §3.8
def _job(ctx: Ctx) -> Any:
    job = ctx.world.jobs.get(ctx.params["jobId"])
    if job is None or job.org_id != ctx.org.id:
        raise not_found("Job not found.")
    return job


def _etag_matches(header: str, etag: str) -> bool:
    for part in header.split(","):
        tag = part.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def get_job(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/jobs/{jobId}: with ETag and If-None-Match."""
    _prep(ctx, route, issues)
    issues.raise_if_any()
    job = _job(ctx)
    body = dumps_canonical(ctx.world.job_json(job, ctx.now))
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    inm = ctx.headers.get("If-None-Match")
    if inm is not None and _etag_matches(inm, etag):
        return Out(304, None, {"ETag": etag})
    return Out(200, None, {"ETag": etag}, raw=body)


def cancel_job(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """POST /v1/jobs/{jobId}/cancel."""
    _prep(ctx, route, issues)
    Body(ctx.json_body(issues), (), issues)
    issues.raise_if_any()
    out = ctx.world.cancel_job(_job(ctx))
    return Out(202 if out["accepted"] else 200, out)


# ---------------------------------------------------------------------- §3.9
_TARGET_FIELDS = (
    "socialAccountId",
    "mode",
    "captionOverride",
    "firstCommentOverride",
    "tiktokPostSettings",
    "tiktokMusic",
    "shareReelToFeed",
)


def _scheduled_for(b: Body, now: int) -> int | None:
    v = b.timestamp("scheduledFor", required=True)
    if v is not None and v < now + 30_000:
        b.issues.add("scheduledFor", "Must be at least 30 seconds in the future.")
        return None
    return v


def schedule(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """POST /v1/content/{containerId}/schedule."""
    _prep(ctx, route, issues)
    b = Body(ctx.json_body(issues), ("scheduledFor", "targets"), issues)
    when = _scheduled_for(b, ctx.now)
    raw_targets = b.data.get("targets")
    targets: list[dict[str, Any]] = []
    if raw_targets is None:
        b.issues.add("targets", "Required.")
    elif not isinstance(raw_targets, list) or not 1 <= len(raw_targets) <= 50:
        b.issues.add("targets", "Must be an array of 1 to 50 targets.")
    else:
        for i, t in enumerate(raw_targets):
            tp = f"targets.{i}"
            if not isinstance(t, dict):
                issues.add(tp, "Must be an object.")
                continue
            tb = Body(t, _TARGET_FIELDS, Issues())
            sa = tb.string("socialAccountId", required=True, path=f"{tp}.socialAccountId")
            sa_norm = normalize_prefixed(sa, "sa", bare_ok=False) if sa is not None else None
            if sa is not None and sa_norm is None:
                tb.issues.add(f"{tp}.socialAccountId", "Must be a sa_<uuid> id.")
            mode = tb.string(
                "mode", required=True, choices=("publish", "draft", "managed"), path=f"{tp}.mode"
            )
            tb.string("captionOverride", max_len=4000, nullable=True, path=f"{tp}.captionOverride")
            tb.string(
                "firstCommentOverride",
                max_len=4000,
                nullable=True,
                path=f"{tp}.firstCommentOverride",
            )
            for opaque in ("tiktokPostSettings", "tiktokMusic"):
                if t.get(opaque) is not None and not isinstance(t[opaque], dict):
                    tb.issues.add(f"{tp}.{opaque}", "Must be an object.")
            share = tb.boolean("shareReelToFeed")
            # Unknown keys inside a target carry their full dotted path.
            for item in tb.issues.items:
                if not item["path"].startswith(tp):
                    item["path"] = f"{tp}.{item['path']}"
            issues.items.extend(tb.issues.items)
            targets.append({"i": i, "sa": sa_norm, "mode": mode, "raw": t, "share": share})
    issues.raise_if_any()
    assert when is not None
    w = ctx.world
    c = _container(ctx)
    p = w.projects[c.project_id]
    seen: set[tuple[str, str]] = set()
    video = c.format in ("video-remix", "ugc-remix")
    for t in targets:
        i = t["i"]
        acc = w.accounts.get(t["sa"]) if t["sa"] else None
        if acc is None or acc.project_id != p.id or acc.status != "connected":
            issues.add(
                f"targets.{i}.socialAccountId", "Must be a connected account of this project."
            )
        pair = (t["sa"], t["mode"])
        if pair in seen:
            issues.add(
                f"targets.{i}", "Duplicates an earlier target with the same account and mode."
            )
        seen.add(pair)
        raw = t["raw"]
        if raw.get("tiktokMusic") is not None and (t["mode"] == "draft" or video):
            issues.add(f"targets.{i}.tiktokMusic", "Not allowed on draft targets or video content.")
        if t["share"] is not None and (
            acc is None or acc.platform != "instagram" or t["mode"] != "publish" or not video
        ):
            issues.add(
                f"targets.{i}.shareReelToFeed",
                "Only for Instagram publish targets with video content.",
            )
    issues.raise_if_any()
    if c.status != "completed":
        raise conflict("Content is not completed.", {"containerId": c.id, "status": c.status})
    if c.approval_status == "rejected":
        raise ApiError(
            409,
            "CONTENT_REJECTED",
            "Content was rejected.",
            {"containerId": c.id, "approvalStatus": "rejected"},
        )
    w.ensure_active(p)
    if c.approval_status == "pending":
        return Out(
            202,
            {"scheduledPostIds": [], "gateStatus": "blocked_on_approval", "scheduledFor": ts(when)},
        )
    ids = []
    now = ctx.now
    for t in targets:
        acc = w.accounts[t["sa"]]
        post = ScheduledPost(
            id=w.ids.prefixed("sp"),
            container_id=c.id,
            project_id=p.id,
            org_id=p.org_id,
            social_account_id=acc.id,
            platform=acc.platform,
            mode=t["mode"],
            scheduled_for=when,
            created_at=now,
            updated_at=now,
            will_fail=w.fails("publish"),
            options={k: v for k, v in t["raw"].items() if k not in ("socialAccountId", "mode")},
        )
        w.posts[post.id] = post
        w.schedule_post(post)
        ids.append(post.id)
    return Out(201, {"scheduledPostIds": ids, "gateStatus": "queued", "scheduledFor": ts(when)})


def list_posts(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/scheduled-posts."""
    _prep(ctx, route, issues)
    q = _query(ctx, issues)
    statuses = q.choices(
        "status", ("queued", "publishing", "draft", "published", "failed", "canceled")
    )
    sa_raw = q.one("socialAccountId")
    sa = None
    if sa_raw is not None:
        sa = normalize_prefixed(sa_raw, "sa", bare_ok=False)
        if sa is None:
            issues.add("socialAccountId", "Must be a sa_<uuid> id.")
    since, until = _since_until(q, issues)
    limit = q.limit(50, 1, 100)
    cursor = q.cursor()
    issues.raise_if_any()
    p = _project(ctx)
    rows = [
        s
        for s in ctx.world.posts.values()
        if s.project_id == p.id
        and (not statuses or s.status in statuses)
        and (sa is None or s.social_account_id == sa)
        and (since is None or s.scheduled_for >= since)
        and (until is None or s.scheduled_for <= until)
    ]
    return Out(
        200,
        paginate(rows, lambda s: s.scheduled_for, lambda s: s.id, limit, cursor, World.post_json),
    )


def _post(ctx: Ctx) -> ScheduledPost:
    s = ctx.world.posts.get(ctx.params["scheduledPostId"])
    if s is None or s.org_id != ctx.org.id:
        raise not_found("Scheduled post not found.")
    return s


def get_post(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """GET /v1/scheduled-posts/{scheduledPostId}."""
    _prep(ctx, route, issues)
    issues.raise_if_any()
    return Out(200, World.post_json(_post(ctx)))


def reschedule(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """POST /v1/scheduled-posts/{scheduledPostId}/reschedule."""
    _prep(ctx, route, issues)
    b = Body(ctx.json_body(issues), ("scheduledFor",), issues)
    when = _scheduled_for(b, ctx.now)
    issues.raise_if_any()
    assert when is not None
    s = _post(ctx)
    if s.status != "queued":
        raise conflict(
            "Only queued posts can be rescheduled.", {"scheduledPostId": s.id, "status": s.status}
        )
    s.scheduled_for = when
    s.updated_at = ctx.now
    s.generation += 1
    ctx.world.schedule_post(s)
    return Out(
        200,
        {"id": s.id, "status": "queued", "scheduledFor": ts(when), "updatedAt": ts(s.updated_at)},
    )


def cancel_post(ctx: Ctx, route: Route, issues: Issues) -> Out:
    """DELETE /v1/scheduled-posts/{scheduledPostId}."""
    _prep(ctx, route, issues)
    b = Body(ctx.json_body(issues), ("reason",), issues)
    b.string("reason", max_len=1024, nullable=True)
    issues.raise_if_any()
    s = _post(ctx)
    if s.status != "queued":
        raise conflict(
            "Only queued posts can be canceled.", {"scheduledPostId": s.id, "status": s.status}
        )
    ctx.world.cancel_post(s)
    return Out(200, {"id": s.id, "status": "canceled", "canceledAt": ts(s.canceled_at or ctx.now)})


# ---------------------------------------------------------------------- route table
_R = "read-light"
_W = "write-light"
_L = "long-running"
P = "/v1/projects/{projectId}"

ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/whoami", _R, None, whoami),
    Route("GET", "/v1/credits", _R, None, credits),
    Route("POST", "/v1/projects", _W, "projects:write", create_project),
    Route("GET", "/v1/projects", _R, "projects:read", list_projects),
    Route("GET", P, _R, "projects:read", get_project, {"projectId": PRJ}),
    Route("PATCH", P, _W, "projects:write", patch_project, {"projectId": PRJ}),
    Route("DELETE", P, _W, "projects:write", delete_project, {"projectId": PRJ}),
    Route("POST", P + "/app-media", _W, "projects:write", upload_media, {"projectId": PRJ}),
    Route("GET", P + "/app-media", _R, "projects:read", list_media, {"projectId": PRJ}),
    Route(
        "DELETE",
        P + "/app-media/{mediaId}",
        _W,
        "projects:write",
        delete_media,
        {"projectId": PRJ, "mediaId": MED},
    ),
    Route(
        "POST",
        P + "/social/oauth-url",
        _W,
        "social:write",
        oauth_url,
        {"projectId": PRJ},
        honours_idempotency=False,
    ),
    Route("GET", P + "/social/oauth-status", _R, "social:read", oauth_status, {"projectId": PRJ}),
    Route(
        "GET", "/v1/social/oauth-status/{state}", _R, "social:read", oauth_status_ref, {"state": ST}
    ),
    Route("GET", P + "/social-accounts", _R, "social:read", list_accounts, {"projectId": PRJ}),
    Route(
        "DELETE",
        "/v1/social-accounts/{socialAccountId}",
        _W,
        "social:write",
        disconnect_account,
        {"socialAccountId": SA},
    ),
    Route("GET", P + "/influencers", _R, "influencers:write", list_influencers, {"projectId": PRJ}),
    Route(
        "POST", P + "/influencers", _L, "influencers:write", create_influencer, {"projectId": PRJ}
    ),
    Route(
        "GET",
        "/v1/influencers/{influencerId}",
        _R,
        "influencers:write",
        get_influencer,
        {"influencerId": INF},
    ),
    Route(
        "PATCH",
        "/v1/influencers/{influencerId}",
        _W,
        "influencers:write",
        patch_influencer,
        {"influencerId": INF},
    ),
    Route("GET", P + "/keywords", _R, "projects:read", get_keywords, {"projectId": PRJ}),
    Route(
        "POST", P + "/keywords/refresh", _L, "projects:write", refresh_keywords, {"projectId": PRJ}
    ),
    Route(
        "GET",
        P + "/content/source-recommendations",
        _R,
        "content:read",
        source_recommendations,
        {"projectId": PRJ},
    ),
    Route(
        "POST",
        P + "/content/slideshow-remix",
        _L,
        "content:write",
        _generate("slideshow-remix"),
        {"projectId": PRJ},
    ),
    Route(
        "POST",
        P + "/content/video-remix",
        _L,
        "content:write",
        _generate("video-remix"),
        {"projectId": PRJ},
    ),
    Route(
        "POST",
        P + "/content/slideshow-builder",
        _L,
        "content:write",
        _generate("slideshow-builder"),
        {"projectId": PRJ},
    ),
    Route(
        "POST",
        P + "/content/ugc-remix",
        _L,
        "content:write",
        _generate("ugc-remix"),
        {"projectId": PRJ},
    ),
    Route("GET", P + "/content/hooks", _R, "content:read", hooks, {"projectId": PRJ}),
    Route("GET", P + "/content", _R, "content:read", list_content, {"projectId": PRJ}),
    Route(
        "GET", "/v1/content/{containerId}", _R, "content:read", get_content, {"containerId": CNT}
    ),
    Route(
        "GET",
        "/v1/content/{containerId}/progress",
        _R,
        "content:read",
        content_progress,
        {"containerId": CNT},
    ),
    Route("GET", "/v1/jobs/{jobId}", _R, "jobs:read", get_job, {"jobId": JOB}),
    Route("POST", "/v1/jobs/{jobId}/cancel", _W, "jobs:cancel", cancel_job, {"jobId": JOB}),
    Route(
        "POST",
        "/v1/content/{containerId}/schedule",
        _W,
        "publish:write",
        schedule,
        {"containerId": CNT},
    ),
    Route("GET", P + "/scheduled-posts", _R, "publish:read", list_posts, {"projectId": PRJ}),
    Route(
        "GET",
        "/v1/scheduled-posts/{scheduledPostId}",
        _R,
        "publish:read",
        get_post,
        {"scheduledPostId": SP},
    ),
    Route(
        "POST",
        "/v1/scheduled-posts/{scheduledPostId}/reschedule",
        _W,
        "publish:write",
        reschedule,
        {"scheduledPostId": SP},
    ),
    Route(
        "DELETE",
        "/v1/scheduled-posts/{scheduledPostId}",
        _W,
        "publish:write",
        cancel_post,
        {"scheduledPostId": SP},
    ),
)
