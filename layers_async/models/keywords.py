"""The keyword bank: researched hashtags of a project (contract §3.0.7, §3.6)."""

from __future__ import annotations

from datetime import datetime

import attrs

from ._base import LayersModel

__all__ = ["Hashtag", "KeywordBank"]


@attrs.frozen
class Hashtag(LayersModel):
    """One researched hashtag (without `#`); pass `hashtag` as a source-recommendation keyword.

    `score` is 0-100 (curated entries score at least 70); the counts are lifetime TikTok counts.
    """

    hashtag: str
    phrase: str
    score: int
    view_count: int
    use_count: int


@attrs.frozen
class KeywordBank(LayersModel):
    """A project's hashtags, best first; empty with `refreshed_at` None until research ends."""

    project_id: str
    hashtags: tuple[Hashtag, ...] = ()
    refreshed_at: datetime | None = None
