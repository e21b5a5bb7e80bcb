"""Scheduled posts (contract §3.0.11, §3.9)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from ._base import LayersModel
from .jobs import ErrorInfo

__all__ = [
    "TERMINAL_POST_STATUSES",
    "RescheduleResult",
    "ScheduledPost",
    "ScheduledPostCanceled",
    "ScheduledPostStatus",
]

#: Scheduled-post statuses (responses may carry newer values as plain strings).
ScheduledPostStatus = Literal["queued", "publishing", "draft", "published", "failed", "canceled"]

#: Statuses a post never leaves.
TERMINAL_POST_STATUSES = frozenset({"published", "failed", "canceled", "draft"})


@attrs.frozen
class ScheduledPost(LayersModel):
    """One content + account + time triple created by scheduling.

    `status` goes `queued` → `publishing` → `published` | `draft` | `failed`, or `queued` →
    `canceled`. Poll a `queued` post about every 30 s and a `publishing` one about every 5 s.
    """

    id: str
    container_id: str
    social_account_id: str
    platform: str
    mode: str
    status: str
    scheduled_for: datetime
    created_at: datetime
    updated_at: datetime
    project_id: str | None = None
    external_id: str | None = None
    external_url: str | None = None
    attempted_at: datetime | None = None
    published_at: datetime | None = None
    canceled_at: datetime | None = None
    last_error: ErrorInfo | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the post is published, a draft, failed or canceled."""
        return self.status in TERMINAL_POST_STATUSES


@attrs.frozen
class RescheduleResult(LayersModel):
    """The answer to a reschedule: the post, still `queued`, at its new time."""

    id: str
    status: str
    scheduled_for: datetime
    updated_at: datetime


@attrs.frozen
class ScheduledPostCanceled(LayersModel):
    """The answer to canceling a scheduled post (the row is kept as `canceled`)."""

    id: str
    status: str
    canceled_at: datetime
