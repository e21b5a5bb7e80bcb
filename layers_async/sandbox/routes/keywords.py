"""Keywords (contract §3.6): a project's researched hashtag bank and its refresh job."""

from __future__ import annotations

from .. import _render as render
from .._errors import Issues, validation
from .._routing import LONG, READ, Ctx, Out, Route
from ._common import PRJ, PROJECT, expect_empty_body, jobs_cap, project_of

__all__ = ["ROUTES", "get_keywords", "refresh_keywords"]


def get_keywords(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/keywords: empty with a null `refreshedAt` until researched."""
    issues.raise_if_any()
    p = project_of(ctx)
    return Out(
        200,
        {"projectId": p.id, "hashtags": p.hashtags, "refreshedAt": render.tsn(p.refreshed_at)},
    )


def refresh_keywords(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/projects/{projectId}/keywords/refresh: a 202 job; needs an app description."""
    expect_empty_body(ctx, issues)
    w = ctx.world
    p = project_of(ctx)
    w.ensure_active(p)
    if not p.app_description:
        raise validation(
            [{"path": "appDescription", "message": "The project has no appDescription."}],
            missingFields=["appDescription"],
        )
    jobs_cap(ctx)
    work = w.start_research(p, with_job=True)
    assert work.job is not None
    return Out(202, render.job_envelope(work.job))


ROUTES: list[Route] = [
    Route("GET", PROJECT + "/keywords", READ, "projects:read", get_keywords, {"projectId": PRJ}),
    Route(
        "POST",
        PROJECT + "/keywords/refresh",
        LONG,
        "projects:write",
        refresh_keywords,
        {"projectId": PRJ},
    ),
]
