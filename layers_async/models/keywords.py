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
    """The hashtag without `#`: pass it as `keyword=` to source recommendations."""
    phrase: str
    """The hashtag as words, e.g. `morning run`."""
    score: int
    """Relevance 0-100; curated entries score at least 70."""
    view_count: int
    """Lifetime TikTok views of the hashtag."""
    use_count: int
    """Lifetime TikTok posts using the hashtag."""


@attrs.frozen
class KeywordBank(LayersModel):
    """A project's hashtags, best first; empty with `refreshed_at` None until research ends."""

    project_id: str
    """The project, `prj_<uuid>`."""
    hashtags: tuple[Hashtag, ...] = ()
    """By `score`, then `view_count`, highest first; empty until the first research ends."""
    refreshed_at: datetime | None = None
    """When research last finished; None until the first run ends."""
