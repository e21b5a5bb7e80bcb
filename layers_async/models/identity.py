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
    workspace_id: str
    organization_name: str
    scopes: tuple[str, ...]
    rate_limit_tier: str
    api_key_id: str
    credit_balance: int
    parent_organization_id: str | None = None


@attrs.frozen
class BillingPeriod(LayersModel):
    """The current billing period of a wallet."""

    start: datetime
    end: datetime
    used_credits: int


@attrs.frozen
class Wallet(LayersModel):
    """Credits of an organization. Gate generation on `available`."""

    organization_id: str
    balance: int
    available: int
    included_remaining: int
    prepaid_balance: int
    reserved_credits: int
    included_this_period: int
    used_this_period: int
    current_period: BillingPeriod
    subscription_tier: str
    billing_status: str
    estimated_credits_per_format: dict[str, int] = attrs.Factory(dict)
    ingest_costs_billed: dict[str, bool] = attrs.Factory(dict)
