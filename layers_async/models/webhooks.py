"""Webhook events (contract §3.15.10, §3.15.11): one model per event type of the catalogue.

Every event is a `WebhookEvent` (``id``, ``type``, ``created_at``, ``data``, ``replay_of``);
each known type is a subclass whose `data` is a typed model, so a receiver can branch with
``isinstance`` or ``match``. A type the SDK does not know yet (or a known one whose `data`
lacks an identifying field) stays a plain `WebhookEvent` with `data` as a dict: never an error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ._base import LayersModel
from .content import Preview
from .jobs import ErrorInfo

__all__ = [
    "EVENT_CLASSES",
    "ContentApprovedEvent",
    "ContentGeneratedData",
    "ContentGeneratedEvent",
    "ContentRejectedEvent",
    "ContentReviewData",
    "JobCanceledEvent",
    "JobCompletedEvent",
    "JobEventData",
    "JobFailedEvent",
    "LeaseRequestAssignedEvent",
    "LeaseRequestRejectedEvent",
    "PostCanceledEvent",
    "PostEventData",
    "PostFailedEvent",
    "PostPublishedEvent",
    "PostScheduledEvent",
    "SocialAccountConnectedEvent",
    "SocialAccountEventData",
    "SocialAccountNeedsReauthEvent",
    "SocialAccountRevokedEvent",
    "TestPingData",
    "TestPingEvent",
    "WebhookEvent",
]


@attrs.frozen(kw_only=True)
class WebhookEvent(LayersModel):
    """A delivered event. Known types decode to a subclass with a typed `data`; an unknown
    type stays a `WebhookEvent` whose `data` is the payload's ``data`` object as a dict."""

    id: str
    """`evt_<ULID>`, the same on every retry (also `X-Layers-Event-Id`): deduplicate on it."""
    type: str
    """The catalogue name, e.g. `job.completed` (a plain `str`: new types pass through)."""
    data: Any = attrs.Factory(dict)
    """The event's `data`: a typed model on a known type's subclass, else the JSON object."""
    created_at: datetime | None = None
    """When the event happened; None if the payload omits it."""
    replay_of: str | None = None
    """On a replay, the id of the delivery it replays (`dlv_…`); None otherwise."""


@attrs.frozen(kw_only=True)
class JobEventData(LayersModel):
    """`data` of ``job.completed``, ``job.failed`` and ``job.canceled``."""

    job_id: str
    """The job, `job_<ULID>`."""
    organization_id: str | None = None
    """The organization the event belongs to; None if the payload omits it."""
    kind: str | None = None
    """The job's kind, e.g. `content_generate`; None if the payload omits it."""
    project_id: str | None = None
    """The project the job worked on; None if the payload omits it."""
    result: dict[str, Any] | None = None
    """What the job made, as the job's `result` (`job.completed` only); else None."""
    error: ErrorInfo | None = None
    """Why it failed (`job.failed` only); else None."""


@attrs.frozen(kw_only=True)
class ContentGeneratedData(LayersModel):
    """`data` of ``content.generated``: a container became ``completed``."""

    id: str
    """The container's `cnt_…` id."""
    organization_id: str | None = None
    """The organization the event belongs to; None if the payload omits it."""
    project_id: str | None = None
    """The container's project; None if the payload omits it."""
    format: str | None = None
    """The generation format, hyphenated; None if the payload omits it."""
    preview: Preview | None = None
    """What to render, as on the container; None if the payload omits it."""
    assets: tuple[Any, ...] = ()
    """The generated files, as the payload carries them."""


@attrs.frozen(kw_only=True)
class ContentReviewData(LayersModel):
    """`data` of ``content.approved`` (``approved_*``) and ``content.rejected`` (``rejected_*``
    and ``reason``)."""

    id: str
    """The container's `cnt_…` id."""
    organization_id: str | None = None
    """The organization the event belongs to; None if the payload omits it."""
    project_id: str | None = None
    """The container's project; None if the payload omits it."""
    approved_at: datetime | None = None
    """When it was approved (`content.approved`); else None."""
    approved_by: str | None = None
    """The approving key's id, `key_…` (`content.approved`); else None."""
    rejected_at: datetime | None = None
    """When it was rejected (`content.rejected`); else None."""
    rejected_by: str | None = None
    """The rejecting key's id, `key_…` (`content.rejected`); else None."""
    reason: str | None = None
    """The reason given for the rejection (`content.rejected`); else None."""


@attrs.frozen(kw_only=True)
class PostEventData(LayersModel):
    """`data` of the ``post.*`` events (each type fills its own fields)."""

    scheduled_post_id: str
    """The scheduled post, `sp_<uuid>`."""
    organization_id: str | None = None
    """The organization the event belongs to; None if the payload omits it."""
    container_id: str | None = None
    """The content posted, `cnt_<uuid>`; None if the payload omits it."""
    project_id: str | None = None
    """The post's project; None if the payload omits it."""
    social_account_id: str | None = None
    """The account posted to, `sa_<uuid>`; None if the payload omits it."""
    scheduled_for: datetime | None = None
    """When it is to publish (`post.scheduled`); else None."""
    external_id: str | None = None
    """The platform's post id (`post.published`); else None."""
    external_url: str | None = None
    """The post's public URL (`post.published`); else None."""
    published_at: datetime | None = None
    """When it was published (`post.published`); else None."""
    last_error: ErrorInfo | None = None
    """Why it failed (`post.failed`); else None."""
    canceled_at: datetime | None = None
    """When it was canceled (`post.canceled`); else None."""


@attrs.frozen(kw_only=True)
class SocialAccountEventData(LayersModel):
    """`data` of the ``social_account.*`` events (each type fills its own fields)."""

    social_account_id: str
    """The account, `sa_<uuid>`."""
    organization_id: str | None = None
    """The organization the event belongs to; None if the payload omits it."""
    project_id: str | None = None
    """The account's project; None if the payload omits it."""
    platform: str | None = None
    """`tiktok` or `instagram`; None if the payload omits it."""
    display_name: str | None = None
    """The name shown on the profile (`social_account.connected`); else None."""
    connected_at: datetime | None = None
    """When it was connected (`social_account.connected`); else None."""
    disconnected_reason: str | None = None
    """Why, e.g. `revoked_by_partner` (`social_account.revoked`); else None."""
    disconnected_at: datetime | None = None
    """When it was disconnected (`social_account.revoked`); else None."""


@attrs.frozen(kw_only=True)
class TestPingData(LayersModel):
    """`data` of ``test.ping`` (the default one: ``message`` and ``endpoint_id``)."""

    __test__ = False  # not a pytest test class

    message: str
    """The ping's message."""
    organization_id: str | None = None
    """The organization the event belongs to; None if the payload omits it."""
    endpoint_id: str | None = None
    """The endpoint tested, `wh_<uuid>`; None if the payload omits it."""


@attrs.frozen(kw_only=True)
class JobCompletedEvent(WebhookEvent):
    """``job.completed``: a job ended ``completed``."""

    data: JobEventData


@attrs.frozen(kw_only=True)
class JobFailedEvent(WebhookEvent):
    """``job.failed``: a job ended ``failed`` (``data.error`` says why)."""

    data: JobEventData


@attrs.frozen(kw_only=True)
class JobCanceledEvent(WebhookEvent):
    """``job.canceled``: a job ended ``canceled``."""

    data: JobEventData


@attrs.frozen(kw_only=True)
class ContentGeneratedEvent(WebhookEvent):
    """``content.generated``: a container became ``completed``."""

    data: ContentGeneratedData


@attrs.frozen(kw_only=True)
class ContentApprovedEvent(WebhookEvent):
    """``content.approved``: a pending container was approved."""

    data: ContentReviewData


@attrs.frozen(kw_only=True)
class ContentRejectedEvent(WebhookEvent):
    """``content.rejected``: a pending container was rejected."""

    data: ContentReviewData


@attrs.frozen(kw_only=True)
class PostScheduledEvent(WebhookEvent):
    """``post.scheduled``: a scheduled post was created."""

    data: PostEventData


@attrs.frozen(kw_only=True)
class PostPublishedEvent(WebhookEvent):
    """``post.published``: a post went out (``data.external_url``)."""

    data: PostEventData


@attrs.frozen(kw_only=True)
class PostFailedEvent(WebhookEvent):
    """``post.failed``: a post could not be published (``data.last_error``)."""

    data: PostEventData


@attrs.frozen(kw_only=True)
class PostCanceledEvent(WebhookEvent):
    """``post.canceled``: a scheduled post was canceled."""

    data: PostEventData


@attrs.frozen(kw_only=True)
class SocialAccountConnectedEvent(WebhookEvent):
    """``social_account.connected``: an OAuth attempt completed."""

    data: SocialAccountEventData


@attrs.frozen(kw_only=True)
class SocialAccountNeedsReauthEvent(WebhookEvent):
    """``social_account.needs_reauth``: an account needs its owner to connect it again."""

    data: SocialAccountEventData


@attrs.frozen(kw_only=True)
class SocialAccountRevokedEvent(WebhookEvent):
    """``social_account.revoked``: the partner disconnected an account."""

    data: SocialAccountEventData


@attrs.frozen(kw_only=True)
class LeaseRequestAssignedEvent(WebhookEvent):
    """``lease_request.assigned`` (Tier 3: its `data` is not specified, so it stays a dict)."""


@attrs.frozen(kw_only=True)
class LeaseRequestRejectedEvent(WebhookEvent):
    """``lease_request.rejected`` (Tier 3: its `data` is not specified, so it stays a dict)."""


@attrs.frozen(kw_only=True)
class TestPingEvent(WebhookEvent):
    """``test.ping``: sent by ``client.webhook_endpoints.test``. (When the test call sent its
    own `payload` without a ``message``, the event stays a plain `WebhookEvent`.)"""

    __test__ = False  # not a pytest test class

    data: TestPingData


#: The model of each event type of the catalogue (contract §3.15.11); other types decode to
#: `WebhookEvent`.
EVENT_CLASSES: dict[str, type[WebhookEvent]] = {
    "job.completed": JobCompletedEvent,
    "job.failed": JobFailedEvent,
    "job.canceled": JobCanceledEvent,
    "content.generated": ContentGeneratedEvent,
    "content.approved": ContentApprovedEvent,
    "content.rejected": ContentRejectedEvent,
    "post.scheduled": PostScheduledEvent,
    "post.published": PostPublishedEvent,
    "post.failed": PostFailedEvent,
    "post.canceled": PostCanceledEvent,
    "social_account.connected": SocialAccountConnectedEvent,
    "social_account.needs_reauth": SocialAccountNeedsReauthEvent,
    "social_account.revoked": SocialAccountRevokedEvent,
    "lease_request.assigned": LeaseRequestAssignedEvent,
    "lease_request.rejected": LeaseRequestRejectedEvent,
    "test.ping": TestPingEvent,
}
