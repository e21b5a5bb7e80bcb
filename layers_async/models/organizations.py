"""Sub-organizations (contract §3.0.14, §3.10): a child organization per customer, with its own
wallet and keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from ._base import LayersModel
from .credits import CreditConfig

__all__ = [
    "Organization",
    "OrganizationArchived",
    "OrganizationDetail",
    "OrganizationStatus",
    "OrganizationSummary",
]

#: A child organization's status: `suspended` is the per-customer kill switch, `archived`
#: (offboarded) is terminal (contract §4.8).
OrganizationStatus = Literal["active", "suspended", "archived"]


@attrs.frozen
class Organization(LayersModel):
    """A child organization: a customer's isolation boundary (wallet, keys, projects)."""

    id: str
    name: str
    #: ``active``, ``suspended`` or ``archived`` (terminal).
    status: str
    created_at: datetime
    updated_at: datetime
    #: The parent (your organization) for a child; None for a top-level organization.
    parent_organization_id: str | None = None
    #: Your own string → string data (e.g. ``{"externalId": "acme-coffee"}``); opaque to Layers.
    metadata: dict[str, str] = attrs.Factory(dict)
    billing_email: str | None = None
    #: When the child was offboarded.
    archived_at: datetime | None = None


@attrs.frozen
class OrganizationSummary(LayersModel):
    """What `organizations.get()` adds about a child: its projects, credits and credit config."""

    project_count: int
    balance: int
    available: int
    credit_config: CreditConfig


@attrs.frozen
class OrganizationDetail(Organization):
    """One child organization (`organizations.get()`), with its `summary`."""

    summary: OrganizationSummary = attrs.field(kw_only=True)


@attrs.frozen
class OrganizationArchived(LayersModel):
    """The answer to archiving (offboarding) a child; a repeat answers the same values."""

    id: str
    status: str
    archived_at: datetime
    #: Unspent, unreserved credits swept back to the parent's prepaid balance.
    reclaimed_credits: int = 0
    #: How many of the child's keys were revoked.
    revoked_api_keys: int = 0
