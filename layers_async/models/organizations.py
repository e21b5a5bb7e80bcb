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
    """The organization id, `org_<uuid>`."""
    name: str
    """The organization's name."""
    status: str
    """`active`, `suspended` or `archived` (terminal) (`OrganizationStatus`)."""
    created_at: datetime
    """When the organization was created."""
    updated_at: datetime
    """When any field last changed."""
    parent_organization_id: str | None = None
    """The parent (your organization) of a child; None for a top-level one."""
    metadata: dict[str, str] = attrs.Factory(dict)
    """Your string-to-string data (e.g. `{"externalId": "acme-coffee"}`); opaque to Layers."""
    billing_email: str | None = None
    """The billing email address; None when unset."""
    archived_at: datetime | None = None
    """When the child was offboarded; None unless `archived`."""


@attrs.frozen
class OrganizationSummary(LayersModel):
    """What `organizations.get()` adds about a child: its projects, credits and credit config."""

    project_count: int
    """How many projects the child has."""
    balance: int
    """The child's wallet `balance`, in credits."""
    available: int
    """The child's wallet `available`, in credits."""
    credit_config: CreditConfig
    """The child's monthly cap and auto-refill rule."""


@attrs.frozen
class OrganizationDetail(Organization):
    """One child organization (`organizations.get()`), with its `summary`."""

    summary: OrganizationSummary = attrs.field(kw_only=True)
    """The child's projects, credits and credit config."""


@attrs.frozen
class OrganizationArchived(LayersModel):
    """The answer to archiving (offboarding) a child; a repeat answers the same values."""

    id: str
    """The child archived, `org_<uuid>`."""
    status: str
    """Always `archived`."""
    archived_at: datetime
    """When it was offboarded."""
    reclaimed_credits: int = 0
    """Unspent, unreserved credits swept back to your prepaid balance."""
    revoked_api_keys: int = 0
    """How many of the child's keys were revoked."""
