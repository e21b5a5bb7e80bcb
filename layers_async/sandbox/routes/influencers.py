"""Influencers (contract §3.5): the personas that front a project's content."""

from __future__ import annotations

from .. import _render as render
from .._errors import Issues
from .._models import Influencer
from .._routing import LONG, READ, WRITE, Ctx, Out, Param, Route
from .._validate import BCP47_RE, Body
from ._common import (
    BRAND_VOICES,
    PRJ,
    PROJECT,
    default_gender,
    fetch_one,
    find,
    jobs_cap,
    project_listing,
    project_of,
    query,
    require_a_field,
)

__all__ = [
    "AGE_RANGES",
    "GENDERS",
    "ROUTES",
    "create_influencer",
    "get_influencer",
    "list_influencers",
    "patch_influencer",
]

GENDERS = ("male", "female", "non_binary")
AGE_RANGES = ("teen", "young_adult", "adult", "mid_adult", "mature", "senior")
STATUSES = ("pending", "training", "ready", "failed")
#: The age range of an influencer created without one.
DEFAULT_AGE_RANGE = "young_adult"

INF = Param("inf")
#: Every influencer route needs the influencers:write scope, reads included.
_SCOPE = "influencers:write"


def list_influencers(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/influencers: newest first, optionally by status."""
    q = query(ctx, issues)
    status = q.choice("status", STATUSES)
    return project_listing(ctx, q, issues, 25, 100).page(
        ctx.world.influencers,
        lambda i: status is None or i.status == status,
        lambda i: i.created_at,
        render.influencer_summary,
    )


def create_influencer(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/projects/{projectId}/influencers: a 202 job; the row starts `pending`."""
    b = Body(ctx.json_body(issues), ("gender", "ageRange", "prompt"), issues)
    gender = b.string("gender", choices=GENDERS, nullable=True)
    age = b.string("ageRange", choices=AGE_RANGES, nullable=True)
    b.string("prompt", min_len=1, max_len=1000, nullable=True)
    issues.raise_if_any()
    w = ctx.world
    p = project_of(ctx)
    w.ensure_active(p)
    jobs_cap(ctx)
    _, work = w.create_influencer(
        p, gender or default_gender(p), age or DEFAULT_AGE_RANGE, with_job=True
    )
    assert work.job is not None
    return Out(202, render.job_envelope(work.job))


def _influencer(ctx: Ctx) -> Influencer:
    return find(ctx, ctx.world.influencers, "influencerId", "Influencer not found.")


get_influencer = fetch_one(_influencer, render.influencer, "GET /v1/influencers/{influencerId}.")


def patch_influencer(ctx: Ctx, issues: Issues) -> Out:
    """PATCH /v1/influencers/{influencerId}: in any status; `ageRange` may be nulled."""
    data = ctx.json_body(issues)
    b = Body(data, ("name", "gender", "ageRange", "brandVoice", "language"), issues)
    require_a_field(data, issues)
    name = b.string("name", min_len=1, max_len=128)
    gender = b.string("gender", choices=GENDERS)
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
    return Out(200, render.influencer(inf))


_ONE = "/v1/influencers/{influencerId}"

ROUTES: list[Route] = [
    Route("GET", PROJECT + "/influencers", READ, _SCOPE, list_influencers, {"projectId": PRJ}),
    Route("POST", PROJECT + "/influencers", LONG, _SCOPE, create_influencer, {"projectId": PRJ}),
    Route("GET", _ONE, READ, _SCOPE, get_influencer, {"influencerId": INF}),
    Route("PATCH", _ONE, WRITE, _SCOPE, patch_influencer, {"influencerId": INF}),
]
