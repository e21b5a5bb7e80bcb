"""Sub-organizations (contract §3.10, §4.8): create, list, read, edit, suspend, resume and
archive the direct children of the effective organization; nesting is one level deep."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import _render as render
from .. import _tenancy as tenancy
from .._errors import Issues, validation
from .._models import Organization
from .._routing import READ, WRITE, Ctx, Handler, Out, Param, Route
from .._validate import EMAIL_RE, Body
from ._common import expect_empty_body, page, query, require_a_field

if TYPE_CHECKING:
    from .._world import World

__all__ = ["ORG", "ORGS", "ROUTES", "child"]

#: The organizations collection, and one child's path (an `org_` id or a bare UUID).
ORGS = "/v1/organizations"
ORG_PATH = ORGS + "/{orgId}"
ORG = Param("org", bare_ok=True)
_STATUSES = ("active", "suspended", "archived")
_EMAIL_RULE = "Must be an email address."


def child(ctx: Ctx) -> Organization:
    """The `{orgId}` of the path: a direct child of the effective organization, else 404."""
    return tenancy.child_of(ctx.world, ctx.org, ctx.params["orgId"])


def create_org(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/organizations: a 201 active child; a child cannot have children (422, path "")."""
    b = Body(ctx.json_body(issues), ("name", "metadata", "billingEmail"), issues)
    name = b.string("name", required=True, min_len=1, max_len=128)
    metadata = b.metadata()
    email = b.string("billingEmail", pattern=EMAIL_RE, pattern_message=_EMAIL_RULE)
    if ctx.org.parent_id is not None:
        issues.add("", "A child organization cannot have children (one level deep).")
    issues.raise_if_any()
    assert name is not None
    org = tenancy.create_child(ctx.world, ctx.org, name, dict(metadata or {}), email)
    return Out(201, render.organization(org))


def list_orgs(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/organizations: direct children, newest first, archived ones included."""
    q = query(ctx, issues)
    status = q.choice("status", _STATUSES)
    limit = q.limit(25, 1, 200)
    cursor = q.cursor()
    issues.raise_if_any()
    rows = [
        o
        for o in ctx.world.orgs.values()
        if o.parent_id == ctx.org.id and (status is None or o.status == status)
    ]
    return page(rows, _created, limit, cursor, render.organization)


def _created(o: Organization) -> int:
    return o.created_at


def get_org(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/organizations/{orgId}: the child with a summary of projects, credits, config."""
    issues.raise_if_any()
    org = child(ctx)
    w = ctx.world
    cw = w.wallet(org)
    projects = sum(1 for p in w.projects.values() if p.org_id == org.id and p.status == "active")
    summary = {
        "projectCount": projects,
        "balance": cw.balance,
        "available": cw.available,
        "creditConfig": tenancy.config_summary(org),
    }
    return Out(200, {**render.organization(org), "summary": summary})


def _merge_metadata(b: Body, current: dict[str, str]) -> dict[str, str] | None:
    """PATCH metadata: keys sent are set, `""` removes one, `null` clears all; None when
    unchanged or invalid. A key sent as null is a 422; at most 50 keys after the merge."""
    if not b.has("metadata"):
        return None
    sent = b.data["metadata"]
    if sent is None:
        return {}
    patch = b.metadata()
    if patch is None:
        return None
    merged = {**current, **patch}
    merged = {k: v for k, v in merged.items() if v != ""}
    if len(merged) > 50:
        b.issues.add("metadata", "At most 50 keys after the merge.")
    return merged


def patch_org(ctx: Ctx, issues: Issues) -> Out:
    """PATCH /v1/organizations/{orgId}: name, metadata (merged) and billingEmail (nullable).

    An archived child is a 409; the merged metadata is checked against the child's own.
    """
    data = ctx.json_body(issues)
    b = Body(data, ("name", "metadata", "billingEmail"), issues)
    require_a_field(data, issues)
    name = b.string("name", min_len=1, max_len=128)
    email = b.string("billingEmail", nullable=True, pattern=EMAIL_RE, pattern_message=_EMAIL_RULE)
    issues.raise_if_any()
    org = child(ctx)
    tenancy.ensure_not_archived(org)
    merged = _merge_metadata(b, org.metadata)
    if issues:
        raise validation(issues.items)
    org.name = name or org.name
    org.metadata = org.metadata if merged is None else merged
    org.billing_email = email if b.has("billingEmail") else org.billing_email
    org.updated_at = ctx.now
    return Out(200, render.organization(org))


def _lifecycle(op: Callable[[World, Organization], None], doc: str) -> Handler:
    """A bodiless POST that applies `op` to the child and answers the Organization."""

    def handler(ctx: Ctx, issues: Issues) -> Out:
        expect_empty_body(ctx, issues)
        org = child(ctx)
        op(ctx.world, org)
        return Out(200, render.organization(org))

    handler.__doc__ = doc
    return handler


suspend_org = _lifecycle(
    tenancy.suspend, "POST /v1/organizations/{orgId}/suspend: the per-customer kill switch."
)
resume_org = _lifecycle(
    tenancy.resume, "POST /v1/organizations/{orgId}/resume: back to active; held posts fire."
)


def archive_org(ctx: Ctx, issues: Issues) -> Out:
    """DELETE /v1/organizations/{orgId}: offboard (terminal); a repeat answers the same values."""
    expect_empty_body(ctx, issues)
    org = child(ctx)
    tenancy.archive(ctx.world, ctx.org, org)
    return Out(
        200,
        {
            "id": org.id,
            "status": org.status,
            "archivedAt": render.tsn(org.archived_at),
            "reclaimedCredits": org.reclaimed_credits,
            "revokedApiKeys": org.revoked_api_keys,
        },
    )


_ADMIN = "org:admin"
_ID = {"orgId": ORG}
ROUTES: list[Route] = [
    Route("POST", ORGS, WRITE, _ADMIN, create_org),
    Route("GET", ORGS, READ, _ADMIN, list_orgs),
    Route("GET", ORG_PATH, READ, _ADMIN, get_org, _ID),
    Route("PATCH", ORG_PATH, WRITE, _ADMIN, patch_org, _ID),
    Route("POST", ORG_PATH + "/suspend", WRITE, _ADMIN, suspend_org, _ID),
    Route("POST", ORG_PATH + "/resume", WRITE, _ADMIN, resume_org, _ID),
    Route("DELETE", ORG_PATH, WRITE, _ADMIN, archive_org, _ID),
]
