"""Records to wire JSON: one function (or `Shape`) per resource of the API.

`_world.py` holds the records and the rules; everything a response body looks like is here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ._clock import format_ts
from ._tenancy import key_status
from ._world import FORMAT_ESTIMATES

if TYPE_CHECKING:
    from ._models import (
        ApiKey,
        Container,
        Job,
        Organization,
        Project,
        Review,
        WebhookEndpoint,
    )
    from ._world import World

__all__ = [
    "Shape",
    "account",
    "approval",
    "child_key",
    "container",
    "credit_event",
    "influencer",
    "influencer_summary",
    "job",
    "job_envelope",
    "keys",
    "media",
    "oauth_attempt",
    "organization",
    "own_key",
    "post",
    "project",
    "project_summary",
    "rejection",
    "review_policy",
    "state",
    "ts",
    "tsn",
    "wallet",
    "webhook_delivery",
    "webhook_endpoint",
]

ts = format_ts

#: Idempotency records count in the state view only while they can still be replayed (24 h).
_IDEMPOTENCY_TTL_MS = 86_400_000


def tsn(ms: int | None) -> str | None:
    """`ts(ms)`, or None for None."""
    return format_ts(ms) if ms is not None else None


def _same(value: Any) -> Any:
    return value


_CONVERTERS: dict[str, Callable[[Any], Any]] = {"": _same, "list": list, "ts": ts, "tsn": tsn}


def _snake(camel: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in camel)


class Shape:
    """The fields of one wire object, in wire order, read from a record's attributes.

    The spec is a whitespace-separated list of `wireName[=attribute][@ts|@tsn]`: the attribute
    defaults to the wire name in snake_case; `@ts` formats a millisecond timestamp, `@tsn` one
    that may be None, `@list` copies a list.
    """

    __slots__ = ("fields",)

    def __init__(self, spec: str) -> None:
        fields: list[tuple[str, str, Callable[[Any], Any]]] = []
        for token in spec.split():
            token, _, conv = token.partition("@")
            wire, _, attr = token.partition("=")
            fields.append((wire, attr or _snake(wire), _CONVERTERS[conv]))
        self.fields = tuple(fields)

    def __call__(self, record: Any) -> dict[str, Any]:
        """The wire object of `record`."""
        return {wire: conv(getattr(record, attr)) for wire, attr, conv in self.fields}


#: ProjectSummary (contract §3.0.2).
project_summary = Shape(
    "id name status customerExternalId timezone primaryLanguage ownerEmail"
    " createdAt@ts updatedAt@ts"
)
_PROJECT_HEAD = Shape(
    "id organizationId=org_id name status customerExternalId ownerEmail timezone"
    " primaryLanguage appName appDescription tagline brandVoice targetGender"
)
_PROJECT_TAIL = Shape("metadata archivedAt@tsn createdAt@ts updatedAt@ts")
#: AppMedia (contract §3.0.3).
media = Shape("id kind url sourceUrl mimeType byteSize createdAt@ts")
#: OAuthAttempt (contract §3.0.4).
oauth_attempt = Shape(
    "state status projectId platform socialAccountId error expiresAt@ts completedAt@tsn"
)
#: SocialAccount (contract §3.0.5).
account = Shape(
    "socialAccountId=id projectId platform handle displayName avatarUrl status leased"
    " connectedAt@ts tokenExpiresAt@tsn disconnectedAt@tsn disconnectedReason"
)
#: Influencer (contract §3.0.6).
influencer = Shape(
    "influencerId=id projectId name imageUrl gender ageRange brandVoice language status"
    " errorMessage createdAt@ts updatedAt@ts"
)
#: InfluencerSummary (contract §3.0.6).
influencer_summary = Shape("influencerId=id name gender ageRange status thumbnailUrl createdAt@ts")
_CONTAINER_HEAD = Shape("id projectId jobId status format")
_CONTAINER_TAIL = Shape(
    "hook influencerId socialAccountId sourceTiktokId mediaId caption firstComment preview"
    " assets approvalStatus lastError createdAt@ts updatedAt@ts completedAt@tsn failedAt@tsn"
)
#: ScheduledPost (contract §3.0.11).
post = Shape(
    "id containerId projectId socialAccountId platform mode status externalId externalUrl"
    " scheduledFor@ts attemptedAt@tsn publishedAt@tsn canceledAt@tsn lastError"
    " createdAt@ts updatedAt@ts"
)
_JOB_HEAD = Shape("jobId=id kind")
#: Organization (contract §3.0.14).
organization = Shape(
    "id parentOrganizationId=parent_id name status metadata billingEmail archivedAt@tsn"
    " createdAt@ts updatedAt@ts"
)
_CHILD_KEY_HEAD = Shape("id organizationId=org_id name prefix env scopes@list rateLimitTier=tier")
_CHILD_KEY_TAIL = Shape(
    "createdAt@ts lastUsedAt@tsn rotatedAt@tsn revokedAt@tsn graceUntil@tsn supersededBy"
)
_OWN_KEY_HEAD = Shape("id organizationId=org_id name prefix killSwitch")
#: CreditEvent (contract §3.0.13).
credit_event = Shape(
    "eventId projectId credits eventType format containerId workflowId balanceAfterPrepaid"
    " usageAfterPeriod createdAt@ts"
)
#: WebhookEndpoint (contract §3.0.16).
_ENDPOINT_HEAD = Shape(
    "id organizationId=org_id projectId url description status events@list scope metadata"
)
_ENDPOINT_TAIL = Shape(
    "createdAt@ts updatedAt@ts lastSuccessAt@tsn lastFailureAt@tsn consecutiveFailureCount"
)
#: WebhookDelivery (contract §3.0.16): never the payload.
webhook_delivery = Shape(
    "id endpointId eventId eventType status attempts nextRetryAt@tsn deliveredAt@tsn"
    " abandonedAt@tsn lastResponseStatus lastResponseAt@tsn lastErrorMessage createdAt@ts"
)
_KEY = Shape("id name organizationId=org_id env rateLimitTier=tier scopes@list key status")


def child_key(k: ApiKey) -> dict[str, Any]:
    """ChildApiKey (contract §3.0.15): never the secret."""
    return {**_CHILD_KEY_HEAD(k), "status": key_status(k), **_CHILD_KEY_TAIL(k)}


def own_key(k: ApiKey) -> dict[str, Any]:
    """OwnApiKey (contract §3.0.15), the kill and rotate view."""
    return {
        **_OWN_KEY_HEAD(k),
        "isActive": not k.kill_switch and k.status == "active",
        "rotatedAt": tsn(k.rotated_at),
        "revokedAt": tsn(k.revoked_at),
    }


def webhook_endpoint(e: WebhookEndpoint) -> dict[str, Any]:
    """WebhookEndpoint (contract §3.0.16); the signing secret is never part of it."""
    return {**_ENDPOINT_HEAD(e), "apiVersion": "v1", **_ENDPOINT_TAIL(e)}


def container(c: Container) -> dict[str, Any]:
    """Container (contract §3.0.9): every content item is `generated` in the sandbox."""
    return {**_CONTAINER_HEAD(c), "creativeType": "generated", **_CONTAINER_TAIL(c)}


def approval(c: Container, r: Review, promotion: dict[str, Any] | None) -> dict[str, Any]:
    """The answer to an approval (contract §3.16.1); `pendingSchedulePromotion` only when
    schedule intents were parked."""
    out: dict[str, Any] = {
        "id": c.id,
        "approvalStatus": c.approval_status,
        "approvedAt": tsn(r.decided_at),
        "approvedBy": r.decided_by,
    }
    if promotion is not None:
        out["pendingSchedulePromotion"] = promotion
    return out


def rejection(c: Container, r: Review) -> dict[str, Any]:
    """The answer to a rejection (contract §3.16.2)."""
    return {
        "id": c.id,
        "approvalStatus": c.approval_status,
        "rejectedAt": tsn(r.decided_at),
        "rejectedBy": r.decided_by,
        "reason": r.reason,
    }


def review_policy(p: Project, pending: int) -> dict[str, Any]:
    """A project's content review policy (contract §3.16.3); `updatedAt` null if never set."""
    return {
        "projectId": p.id,
        "policy": p.review_policy,
        "firstN": p.review_first_n,
        "pendingCount": pending,
        "updatedAt": tsn(p.review_updated_at),
    }


def wallet(world: World, org: Organization) -> dict[str, Any]:
    """Wallet (contract §3.0.12), rolled over to the current billing period first."""
    w = world.wallet(org)
    return {
        "organizationId": org.id,
        "balance": w.balance,
        "available": w.available,
        "includedRemaining": w.included_remaining,
        "prepaidBalance": w.prepaid,
        "reservedCredits": w.reserved,
        "includedThisPeriod": w.included_this_period,
        "usedThisPeriod": w.used_this_period,
        "currentPeriod": {
            "start": ts(w.period_start),
            "end": ts(w.period_end),
            "usedCredits": w.used_this_period,
        },
        "subscriptionTier": w.subscription_tier,
        "billingStatus": "active",
        "estimatedCreditsPerFormat": dict(FORMAT_ESTIMATES),
        "ingestCostsBilled": {"github": False, "website": False, "appstore": False},
    }


def project(world: World, p: Project) -> dict[str, Any]:
    """Project (contract §3.0.1): the brand context shows the live logo and ten keywords."""
    logo = world.media.get(p.logo_id) if p.logo_id else None
    return {
        **_PROJECT_HEAD(p),
        "brandContext": {
            "appName": p.app_name,
            "appDescription": p.app_description,
            "tagline": p.tagline,
            "audience": None,
            "icp": None,
            "brandVoice": p.brand_voice,
            "keywords": [h["hashtag"] for h in p.hashtags[:10]],
            "primaryLanguage": p.primary_language,
            "logoUrl": logo.url if logo is not None and logo.live else None,
        },
        "requiresApproval": p.review_policy != "auto_approve",
        **_PROJECT_TAIL(p),
    }


def _job_head(job: Job, status: str, stage: str | None, progress: float) -> dict[str, Any]:
    body: dict[str, Any] = {
        **_JOB_HEAD(job),
        "status": status,
        "stage": stage,
        "progress": progress,
        "projectId": job.project_id,
    }
    if job.container_ids is not None:
        body["containerIds"] = list(job.container_ids)
    if job.influencer_id is not None:
        body["influencerId"] = job.influencer_id
    body["locationUrl"] = f"/v1/jobs/{job.id}"
    body["startedAt"] = ts(job.started_at)
    return body


def job_envelope(job: Job) -> dict[str, Any]:
    """The 202 job envelope (contract §1.12): running, stage null, progress 0."""
    return _job_head(job, "running", None, 0)


def job(world: World, record: Job, now: int) -> dict[str, Any]:
    """Job (contract §3.0.10): `result` only once completed, `error` only once failed."""
    work = record.work
    stage = work.stages[work.stage_index][0] if work is not None else None
    progress = world.progress(work, now) if work is not None else 1
    body = _job_head(record, record.status, stage, 1 if progress == 1.0 else progress)
    body["updatedAt"] = ts(record.updated_at)
    body["finishedAt"] = tsn(record.finished_at)
    body["result"] = record.result if record.status == "completed" else None
    body["error"] = record.error if record.status == "failed" else None
    return body


def keys(api_keys: Iterable[ApiKey]) -> list[dict[str, Any]]:
    """Every key with its current string (the `/_sandbox/keys` admin view)."""
    return [_KEY(k) for k in api_keys]


def _counts(
    items: Iterable[Any],
    org_filter: str | None,
    org_of: Callable[[Any], str],
    status_of: Callable[[Any], str] | None,
) -> dict[str, Any]:
    """How many items (of the filtered organization), and by status when it has one."""
    total = 0
    by: dict[str, int] = {}
    for it in items:
        if org_filter is not None and org_of(it) != org_filter:
            continue
        total += 1
        if status_of is not None:
            s = status_of(it)
            by[s] = by.get(s, 0) + 1
    out: dict[str, Any] = {"total": total}
    if status_of is not None:
        out["byStatus"] = by
    return out


def _org_id(record: Any) -> str:
    return str(record.org_id)


def _status(record: Any) -> str:
    return str(record.status)


def state(world: World, org_filter: str | None) -> dict[str, Any]:
    """The `/_sandbox/state` view (contract §5.7): traffic, and counts per resource and status."""

    def proj_org(record: Any) -> str:
        return world.projects[record.project_id].org_id

    def count(items: Iterable[Any], org_of: Callable[[Any], str] = _org_id) -> dict[str, Any]:
        return _counts(items, org_filter, org_of, _status)

    now = world.now()
    live_media = [m for m in world.media.values() if m.live]
    return {
        "now": ts(world.now()),
        "speed": world.clock.speed,
        "requests": {
            "total": sum(world.requests_by_route.values()),
            "byRoute": dict(sorted(world.requests_by_route.items())),
        },
        "responses": {"byStatus": dict(sorted(world.responses_by_status.items()))},
        "counts": {
            "organizations": count(world.orgs.values(), lambda o: o.id),
            "apiKeys": _counts(world.keys.values(), org_filter, _org_id, key_status),
            "projects": count(world.projects.values()),
            "appMedia": _counts(live_media, org_filter, proj_org, None),
            "oauthAttempts": count(world.oauth.values()),
            "socialAccounts": count(world.accounts.values()),
            "influencers": count(world.influencers.values(), proj_org),
            "jobs": count(world.jobs.values()),
            "containers": count(world.containers.values(), proj_org),
            "scheduledPosts": count(world.posts.values()),
            # Containers by approval status, and the schedule intents parked on held content.
            "approvals": _counts(
                world.containers.values(), org_filter, proj_org, lambda c: c.approval_status
            ),
            "parkedSchedules": {
                "total": sum(
                    len(r.parked)
                    for r in world.reviews.values()
                    if org_filter is None
                    or proj_org(world.containers[r.container_id]) == org_filter
                )
            },
            "webhookEndpoints": count(world.webhook_endpoints.values()),
            "webhookDeliveries": _counts(
                world.webhook_deliveries.values(),
                org_filter,
                _org_id,
                _status,
            ),
            "creditEvents": _counts(world.credit_events, org_filter, _org_id, None),
            "idempotencyRecords": {
                "total": sum(
                    1
                    for r in world.idempotency.values()
                    if now - r.created_at < _IDEMPOTENCY_TTL_MS
                )
            },
        },
    }
