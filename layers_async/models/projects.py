"""Projects (contract §3.0.1, §3.0.2, §3.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from . import JSON
from ._base import LayersModel

__all__ = [
    "BrandContext",
    "BrandVoice",
    "Project",
    "ProjectArchived",
    "ProjectStatus",
    "ProjectSummary",
    "TargetGender",
]

#: Brand voices the API accepts (responses may carry newer values as plain strings).
BrandVoice = Literal["authentic", "witty", "professional", "warm", "casual", "educational"]
#: Target genders the API accepts.
TargetGender = Literal["all", "female", "male"]
#: Project statuses.
ProjectStatus = Literal["active", "archived"]


@attrs.frozen
class BrandContext(LayersModel):
    """The read-only brand context the generators read."""

    app_name: str | None = None
    """A copy of the project's `app_name`."""
    app_description: str | None = None
    """A copy of the project's `app_description`."""
    tagline: str | None = None
    """A copy of the project's `tagline`."""
    audience: str | None = None
    """The audience the brand addresses; None until ingestion fills it (always in the sandbox)."""
    icp: str | None = None
    """The ideal customer profile; None until ingestion fills it (always in the sandbox)."""
    brand_voice: str | None = None
    """A copy of the project's `brand_voice`."""
    keywords: tuple[str, ...] = ()
    """Up to 10 hashtags of the keyword bank, without `#`; empty before the first research."""
    primary_language: str | None = None
    """A copy of the project's `primary_language`."""
    logo_url: str | None = None
    """The URL of the current logo; None when the project has none."""


@attrs.frozen
class Project(LayersModel):
    """A customer project: one per customer of the partner."""

    id: str
    """The project id, `prj_<uuid>`."""
    organization_id: str
    """The organization that owns it, `org_<uuid>`."""
    name: str
    """The project's name, 3-30 characters."""
    status: str
    """`active` or `archived` (`ProjectStatus`)."""
    timezone: str
    """An IANA time zone name such as `Europe/Paris`."""
    created_at: datetime
    """When the project was created."""
    updated_at: datetime
    """When any field last changed."""
    customer_external_id: str | None = None
    """Your id for the customer, unique in the organization; None if unset."""
    owner_email: str | None = None
    """The owner's email (the key owner's by default); None in the sandbox."""
    primary_language: str = "en"
    """A BCP 47 language tag, `en` by default."""
    app_name: str | None = None
    """3-30 characters; None until set."""
    app_description: str | None = None
    """100-1000 characters, needed by hooks and keyword research; None until set."""
    tagline: str | None = None
    """At most 80 characters; None until set."""
    brand_voice: str = "authentic"
    """One of `BrandVoice`; `authentic` by default."""
    target_gender: str = "all"
    """`all`, `female` or `male` (`TargetGender`); `all` by default."""
    brand_context: BrandContext | None = None
    """The read-only brand context the generators read; None if the server sent none."""
    requires_approval: bool = False
    """True when the review policy is not `auto_approve`: content waits for approval."""
    metadata: dict[str, JSON] = attrs.Factory(dict)
    """Your JSON object, at most 8 KB serialised, returned unchanged."""
    archived_at: datetime | None = None
    """When the project was archived; None while active."""


@attrs.frozen
class ProjectSummary(LayersModel):
    """A row of `GET /v1/projects`."""

    id: str
    """The project id, `prj_<uuid>`."""
    name: str
    """The project's name, 3-30 characters."""
    status: str
    """`active` or `archived` (`ProjectStatus`)."""
    timezone: str
    """An IANA time zone name such as `Europe/Paris`."""
    created_at: datetime
    """When the project was created."""
    updated_at: datetime
    """When any field last changed."""
    customer_external_id: str | None = None
    """Your id for the customer, unique in the organization; None if unset."""
    primary_language: str = "en"
    """A BCP 47 language tag, `en` by default."""
    owner_email: str | None = None
    """The owner's email (the key owner's by default); None in the sandbox."""


@attrs.frozen
class ProjectArchived(LayersModel):
    """The answer to archiving a project."""

    id: str
    """The project id, `prj_<uuid>`."""
    status: str
    """Always `archived`."""
    archived_at: datetime
    """When it was archived (refreshed by a repeated archive)."""
    canceled_scheduled_posts: int = 0
    """How many queued posts archiving canceled (0 on a repeat)."""
