"""`client.jobs`: polling with If-None-Match and cooperative cancel (contract §3.8, §4.4)."""

from __future__ import annotations

import pytest

from layers_async import (
    Asset,
    ConflictError,
    ErrorInfo,
    Job,
    JobCancelResult,
    JobResult,
    LayersClient,
    Sandbox,
)
from tests.client._decoded import assert_request_id
from tests.client._ids import GHOST_JOB
from tests.client._refusals import api_refusal, refused_field
from tests.client._route_tables import Route, needs_scope_test, not_found_test
from tests.client._setup import OpenSandbox, Remix, new_project, now


async def builder_job(client: LayersClient) -> Job:
    """A fresh no-actor slideshow-builder job (60 s nominal) in a new project."""
    pid = await new_project(client)
    return await client.content.slideshow_builder(pid, hook="Mornings\\nsorted")


# --- get (contract §3.8.1) ------------------------------------------------------------------------
@pytest.mark.anyio
async def test_get_running_job(client: LayersClient, sandbox: Sandbox) -> None:
    """A running job decodes with a stage, progress, pointers, ETag and no result."""
    envelope = await builder_job(client)
    await sandbox.advance(20)
    job = await client.jobs.get(envelope.job_id)
    assert isinstance(job, Job)
    assert (job.job_id, job.kind, job.status) == (envelope.job_id, "content_generate", "running")
    assert job.stage == "generating_visuals"
    assert 0 < job.progress < 1
    assert job.container_ids == envelope.container_ids
    assert job.project_id == envelope.project_id
    assert job.started_at == envelope.started_at
    assert job.updated_at is not None
    assert job.updated_at.tzinfo is not None
    assert (job.finished_at, job.result, job.error) == (None, None, None)
    assert not job.is_terminal
    assert job.meta is not None
    assert job.meta.etag is not None
    assert job.meta.etag.startswith('"')
    assert_request_id(job)


@pytest.mark.anyio
async def test_get_completed_job(client: LayersClient, remix: Remix) -> None:
    """A completed job carries result.container_id and the container's assets."""
    cid = remix.container_id
    container = await client.content.get(cid)
    assert container.job_id is not None
    job = await client.jobs.get(container.job_id)
    assert (job.status, job.stage, job.progress) == ("completed", "finalizing", 1)
    assert job.is_terminal
    assert isinstance(job.result, JobResult)
    assert job.result.container_id == cid
    assert job.result.assets == container.assets
    assert all(isinstance(a, Asset) for a in job.result.assets)
    assert job.finished_at == container.completed_at
    assert job.error is None


@pytest.mark.anyio
async def test_get_failed_job(open_sandbox: OpenSandbox) -> None:
    """A failed job decodes error {code: GENERATION_FAILED, message} and no result."""
    sb, client = await open_sandbox(failure_rates={"content_generate": 1.0})
    envelope = await builder_job(client)
    await sb.advance(80)
    job = await client.jobs.get(envelope.job_id)
    assert job.status == "failed"
    assert isinstance(job.error, ErrorInfo)
    assert job.error.code == "GENERATION_FAILED"
    assert job.error.message
    assert job.result is None
    assert job.finished_at is not None


@pytest.mark.anyio
async def test_get_if_none_match_job_returns_the_same_job(
    client: LayersClient, sandbox: Sandbox
) -> None:
    """Passing the last Job: an unchanged job costs a 304 and comes back equal, new meta."""
    envelope = await builder_job(client)
    await sandbox.advance(80)
    first = await client.jobs.get(envelope.job_id)
    assert first.status == "completed"
    again = await client.jobs.get(envelope.job_id, if_none_match=first)
    assert again == first
    assert again.meta is not None
    assert first.meta is not None
    assert again.meta.status_code == 304
    assert again.meta.etag == first.meta.etag
    assert again.request_id != first.request_id


@pytest.mark.anyio
async def test_get_if_none_match_etag_string(client: LayersClient, sandbox: Sandbox) -> None:
    """Passing an ETag string: unchanged → None; changed → the new Job with a new ETag."""
    envelope = await builder_job(client)
    await sandbox.advance(1)
    first = await client.jobs.get(envelope.job_id)
    assert first.meta is not None
    assert first.meta.etag is not None
    assert await client.jobs.get(envelope.job_id, if_none_match=first.meta.etag) is None
    await sandbox.advance(30)
    changed = await client.jobs.get(envelope.job_id, if_none_match=first.meta.etag)
    assert changed is not None
    assert changed.progress > first.progress
    assert changed.meta is not None
    assert changed.meta.etag != first.meta.etag


@pytest.mark.anyio
async def test_get_if_none_match_of_another_job(client: LayersClient) -> None:
    """A Job of another id as if_none_match is refused before sending."""
    a = await builder_job(client)
    b = await builder_job(client)
    assert await refused_field(client.jobs.get, a.job_id, if_none_match=b) == "if_none_match"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "job_id",
    [
        "job_01hxa1nhkjzxpv8r7q6wsm5bcd",
        "job_01HXA1NHKJZXPV8R7Q6WSM5BC",
        "01HXA1NHKJZXPV8R7Q6WSM5BCD",
    ],
)
@pytest.mark.parametrize("method", ["get", "cancel"])
async def test_job_id_validation(client: LayersClient, method: str, job_id: str) -> None:
    """Lowercase, short or unprefixed job ids are refused before sending."""
    assert await refused_field(getattr(client.jobs, method), job_id) == "job_id"


# --- cancel (contract §3.8.2) ---------------------------------------------------------------------
@pytest.mark.anyio
async def test_cancel_queued_job(client: LayersClient, sandbox: Sandbox) -> None:
    """A queued job is canceled at once: accepted, then the job and its container are canceled."""
    envelope = await builder_job(client)
    out = await client.jobs.cancel(envelope.job_id)
    assert isinstance(out, JobCancelResult)
    assert (out.job_id, out.accepted, out.reason) == (envelope.job_id, True, None)
    assert out.meta is not None
    assert out.meta.status_code == 202
    job = await client.jobs.get(envelope.job_id)
    assert job.status == "canceled"
    assert job.finished_at == await now(sandbox)
    container = await client.content.get(envelope.container_ids[0])
    assert container.status == "canceled"


@pytest.mark.anyio
async def test_cancel_at_the_stage_boundary(client: LayersClient, sandbox: Sandbox) -> None:
    """A cancel mid-stage is accepted; the job ends canceled at the stage's end."""
    envelope = await builder_job(client)
    await sandbox.advance(20)
    out = await client.jobs.cancel(envelope.job_id)
    assert out.accepted is True
    assert (await client.jobs.get(envelope.job_id)).status == "running"
    await sandbox.advance(60)
    job = await client.jobs.get(envelope.job_id)
    assert (job.status, job.stage) == ("canceled", "generating_visuals")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("failure_rate", "reason"), [(0.0, "ALREADY_COMPLETED"), (1.0, "ALREADY_FAILED")]
)
async def test_cancel_finished_job(
    open_sandbox: OpenSandbox, failure_rate: float, reason: str
) -> None:
    """A finished job answers accepted=False with the reason it was not needed."""
    sb, client = await open_sandbox(failure_rates={"content_generate": failure_rate})
    envelope = await builder_job(client)
    await sb.advance(80)
    out = await client.jobs.cancel(envelope.job_id)
    assert (out.job_id, out.accepted, out.reason) == (envelope.job_id, False, reason)
    assert out.meta is not None
    assert out.meta.status_code == 200


@pytest.mark.anyio
async def test_cancel_canceled_job(client: LayersClient) -> None:
    """Canceling a canceled job answers accepted=False, reason ALREADY_CANCELED."""
    envelope = await builder_job(client)
    await client.jobs.cancel(envelope.job_id)
    out = await client.jobs.cancel(envelope.job_id)
    assert (out.accepted, out.reason) == (False, "ALREADY_CANCELED")


@pytest.mark.anyio
async def test_cancel_during_finalizing(open_sandbox: OpenSandbox) -> None:
    """In `finalizing` the cancel is refused: ConflictError subcode JOB_CANCEL_UNAVAILABLE."""
    sb, client = await open_sandbox(jitter=0)
    envelope = await builder_job(client)
    await sb.advance(55)  # 85-100 % of 60 s
    assert (await client.jobs.get(envelope.job_id)).stage == "finalizing"
    refused = await api_refusal(ConflictError, client.jobs.cancel(envelope.job_id))
    assert refused.details == {
        "subcode": "JOB_CANCEL_UNAVAILABLE",
        "jobId": envelope.job_id,
        "stage": "finalizing",
    }


# --- scopes and unknown jobs ----------------------------------------------------------------------
ROUTES: list[Route] = [
    ("get", "jobs:read", lambda c: c.jobs.get(GHOST_JOB)),
    ("cancel", "jobs:cancel", lambda c: c.jobs.cancel(GHOST_JOB)),
]

test_job_routes_need_their_scope = needs_scope_test(
    ROUTES, "A key without the route's scope gets PermissionDeniedError {requiredScope}."
)
test_unknown_job_is_not_found = not_found_test(
    ROUTES, "Getting or canceling an unknown job is NotFoundError."
)
