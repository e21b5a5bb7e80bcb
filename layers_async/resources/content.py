"""`client.content`: sources, the four generation formats, hooks, containers, schedule (§3.7,
§3.9.1), approve and reject (§3.16), publish now (§3.17)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from .._pagination import AsyncPaginator
from .._serde import check_json
from .._transport import CallOptions
from .._validation import (
    TIKTOK_ID,
    check_bool,
    check_datetime,
    check_enum,
    check_enums,
    check_id,
    check_int,
    check_str,
    fail,
)
from ..models import JSON
from ..models.approvals import Approval, Rejection
from ..models.content import (
    Container,
    ContainerStatus,
    ContentFormat,
    ContentProgress,
    CreativeType,
    HookBank,
    PostMode,
    ScheduleResult,
    ScheduleTarget,
    SourceKind,
    SourceRecommendations,
)
from ..models.jobs import Job
from ._base import ListOptions, Params, RequestOptions, Resource, Unpack, call_options, list_options

__all__ = ["Content"]


def _actor(
    body: dict[str, JSON],
    influencer_id: str | None,
    social_account_id: str | None,
    *,
    required: bool,
) -> None:
    """Validate the actor ids (§3.7.2) into `body`; the remix formats and ugc need one."""
    if influencer_id is not None:
        body["influencerId"] = check_id("influencer_id", influencer_id, "inf")
    if social_account_id is not None:
        body["socialAccountId"] = check_id("social_account_id", social_account_id, "sa")
    if required and influencer_id is None and social_account_id is None:
        raise fail(
            "influencer_id",
            "this format needs an actor: pass influencer_id, social_account_id, or both",
        )


def _opaque(field: str, value: object) -> dict[str, JSON]:
    """An opaque JSON object passed through as given."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise fail(field, "must be a mapping with string keys")
    check_json(field, dict(value))  # NaN, lone surrogates, ... are refused here, not sent
    return dict(value)


def _target(i: int, target: object, seen: set[tuple[str, str]]) -> dict[str, JSON]:
    """Validate one ScheduleTarget and return its camelCase wire form (None fields omitted)."""
    at = f"targets[{i}]"
    if not isinstance(target, ScheduleTarget):
        raise fail(at, f"must be a ScheduleTarget (got {type(target).__name__})")
    sa = check_id(f"{at}.social_account_id", target.social_account_id, "sa")
    mode = check_enum(f"{at}.mode", target.mode, PostMode)
    wire: dict[str, JSON] = {"socialAccountId": sa, "mode": mode}
    if target.caption_override is not None:
        wire["captionOverride"] = check_str(
            f"{at}.caption_override", target.caption_override, max_len=4000
        )
    if target.first_comment_override is not None:
        wire["firstCommentOverride"] = check_str(
            f"{at}.first_comment_override", target.first_comment_override, max_len=4000
        )
    if target.tiktok_post_settings is not None:
        wire["tiktokPostSettings"] = _opaque(
            f"{at}.tiktok_post_settings", target.tiktok_post_settings
        )
    if target.tiktok_music is not None:
        if mode == "draft":
            raise fail(f"{at}.tiktok_music", "is not allowed on draft targets")
        wire["tiktokMusic"] = _opaque(f"{at}.tiktok_music", target.tiktok_music)
    if target.share_reel_to_feed is not None:
        wire["shareReelToFeed"] = check_bool(f"{at}.share_reel_to_feed", target.share_reel_to_feed)
    key = (sa.lower(), mode)
    if key in seen:
        raise fail(at, "repeats the account and mode of an earlier target (it would post twice)")
    seen.add(key)
    return wire


def _targets(targets: object) -> list[JSON]:
    """1 to 50 ScheduleTargets, each validated, in their wire form."""
    if isinstance(targets, (str, bytes, ScheduleTarget)) or not isinstance(targets, Sequence):
        raise fail("targets", "must be a sequence of ScheduleTarget")
    if not 1 <= len(targets) <= 50:
        raise fail("targets", f"must hold 1 to 50 targets (got {len(targets)})")
    seen: set[tuple[str, str]] = set()
    return [_target(i, t, seen) for i, t in enumerate(targets)]


class Content(Resource):
    """Content generation and containers."""

    __slots__ = ()

    async def source_recommendations(
        self,
        project_id: str,
        *,
        kind: SourceKind | None = None,
        keyword: str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SourceRecommendations:
        """TikTok posts to remix (`GET /v1/projects/{project_id}/content/source-recommendations`).

        Without `keyword` (portfolio mode) the project's researched matches are returned (empty
        until the first keyword research ends); with `keyword` (1-200 chars) a live search runs.
        `kind` is `slideshow`, `video` or `mixed` (default); `limit` 1-20 (default 20). Not
        paginated: change the keyword for more. Raises `NotFoundError` for an unknown project.
        """
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        params: Params = []
        if kind is not None:
            params.append(("kind", check_enum("kind", kind, SourceKind)))
        if keyword is not None:
            params.append(("keyword", check_str("keyword", keyword, min_len=1, max_len=200)))
        if limit is not None:
            params.append(("limit", str(check_int("limit", limit, 1, 20))))
        return await self._read(
            SourceRecommendations,
            f"/v1/projects/{pid}/content/source-recommendations",
            opts,
            params=params,
        )

    async def _generate(
        self, project_id: str, fmt: ContentFormat, body: dict[str, JSON], opts: CallOptions
    ) -> Job:
        return await self._start_job(f"/v1/projects/{project_id}/content/{fmt}", opts, body=body)

    async def _remix(
        self,
        fmt: ContentFormat,
        project_id: str,
        tiktok_video_id: str,
        influencer_id: str | None,
        social_account_id: str | None,
        opts: CallOptions,
    ) -> Job:
        """The two remix formats share their body and its rules (§3.7.3, §3.7.4)."""
        pid = check_id("project_id", project_id, "prj")
        body: dict[str, JSON] = {
            "tiktokVideoId": check_str(
                "tiktok_video_id", tiktok_video_id, pattern=TIKTOK_ID, what="1 to 32 digits"
            )
        }
        _actor(body, influencer_id, social_account_id, required=True)
        return await self._generate(pid, fmt, body, opts)

    async def slideshow_remix(
        self,
        project_id: str,
        *,
        tiktok_video_id: str,
        influencer_id: str | None = None,
        social_account_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Job:
        """Remix a TikTok slideshow with a persona (`POST …/content/slideshow-remix`).

        `tiktok_video_id` is a source item's `tiktok_id` (1-32 digits); at least one of
        `influencer_id` / `social_account_id` is required. Returns the `202` job envelope: its
        `container_ids[0]` is the new container. Raises `NotFoundError` (unknown project,
        influencer or account; `details["resource"]`), `ConflictError` (influencer not ready,
        account not connected, no ready influencer for the account, project archived),
        `RateLimitError` (running-jobs cap) and `PaymentRequiredError` (credits).
        """
        opts = call_options(options)
        return await self._remix(
            "slideshow-remix", project_id, tiktok_video_id, influencer_id, social_account_id, opts
        )

    async def video_remix(
        self,
        project_id: str,
        *,
        tiktok_video_id: str,
        influencer_id: str | None = None,
        social_account_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Job:
        """Remix a TikTok video with a persona (`POST …/content/video-remix`).

        Same arguments and errors as `slideshow_remix`; `tiktok_video_id` should come from
        `kind="video"` recommendations.
        """
        opts = call_options(options)
        return await self._remix(
            "video-remix", project_id, tiktok_video_id, influencer_id, social_account_id, opts
        )

    async def slideshow_builder(
        self,
        project_id: str,
        *,
        hook: str,
        influencer_id: str | None = None,
        social_account_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Job:
        """Build a slideshow from a hook alone (`POST …/content/slideshow-builder`).

        `hook` (1-2000 chars) is the first slide's overlay, verbatim. The actor is optional:
        with neither id the project's own voice is used. Errors as in `slideshow_remix`.
        """
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        body: dict[str, JSON] = {"hook": check_str("hook", hook, min_len=1, max_len=2000)}
        _actor(body, influencer_id, social_account_id, required=False)
        return await self._generate(pid, "slideshow-builder", body, opts)

    async def ugc_remix(
        self,
        project_id: str,
        *,
        influencer_id: str | None = None,
        social_account_id: str | None = None,
        hook: str | None = None,
        media_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Job:
        """A UGC-style video around the customer's demo video (`POST …/content/ugc-remix`).

        Needs at least one of `influencer_id` / `social_account_id`; `hook` (1-2000 chars) is
        an optional overlay; `media_id` picks a `demo-video` (default: the oldest). Raises
        `UnprocessableEntityError` (issue path `mediaId`) when the project has no such demo
        video; otherwise errors as in `slideshow_remix`.
        """
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        body: dict[str, JSON] = {}
        _actor(body, influencer_id, social_account_id, required=True)
        if hook is not None:
            body["hook"] = check_str("hook", hook, min_len=1, max_len=2000)
        if media_id is not None:
            body["mediaId"] = check_id("media_id", media_id, "med")
        return await self._generate(pid, "ugc-remix", body, opts)

    async def hooks(
        self, project_id: str, *, limit: int | None = None, **options: Unpack[RequestOptions]
    ) -> HookBank:
        """A fresh bank of brand-adapted hooks (`GET /v1/projects/{project_id}/content/hooks`).

        `limit` 1-50 (default 10); not paginated, every call returns a new set. The setup/payoff
        break inside `Hook.hook` is the two characters backslash and `n` (not a newline); use
        `Hook.text` for the display form with a real newline. Raises `UnprocessableEntityError`
        with `details["missingFields"]` when the project lacks `app_name` or `app_description`.
        """
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        params: Params = []
        if limit is not None:
            params.append(("limit", str(check_int("limit", limit, 1, 50))))
        return await self._read(HookBank, f"/v1/projects/{pid}/content/hooks", opts, params=params)

    def list(
        self,
        project_id: str,
        *,
        status: ContainerStatus | Sequence[ContainerStatus] | None = None,
        format: ContentFormat | Sequence[ContentFormat] | None = None,
        creative_type: CreativeType | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[Container]:
        """List a project's containers, newest first (`GET /v1/projects/{project_id}/content`).

        `status` and `format` take one value or several (sent repeated); `since`/`until` are
        timezone-aware datetimes bounding `created_at` (inclusive); `limit` 1-200 per page.
        Await for a page; `async for` for every container.
        """
        call = list_options(options)
        pid = check_id("project_id", project_id, "prj")
        params: Params = []
        if status is not None:
            params += [("status", s) for s in check_enums("status", status, ContainerStatus)]
        if format is not None:
            params += [("format", f) for f in check_enums("format", format, ContentFormat)]
        if creative_type is not None:
            params.append(
                ("creativeType", check_enum("creative_type", creative_type, CreativeType))
            )
        if since is not None:
            params.append(("since", check_datetime("since", since)))
        if until is not None:
            params.append(("until", check_datetime("until", until)))
        return self._list(Container, f"/v1/projects/{pid}/content", params, call, hi=200)

    async def get(self, container_id: str, **options: Unpack[RequestOptions]) -> Container:
        """Fetch one container (`GET /v1/content/{container_id}`; `cnt_<uuid>` or a bare UUID).
        Safe mid-generation: unfilled fields are None or empty."""
        opts = call_options(options)
        cid = check_id("container_id", container_id, "cnt")
        return await self._read(Container, f"/v1/content/{cid}", opts)

    async def progress(
        self, container_id: str, **options: Unpack[RequestOptions]
    ) -> ContentProgress:
        """Generation progress of a container (`GET /v1/content/{container_id}/progress`)."""
        opts = call_options(options)
        cid = check_id("container_id", container_id, "cnt")
        return await self._read(ContentProgress, f"/v1/content/{cid}/progress", opts)

    async def schedule(
        self,
        container_id: str,
        *,
        scheduled_for: datetime,
        targets: Sequence[ScheduleTarget],
        **options: Unpack[RequestOptions],
    ) -> ScheduleResult:
        """Schedule a completed container to 1-50 accounts (`POST /v1/content/{id}/schedule`).

        `scheduled_for` must be timezone-aware (sent as UTC `Z`) and at least 30 s after the
        *server's* clock; that lead is checked by the server, not here. One scheduled post is
        created per target, ids in target order. Raises `UnprocessableEntityError` (too soon,
        an account that is not connected to this project, `tiktok_music` on video content,
        `share_reel_to_feed` where not allowed), `NotFoundError`, `ConflictError` (container
        not completed, project archived) and `ContentRejectedError` (a `ConflictError`, for
        rejected content). Nothing is written on any error. Content awaiting approval is
        accepted with `gate_status="blocked_on_approval"` and no ids: the intent is parked and
        its posts are created when the content is approved.
        """
        opts = call_options(options)
        cid = check_id("container_id", container_id, "cnt")
        when = check_datetime("scheduled_for", scheduled_for)
        body: dict[str, JSON] = {"scheduledFor": when, "targets": _targets(targets)}
        return await self._write(
            ScheduleResult, "POST", f"/v1/content/{cid}/schedule", opts, body=body
        )

    async def publish(
        self,
        container_id: str,
        *,
        targets: Sequence[ScheduleTarget],
        **options: Unpack[RequestOptions],
    ) -> ScheduleResult:
        """Publish a completed container now to 1-50 accounts (`POST /v1/content/{id}/publish`;
        scope `publish:write`).

        Targets as in `schedule()`. One post per target is created `queued` for the server's now
        (`scheduled_for` of the answer) and starts publishing at once; follow it with
        `scheduled_posts.get()`. Every call carries an Idempotency-Key (one is made per call
        and reused by its retries), so a retried publish never posts twice. Raises
        `ApprovalRequiredError` (403) while the content awaits approval (nothing is parked:
        publish again once approved), `ContentRejectedError` (409) for rejected content,
        `ConflictError` (not completed, project archived, organization suspended),
        `UnprocessableEntityError` and `NotFoundError`, as `schedule()`.
        """
        opts = call_options(options)
        cid = check_id("container_id", container_id, "cnt")
        body: dict[str, JSON] = {"targets": _targets(targets)}
        return await self._write(
            ScheduleResult, "POST", f"/v1/content/{cid}/publish", opts, body=body
        )

    async def approve(
        self, container_id: str, *, note: str | None = None, **options: Unpack[RequestOptions]
    ) -> Approval:
        """Approve content awaiting approval (`POST /v1/content/{id}/approve`; no scope).

        `note` is optional, at most 1024 characters. Schedule intents parked while the content
        awaited approval are promoted at once, all or nothing: see
        `Approval.pending_schedule_promotion`. Raises `ConflictError` when the container is not
        `pending` (`details["approvalStatus"]` says what it is) and `NotFoundError`.
        """
        opts = call_options(options)
        cid = check_id("container_id", container_id, "cnt")
        body: dict[str, JSON] = {}
        if note is not None:
            body["note"] = check_str("note", note, max_len=1024)
        return await self._write(Approval, "POST", f"/v1/content/{cid}/approve", opts, body=body)

    async def reject(
        self, container_id: str, *, reason: str, **options: Unpack[RequestOptions]
    ) -> Rejection:
        """Reject content awaiting approval (`POST /v1/content/{id}/reject`; no scope).

        `reason` is 1-1024 characters. Parked schedule intents are dropped, and the content can
        never be scheduled or published (`ContentRejectedError`): generate again for a new
        take. Raises `ConflictError` when the container is not `pending`, and `NotFoundError`.
        """
        opts = call_options(options)
        cid = check_id("container_id", container_id, "cnt")
        body: dict[str, JSON] = {"reason": check_str("reason", reason, min_len=1, max_len=1024)}
        return await self._write(Rejection, "POST", f"/v1/content/{cid}/reject", opts, body=body)
