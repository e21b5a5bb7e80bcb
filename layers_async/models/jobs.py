"""Jobs (contract §1.12, §3.0.10, §3.8): the 202 envelope of long-running work and its polls."""

from __future__ import annotations

from datetime import datetime

import attrs

from ._base import LayersModel

__all__ = ["Asset", "ErrorInfo", "Job", "JobCancelResult", "JobResult"]

#: Terminal job statuses; a terminal job never changes.
TERMINAL_JOB_STATUSES = frozenset({"completed", "failed", "canceled"})


@attrs.frozen
class ErrorInfo(LayersModel):
    """`{code, message}` of a failed job, container, post or OAuth attempt."""

    code: str
    message: str
    platform_code: str | None = None


@attrs.frozen
class Asset(LayersModel):
    """One generated file of a container."""

    asset_id: str
    kind: str
    url: str
    thumbnail_url: str | None = None


@attrs.frozen
class JobResult(LayersModel):
    """What a completed job produced; which fields are set depends on the job's `kind`."""

    container_id: str | None = None
    assets: tuple[Asset, ...] = ()
    influencer_id: str | None = None
    image_url: str | None = None
    project_id: str | None = None
    hashtag_count: int | None = None
    refreshed_at: datetime | None = None


@attrs.frozen
class Job(LayersModel):
    """A long-running job: the `202` envelope of a generation, or a poll of `GET /v1/jobs/{id}`.

    `status` is `running`, `completed`, `failed` or `canceled` (newer values pass through);
    `stage` is None only in the envelope.
    """

    job_id: str
    kind: str
    status: str
    location_url: str
    started_at: datetime
    stage: str | None = None
    progress: float = 0.0
    project_id: str | None = None
    container_ids: tuple[str, ...] = ()
    influencer_id: str | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    result: JobResult | None = None
    error: ErrorInfo | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the job is completed, failed or canceled (it never changes again)."""
        return self.status in TERMINAL_JOB_STATUSES


@attrs.frozen
class JobCancelResult(LayersModel):
    """The answer to a cancel request: `accepted`, or the `reason` it was not needed."""

    job_id: str
    accepted: bool
    reason: str | None = None


__all__ += ["TERMINAL_JOB_STATUSES"]
