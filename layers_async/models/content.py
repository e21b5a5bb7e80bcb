"""Content: source recommendations, hooks, containers, progress, scheduling (contract §3.0.8,
§3.0.9, §3.7, §3.9.1)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

import attrs

from . import JSON
from ._base import LayersModel
from .jobs import Asset, ErrorInfo

__all__ = [
    "ApprovalStatus",
    "Container",
    "ContainerStatus",
    "ContentFormat",
    "ContentProgress",
    "CreativeType",
    "Hook",
    "HookBank",
    "PostMode",
    "Preview",
    "ScheduleResult",
    "ScheduleTarget",
    "SourceAuthor",
    "SourceItem",
    "SourceKind",
    "SourceRecommendations",
    "SourceStats",
]

#: What source recommendations return: slideshows, videos, or both alternating (`mixed`).
SourceKind = Literal["slideshow", "video", "mixed"]
#: The four generation formats, as they appear in paths and on containers (hyphenated).
ContentFormat = Literal["slideshow-remix", "video-remix", "slideshow-builder", "ugc-remix"]
#: Container statuses (responses may carry newer values as plain strings).
ContainerStatus = Literal["queued", "processing", "completed", "failed", "canceled"]
#: A container's approval status (contract §3.16; responses may carry newer values as plain
#: strings).
ApprovalStatus = Literal["not_required", "pending", "approved", "rejected"]
#: How a container was made.
CreativeType = Literal["generated", "uploaded"]
#: What a schedule target does at `scheduled_for`: post, push a draft, or hand to managed
#: distribution.
PostMode = Literal["publish", "draft", "managed"]


@attrs.frozen
class SourceAuthor(LayersModel):
    """The author of a TikTok source post."""

    handle: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    follower_count: int | None = None


@attrs.frozen
class SourceStats(LayersModel):
    """Lifetime counts of a TikTok source post."""

    view_count: int | None = None
    like_count: int | None = None
    comment_count: int | None = None
    share_count: int | None = None


@attrs.frozen
class SourceItem(LayersModel):
    """A TikTok post to remix; pass `tiktok_id` as `tiktok_video_id` to the remix formats."""

    tiktok_id: str
    kind: str
    thumbnail_url: str
    caption: str
    author: SourceAuthor | None = None
    stats: SourceStats | None = None
    #: Slides of a slideshow; None for a video.
    image_count: int | None = None


@attrs.frozen
class SourceRecommendations(LayersModel):
    """The answer of `content.source_recommendations()`; not paginated (`next_cursor` is None)."""

    items: tuple[SourceItem, ...]
    #: `portfolio` (no keyword) or `live_search` (a keyword was given); informational.
    source: str
    next_cursor: str | None = None


@attrs.frozen
class Preview(LayersModel):
    """What to render for a container (prefer it over `assets`)."""

    kind: str
    primary_url: str
    thumbnail_url: str | None = None
    image_urls: tuple[str, ...] = ()
    video_url: str | None = None
    hls_url: str | None = None
    duration_ms: int | None = None
    aspect_ratio: str | None = None


@attrs.frozen
class Container(LayersModel):
    """A content container: one generated piece of content, its preview, assets and status."""

    id: str
    project_id: str
    status: str
    creative_type: str
    approval_status: str
    created_at: datetime
    updated_at: datetime
    job_id: str | None = None
    format: str | None = None
    hook: str | None = None
    influencer_id: str | None = None
    social_account_id: str | None = None
    source_tiktok_id: str | None = None
    media_id: str | None = None
    caption: str | None = None
    first_comment: str | None = None
    preview: Preview | None = None
    assets: tuple[Asset, ...] = ()
    last_error: ErrorInfo | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None


@attrs.frozen
class ContentProgress(LayersModel):
    """Generation progress of a container: its job's stage and the progress within it."""

    container_id: str
    status: str
    #: The job's stage (`queued` while the job has none yet).
    stage: str
    #: 0-1 within the current stage; resets at each stage.
    stage_progress: float
    updated_at: datetime
    #: Best-effort seconds left; None when unknown or after a failure/cancel.
    eta_seconds: int | None = None


@attrs.frozen
class Hook(LayersModel):
    """One brand-adapted hook.

    `hook` is the raw API text: its setup/payoff break is the two characters backslash and
    `n`, not a newline. `text` gives it with a real newline, ready to display.
    """

    hook: str

    @property
    def text(self) -> str:
        """The hook with its `\\n` break (backslash, `n`) replaced by a real newline."""
        return self.hook.replace("\\n", "\n")


@attrs.frozen
class HookBank(LayersModel):
    """A fresh bank of hooks in the project's voice and language."""

    project_id: str
    brand_voice: str
    language: str
    items: tuple[Hook, ...] = ()


@attrs.frozen
class ScheduleTarget:
    """One target of `content.schedule()`: an account, a mode and optional overrides.

    ::

        ScheduleTarget(social_account_id="sa_…", mode="publish")

    - `caption_override`, `first_comment_override`: at most 4000 characters each;
    - `tiktok_post_settings`, `tiktok_music`: opaque objects passed through (`tiktok_music`
      only for image/slideshow content, never on `draft` targets);
    - `share_reel_to_feed`: Instagram `publish` targets with video content only.

    Fields left None are not sent. Values are checked by `content.schedule()`, before sending.
    """

    social_account_id: str
    mode: PostMode
    caption_override: str | None = None
    first_comment_override: str | None = None
    tiktok_post_settings: Mapping[str, JSON] | None = None
    tiktok_music: Mapping[str, JSON] | None = None
    share_reel_to_feed: bool | None = None


@attrs.frozen
class ScheduleResult(LayersModel):
    """The answer to scheduling: one post id per target, in target order.

    `gate_status` is `queued`, or `blocked_on_approval` (then `scheduled_post_ids` is empty and
    the posts are created when the container is approved).
    """

    scheduled_post_ids: tuple[str, ...]
    gate_status: str
    scheduled_for: datetime
