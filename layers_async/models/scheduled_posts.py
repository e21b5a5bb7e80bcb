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
    """The scheduled post id, `sp_<uuid>`."""
    container_id: str
    """The content it publishes, `cnt_<uuid>`."""
    social_account_id: str
    """The account it publishes to, `sa_<uuid>`."""
    platform: str
    """`tiktok` or `instagram` (`Platform`)."""
    mode: str
    """`publish`, `draft` or `managed` (`PostMode`)."""
    status: str
    """`queued`, `publishing`, `published`, `draft`, `failed` or `canceled`."""
    scheduled_for: datetime
    """When publishing starts."""
    created_at: datetime
    """When the post was scheduled."""
    updated_at: datetime
    """When any field last changed."""
    project_id: str | None = None
    """The project it belongs to, `prj_<uuid>`; None if the server omits it."""
    external_id: str | None = None
    """The platform's post id; None until `published`."""
    external_url: str | None = None
    """The post's public URL; None until `published`."""
    attempted_at: datetime | None = None
    """When publishing started; None until it starts."""
    published_at: datetime | None = None
    """When it was published; None until `published`."""
    canceled_at: datetime | None = None
    """When it was canceled; None unless `canceled`."""
    last_error: ErrorInfo | None = None
    """`{code, message, platform_code}` of the failure; None unless `failed`."""

    @property
    def is_terminal(self) -> bool:
        """True once the post is published, a draft, failed or canceled."""
        return self.status in TERMINAL_POST_STATUSES


@attrs.frozen
class RescheduleResult(LayersModel):
    """The answer to a reschedule: the post, still `queued`, at its new time."""

    id: str
    """The scheduled post, `sp_<uuid>`."""
    status: str
    """Always `queued`."""
    scheduled_for: datetime
    """The new time publishing starts."""
    updated_at: datetime
    """When the post was rescheduled."""


@attrs.frozen
class ScheduledPostCanceled(LayersModel):
    """The answer to canceling a scheduled post (the row is kept as `canceled`)."""

    id: str
    """The scheduled post, `sp_<uuid>`."""
    status: str
    """Always `canceled`."""
    canceled_at: datetime
    """When it was canceled."""
