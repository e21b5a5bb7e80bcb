"""Credit ledgers, allocations to children and a child's credit config (contract §3.0.13, §3.12,
§3.14). The wallet itself is `Wallet` (`models.identity`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from ._base import LayersModel

__all__ = [
    "CreditAllocation",
    "CreditConfig",
    "CreditEvent",
    "CreditEventType",
    "OrganizationCreditConfig",
]

#: Ledger event types (responses may carry newer ones as plain strings).
CreditEventType = Literal["usage", "refund", "grant", "purchase", "adjustment", "allocation"]


@attrs.frozen
class CreditEvent(LayersModel):
    """One ledger row: signed `credits` (negative debits, positive credits)."""

    event_id: str
    """The event id, a bare UUID."""
    credits: int
    """Signed credits: negative for a debit, positive for a credit."""
    event_type: str
    """`usage`, `grant`, `allocation`, `adjustment`, `refund` or `purchase` (`CreditEventType`)."""
    balance_after_prepaid: int
    """The wallet's `prepaid_balance` after the event."""
    usage_after_period: int
    """The wallet's `used_this_period` after the event."""
    created_at: datetime
    """When the event was written."""
    project_id: str | None = None
    """The project of a `usage` event; None for organization-level events (grants, ...)."""
    format: str | None = None
    """The underscore format of a `usage` event, e.g. `slideshow_remix`; else None."""
    container_id: str | None = None
    """The container a `usage` event paid for, `cnt_<uuid>`; else None."""
    workflow_id: str | None = None
    """The job id of a `usage` event, `job_<ULID>`; else None."""


@attrs.frozen
class CreditAllocation(LayersModel):
    """Credits moved from your prepaid balance to a child (`organizations.credits.allocate`).

    `balance` and `available` are the child's after the allocation. `replayed` is True when
    the server answered a repeat of the same call (same Idempotency-Key): nothing was moved
    again."""

    id: str
    """The `txn_<uuid>` id of the transfer (your side of the ledger)."""
    organization_id: str
    """The child that received the credits, `org_<uuid>`."""
    allocated: int
    """The credits moved, a positive integer."""
    created: datetime
    """When the transfer was made."""
    balance: int
    """The child's wallet `balance` after the allocation."""
    available: int
    """The child's wallet `available` after the allocation."""
    description: str | None = None
    """Your description, at most 500 characters; None when not given."""
    metadata: dict[str, str] = attrs.Factory(dict)
    """Your metadata plus the server's `direction` and `counterpartyOrgId`."""
    replayed: bool = False
    """True when this answers a repeat of the same call: nothing was moved again."""


@attrs.frozen
class CreditConfig(LayersModel):
    """A child's monthly cap and auto-refill rule, in credits; None means no cap / no refill."""

    monthly_credit_cap: int | None = None
    """The most credits the child may use per billing period; None for no cap."""
    refill_threshold: int | None = None
    """Refill when the child's `available` falls below this; None for no refill."""
    refill_amount: int | None = None
    """Credits moved from your prepaid balance on each refill; None for no refill."""
    auto_refill_enabled: bool = False
    """True when both refill fields are set."""


@attrs.frozen
class OrganizationCreditConfig(LayersModel):
    """A child's credit config with its current `balance` and `available` credits."""

    organization_id: str
    """The child, `org_<uuid>`."""
    config: CreditConfig
    """Its monthly cap and auto-refill rule."""
    balance: int
    """The child's wallet `balance`, in credits."""
    available: int
    """The child's wallet `available`, in credits."""
