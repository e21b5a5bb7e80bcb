"""`client.jobs`: poll with `If-None-Match`, cancel (contract §3.8)."""

from __future__ import annotations

from typing import overload

import attrs

from .._errors import LayersValidationError
from .._transport import RequestSpec, decode
from .._validation import check_id
from ..models.jobs import Job, JobCancelResult
from ._base import RequestOptions, Resource, Unpack, call_options
from ._base import options as checked_options

__all__ = ["Jobs"]


class Jobs(Resource):
    """Long-running jobs started by generation, influencer creation and keyword refresh."""

    __slots__ = ()

    @overload
    async def get(
        self, job_id: str, *, if_none_match: Job | None = None, **options: Unpack[RequestOptions]
    ) -> Job: ...

    @overload
    async def get(
        self, job_id: str, *, if_none_match: str, **options: Unpack[RequestOptions]
    ) -> Job | None: ...

    async def get(
        self,
        job_id: str,
        *,
        if_none_match: Job | str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Job | None:
        """Poll a job (`GET /v1/jobs/{job_id}`).

        Pass the previous `Job` as `if_none_match` to make an unchanged job cost a `304`: the
        same `Job` comes back (its `meta` describes the new response). Pass an ETag string
        instead and an unchanged job returns None.
        """
        opts = call_options(options)
        jid = check_id("job_id", job_id, "job")
        etag: str | None
        if isinstance(if_none_match, Job):
            if if_none_match.job_id != jid:
                raise LayersValidationError("if_none_match", "is a different job")
            etag = if_none_match.meta.etag if if_none_match.meta is not None else None
        elif isinstance(if_none_match, str) or if_none_match is None:
            etag = if_none_match
        else:
            raise LayersValidationError("if_none_match", "must be a Job, an ETag string or None")
        if etag is not None:
            extra = {"If-None-Match": etag, **(opts.extra_headers or {})}
            opts = checked_options(opts.timeout, opts.idempotency_key, extra)
        raw = await self._send(
            RequestSpec(
                "GET", f"/v1/jobs/{jid}", "read-light", options=opts, accept_not_modified=True
            )
        )
        if raw.status == 304:
            if isinstance(if_none_match, Job):
                return attrs.evolve(if_none_match, meta=raw.meta)
            return None
        return decode(raw, Job)

    async def cancel(self, job_id: str, **options: Unpack[RequestOptions]) -> JobCancelResult:
        """Ask a job to stop (`POST /v1/jobs/{job_id}/cancel`); cancellation is cooperative.
        Raises `ConflictError` (`details["subcode"] == "JOB_CANCEL_UNAVAILABLE"`) in a stage
        that refuses it; a finished job answers `accepted=False` with a `reason`."""
        opts = call_options(options)
        jid = check_id("job_id", job_id, "job")
        return await self._write(JobCancelResult, "POST", f"/v1/jobs/{jid}/cancel", opts)
