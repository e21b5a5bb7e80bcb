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
    """A stable code to branch on, such as `GENERATION_FAILED` or `OAUTH_DENIED`."""
    message: str
    """A human-readable explanation; do not parse it."""
    platform_code: str | None = None
    """The platform's own reason on a post's `PLATFORM_ERROR`; None otherwise."""


@attrs.frozen
class Asset(LayersModel):
    """One generated file of a container."""

    asset_id: str
    """The asset id, `ast_<id>`."""
    kind: str
    """`image` or `video`."""
    url: str
    """The generated file."""
    thumbnail_url: str | None = None
    """A still image of it; None when there is none."""


@attrs.frozen
class JobResult(LayersModel):
    """What a completed job produced; which fields are set depends on the job's `kind`."""

    container_id: str | None = None
    """`content_generate`: the container made, `cnt_<uuid>`; else None."""
    assets: tuple[Asset, ...] = ()
    """`content_generate`: the container's generated files; else empty."""
    influencer_id: str | None = None
    """`influencer_create`: the influencer trained, `inf_<uuid>`; else None."""
    image_url: str | None = None
    """`influencer_create`: the influencer's portrait URL; else None."""
    project_id: str | None = None
    """`keywords_refresh`: the project whose bank was refreshed; else None."""
    hashtag_count: int | None = None
    """`keywords_refresh`: how many hashtags the new bank holds; else None."""
    refreshed_at: datetime | None = None
    """`keywords_refresh`: the new bank's `refreshed_at`; else None."""


@attrs.frozen
class Job(LayersModel):
    """A long-running job: the `202` envelope of a generation, or a poll of `GET /v1/jobs/{id}`.

    `status` is `running`, `completed`, `failed` or `canceled` (newer values pass through);
    `stage` is None only in the envelope.
    """

    job_id: str
    """The job id, `job_<ULID>`."""
    kind: str
    """`content_generate`, `influencer_create`, `keywords_refresh`, or a newer kind."""
    status: str
    """`running`, `completed`, `failed` or `canceled`; a terminal status never changes."""
    location_url: str
    """The job's relative path, `/v1/jobs/{job_id}`."""
    started_at: datetime
    """When the job was accepted."""
    stage: str | None = None
    """The kind's current stage (e.g. `generating_visuals`); None only in the 202 envelope."""
    progress: float = 0.0
    """0-1, never decreasing; 1 once `completed`."""
    project_id: str | None = None
    """The project the job works on, `prj_<uuid>`; None if the server omits it."""
    container_ids: tuple[str, ...] = ()
    """`content_generate`: the one container being made; else empty."""
    influencer_id: str | None = None
    """`influencer_create`: the influencer being trained; else None."""
    updated_at: datetime | None = None
    """When the job last changed; None in the 202 envelope if the server omits it."""
    finished_at: datetime | None = None
    """When it reached a terminal status; None while `running`."""
    result: JobResult | None = None
    """What it produced, by kind; None unless `completed`."""
    error: ErrorInfo | None = None
    """`{code, message}` of the failure; None unless `failed`."""

    @property
    def is_terminal(self) -> bool:
        """True once the job is completed, failed or canceled (it never changes again)."""
        return self.status in TERMINAL_JOB_STATUSES


@attrs.frozen
class JobCancelResult(LayersModel):
    """The answer to a cancel request: `accepted`, or the `reason` it was not needed."""

    job_id: str
    """The job asked to cancel, `job_<ULID>`."""
    accepted: bool
    """True when cancellation started: poll until the job is `canceled`."""
    reason: str | None = None
    """Why nothing was needed: `ALREADY_COMPLETED`, `ALREADY_FAILED` or `ALREADY_CANCELED`."""


__all__ += ["TERMINAL_JOB_STATUSES"]
