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

    #: A bare UUID.
    event_id: str
    credits: int
    #: ``usage``, ``grant``, ``allocation``, ``adjustment``, ``refund`` or ``purchase``.
    event_type: str
    #: The wallet's `prepaid_balance` after the event.
    balance_after_prepaid: int
    #: The wallet's `used_this_period` after the event.
    usage_after_period: int
    created_at: datetime
    #: None for organization-level events (grants, allocations, adjustments).
    project_id: str | None = None
    #: The format of a `usage` event, e.g. ``"slideshow_remix"``.
    format: str | None = None
    container_id: str | None = None
    #: The job id of a `usage` event.
    workflow_id: str | None = None


@attrs.frozen
class CreditAllocation(LayersModel):
    """Credits moved from your prepaid balance to a child (`organizations.credits.allocate`).

    `balance` and `available` are the child's after the allocation. `replayed` is True when
    the server answered a repeat of the same call (same Idempotency-Key): nothing was moved
    again."""

    #: The ``txn_<uuid>`` id of the transfer (your side of the ledger).
    id: str
    #: The child that received the credits.
    organization_id: str
    allocated: int
    created: datetime
    balance: int
    available: int
    description: str | None = None
    #: Your metadata plus the server's ``direction`` and ``counterpartyOrgId``.
    metadata: dict[str, str] = attrs.Factory(dict)
    replayed: bool = False


@attrs.frozen
class CreditConfig(LayersModel):
    """A child's monthly cap and auto-refill rule, in credits; None means no cap / no refill."""

    monthly_credit_cap: int | None = None
    refill_threshold: int | None = None
    refill_amount: int | None = None
    #: True when both refill fields are set.
    auto_refill_enabled: bool = False


@attrs.frozen
class OrganizationCreditConfig(LayersModel):
    """A child's credit config with its current `balance` and `available` credits."""

    organization_id: str
    config: CreditConfig
    balance: int
    available: int
