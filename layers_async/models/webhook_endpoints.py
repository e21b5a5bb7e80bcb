"""Webhook endpoints (contract §3.0.16, §3.15.1-§3.15.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from .._secret import Secret
from ._base import LayersModel

__all__ = [
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookEndpointCreated",
    "WebhookEndpointDeleted",
    "WebhookEndpointStatus",
    "WebhookEndpointUpdateStatus",
    "WebhookEventType",
    "WebhookScope",
    "WebhookSecretRotated",
    "WebhookSent",
]

#: An endpoint's status (`auto_paused` after 20 consecutive failed attempts).
WebhookEndpointStatus = Literal["active", "paused", "auto_paused"]
#: The statuses an update may set (`auto_paused` is the API's alone).
WebhookEndpointUpdateStatus = Literal["active", "paused"]
#: A delivery's status.
WebhookDeliveryStatus = Literal["pending", "delivering", "delivered", "failed", "abandoned"]
#: `own`: the organization's events; `all_children`: every child's too (needs org:admin).
WebhookScope = Literal["own", "all_children"]
#: The event catalogue (contract §3.15.11): the names an endpoint may subscribe to.
WebhookEventType = Literal[
    "job.completed", "job.failed", "job.canceled",
    "content.generated", "content.approved", "content.rejected",
    "post.scheduled", "post.published", "post.failed", "post.canceled",
    "social_account.connected", "social_account.needs_reauth", "social_account.revoked",
    "lease_request.assigned", "lease_request.rejected",
    "test.ping",
]  # fmt: skip


@attrs.frozen
class WebhookEndpoint(LayersModel):
    """A URL the organization's events are delivered to (never holds the signing secret)."""

    #: A ``wh_<uuid>`` id.
    id: str
    organization_id: str
    url: str
    #: ``active``, ``paused`` or ``auto_paused`` (after 20 consecutive failed attempts).
    status: str
    #: The event types delivered.
    events: tuple[str, ...]
    #: ``own``, or ``all_children``: every child's events too.
    scope: str
    created_at: datetime
    updated_at: datetime
    #: Deliveries narrowed to one project, or None for the whole organization.
    project_id: str | None = None
    description: str | None = None
    metadata: dict[str, str] = attrs.Factory(dict)
    api_version: str = "v1"
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    consecutive_failure_count: int = 0


@attrs.frozen
class WebhookEndpointCreated(LayersModel):
    """A new endpoint and its `signing_secret` (``whsec_…``), shown only here and on rotation:
    store it to verify deliveries."""

    endpoint: WebhookEndpoint
    signing_secret: Secret


@attrs.frozen
class WebhookEndpointDeleted(LayersModel):
    """The answer to deleting an endpoint (its delivery history goes with it)."""

    id: str
    deleted: bool = True


@attrs.frozen
class WebhookSecretRotated(LayersModel):
    """A rotated endpoint's new `signing_secret`, shown only here; the previous one still signs
    until `previous_secret_expires_at`."""

    endpoint_id: str
    signing_secret: Secret
    previous_secret_expires_at: datetime
    warning: str | None = None


@attrs.frozen
class WebhookSent(LayersModel):
    """A delivery scheduled by a test ping or a replay."""

    event_id: str
    delivery_id: str
    scheduled_at: datetime
    #: For a replay: the id of the delivery replayed.
    replay_of: str | None = None


@attrs.frozen
class WebhookDelivery(LayersModel):
    """One attempt chain of an event to an endpoint (never the payload)."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    #: ``pending``, ``delivering``, ``delivered``, ``failed`` or ``abandoned``.
    status: str
    attempts: int
    created_at: datetime
    next_retry_at: datetime | None = None
    delivered_at: datetime | None = None
    abandoned_at: datetime | None = None
    last_response_status: int | None = None
    last_response_at: datetime | None = None
    last_error_message: str | None = None
