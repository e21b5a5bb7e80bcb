"""Scheduled posts (contract §3.9): list, fetch, reschedule and cancel.

Posts are created by scheduling a container (`routes.content.schedule`).
"""

from __future__ import annotations

from .. import _render as render
from .._errors import Issues, conflict
from .._models import ScheduledPost
from .._routing import READ, WRITE, Ctx, Out, Param, Route
from .._validate import Body, normalize_prefixed
from ._common import (
    PRJ,
    PROJECT,
    fetch_one,
    find,
    project_listing,
    query,
    scheduled_for,
    since_until,
)

__all__ = ["ROUTES", "cancel_post", "get_post", "list_posts", "reschedule"]

STATUSES = ("queued", "publishing", "draft", "published", "failed", "canceled")

SP = Param("sp")


def list_posts(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/scheduled-posts: latest `scheduledFor` first."""
    q = query(ctx, issues)
    statuses = q.choices("status", STATUSES)
    sa_raw = q.one("socialAccountId")
    sa = None
    if sa_raw is not None:
        sa = normalize_prefixed(sa_raw, "sa", bare_ok=False)
        if sa is None:
            issues.add("socialAccountId", "Must be a sa_<uuid> id.")
    since, until = since_until(q, issues)
    return project_listing(ctx, q, issues, 50, 100).page(
        ctx.world.posts,
        lambda s: (
            (not statuses or s.status in statuses)
            and (sa is None or s.social_account_id == sa)
            and (since is None or s.scheduled_for >= since)
            and (until is None or s.scheduled_for <= until)
        ),
        lambda s: s.scheduled_for,
        render.post,
    )


def _queued_post(ctx: Ctx, action: str) -> ScheduledPost:
    """The post of the path, which must still be queued to be `action` (409 otherwise)."""
    s = _post(ctx)
    if s.status != "queued":
        raise conflict(
            f"Only queued posts can be {action}.", {"scheduledPostId": s.id, "status": s.status}
        )
    return s


def _post(ctx: Ctx) -> ScheduledPost:
    return find(ctx, ctx.world.posts, "scheduledPostId", "Scheduled post not found.")


get_post = fetch_one(_post, render.post, "GET /v1/scheduled-posts/{scheduledPostId}.")


def reschedule(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/scheduled-posts/{scheduledPostId}/reschedule: a queued post only."""
    b = Body(ctx.json_body(issues), ("scheduledFor",), issues)
    when = scheduled_for(b, ctx.now)
    issues.raise_if_any()
    assert when is not None
    s = _queued_post(ctx, "rescheduled")
    s.scheduled_for = when
    s.updated_at = ctx.now
    s.generation += 1
    ctx.world.schedule_post(s)
    return Out(
        200,
        {
            "id": s.id,
            "status": "queued",
            "scheduledFor": render.ts(when),
            "updatedAt": render.ts(s.updated_at),
        },
    )


def cancel_post(ctx: Ctx, issues: Issues) -> Out:
    """DELETE /v1/scheduled-posts/{scheduledPostId}: a queued post only; the row stays."""
    b = Body(ctx.json_body(issues), ("reason",), issues)
    b.string("reason", max_len=1024, nullable=True)
    issues.raise_if_any()
    s = _queued_post(ctx, "canceled")
    ctx.world.cancel_post(s)
    return Out(
        200,
        {"id": s.id, "status": "canceled", "canceledAt": render.ts(s.canceled_at or ctx.now)},
    )


_ONE = "/v1/scheduled-posts/{scheduledPostId}"
_POST_ID = {"scheduledPostId": SP}

ROUTES: list[Route] = [
    Route(
        "GET", PROJECT + "/scheduled-posts", READ, "publish:read", list_posts, {"projectId": PRJ}
    ),
    Route("GET", _ONE, READ, "publish:read", get_post, _POST_ID),
    Route("POST", _ONE + "/reschedule", WRITE, "publish:write", reschedule, _POST_ID),
    Route("DELETE", _ONE, WRITE, "publish:write", cancel_post, _POST_ID),
]
