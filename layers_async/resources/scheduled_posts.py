"""`client.scheduled_posts`: list, get, reschedule, cancel (contract §3.9)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .._pagination import AsyncPaginator
from .._validation import check_datetime, check_enums, check_id, check_str
from ..models import JSON
from ..models.scheduled_posts import (
    RescheduleResult,
    ScheduledPost,
    ScheduledPostCanceled,
    ScheduledPostStatus,
)
from ._base import ListOptions, Params, RequestOptions, Resource, Unpack, call_options, list_options

__all__ = ["ScheduledPosts"]


class ScheduledPosts(Resource):
    """Posts scheduled from containers, one per target account."""

    __slots__ = ()

    def list(
        self,
        project_id: str,
        *,
        status: ScheduledPostStatus | Sequence[ScheduledPostStatus] | None = None,
        social_account_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[ScheduledPost]:
        """List a project's scheduled posts, latest `scheduled_for` first
        (`GET /v1/projects/{project_id}/scheduled-posts`).

        `status` takes one value or several (sent repeated); `since`/`until` are timezone-aware
        datetimes bounding `scheduled_for` (inclusive); `limit` 1-100 per page. Await for a
        page; `async for` for every post.
        """
        call = list_options(options)
        pid = check_id("project_id", project_id, "prj")
        params: Params = []
        if status is not None:
            params += [("status", s) for s in check_enums("status", status, ScheduledPostStatus)]
        if social_account_id is not None:
            params.append(
                ("socialAccountId", check_id("social_account_id", social_account_id, "sa"))
            )
        if since is not None:
            params.append(("since", check_datetime("since", since)))
        if until is not None:
            params.append(("until", check_datetime("until", until)))
        return self._list(
            ScheduledPost, f"/v1/projects/{pid}/scheduled-posts", params, call, hi=100
        )

    async def get(self, scheduled_post_id: str, **options: Unpack[RequestOptions]) -> ScheduledPost:
        """Fetch one scheduled post (`GET /v1/scheduled-posts/{scheduled_post_id}`)."""
        opts = call_options(options)
        sid = check_id("scheduled_post_id", scheduled_post_id, "sp")
        return await self._read(ScheduledPost, f"/v1/scheduled-posts/{sid}", opts)

    async def reschedule(
        self, scheduled_post_id: str, *, scheduled_for: datetime, **options: Unpack[RequestOptions]
    ) -> RescheduleResult:
        """Move a `queued` post to a new time (`POST /v1/scheduled-posts/{id}/reschedule`).

        `scheduled_for` must be timezone-aware (sent as UTC `Z`) and at least 30 s after the
        server's clock (checked by the server: `UnprocessableEntityError`). Raises
        `ConflictError` (`details["status"]`) when the post is no longer `queued`. Caption and
        account cannot change: cancel and schedule again instead.
        """
        opts = call_options(options)
        sid = check_id("scheduled_post_id", scheduled_post_id, "sp")
        body = {"scheduledFor": check_datetime("scheduled_for", scheduled_for)}
        return await self._write(
            RescheduleResult, "POST", f"/v1/scheduled-posts/{sid}/reschedule", opts, body=body
        )

    async def cancel(
        self,
        scheduled_post_id: str,
        *,
        reason: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> ScheduledPostCanceled:
        """Cancel a `queued` post (`DELETE /v1/scheduled-posts/{scheduled_post_id}`); the row is
        kept as `canceled`. `reason` (at most 1024 chars) is sent only when given. Raises
        `ConflictError` (`details["status"]`) when the post is not `queued`."""
        opts = call_options(options)
        sid = check_id("scheduled_post_id", scheduled_post_id, "sp")
        body: dict[str, JSON] | None = None
        if reason is not None:
            body = {"reason": check_str("reason", reason, max_len=1024)}
        return await self._write(
            ScheduledPostCanceled, "DELETE", f"/v1/scheduled-posts/{sid}", opts, body=body
        )
