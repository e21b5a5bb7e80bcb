"""Content (contract §3.7): source recommendations, the four generation formats, hooks,
the content list, one container and its progress, scheduling a container (contract §3.9.1),
approving or rejecting it (contract §3.16) and publishing it now (contract §3.17)."""

from __future__ import annotations

import re
from typing import Any

from .. import _fake, _review
from .. import _render as render
from .._errors import ApiError, Issues, conflict, not_found, validation
from .._models import Container, Project, Wallet
from .._routing import LONG, READ, WRITE, Ctx, Handler, Out, Route
from .._validate import Body, normalize_prefixed
from .._world import FORMAT_DURATION_KEY, FORMAT_ESTIMATES
from ._common import (
    CNT,
    PRJ,
    PROJECT,
    fetch_one,
    find,
    jobs_cap,
    project_listing,
    project_of,
    query,
    scheduled_for,
    since_until,
)

__all__ = [
    "FORMATS",
    "ROUTES",
    "approve",
    "content_progress",
    "generate",
    "get_content",
    "hooks",
    "list_content",
    "publish",
    "reject",
    "schedule",
    "source_recommendations",
]

FORMATS = ("slideshow-builder", "ugc-remix", "video-remix", "slideshow-remix")
STATUSES = ("queued", "processing", "completed", "failed", "canceled")
SOURCE_KINDS = ("slideshow", "video", "mixed")
MODES = ("publish", "draft", "managed")
#: The body fields of each generation format.
_FIELDS = {
    "slideshow-remix": ("tiktokVideoId", "influencerId", "socialAccountId"),
    "video-remix": ("tiktokVideoId", "influencerId", "socialAccountId"),
    "slideshow-builder": ("hook", "influencerId", "socialAccountId"),
    "ugc-remix": ("influencerId", "socialAccountId", "hook", "mediaId"),
}
_VIDEO_FORMATS = ("video-remix", "ugc-remix")
_TIKTOK_ID = re.compile(r"^[0-9]{1,32}\Z")
_TARGET_FIELDS = (
    "socialAccountId",
    "mode",
    "captionOverride",
    "firstCommentOverride",
    "tiktokPostSettings",
    "tiktokMusic",
    "shareReelToFeed",
)
_MS_PER_SECOND = 1000


# ---------------------------------------------------------------------- source recommendations
def source_recommendations(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/content/source-recommendations.

    With `keyword`, a live search; without, the portfolio of the project's researched
    hashtags (empty until research has run).
    """
    q = query(ctx, issues)
    kind = q.choice("kind", SOURCE_KINDS) or "mixed"
    keyword = q.one("keyword")
    if keyword is not None and not 1 <= len(keyword) <= 200:
        issues.add("keyword", "Must be 1 to 200 characters.")
    limit = q.limit(20, 1, 20)
    issues.raise_if_any()
    w = ctx.world
    p = project_of(ctx)
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


# ---------------------------------------------------------------------- generation
def _actor(
    ctx: Ctx, p: Project, inf_id: str | None, sa_id: str | None
) -> tuple[str | None, str | None]:
    """Actor existence and state checks (contract §3.7.2); returns (influencer, account) ids.

    An account without an influencer is fronted by the project's newest ready influencer.
    """
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


def _optional_id(b: Body, name: str, prefix: str) -> str | None:
    return b.prefixed_id(name, prefix) if b.data.get(name) is not None else None


def _generation_body(fmt: str, b: Body) -> dict[str, str | None]:
    """Validate a generation body; every format but the builder needs an actor."""
    fields = _FIELDS[fmt]
    builder = fmt == "slideshow-builder"
    out: dict[str, str | None] = {"tiktok": None, "hook": None, "media": None}
    if "tiktokVideoId" in fields:
        out["tiktok"] = b.string(
            "tiktokVideoId",
            required=True,
            pattern=_TIKTOK_ID,
            pattern_message="Must be a TikTok post id of 1 to 32 digits.",
        )
    if "hook" in fields:
        out["hook"] = b.string(
            "hook", required=builder, min_len=1, max_len=2000, nullable=not builder
        )
    out["influencer"] = _optional_id(b, "influencerId", "inf")
    out["account"] = _optional_id(b, "socialAccountId", "sa")
    if "mediaId" in fields:
        out["media"] = _optional_id(b, "mediaId", "med")
    if not builder and b.data.get("influencerId") is None and b.data.get("socialAccountId") is None:
        b.issues.add("influencerId", "Either influencerId or socialAccountId is required.")
        b.issues.add("socialAccountId", "Either influencerId or socialAccountId is required.")
    return out


def _ugc_media(ctx: Ctx, p: Project, media_id: str | None) -> str:
    """The demo video a UGC remix uses: the one named, else the project's oldest (422 if none)."""
    demos = sorted(
        (
            m
            for m in ctx.world.media.values()
            if m.project_id == p.id and m.live and m.kind == "demo-video"
        ),
        key=lambda m: (m.created_at, m.id),
    )
    if media_id is not None:
        if not any(m.id == media_id for m in demos):
            raise validation(
                [{"path": "mediaId", "message": "Must be a demo video of this project."}]
            )
        return media_id
    if demos:
        return demos[0].id
    raise validation([{"path": "mediaId", "message": "The project has no demo video."}])


def _billing_exhausted(message: str, reason: str, need: int, wallet: Wallet, fmt: str) -> ApiError:
    return ApiError(
        402,
        "BILLING_EXHAUSTED",
        message,
        {"required": need, "available": wallet.available, "reason": reason, "format": fmt},
    )


def _reserve(ctx: Ctx, fmt_key: str) -> int:
    """Credits to reserve: a live key's estimate, when the wallet and monthly cap allow it."""
    if ctx.key.env != "live":
        return 0
    estimate = FORMAT_ESTIMATES[fmt_key]
    wallet = ctx.world.wallet(ctx.org)
    if wallet.available < estimate:
        raise _billing_exhausted(
            "Not enough credits for this generation.",
            "insufficient_credits",
            estimate,
            wallet,
            fmt_key,
        )
    if (
        wallet.monthly_cap is not None
        and wallet.used_this_period + wallet.reserved + estimate > wallet.monthly_cap
    ):
        raise _billing_exhausted(
            "This generation would exceed the monthly credit cap.",
            "monthly_cap",
            estimate,
            wallet,
            fmt_key,
        )
    return estimate


def generate(fmt: str) -> Handler:
    """The handler of `POST /v1/projects/{projectId}/content/<fmt>`: a 202 generation job."""

    def handler(ctx: Ctx, issues: Issues) -> Out:
        b = Body(ctx.json_body(issues), _FIELDS[fmt], issues)
        f = _generation_body(fmt, b)
        issues.raise_if_any()
        w = ctx.world
        p = project_of(ctx)
        w.ensure_active(p)
        used_inf, used_sa = _actor(ctx, p, f["influencer"], f["account"])
        media_id = _ugc_media(ctx, p, f["media"]) if fmt == "ugc-remix" else f["media"]
        jobs_cap(ctx)
        fmt_key = fmt.replace("-", "_")
        reserve = _reserve(ctx, fmt_key)
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
            hook=f["hook"],
            influencer_id=used_inf,
            social_account_id=used_sa,
            source_tiktok_id=f["tiktok"],
            media_id=media_id,
        )
        return Out(202, render.job_envelope(work.job))

    handler.__doc__ = f"POST /v1/projects/{{projectId}}/content/{fmt}."
    return handler


# ---------------------------------------------------------------------- hooks and reads
def hooks(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/content/hooks: a fresh bank on every call.

    Needs the project's app name and description (422 listing the missing ones).
    """
    q = query(ctx, issues)
    limit = q.limit(10, 1, 50)
    issues.raise_if_any()
    w = ctx.world
    p = project_of(ctx)
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


def list_content(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/content: newest first; every container is `generated`."""
    q = query(ctx, issues)
    statuses = q.choices("status", STATUSES)
    formats = q.choices("format", FORMATS)
    ctype = q.choice("creativeType", ("generated", "uploaded"))
    since, until = since_until(q, issues)
    return project_listing(ctx, q, issues, 25, 200).page(
        ctx.world.containers,
        lambda c: (
            (not statuses or c.status in statuses)
            and (not formats or c.format in formats)
            and (ctype is None or ctype == "generated")
            and (since is None or c.created_at >= since)
            and (until is None or c.created_at <= until)
        ),
        lambda c: c.created_at,
        render.container,
    )


def _container(ctx: Ctx) -> Container:
    return find(ctx, ctx.world.containers, "containerId", "Content not found.")


get_content = fetch_one(_container, render.container, "GET /v1/content/{containerId}.")


def content_progress(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/content/{containerId}/progress: stage, progress within it and seconds left."""
    issues.raise_if_any()
    w = ctx.world
    c = _container(ctx)
    work = w.jobs[c.job_id].work
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
        eta = max(0, -(-remaining // _MS_PER_SECOND))  # whole seconds, rounded up
    return Out(
        200,
        {
            "containerId": c.id,
            "status": c.status,
            "stage": stage,
            "stageProgress": sp,
            "etaSeconds": eta,
            "updatedAt": render.ts(c.updated_at),
        },
    )


# ---------------------------------------------------------------------- scheduling
def _target(t: dict[str, Any], tp: str, issues: Issues) -> tuple[str | None, str | None, Any]:
    """Validate one schedule target at path `tp`: (account id, mode, shareReelToFeed)."""
    tb = Body(t, _TARGET_FIELDS, Issues())
    sa = tb.string("socialAccountId", required=True, path=f"{tp}.socialAccountId")
    sa_norm = normalize_prefixed(sa, "sa", bare_ok=False) if sa is not None else None
    if sa is not None and sa_norm is None:
        tb.issues.add(f"{tp}.socialAccountId", "Must be a sa_<uuid> id.")
    mode = tb.string("mode", required=True, choices=MODES, path=f"{tp}.mode")
    for text in ("captionOverride", "firstCommentOverride"):
        tb.string(text, max_len=4000, nullable=True, path=f"{tp}.{text}")
    for opaque in ("tiktokPostSettings", "tiktokMusic"):
        if t.get(opaque) is not None and not isinstance(t[opaque], dict):
            tb.issues.add(f"{tp}.{opaque}", "Must be an object.")
    share = tb.boolean("shareReelToFeed")
    # Unknown keys inside a target carry their full dotted path.
    for item in tb.issues.items:
        if not item["path"].startswith(tp):
            item["path"] = f"{tp}.{item['path']}"
    issues.items.extend(tb.issues.items)
    return sa_norm, mode, share


def _targets(b: Body, issues: Issues) -> list[dict[str, Any]]:
    """`targets`: 1 to 50 objects, each validated with its index in the issue paths."""
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
            sa, mode, share = _target(t, tp, issues)
            targets.append({"i": i, "sa": sa, "mode": mode, "raw": t, "share": share})
    return targets


def _check_targets(
    ctx: Ctx, c: Container, p: Project, targets: list[dict[str, Any]], issues: Issues
) -> None:
    """Rules between a target, its account and the content: connected account of the project,
    no repeated account and mode, music only on non-draft slideshows, feed sharing only for
    Instagram publish targets with video content."""
    w = ctx.world
    seen: set[tuple[str, str]] = set()
    video = c.format in _VIDEO_FORMATS
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


def _check_schedulable(c: Container) -> None:
    """Only completed content that is not rejected may be scheduled or published (409)."""
    if c.status != "completed":
        raise conflict("Content is not completed.", {"containerId": c.id, "status": c.status})
    if c.approval_status == "rejected":
        raise _approval_refusal(409, "CONTENT_REJECTED", "Content was rejected.", c)


def _approval_refusal(status: int, code: str, message: str, c: Container) -> ApiError:
    """A refusal that names the container and its approval status."""
    return ApiError(
        status, code, message, {"containerId": c.id, "approvalStatus": c.approval_status}
    )


def _postable(ctx: Ctx, targets: list[dict[str, Any]], issues: Issues) -> tuple[Container, Project]:
    """The checks schedule and publish share, in their order (contract §3.9.1): the container
    (404), the targets together (422), then its state, its project and organization (409)."""
    w = ctx.world
    c = _container(ctx)
    p = w.projects[c.project_id]
    _check_targets(ctx, c, p, targets, issues)
    _check_schedulable(c)
    w.ensure_active(p)
    return c, p


def _wire_targets(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The validated targets as posts are made from them: account, mode, other fields."""
    return [
        {
            "sa": t["sa"],
            "mode": t["mode"],
            "options": {k: v for k, v in t["raw"].items() if k not in ("socialAccountId", "mode")},
        }
        for t in targets
    ]


def schedule(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/content/{containerId}/schedule: one post per target, all or nothing.

    Content still pending approval is accepted (202): the intent is parked until approval.
    """
    b = Body(ctx.json_body(issues), ("scheduledFor", "targets"), issues)
    when = scheduled_for(b, ctx.now)
    targets = _targets(b, issues)
    issues.raise_if_any()
    assert when is not None
    c, p = _postable(ctx, targets, issues)
    if c.approval_status == "pending":
        _review.park(ctx.world, c, when, _wire_targets(targets))
        return Out(
            202,
            {
                "scheduledPostIds": [],
                "gateStatus": "blocked_on_approval",
                "scheduledFor": render.ts(when),
            },
        )
    ids = _review.queue_posts(ctx.world, c, p, when, _wire_targets(targets), ctx.now)
    return Out(
        201, {"scheduledPostIds": ids, "gateStatus": "queued", "scheduledFor": render.ts(when)}
    )


def publish(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/content/{containerId}/publish: one post per target, publishing now.

    The checks of schedule, with 403 APPROVAL_REQUIRED where schedule parks (contract §3.17).
    """
    b = Body(ctx.json_body(issues), ("targets",), issues)
    targets = _targets(b, issues)
    issues.raise_if_any()
    c, p = _postable(ctx, targets, issues)
    if c.approval_status == "pending":
        message = "Content awaits approval; publish again once it is approved."
        raise _approval_refusal(403, "APPROVAL_REQUIRED", message, c)
    now = ctx.now
    ids = _review.queue_posts(ctx.world, c, p, now, _wire_targets(targets), now)
    return Out(
        201, {"scheduledPostIds": ids, "gateStatus": "queued", "scheduledFor": render.ts(now)}
    )


# ---------------------------------------------------------------------- approvals
def approve(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/content/{containerId}/approve: pending → approved; parked intents promoted."""
    b = Body(ctx.json_body(issues), ("note",), issues)
    note = b.string("note", max_len=1024)
    issues.raise_if_any()
    c = _container(ctx)
    review, promotion = _review.decide(ctx.world, c, "approved", ctx.key.id, note, ctx.now)
    return Out(200, render.approval(c, review, promotion))


def reject(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/content/{containerId}/reject: pending → rejected; parked intents dropped."""
    b = Body(ctx.json_body(issues), ("reason",), issues)
    reason = b.string("reason", required=True, min_len=1, max_len=1024)
    issues.raise_if_any()
    c = _container(ctx)
    review, _ = _review.decide(ctx.world, c, "rejected", ctx.key.id, reason, ctx.now)
    return Out(200, render.rejection(c, review))


_PROJECT_ID = {"projectId": PRJ}
_CONTAINER_ID = {"containerId": CNT}
_ONE = "/v1/content/{containerId}"

ROUTES: list[Route] = [
    Route(
        "GET",
        PROJECT + "/content/source-recommendations",
        READ,
        "content:read",
        source_recommendations,
        _PROJECT_ID,
    ),
    *(
        Route("POST", f"{PROJECT}/content/{fmt}", LONG, "content:write", generate(fmt), _PROJECT_ID)
        for fmt in ("slideshow-remix", "video-remix", "slideshow-builder", "ugc-remix")
    ),
    Route("GET", PROJECT + "/content/hooks", READ, "content:read", hooks, _PROJECT_ID),
    Route("GET", PROJECT + "/content", READ, "content:read", list_content, _PROJECT_ID),
    Route("GET", _ONE, READ, "content:read", get_content, _CONTAINER_ID),
    Route("GET", _ONE + "/progress", READ, "content:read", content_progress, _CONTAINER_ID),
    Route("POST", _ONE + "/schedule", WRITE, "publish:write", schedule, _CONTAINER_ID),
    Route("POST", _ONE + "/approve", WRITE, None, approve, _CONTAINER_ID),
    Route("POST", _ONE + "/reject", WRITE, None, reject, _CONTAINER_ID),
    Route("POST", _ONE + "/publish", WRITE, "publish:write", publish, _CONTAINER_ID),
]
