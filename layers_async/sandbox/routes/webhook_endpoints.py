"""Webhook endpoints (contract §3.15.1-§3.15.3): create, list and read the effective
organization's endpoints. Deliveries, signing and the other webhook routes come later."""

from __future__ import annotations

from urllib.parse import urlsplit

from .. import _render as render
from .._errors import ApiError, Issues, not_found
from .._models import WebhookEndpoint
from .._routing import READ, WRITE, Ctx, Out, Param, Route
from .._validate import Body, normalize_prefixed
from ._common import fetch_one, find, page, query

__all__ = ["EVENT_TYPES", "ROUTES"]

#: The event catalogue (contract §3.15.11): the names an endpoint may subscribe to.
EVENT_TYPES = (
    "job.completed",
    "job.failed",
    "job.canceled",
    "content.generated",
    "content.approved",
    "content.rejected",
    "post.scheduled",
    "post.published",
    "post.failed",
    "post.canceled",
    "social_account.connected",
    "social_account.needs_reauth",
    "social_account.revoked",
    "lease_request.assigned",
    "lease_request.rejected",
    "test.ping",
)
_ENDPOINTS = "/v1/webhook-endpoints"
WH = Param("wh")
_FIELDS = ("url", "events", "description", "projectId", "metadata", "scope")
#: Plain http is accepted for these development hosts only.
_DEV_HOSTS = ("localhost", "127.0.0.1")
_SECRET_CHARS = 32


def _url_problem(url: str) -> str | None:
    """An https URL of at most 2048 characters, or http on localhost / 127.0.0.1."""
    if len(url) > 2048:
        return "Must be at most 2048 characters."
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if not host:
        return "Must be an absolute https URL."
    if parts.scheme == "https" or (parts.scheme == "http" and host in _DEV_HOSTS):
        return None
    return "Must use https (http only for localhost and 127.0.0.1)."


def _events(b: Body) -> list[str] | None:
    events = b.data.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= 50:
        b.issues.add("events", "Must be an array of 1 to 50 event names.")
        return None
    names: list[str] = []
    for i, e in enumerate(events):
        # Only strings can name an event: a list or an object is refused, never looked up.
        if not isinstance(e, str) or e not in EVENT_TYPES:
            b.issues.add(f"events.{i}", "Unknown event type.")
        else:
            names.append(e)
    if len(names) < len(events):
        return None
    return list(dict.fromkeys(names))


def create(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/webhook-endpoints: 201 `{endpoint, signingSecret}`; the secret is shown once.

    `scope: "all_children"` is refused from a child organization and with a `projectId` (422),
    then, after the project lookup (404), without org:admin (403).
    """
    b = Body(ctx.json_body(issues), _FIELDS, issues)
    url = b.string("url", required=True)
    if url is not None and (problem := _url_problem(url)) is not None:
        issues.add("url", problem)
    events = _events(b)
    description = b.string("description", max_len=500)
    project = b.string("projectId")
    project_id = normalize_prefixed(project, "prj", bare_ok=True) if project else None
    if project is not None and project_id is None:
        issues.add("projectId", "Must be a prj_<uuid> id.")
    metadata = b.metadata()
    scope = b.string("scope", choices=("own", "all_children")) or "own"
    if scope == "all_children" and ctx.org.parent_id is not None:
        issues.add("scope", "A child organization has no children to listen to.")
    if scope == "all_children" and project is not None:
        issues.add("projectId", "A project filter cannot apply across children.")
    issues.raise_if_any()
    assert url is not None
    assert events is not None
    w = ctx.world
    if project_id is not None:
        p = w.projects.get(project_id)
        if p is None or p.org_id != ctx.org.id:
            raise not_found("Project not found.", {"resource": "project", "id": project_id})
    if scope == "all_children" and not ctx.key.has_scope("org:admin"):
        raise ApiError(
            403,
            "FORBIDDEN_SCOPE",
            "Listening to every child needs org:admin.",
            {"requiredScope": "org:admin"},
        )
    endpoint = WebhookEndpoint(
        id=w.ids.prefixed("wh"),
        org_id=ctx.org.id,
        url=url,
        events=events,
        signing_secret="whsec_" + w.ids.secret(_SECRET_CHARS),
        created_at=ctx.now,
        updated_at=ctx.now,
        project_id=project_id,
        description=description,
        scope=scope,
        metadata=dict(metadata or {}),
    )
    w.webhook_endpoints[endpoint.id] = endpoint
    body = {"endpoint": render.webhook_endpoint(endpoint), "signingSecret": endpoint.signing_secret}
    return Out(201, body)


def list_endpoints(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/webhook-endpoints: newest first; a `projectId` leaves out organization-wide ones."""
    q = query(ctx, issues)
    by_project, project_id = q.prefixed_id("projectId", "prj", bare_ok=True)
    status = q.choice("status", ("active", "paused", "auto_paused"))
    limit = q.limit(25, 1, 100)
    cursor = q.cursor()
    issues.raise_if_any()
    rows = [
        e
        for e in ctx.world.webhook_endpoints.values()
        if e.org_id == ctx.org.id
        and (not by_project or e.project_id == project_id)
        and (status is None or e.status == status)
    ]
    return page(rows, _created, limit, cursor, render.webhook_endpoint)


def _created(e: WebhookEndpoint) -> int:
    return e.created_at


def _endpoint(ctx: Ctx) -> WebhookEndpoint:
    return find(ctx, ctx.world.webhook_endpoints, "endpointId", "Webhook endpoint not found.")


ROUTES: list[Route] = [
    Route("POST", _ENDPOINTS, WRITE, None, create),
    Route("GET", _ENDPOINTS, READ, None, list_endpoints),
    Route(
        "GET",
        _ENDPOINTS + "/{endpointId}",
        READ,
        None,
        fetch_one(
            _endpoint,
            render.webhook_endpoint,
            "GET /v1/webhook-endpoints/{endpointId}: one endpoint of the organization.",
        ),
        {"endpointId": WH},
    ),
]
