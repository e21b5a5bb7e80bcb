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
    """The TikTok handle, without `@`."""
    display_name: str | None = None
    """The name shown on the author's profile."""
    avatar_url: str | None = None
    """The author's profile picture URL."""
    follower_count: int | None = None
    """Followers of the author, a non-negative count."""


@attrs.frozen
class SourceStats(LayersModel):
    """Lifetime counts of a TikTok source post."""

    view_count: int | None = None
    """Lifetime views, a non-negative count."""
    like_count: int | None = None
    """Lifetime likes; at most `view_count`."""
    comment_count: int | None = None
    """Lifetime comments, a non-negative count."""
    share_count: int | None = None
    """Lifetime shares, a non-negative count."""


@attrs.frozen
class SourceItem(LayersModel):
    """A TikTok post to remix; pass `tiktok_id` as `tiktok_video_id` to the remix formats."""

    tiktok_id: str
    """The TikTok post id, 1-32 digits: pass it as `tiktok_video_id` to a remix."""
    kind: str
    """`slideshow` or `video`."""
    thumbnail_url: str
    """A still image of the post."""
    caption: str
    """The post's caption as published, hashtags included."""
    author: SourceAuthor | None = None
    """Who posted it; None when the server sent no author."""
    stats: SourceStats | None = None
    """The post's lifetime counts; None when the server sent none."""
    image_count: int | None = None
    """Slides of a slideshow; None for a video."""


@attrs.frozen
class SourceRecommendations(LayersModel):
    """The answer of `content.source_recommendations()`; not paginated (`next_cursor` is None)."""

    items: tuple[SourceItem, ...]
    """Up to `limit` posts to remix, most relevant first."""
    source: str
    """`portfolio` (no keyword) or `live_search` (a keyword was given); informational."""
    next_cursor: str | None = None
    """Always None: recommendations are not paginated (change the keyword for more)."""


@attrs.frozen
class Preview(LayersModel):
    """What to render for a container (prefer it over `assets`)."""

    kind: str
    """`slideshow`, `video` or `image`."""
    primary_url: str
    """Always set: the first slide for a slideshow or image, the video for a video."""
    thumbnail_url: str | None = None
    """A still image to show in lists; None when there is none."""
    image_urls: tuple[str, ...] = ()
    """The slides in order; `(primary_url,)` for an image, empty for a video."""
    video_url: str | None = None
    """The video file; None for a slideshow or an image."""
    hls_url: str | None = None
    """An HLS stream of the video; None until HLS ships (always None in the sandbox)."""
    duration_ms: int | None = None
    """Length of a video in milliseconds; None for a slideshow or an image."""
    aspect_ratio: str | None = None
    """Colon form such as `9:16`; None when unknown."""


@attrs.frozen
class Container(LayersModel):
    """A content container: one generated piece of content, its preview, assets and status."""

    id: str
    """The container id, `cnt_<uuid>`."""
    project_id: str
    """The project it belongs to, `prj_<uuid>`."""
    status: str
    """`queued`, `processing`, `completed`, `failed` or `canceled` (`ContainerStatus`)."""
    creative_type: str
    """`generated`, or `uploaded` for uploaded content (`CreativeType`)."""
    approval_status: str
    """`not_required`, `pending`, `approved` or `rejected` (`ApprovalStatus`)."""
    created_at: datetime
    """When generation was accepted."""
    updated_at: datetime
    """When any field last changed."""
    job_id: str | None = None
    """The job generating it, `job_<ULID>`; None for uploaded content."""
    format: str | None = None
    """The generation format, hyphenated (`ContentFormat`); None for uploaded content."""
    hook: str | None = None
    """The hook given to slideshow-builder or ugc-remix; None for the remix formats."""
    influencer_id: str | None = None
    """The persona used, `inf_<uuid>`; None when none was."""
    social_account_id: str | None = None
    """The account given to anchor the persona, `sa_<uuid>`; None if none was."""
    source_tiktok_id: str | None = None
    """The remixed TikTok post, for slideshow-remix and video-remix; else None."""
    media_id: str | None = None
    """The demo video used by ugc-remix, `med_<uuid>`; None for the other formats."""
    caption: str | None = None
    """The generated caption; None until `completed`."""
    first_comment: str | None = None
    """The first comment to post under it; None when there is none."""
    preview: Preview | None = None
    """What to render; None while queued or processing, or after a failure with no output."""
    assets: tuple[Asset, ...] = ()
    """The generated files; empty until `completed`."""
    last_error: ErrorInfo | None = None
    """`{code, message}` of the failure; None unless `failed`."""
    completed_at: datetime | None = None
    """When it became `completed`; None before."""
    failed_at: datetime | None = None
    """When it became `failed`; None unless it failed."""


@attrs.frozen
class ContentProgress(LayersModel):
    """Generation progress of a container: its job's stage and the progress within it."""

    container_id: str
    """The container, `cnt_<uuid>`."""
    status: str
    """The container's status, as on `Container.status`."""
    stage: str
    """The job's stage (`queued` while the job has none yet); the last reached once ended."""
    stage_progress: float
    """0-1 within the current stage; resets at each stage, 1 once `completed`."""
    updated_at: datetime
    """When the progress was last updated."""
    eta_seconds: int | None = None
    """Best-effort seconds left, 0 once completed; None when unknown, failed or canceled."""


@attrs.frozen
class Hook(LayersModel):
    """One brand-adapted hook.

    `hook` is the raw API text: its setup/payoff break is the two characters backslash and
    `n`, not a newline. `text` gives it with a real newline, ready to display.
    """

    hook: str
    """The raw hook text, its setup/payoff break written as backslash `n` (see `text`)."""

    @property
    def text(self) -> str:
        """The hook with its `\\n` break (backslash, `n`) replaced by a real newline."""
        return self.hook.replace("\\n", "\n")


@attrs.frozen
class HookBank(LayersModel):
    """A fresh bank of hooks in the project's voice and language."""

    project_id: str
    """The project the hooks were written for, `prj_<uuid>`."""
    brand_voice: str
    """The project's brand voice the hooks are written in (`BrandVoice`)."""
    language: str
    """The BCP 47 language tag the hooks are written in."""
    items: tuple[Hook, ...] = ()
    """The hooks, up to the `limit` asked for."""


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
    """A `connected` account of the container's project, `sa_<uuid>`."""
    mode: PostMode
    """`publish` at the time, push a `draft` to the phone, or hand to `managed` distribution."""
    caption_override: str | None = None
    """A caption instead of the generated one, at most 4000 characters."""
    first_comment_override: str | None = None
    """A first comment instead of the generated one, at most 4000 characters."""
    tiktok_post_settings: Mapping[str, JSON] | None = None
    """TikTok post settings passed through as given; ignored for Instagram."""
    tiktok_music: Mapping[str, JSON] | None = None
    """TikTok music passed through; image/slideshow content only, never on `draft`."""
    share_reel_to_feed: bool | None = None
    """Also share the reel to the feed: Instagram `publish` targets with video only."""


@attrs.frozen
class ScheduleResult(LayersModel):
    """The answer to scheduling: one post id per target, in target order.

    `gate_status` is `queued`, or `blocked_on_approval` (then `scheduled_post_ids` is empty and
    the posts are created when the container is approved).
    """

    scheduled_post_ids: tuple[str, ...]
    """One `sp_<uuid>` per target, in target order; empty while blocked."""
    gate_status: str
    """`queued`, or `blocked_on_approval` while the content awaits approval."""
    scheduled_for: datetime
    """When the posts publish (for `publish()`, the server's now)."""
