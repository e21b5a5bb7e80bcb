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
    project_id: str
    name: str
    gender: str
    brand_voice: str
    language: str
    status: str
    created_at: datetime
    updated_at: datetime
    image_url: str | None = None
    age_range: str | None = None
    error_message: str | None = None


@attrs.frozen
class InfluencerSummary(LayersModel):
    """A row of `GET /v1/projects/{projectId}/influencers`; `thumbnail_url` is set once `ready`."""

    influencer_id: str
    name: str
    gender: str
    status: str
    created_at: datetime
    age_range: str | None = None
    thumbnail_url: str | None = None
