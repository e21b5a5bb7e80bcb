"""The webhook delivery engine (contract §3.15.10, §4.10) on the virtual clock.

An event is routed to the matching endpoints as one delivery each; every attempt is armed on
the world's timeline, signed with the endpoint's secrets, and either POSTed for real in a
background task (`webhookDelivery: "http"`) or written to the outbox and counted as a success
(`"record"`). Failed attempts climb the retry ladder; the 8th failure ends the delivery as
`failed`, and 20 consecutive failures auto-pause the endpoint.

Webhook faults for tests: `webhookDropRate` and `webhookFailRate` (sandbox configuration) decide
each attempt with one draw from a stream seeded by `seed`. Neither sends anything. A dropped
attempt is a delivery lost after the sender saw success: it is booked `delivered` with no
response status and is never retried, so only a receiver's own safety net (polling) recovers
it. A failed attempt counts as a connection failure and climbs the retry ladder.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import ipaddress
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from ._clock import format_ts
from ._jsonio import dumps
from ._models import (
    Container,
    Job,
    Review,
    ScheduledPost,
    SocialAccount,
    WebhookDelivery,
    WebhookEndpoint,
)

if TYPE_CHECKING:
    from ._world import World

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_LADDER_SECONDS",
    "abandon_pending",
    "account_connected",
    "account_needs_reauth",
    "account_revoked",
    "content_generated",
    "content_reviewed",
    "emit",
    "enqueue",
    "job_ended",
    "new_event",
    "post_ended",
    "post_scheduled",
    "release_held",
    "signature_header",
]

#: The wait before attempts 1 to 8, each counted from the previous attempt (virtual seconds).
RETRY_LADDER_SECONDS = (0, 30, 60, 300, 900, 3600, 21600, 86400)
MAX_ATTEMPTS = len(RETRY_LADDER_SECONDS)
#: Consecutive failed attempts after which an endpoint becomes `auto_paused`.
AUTO_PAUSE_AFTER = 20
USER_AGENT = "Layers-Webhooks/1"
#: `lastErrorMessage` of an attempt failed by `webhookFailRate`.
FAILED_BY_FAULT = "Connection failed: injected by webhookFailRate."
#: Background HTTP attempts in flight (kept referenced until they finish).
_TASKS: set[asyncio.Task[None]] = set()


def new_event(w: World, org_id: str, type_: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event body: a fresh `evt_<ULID>` id, the type, `createdAt` and the data, which
    always carries `organizationId` (contract §3.15.10)."""
    now = w.now()
    return {
        "id": "evt_" + w.hook_ids.ulid(now),
        "type": type_,
        "createdAt": format_ts(now),
        "data": {"organizationId": org_id, **data},
    }


def _listens(e: WebhookEndpoint, w: World, org_id: str, type_: str, project: str | None) -> bool:
    """Routing: an active endpoint listing the type, of the event's organization (`own`, with
    its project filter) or of its parent (`all_children`)."""
    if e.status != "active" or type_ not in e.events:
        return False
    if e.scope == "all_children":
        return w.orgs[org_id].parent_id == e.org_id
    return e.org_id == org_id and (e.project_id is None or e.project_id == project)


def emit(w: World, org_id: str, type_: str, project_id: str | None, data: dict[str, Any]) -> None:
    """Route one catalogue event to every endpoint that listens for it (no id is drawn when
    none does)."""
    targets = [e for e in w.webhook_endpoints.values() if _listens(e, w, org_id, type_, project_id)]
    if not targets:
        return
    event = new_event(w, org_id, type_, data)
    for e in targets:
        enqueue(w, e, event)


def enqueue(w: World, e: WebhookEndpoint, event: dict[str, Any]) -> WebhookDelivery:
    """A new pending delivery of `event` to `e`, its first attempt due now."""
    now = w.now()
    d = WebhookDelivery(
        id=w.hook_ids.prefixed("dlv"),
        org_id=e.org_id,
        endpoint_id=e.id,
        event_id=event["id"],
        event_type=event["type"],
        payload=event,
        created_at=now,
        next_retry_at=now,
    )
    w.webhook_deliveries[d.id] = d
    w.at(now, functools.partial(_attempt, w, d))
    return d


def abandon_pending(w: World, e: WebhookEndpoint, when: int) -> None:
    """Pausing (by hand or automatically) abandons the endpoint's pending deliveries."""
    for d in w.webhook_deliveries.values():
        if d.endpoint_id == e.id and d.status == "pending":
            d.status = "abandoned"
            d.abandoned_at = when
            d.next_retry_at = None


def release_held(w: World, org_id: str, now: int) -> None:
    """On resume, the deliveries held for the organization's own endpoints go out now."""
    for d in w.webhook_deliveries.values():
        held = d.status == "pending" and (d.next_retry_at or now) <= now
        if held and d.org_id == org_id:
            d.next_retry_at = now
            w.at(now, functools.partial(_attempt, w, d))


def signature_header(e: WebhookEndpoint, body: bytes, t: int, now: int) -> str:
    """`t=<unix seconds>,v1=<hex>`, with a second `v1` (the previous secret) during a rotation
    overlap; the HMAC key is the whole `whsec_…` string (contract §3.15.10)."""
    secrets = [e.signing_secret]
    if e.previous_secret is not None and (e.previous_expires_at or 0) > now:
        secrets.append(e.previous_secret)
    message = str(t).encode() + b"." + body
    parts = [f"t={t}"]
    for s in secrets:
        parts.append("v1=" + hmac.new(s.encode(), message, hashlib.sha256).hexdigest())
    return ",".join(parts)


def _attempt(w: World, d: WebhookDelivery, when: int) -> bool:
    if w.webhook_deliveries.get(d.id) is not d or d.status != "pending":
        return False
    if d.next_retry_at != when:
        return False
    e = w.webhook_endpoints.get(d.endpoint_id)
    if e is None:
        return False
    if w.orgs[e.org_id].status == "suspended":
        return False  # held while the organization is suspended
    d.status = "delivering"
    d.attempts += 1
    d.next_retry_at = None
    body = dumps(d.payload)
    real = time.time()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Layers-Event-Id": d.event_id,
        "X-Layers-Signature": signature_header(e, body, int(real), when),
    }
    fault = _injected_fault(w)
    if fault is not None:
        # Nothing reaches the receiver (no POST, no outbox item); a drop is booked as the
        # success the sender believed it was, a failure climbs the retry ladder.
        dropped = fault == "drop"
        _settle(w, d, None, None if dropped else FAILED_BY_FAULT, when)
        return True
    # The embedded sandbox never sends traffic off this machine: in "http" mode it POSTs to
    # loopback URLs only, and a delivery to any other host goes to the outbox as in "record".
    if w.config["webhookDelivery"] == "record" or not _is_loopback(e.url):
        item = {
            "deliveryId": d.id,
            "attempt": d.attempts,
            "url": e.url,
            "headers": headers,
            "body": body.decode(),
            "at": format_ts(int(real * 1000)),
        }
        w.webhook_outbox.append((e.id, d.event_type, item))
        _settle(w, d, 200, None, when)
        return True
    timeout = float(w.config["webhookTimeoutSeconds"])
    task = asyncio.get_running_loop().create_task(_post(w, d, e.url, body, headers, timeout))
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
    return True


def _injected_fault(w: World) -> str | None:
    """`"drop"`, `"fail"` or None for one attempt: a single draw from the webhook-fault stream
    against `webhookDropRate`, then `webhookFailRate` (no draw when both are 0)."""
    drop = float(w.config["webhookDropRate"])
    fail = float(w.config["webhookFailRate"])
    if drop <= 0 and fail <= 0:
        return None
    u = w.webhook_fault_rng.random()
    if u < drop:
        return "drop"
    return "fail" if u < drop + fail else None


def _is_loopback(url: str) -> bool:
    """Whether `url` names this machine: `localhost` or a loopback address (127.0.0.0/8, ::1)."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _post(
    w: World, d: WebhookDelivery, url: str, body: bytes, headers: dict[str, str], timeout: float
) -> None:
    """One real POST, off the request path; its outcome is settled at the virtual time it ends."""
    status: int | None = None
    error: str | None = None
    try:
        limit = aiohttp.ClientTimeout(total=timeout)
        async with (
            aiohttp.ClientSession(timeout=limit) as session,
            session.post(url, data=body, headers=headers, allow_redirects=False) as r,
        ):
            status = r.status
            if not 200 <= status < 300:
                error = f"The endpoint answered {status}."
    except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
        error = f"No answer within {timeout:g} seconds."
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        error = f"Connection failed: {type(exc).__name__}."
    _settle(w, d, status, error, w.now())


def _settle(w: World, d: WebhookDelivery, status: int | None, error: str | None, when: int) -> None:
    d.last_response_status = status
    d.last_response_at = when
    d.last_error_message = error
    if w.webhook_deliveries.get(d.id) is not d:
        return  # deleted with its endpoint while in flight
    e = w.webhook_endpoints.get(d.endpoint_id)
    if error is None:
        d.status = "delivered"
        d.delivered_at = when
        if e is not None:
            e.last_success_at = when
            e.consecutive_failure_count = 0
        return
    if d.attempts >= MAX_ATTEMPTS:
        d.status = "failed"
        d.abandoned_at = when
    elif e is None or e.status != "active":
        # Paused (by hand or automatically) while this attempt was in flight: nothing is
        # queued for a paused endpoint, so the delivery is abandoned like its pending ones.
        d.status = "abandoned"
        d.abandoned_at = when
    else:
        d.status = "pending"
        d.next_retry_at = when + RETRY_LADDER_SECONDS[d.attempts] * 1000
        w.at(d.next_retry_at, functools.partial(_attempt, w, d))
    if e is None:
        return
    e.last_failure_at = when
    e.consecutive_failure_count += 1
    if e.consecutive_failure_count >= AUTO_PAUSE_AFTER and e.status == "active":
        e.status = "auto_paused"
        e.updated_at = when
        abandon_pending(w, e, when)


def job_ended(w: World, job: Job) -> None:
    """`job.completed`, `job.failed` or `job.canceled` as the job ends (contract §3.15.11)."""
    data: dict[str, Any] = {"jobId": job.id, "kind": job.kind, "projectId": job.project_id}
    if job.status == "completed":
        data["result"] = job.result
    elif job.status == "failed":
        data["error"] = job.error
    emit(w, job.org_id, "job." + job.status, job.project_id, data)


def _post_data(post: ScheduledPost) -> dict[str, Any]:
    """The fields every `post.*` event carries."""
    return {
        "scheduledPostId": post.id,
        "containerId": post.container_id,
        "projectId": post.project_id,
        "socialAccountId": post.social_account_id,
    }


def post_scheduled(w: World, post: ScheduledPost) -> None:
    """`post.scheduled` as a post is created (schedule, publish-now or approval promotion)."""
    data = _post_data(post)
    data["scheduledFor"] = format_ts(post.scheduled_for)
    emit(w, post.org_id, "post.scheduled", post.project_id, data)


def post_ended(w: World, post: ScheduledPost) -> None:
    """`post.published`, `post.failed` or `post.canceled` as a post ends; drafts emit
    nothing."""
    data = _post_data(post)
    if post.status == "published":
        data.update(
            externalId=post.external_id,
            externalUrl=post.external_url,
            publishedAt=format_ts(post.published_at or 0),
        )
    elif post.status == "failed":
        data["lastError"] = post.last_error
    elif post.status == "canceled":
        data["canceledAt"] = format_ts(post.canceled_at or 0)
    else:
        return
    emit(w, post.org_id, "post." + post.status, post.project_id, data)


def content_generated(w: World, c: Container, org_id: str) -> None:
    """`content.generated` as a container completes."""
    data = {
        "id": c.id,
        "projectId": c.project_id,
        "format": c.format,
        "preview": c.preview,
        "assets": c.assets,
    }
    emit(w, org_id, "content.generated", c.project_id, data)


def content_reviewed(w: World, c: Container, org_id: str, review: Review) -> None:
    """`content.approved` or `content.rejected` as pending content is decided (contract
    §3.16); the decider is the key's id."""
    at = format_ts(review.decided_at or 0)
    data: dict[str, Any] = {"id": c.id, "projectId": c.project_id}
    if c.approval_status == "approved":
        data.update(approvedAt=at, approvedBy=review.decided_by)
    else:
        data.update(rejectedAt=at, rejectedBy=review.decided_by, reason=review.reason)
    emit(w, org_id, "content." + c.approval_status, c.project_id, data)


def _account_data(acc: SocialAccount) -> dict[str, Any]:
    """The fields every `social_account.*` event carries."""
    return {"socialAccountId": acc.id, "projectId": acc.project_id, "platform": acc.platform}


def account_needs_reauth(w: World, acc: SocialAccount) -> None:
    """`social_account.needs_reauth` as a connected account's token goes bad."""
    emit(w, acc.org_id, "social_account.needs_reauth", acc.project_id, _account_data(acc))


def account_revoked(w: World, acc: SocialAccount) -> None:
    """`social_account.revoked` as the partner disconnects an account."""
    data = _account_data(acc)
    data.update(
        disconnectedReason=acc.disconnected_reason,
        disconnectedAt=format_ts(acc.disconnected_at or 0),
    )
    emit(w, acc.org_id, "social_account.revoked", acc.project_id, data)


def account_connected(w: World, acc: SocialAccount) -> None:
    """`social_account.connected` as an OAuth attempt completes."""
    data = _account_data(acc)
    data.update(displayName=acc.display_name, connectedAt=format_ts(acc.connected_at))
    emit(w, acc.org_id, "social_account.connected", acc.project_id, data)
