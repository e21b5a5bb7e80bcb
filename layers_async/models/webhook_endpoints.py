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

    id: str
    """The endpoint id, `wh_<uuid>`."""
    organization_id: str
    """The organization it belongs to, `org_<uuid>`."""
    url: str
    """Where deliveries are POSTed: an `https` URL (or loopback `http`), at most 2048 chars."""
    status: str
    """`active`, `paused` or `auto_paused` (after 20 consecutive failed attempts)."""
    events: tuple[str, ...]
    """The event types delivered (`WebhookEventType`), 1 to 50 of them."""
    scope: str
    """`own`, or `all_children`: every child's events too."""
    created_at: datetime
    """When the endpoint was created."""
    updated_at: datetime
    """When any field last changed."""
    project_id: str | None = None
    """Deliveries narrowed to one project, `prj_<uuid>`; None for the whole organization."""
    description: str | None = None
    """Your description, at most 500 characters; None when unset."""
    metadata: dict[str, str] = attrs.Factory(dict)
    """Your string-to-string data, returned unchanged."""
    api_version: str = "v1"
    """The payload version deliveries use, `v1`."""
    last_success_at: datetime | None = None
    """When an attempt last succeeded; None before the first success."""
    last_failure_at: datetime | None = None
    """When an attempt last failed; None before the first failure."""
    consecutive_failure_count: int = 0
    """Failed attempts since the last success; 20 pauses the endpoint."""


@attrs.frozen
class WebhookEndpointCreated(LayersModel):
    """A new endpoint and its `signing_secret` (``whsec_…``), shown only here and on rotation:
    store it to verify deliveries."""

    endpoint: WebhookEndpoint
    """The new endpoint."""
    signing_secret: Secret
    """The `whsec_…` secret that signs deliveries; shown only here and on rotation."""


@attrs.frozen
class WebhookEndpointDeleted(LayersModel):
    """The answer to deleting an endpoint (its delivery history goes with it)."""

    id: str
    """The endpoint deleted, `wh_<uuid>`."""
    deleted: bool = True
    """Always True."""


@attrs.frozen
class WebhookSecretRotated(LayersModel):
    """A rotated endpoint's new `signing_secret`, shown only here; the previous one still signs
    until `previous_secret_expires_at`."""

    endpoint_id: str
    """The endpoint, `wh_<uuid>`."""
    signing_secret: Secret
    """The new `whsec_…` secret; shown only here."""
    previous_secret_expires_at: datetime
    """Until then (24 h after rotating) deliveries carry both signatures."""
    warning: str | None = None
    """The server's reminder to store the secret now; None if it sent none."""


@attrs.frozen
class WebhookSent(LayersModel):
    """A delivery scheduled by a test ping or a replay."""

    event_id: str
    """The event delivered, `evt_<id>`."""
    delivery_id: str
    """The delivery scheduled, `dlv_<uuid>`: follow it with `deliveries()`."""
    scheduled_at: datetime
    """When the first attempt is made."""
    replay_of: str | None = None
    """For a replay, the id of the delivery replayed; None for a ping."""


@attrs.frozen
class WebhookDelivery(LayersModel):
    """One attempt chain of an event to an endpoint (never the payload)."""

    id: str
    """The delivery id, `dlv_<uuid>`."""
    endpoint_id: str
    """The endpoint delivered to, `wh_<uuid>`."""
    event_id: str
    """The event delivered, `evt_<id>` (the `X-Layers-Event-Id` header: deduplicate on it)."""
    event_type: str
    """The event's type (`WebhookEventType`)."""
    status: str
    """`pending`, `delivering`, `delivered`, `failed` or `abandoned`."""
    attempts: int
    """Attempts made so far, at most 8."""
    created_at: datetime
    """When the delivery was created."""
    next_retry_at: datetime | None = None
    """When the next attempt is due; None when none is."""
    delivered_at: datetime | None = None
    """When a 2xx answer was received; None until `delivered`."""
    abandoned_at: datetime | None = None
    """When retrying stopped (`failed` or `abandoned`); None before."""
    last_response_status: int | None = None
    """The HTTP status of the last attempt; None before any or if none came back."""
    last_response_at: datetime | None = None
    """When the last attempt was answered; None before any answer."""
    last_error_message: str | None = None
    """Why the last attempt failed; None unless it did."""
