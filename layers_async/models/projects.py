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
    app_description: str | None = None
    tagline: str | None = None
    audience: str | None = None
    icp: str | None = None
    brand_voice: str | None = None
    keywords: tuple[str, ...] = ()
    primary_language: str | None = None
    logo_url: str | None = None


@attrs.frozen
class Project(LayersModel):
    """A customer project: one per customer of the partner."""

    id: str
    organization_id: str
    name: str
    status: str
    timezone: str
    created_at: datetime
    updated_at: datetime
    customer_external_id: str | None = None
    owner_email: str | None = None
    primary_language: str = "en"
    app_name: str | None = None
    app_description: str | None = None
    tagline: str | None = None
    brand_voice: str = "authentic"
    target_gender: str = "all"
    brand_context: BrandContext | None = None
    requires_approval: bool = False
    metadata: dict[str, JSON] = attrs.Factory(dict)
    archived_at: datetime | None = None


@attrs.frozen
class ProjectSummary(LayersModel):
    """A row of `GET /v1/projects`."""

    id: str
    name: str
    status: str
    timezone: str
    created_at: datetime
    updated_at: datetime
    customer_external_id: str | None = None
    primary_language: str = "en"
    owner_email: str | None = None


@attrs.frozen
class ProjectArchived(LayersModel):
    """The answer to archiving a project."""

    id: str
    status: str
    archived_at: datetime
    canceled_scheduled_posts: int = 0
