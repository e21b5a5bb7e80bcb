"""Projects (contract §3.2): create, list, fetch, change and archive; a project's content
review policy (contract §3.16.3, §3.16.4)."""

from __future__ import annotations

from typing import Any

from .. import _render as render
from .. import _review
from .._errors import Issues, conflict
from .._jsonio import dumps_canonical
from .._models import Project
from .._routing import READ, WRITE, Ctx, Out, Route
from .._validate import BCP47_RE, EMAIL_RE, Body, is_timezone
from .._world import World
from ._common import (
    BRAND_VOICES,
    PRJ,
    PROJECT,
    default_gender,
    expect_empty_body,
    page,
    project_of,
    query,
    require_a_field,
)

__all__ = [
    "ROUTES",
    "create_project",
    "delete_project",
    "get_project",
    "get_review_policy",
    "list_projects",
    "patch_project",
    "patch_review_policy",
]

GENDERS = ("all", "female", "male")
STATUSES = ("active", "archived")
_FIELDS = (
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
#: Fields a PATCH copies onto the record as they are, by record attribute.
_COPIED = {
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
#: Fields that have a default: a PATCH may not null them (null there means "leave as is").
_NOT_NULLABLE_ON_PATCH = ("name", "timezone", "primaryLanguage", "brandVoice", "targetGender")
#: `metadata` serialised as canonical JSON may take at most 8 KB.
_METADATA_MAX_BYTES = 8 * 1024


def _metadata(b: Body, *, nullable: bool) -> dict[str, Any] | None:
    """`metadata`: an object of at most 8 KB; on PATCH null is refused (send {} to clear)."""
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
    if size > _METADATA_MAX_BYTES:
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
        for name in _NOT_NULLABLE_ON_PATCH:
            if b.has(name) and b.data[name] is None and name in out:
                del out[name]
    else:
        # On create, null means omitted.
        out = {k: v for k, v in out.items() if v is not None}
    return out


def _check_external_id(w: World, org_id: str, ext: str | None, own: str | None) -> None:
    """`customerExternalId` is unique within an organization: another project's is a 409."""
    if ext is None:
        return
    existing = w.external_ids.get((org_id, ext))
    if existing is not None and existing != own:
        raise conflict(
            "customerExternalId is already used by another project.",
            {"projectId": existing, "customerExternalId": ext},
        )


def create_project(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/projects: with an app description, research and a first influencer start."""
    data = ctx.json_body(issues)
    b = Body(data, _FIELDS, issues)
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
        w.create_influencer(p, default_gender(p), "young_adult", with_job=False)
    return Out(201, render.project(w, p))


def list_projects(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects: newest first, filtered by status, name search and external id."""
    q = query(ctx, issues)
    limit = q.limit(25, 1, 200)
    status = q.choice("status", STATUSES)
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
    return page(rows, lambda p: p.created_at, limit, cursor, render.project_summary)


def get_project(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}."""
    issues.raise_if_any()
    return Out(200, render.project(ctx.world, project_of(ctx)))


def _set_external_id(w: World, p: Project, ext: str | None) -> None:
    if p.customer_external_id is not None:
        w.external_ids.pop((p.org_id, p.customer_external_id), None)
    p.customer_external_id = ext
    if ext is not None:
        w.external_ids[(p.org_id, ext)] = p.id


def _set_status(w: World, p: Project, status: str | None, now: int) -> None:
    """Archiving cancels the project's work once; archiving again moves `archivedAt` only."""
    if status == "archived" and p.status != "archived":
        w.archive_project(p)
    elif status == "archived":
        p.archived_at = now
    elif status == "active" and p.status == "archived":
        p.status = "active"
        p.archived_at = None


def patch_project(ctx: Ctx, issues: Issues) -> Out:
    """PATCH /v1/projects/{projectId}: a new app description starts keyword research again."""
    data = ctx.json_body(issues)
    b = Body(data, (*_FIELDS, "status"), issues)
    require_a_field(data, issues)
    status = b.string("status", choices=STATUSES)
    f = _project_fields(b, patch=True)
    issues.raise_if_any()
    w = ctx.world
    p = project_of(ctx)
    if "customerExternalId" in f:
        _check_external_id(w, p.org_id, f["customerExternalId"], p.id)
    now = ctx.now
    old_desc = p.app_description
    if "customerExternalId" in f:
        _set_external_id(w, p, f["customerExternalId"])
    for field, name in _COPIED.items():
        if field in f:
            setattr(p, name, f[field])
    p.updated_at = now
    _set_status(w, p, status, now)
    new_desc = f.get("appDescription")
    if new_desc is not None and new_desc != old_desc:
        w.start_research(p, with_job=False)
    return Out(200, render.project(w, p))


def delete_project(ctx: Ctx, issues: Issues) -> Out:
    """DELETE /v1/projects/{projectId}: archive, cancelling queued posts and running jobs."""
    expect_empty_body(ctx, issues)
    w = ctx.world
    p = project_of(ctx)
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
            "archivedAt": render.ts(p.archived_at or ctx.now),
            "canceledScheduledPosts": canceled,
        },
    )


# ---------------------------------------------------------------------- review policy
def get_review_policy(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/content-review-policy (contract §3.16.3)."""
    issues.raise_if_any()
    p = project_of(ctx)
    return Out(200, render.review_policy(p, _review.pending_count(ctx.world, p)))


def _first_n(b: Body, policy: str | None) -> int | None:
    """`firstN`: an integer 1 to 50, required with `review_first_n` and absent otherwise."""
    if not b.has("firstN"):
        if policy == "review_first_n":
            b.issues.add("firstN", "Required when policy is review_first_n.")
        return None
    v = b.data["firstN"]
    if policy is not None and policy != "review_first_n":
        b.issues.add("firstN", "Allowed only when policy is review_first_n.")
    elif isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 50:
        b.issues.add("firstN", "Must be an integer from 1 to 50.")
    else:
        return v
    return None


def patch_review_policy(ctx: Ctx, issues: Issues) -> Out:
    """PATCH /v1/projects/{projectId}/content-review-policy: applies to content that completes
    afterwards; the project's `requiresApproval` follows it (contract §3.16.4)."""
    b = Body(ctx.json_body(issues), ("policy", "firstN"), issues)
    policy = b.string("policy", required=True, choices=_review.POLICIES)
    first_n = _first_n(b, policy)
    issues.raise_if_any()
    assert policy is not None
    p = project_of(ctx)
    _review.set_policy(p, policy, first_n, ctx.now)
    return Out(200, render.review_policy(p, _review.pending_count(ctx.world, p)))


_BY_ID = {"projectId": PRJ}
_POLICY = PROJECT + "/content-review-policy"

ROUTES: list[Route] = [
    Route("POST", "/v1/projects", WRITE, "projects:write", create_project),
    Route("GET", "/v1/projects", READ, "projects:read", list_projects),
    Route("GET", PROJECT, READ, "projects:read", get_project, _BY_ID),
    Route("PATCH", PROJECT, WRITE, "projects:write", patch_project, _BY_ID),
    Route("DELETE", PROJECT, WRITE, "projects:write", delete_project, _BY_ID),
    Route("GET", _POLICY, READ, None, get_review_policy, _BY_ID),
    Route("PATCH", _POLICY, WRITE, None, patch_review_policy, _BY_ID),
]
