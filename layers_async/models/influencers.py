"""Influencers: generated personas of a project (contract §3.0.6, §3.5)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from ._base import LayersModel

__all__ = [
    "AgeRange",
    "Gender",
    "Influencer",
    "InfluencerStatus",
    "InfluencerSummary",
]

#: Persona genders the API accepts (responses may carry newer values as plain strings).
Gender = Literal["male", "female", "non_binary"]
#: Persona age ranges the API accepts.
AgeRange = Literal["teen", "young_adult", "adult", "mid_adult", "mature", "senior"]
#: Influencer statuses, as accepted by the `status` filter of the list.
InfluencerStatus = Literal["pending", "training", "ready", "failed"]


@attrs.frozen
class Influencer(LayersModel):
    """A persona. `status` is `pending`, `training`, `ready` or `failed`; `image_url` is set
    once `ready`, `error_message` once `failed`."""

    influencer_id: str
    """The influencer id, `inf_<uuid>`."""
    project_id: str
    """The project it belongs to, `prj_<uuid>`."""
    name: str
    """A name the server generates at creation; never None."""
    gender: str
    """`male`, `female` or `non_binary` (`Gender`)."""
    brand_voice: str
    """The project's brand voice when it was created (`BrandVoice`)."""
    language: str
    """A BCP 47 tag: the project's `primary_language` when it was created."""
    status: str
    """`pending`, `training`, `ready` or `failed` (`InfluencerStatus`)."""
    created_at: datetime
    """When the influencer was created."""
    updated_at: datetime
    """When any field last changed."""
    image_url: str | None = None
    """The permanent portrait URL; None until `ready`."""
    age_range: str | None = None
    """One of `AgeRange`; None when not set."""
    error_message: str | None = None
    """Why training failed; None unless `failed`."""


@attrs.frozen
class InfluencerSummary(LayersModel):
    """A row of `GET /v1/projects/{projectId}/influencers`; `thumbnail_url` is set once `ready`."""

    influencer_id: str
    """The influencer id, `inf_<uuid>`."""
    name: str
    """A name the server generates at creation; never None."""
    gender: str
    """`male`, `female` or `non_binary` (`Gender`)."""
    status: str
    """`pending`, `training`, `ready` or `failed` (`InfluencerStatus`)."""
    created_at: datetime
    """When the influencer was created."""
    age_range: str | None = None
    """One of `AgeRange`; None when not set."""
    thumbnail_url: str | None = None
    """A small portrait URL; None until `ready`."""
