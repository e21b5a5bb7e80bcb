"""Webhook endpoints and deliveries (contract §3.15.1-§3.15.9): the effective organization's
endpoints, their secrets, test pings, delivery history and replays. Delivery itself is in
`_webhooks`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .. import _render as render
from .. import _webhooks as hooks
from .._clock import format_ts
from .._errors import ApiError, Issues, not_found
from .._models import WebhookDelivery, WebhookEndpoint
from .._routing import READ, WRITE, Ctx, Out, Param, Route
from .._validate import Body, normalize_prefixed
from ._common import expect_empty_body, fetch_one, find, page, query, require_a_field

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
DLV = Param("dlv")
_ONE = _ENDPOINTS + "/{endpointId}"
_BY_ID = {"endpointId": WH}
#: How long the secret replaced by a rotation still signs deliveries (24 h, in ms).
_OVERLAP_MS = 24 * 3600 * 1000
_ROTATE_WARNING = "Store this secret now; it cannot be shown again."
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


def _endpoint(ctx: Ctx) -> WebhookEndpoint:
    return find(ctx, ctx.world.webhook_endpoints, "endpointId", "Webhook endpoint not found.")


def patch_endpoint(ctx: Ctx, issues: Issues) -> Out:
    """PATCH /v1/webhook-endpoints/{endpointId}: url, events, description, status, metadata.

    Setting `active` resets the failure count; pausing abandons the pending deliveries.
    """
    e = _endpoint(ctx)
    data = ctx.json_body(issues)
    require_a_field(data, issues)
    b = Body(data, ("url", "events", "description", "status", "metadata"), issues)
    url = b.string("url")
    if url is not None and (problem := _url_problem(url)) is not None:
        issues.add("url", problem)
    events = _events(b) if b.has("events") else None
    description = b.string("description", max_len=500, nullable=True)
    status = b.string("status", choices=("active", "paused"))
    metadata = b.metadata()
    if b.has("metadata") and b.data["metadata"] is None:
        issues.add("metadata", "Must not be null (send {} to clear).")
    issues.raise_if_any()
    changes = {"url": url, "events": events, "metadata": metadata and dict(metadata)}
    for attr, value in changes.items():
        if value is not None:
            setattr(e, attr, value)
    if b.has("description"):
        e.description = description
    if status == "active":
        e.consecutive_failure_count = 0
    elif status == "paused":
        hooks.abandon_pending(ctx.world, e, ctx.now)
    e.status = status or e.status
    e.updated_at = ctx.now
    return Out(200, render.webhook_endpoint(e))


def delete_endpoint(ctx: Ctx, issues: Issues) -> Out:
    """DELETE /v1/webhook-endpoints/{endpointId}: the endpoint and its delivery history go."""
    e = _endpoint(ctx)
    expect_empty_body(ctx, issues)
    w = ctx.world
    del w.webhook_endpoints[e.id]
    for d in [d for d in w.webhook_deliveries.values() if d.endpoint_id == e.id]:
        del w.webhook_deliveries[d.id]
    return Out(200, {"id": e.id, "deleted": True})


def rotate_secret(ctx: Ctx, issues: Issues) -> Out:
    """POST .../rotate-secret: a new secret; the one it replaces signs too for 24 hours, and a
    rotation inside that overlap drops the oldest at once (at most two secrets)."""
    e = _endpoint(ctx)
    expect_empty_body(ctx, issues)
    e.previous_secret = e.signing_secret
    e.previous_expires_at = ctx.now + _OVERLAP_MS
    e.signing_secret = "whsec_" + ctx.world.ids.secret(_SECRET_CHARS)
    e.updated_at = ctx.now
    body = {
        "endpointId": e.id,
        "signingSecret": e.signing_secret,
        "previousSecretExpiresAt": format_ts(e.previous_expires_at),
        "warning": _ROTATE_WARNING,
    }
    return Out(200, body)


def _require_active(e: WebhookEndpoint) -> None:
    if e.status != "active":
        raise ApiError(
            409,
            "CONFLICT",
            "The webhook endpoint is not active.",
            {"endpointId": e.id, "status": e.status},
        )


def _sent(d: WebhookDelivery, **extra: Any) -> Out:
    body = {"eventId": d.event_id, "deliveryId": d.id, "scheduledAt": format_ts(d.created_at)}
    return Out(200, {**body, **extra})


def ping(ctx: Ctx, issues: Issues) -> Out:
    """POST .../test: a signed `test.ping` to this endpoint only, bypassing its events filter;
    an optional `payload` object replaces the event's data."""
    e = _endpoint(ctx)
    b = Body(ctx.json_body(issues), ("payload",), issues)
    payload = b.data.get("payload")
    if payload is not None and not isinstance(payload, dict):
        issues.add("payload", "Must be an object.")
    issues.raise_if_any()
    _require_active(e)
    data = {"message": "Test event from Layers.", "endpointId": e.id}
    event = hooks.new_event(ctx.world, ctx.org.id, "test.ping", data)
    if payload is not None:
        event["data"] = payload
    return _sent(hooks.enqueue(ctx.world, e, event))


def list_deliveries(ctx: Ctx, issues: Issues) -> Out:
    """GET .../deliveries: the endpoint's deliveries, newest first, without payloads."""
    e = _endpoint(ctx)
    q = query(ctx, issues)
    event_type = q.choice("eventType", EVENT_TYPES)
    status = q.choice("status", ("pending", "delivering", "delivered", "failed", "abandoned"))
    limit = q.limit(25, 1, 100)
    cursor = q.cursor()
    issues.raise_if_any()
    rows = [
        d
        for d in ctx.world.webhook_deliveries.values()
        if d.endpoint_id == e.id
        and (event_type is None or d.event_type == event_type)
        and (status is None or d.status == status)
    ]
    return page(rows, _created, limit, cursor, render.webhook_delivery)


def replay(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/webhook-deliveries/{deliveryId}/replay: the event again under a new event id,
    with a top-level `replayOf` naming the original delivery."""
    d = find(ctx, ctx.world.webhook_deliveries, "deliveryId", "Webhook delivery not found.")
    expect_empty_body(ctx, issues)
    e = ctx.world.webhook_endpoints[d.endpoint_id]
    _require_active(e)
    event = hooks.new_event(ctx.world, d.org_id, d.event_type, {})
    event["data"] = d.payload["data"]
    event["replayOf"] = d.id
    return _sent(hooks.enqueue(ctx.world, e, event), replayOf=d.id)


def _created(e: WebhookEndpoint | WebhookDelivery) -> int:
    return e.created_at


ROUTES: list[Route] = [
    Route("POST", _ENDPOINTS, WRITE, None, create),
    Route("GET", _ENDPOINTS, READ, None, list_endpoints),
    Route(
        "GET",
        _ONE,
        READ,
        None,
        fetch_one(
            _endpoint,
            render.webhook_endpoint,
            "GET /v1/webhook-endpoints/{endpointId}: one endpoint of the organization.",
        ),
        _BY_ID,
    ),
    Route("PATCH", _ONE, WRITE, None, patch_endpoint, _BY_ID),
    Route("DELETE", _ONE, WRITE, None, delete_endpoint, _BY_ID),
    Route("POST", _ONE + "/rotate-secret", WRITE, None, rotate_secret, _BY_ID),
    Route("POST", _ONE + "/test", WRITE, None, ping, _BY_ID),
    Route("GET", _ONE + "/deliveries", READ, None, list_deliveries, _BY_ID),
    Route(
        "POST",
        "/v1/webhook-deliveries/{deliveryId}/replay",
        WRITE,
        None,
        replay,
        {"deliveryId": DLV},
    ),
]
