"""In-memory records of the sandbox's state (mutable, slotted; never leave the sandbox)."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "ApiKey",
    "AppMedia",
    "Container",
    "CreditEvent",
    "IdempotencyRecord",
    "Influencer",
    "Job",
    "OAuthAttempt",
    "Organization",
    "ParkedSchedule",
    "Project",
    "Review",
    "ScheduledPost",
    "SocialAccount",
    "Wallet",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Work",
]


@attrs.define(slots=True)
class Wallet:
    """Credits of one organization (contract §3.0.12).

    A billing period is a calendar month of virtual time.
    """

    included_this_period: int
    prepaid: int
    subscription_tier: str
    period_start: int
    period_end: int
    used_this_period: int = 0
    reserved: int = 0
    # Tier 2 credit config (contract §3.12.4): a cap on a period's usage, and auto-refill
    monthly_cap: int | None = None
    refill_threshold: int | None = None
    refill_amount: int | None = None

    @property
    def included_remaining(self) -> int:
        """`max(0, includedThisPeriod - usedThisPeriod)`."""
        return max(0, self.included_this_period - self.used_this_period)

    @property
    def balance(self) -> int:
        """`includedRemaining + prepaidBalance`."""
        return self.included_remaining + self.prepaid

    @property
    def available(self) -> int:
        """`max(0, balance - reservedCredits)`."""
        return max(0, self.balance - self.reserved)


@attrs.define(slots=True)
class Organization:
    """A top-level or child organization (children arrive with Tier 2)."""

    id: str
    name: str
    wallet: Wallet
    created_at: int
    parent_id: str | None = None
    status: str = "active"
    metadata: dict[str, str] = attrs.Factory(dict)
    billing_email: str | None = None
    archived_at: int | None = None
    updated_at: int = 0
    #: Sandbox knob: overrides the tier's running-jobs cap for this organization.
    max_running_jobs: int | None = None
    #: What archiving swept back and revoked, answered again when the archive is repeated.
    reclaimed_credits: int = 0
    revoked_api_keys: int = 0


@attrs.define(slots=True)
class ApiKey:
    """An API key with its organization, tier, scopes and OAuth return-URL allowlist."""

    id: str
    name: str
    org_id: str
    env: str
    tier: str
    scopes: list[str]
    allowlist: frozenset[str]
    key: str
    created_at: int
    status: str = "active"
    kill_switch: bool = False
    last_used_at: int | None = None
    rotated_at: int | None = None
    revoked_at: int | None = None
    grace_until: int | None = None
    superseded_by: str | None = None

    @property
    def prefix(self) -> str:
        """The log-safe prefix `lp_<env>_<keyId16>`."""
        return self.key[:24]

    def has_scope(self, scope: str) -> bool:
        """`*` grants every scope but `org:admin`."""
        if scope in self.scopes:
            return True
        return scope != "org:admin" and "*" in self.scopes


@attrs.define(slots=True)
class Project:
    """A customer project (contract §3.0.1)."""

    id: str
    org_id: str
    name: str
    timezone: str
    created_at: int
    updated_at: int
    status: str = "active"
    customer_external_id: str | None = None
    owner_email: str | None = None
    primary_language: str = "en"
    app_name: str | None = None
    app_description: str | None = None
    tagline: str | None = None
    brand_voice: str = "authentic"
    target_gender: str = "all"
    metadata: dict[str, Any] = attrs.Factory(dict)
    archived_at: int | None = None
    logo_id: str | None = None
    hashtags: list[dict[str, Any]] = attrs.Factory(list)
    refreshed_at: int | None = None
    hooks_calls: int = 0
    review_policy: str = "auto_approve"
    review_first_n: int | None = None
    review_updated_at: int | None = None


@attrs.define(slots=True)
class AppMedia:
    """An uploaded brand asset (contract §3.0.3)."""

    id: str
    project_id: str
    kind: str
    url: str
    source_url: str
    mime_type: str
    byte_size: int
    created_at: int
    live: bool = True


@attrs.define(slots=True)
class OAuthAttempt:
    """One OAuth consent attempt (contract §3.0.4)."""

    state: str
    project_id: str
    org_id: str
    key_id: str
    platform: str
    return_url: str
    expires_at: int
    created_at: int
    scopes: list[str] | None = None
    usage_note: str | None = None
    status: str = "pending"
    social_account_id: str | None = None
    error: dict[str, str] | None = None
    completed_at: int | None = None


@attrs.define(slots=True)
class SocialAccount:
    """A connected TikTok or Instagram account (contract §3.0.5)."""

    id: str
    project_id: str
    org_id: str
    platform: str
    handle: str
    display_name: str
    connected_at: int
    token_expires_at: int | None
    avatar_url: str | None = None
    status: str = "connected"
    leased: bool = False
    disconnected_at: int | None = None
    disconnected_reason: str | None = None


@attrs.define(slots=True)
class Influencer:
    """A generated persona (contract §3.0.6)."""

    id: str
    project_id: str
    name: str
    gender: str
    age_range: str | None
    brand_voice: str
    language: str
    created_at: int
    updated_at: int
    status: str = "pending"
    image_url: str | None = None
    thumbnail_url: str | None = None
    error_message: str | None = None


@attrs.define(slots=True)
class Work:
    """A simulated piece of timed work: a job, or an automatic workflow without a job."""

    #: content_generate, influencer_create, keywords_refresh, influencer_auto or keywords_auto
    kind: str
    org_id: str
    project_id: str
    start: int
    duration: int
    stages: tuple[tuple[str, float], ...]
    fail_at: int | None
    job: Job | None = None
    influencer_id: str | None = None
    container_id: str | None = None
    stage_index: int = 0
    done: bool = False
    cancel_requested: bool = False
    final_progress: float | None = None
    ended_at: int | None = None
    reserved: int = 0
    format: str | None = None

    @property
    def end(self) -> int:
        """When the work is due to finish (earlier when it is drawn to fail)."""
        return self.fail_at if self.fail_at is not None else self.start + self.duration


@attrs.define(slots=True)
class Job:
    """A long-running job (contract §3.0.10)."""

    id: str
    kind: str
    org_id: str
    project_id: str
    started_at: int
    updated_at: int
    work: Work | None = None
    status: str = "running"
    container_ids: list[str] | None = None
    influencer_id: str | None = None
    finished_at: int | None = None
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None


@attrs.define(slots=True)
class Container:
    """A content container (contract §3.0.9)."""

    id: str
    project_id: str
    job_id: str
    format: str
    created_at: int
    updated_at: int
    hook: str | None = None
    influencer_id: str | None = None
    social_account_id: str | None = None
    source_tiktok_id: str | None = None
    media_id: str | None = None
    status: str = "queued"
    caption: str | None = None
    first_comment: str | None = None
    preview: dict[str, Any] | None = None
    assets: list[dict[str, Any]] = attrs.Factory(list)
    approval_status: str = "not_required"
    last_error: dict[str, str] | None = None
    completed_at: int | None = None
    failed_at: int | None = None


@attrs.define(slots=True)
class ScheduledPost:
    """One container + account + time (contract §3.0.11)."""

    id: str
    container_id: str
    project_id: str
    org_id: str
    social_account_id: str
    platform: str
    mode: str
    scheduled_for: int
    created_at: int
    updated_at: int
    will_fail: bool
    options: dict[str, Any] = attrs.Factory(dict)
    status: str = "queued"
    external_id: str | None = None
    external_url: str | None = None
    attempted_at: int | None = None
    published_at: int | None = None
    canceled_at: int | None = None
    last_error: dict[str, Any] | None = None
    generation: int = 0


# ---------------------------------------------------------------- approvals (contract §3.16)
@attrs.define(slots=True)
class ParkedSchedule:
    """A schedule intent parked on content awaiting approval: its time and its targets, each
    `{"sa": account id, "mode": mode, "options": the target's other fields}`."""

    scheduled_for: int
    targets: list[dict[str, Any]]


@attrs.define(slots=True)
class Review:
    """The approval side of one container: parked schedule intents, then the decision."""

    container_id: str
    parked: list[ParkedSchedule] = attrs.Factory(list)
    decided_at: int | None = None
    decided_by: str | None = None
    note: str | None = None
    reason: str | None = None


@attrs.define(slots=True)
class CreditEvent:
    """One ledger entry (contract §3.0.13)."""

    event_id: str
    org_id: str
    project_id: str | None
    credits: int
    event_type: str
    balance_after_prepaid: int
    usage_after_period: int
    created_at: int
    format: str | None = None
    container_id: str | None = None
    workflow_id: str | None = None


@attrs.define(slots=True)
class WebhookEndpoint:
    """A webhook endpoint (contract §3.0.16) and its signing secret."""

    id: str
    org_id: str
    url: str
    events: list[str]
    signing_secret: str
    created_at: int
    updated_at: int
    project_id: str | None = None
    description: str | None = None
    scope: str = "own"
    metadata: dict[str, str] = attrs.Factory(dict)
    status: str = "active"
    last_success_at: int | None = None
    last_failure_at: int | None = None
    consecutive_failure_count: int = 0
    #: The secret replaced by the last rotation, valid until `previous_expires_at` (ms).
    previous_secret: str | None = None
    previous_expires_at: int | None = None


@attrs.define(slots=True)
class WebhookDelivery:
    """One event bound for one endpoint (contract §3.0.16, §4.10), with the signed payload."""

    id: str
    org_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    payload: dict[str, Any]
    created_at: int
    status: str = "pending"
    attempts: int = 0
    next_retry_at: int | None = None
    delivered_at: int | None = None
    abandoned_at: int | None = None
    last_response_status: int | None = None
    last_response_at: int | None = None
    last_error_message: str | None = None


@attrs.define(slots=True)
class IdempotencyRecord:
    """A stored outcome for one (key id, organization, method, path, Idempotency-Key)."""

    fingerprint: bytes
    created_at: int
    status: int
    body: bytes
    headers: dict[str, str]
