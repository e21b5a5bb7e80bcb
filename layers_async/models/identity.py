"""Identity and wallet: `GET /v1/whoami` and `GET /v1/credits` (contract §3.1, §3.0.12)."""

from __future__ import annotations

from datetime import datetime

import attrs

from ._base import LayersModel

__all__ = ["BillingPeriod", "Wallet", "Whoami"]


@attrs.frozen
class Whoami(LayersModel):
    """The organization a key resolves to, and the key's scopes and rate-limit tier."""

    organization_id: str
    """The organization the call acts in (the child when acting for one), `org_<uuid>`."""
    workspace_id: str
    """Equal to `organization_id`."""
    organization_name: str
    """The name of that organization."""
    scopes: tuple[str, ...]
    """The key's flat scope list; `("*",)` for a full-access key."""
    rate_limit_tier: str
    """The key's rate-limit tier, e.g. `standard`."""
    api_key_id: str
    """The calling key's id, `key_<uuid>` (the parent's when acting for a child)."""
    credit_balance: int
    """The organization's wallet `balance`, in credits."""
    parent_organization_id: str | None = None
    """The parent of a child organization; None for a top-level one."""


@attrs.frozen
class BillingPeriod(LayersModel):
    """The current billing period of a wallet."""

    start: datetime
    """When the period began (the first of a month, UTC, in the sandbox)."""
    end: datetime
    """When it ends and `included_remaining` resets."""
    used_credits: int
    """Credits used in the period; equal to the wallet's `used_this_period`."""


@attrs.frozen
class Wallet(LayersModel):
    """Credits of an organization. Gate generation on `available`."""

    organization_id: str
    """The organization the wallet belongs to, `org_<uuid>`."""
    balance: int
    """`included_remaining + prepaid_balance`, in credits."""
    available: int
    """`max(0, balance - reserved_credits)`: gate generation on it."""
    included_remaining: int
    """Included credits left this period; reset at `current_period.end`."""
    prepaid_balance: int
    """Bought or allocated credits; they never expire."""
    reserved_credits: int
    """Credits held by running generations, charged or released when they end."""
    included_this_period: int
    """The credits the subscription includes per period."""
    used_this_period: int
    """Credits debited by usage this period, from either pool."""
    current_period: BillingPeriod
    """The billing period now running."""
    subscription_tier: str
    """The subscription's tier, e.g. `pro`."""
    billing_status: str
    """The billing status, e.g. `active` (always so in the sandbox)."""
    estimated_credits_per_format: dict[str, int] = attrs.Factory(dict)
    """An upper bound of credits per generation, by underscore format."""
    ingest_costs_billed: dict[str, bool] = attrs.Factory(dict)
    """Whether each ingestion source (`github`, `website`, ...) was billed."""
