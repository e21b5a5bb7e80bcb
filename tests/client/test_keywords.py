"""`client.keywords` against the sandbox: the keyword bank and its refresh (contract §3.6)."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timezone
from typing import Any

import pytest

from layers_async import (
    APIStatusError,
    AuthenticationError,
    ConflictError,
    Job,
    LayersClient,
    LayersValidationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from layers_async.models.keywords import Hashtag, KeywordBank
from layers_async.sandbox import Sandbox

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]

REQ_ID = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")
JOB_ID = re.compile(r"^job_[0-9A-HJKMNP-TV-Z]{26}$")
T0 = datetime(2026, 5, 14, 16, 0, tzinfo=timezone.utc)
GHOST_PRJ = "prj_0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
DESCRIPTION = (
    "Acme Coffee roasts small-batch beans and delivers them fresh every week. The app lets "
    "customers pick a roast, schedule deliveries and learn brewing methods from our baristas."
)
#: Enough virtual seconds for a 270 s (±20 %) research run to finish.
RESEARCH_DONE = 330


def api_error(exc: APIStatusError, status: int, code: str) -> dict[str, Any]:
    """Check the common error attributes and return `details`."""
    assert exc.status_code == status
    assert exc.code == code
    assert exc.request_id is not None
    assert REQ_ID.match(exc.request_id), exc.request_id
    return exc.details


async def new_project(client: LayersClient, *, described: bool = True) -> str:
    """A fresh project; `described` sends the brand fields (starting the automatic research)."""
    fields: dict[str, Any] = (
        {"app_name": "Acme Coffee", "app_description": DESCRIPTION} if described else {}
    )
    return (await client.projects.create(name="Acme Coffee", timezone="UTC", **fields)).id


async def job_count(sandbox: Sandbox) -> int:
    """Jobs in the sandbox."""
    return int((await sandbox.state())["counts"]["jobs"]["total"])


# --- get ------------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_get_empty_bank(client: LayersClient) -> None:
    """Before research ends the bank decodes with no hashtags and refreshed_at None."""
    pid = await new_project(client)
    bank = await client.keywords.get(pid)
    assert isinstance(bank, KeywordBank)
    assert bank.project_id == pid
    assert bank.hashtags == ()
    assert bank.refreshed_at is None
    assert bank.request_id is not None
    assert REQ_ID.match(bank.request_id)


@pytest.mark.anyio
async def test_get_researched_bank(client: LayersClient, sandbox: Sandbox) -> None:
    """After the automatic research run the bank holds 20 scored hashtags, best first."""
    pid = await new_project(client)
    await sandbox.advance(RESEARCH_DONE)
    bank = await client.keywords.get(pid)
    assert len(bank.hashtags) == 20
    assert all(isinstance(h, Hashtag) for h in bank.hashtags)
    for h in bank.hashtags:
        assert h.hashtag
        assert not h.hashtag.startswith("#")
        assert h.phrase
        assert 70 <= h.score <= 100
        assert h.view_count >= 0
        assert h.use_count >= 0
    keys = [(-h.score, -h.view_count) for h in bank.hashtags]
    assert keys == sorted(keys)
    assert bank.refreshed_at is not None
    assert bank.refreshed_at.tzinfo is not None
    assert (
        T0
        < bank.refreshed_at
        <= datetime.fromisoformat((await sandbox.state())["now"].replace("Z", "+00:00"))
    )
    project = await client.projects.get(pid)
    assert project.brand_context is not None
    assert list(project.brand_context.keywords) == [h.hashtag for h in bank.hashtags[:10]]


@pytest.mark.anyio
async def test_get_unknown_project(client: LayersClient) -> None:
    """get on a project that does not exist raises NotFoundError."""
    with pytest.raises(NotFoundError) as ei:
        await client.keywords.get(GHOST_PRJ)
    api_error(ei.value, 404, "NOT_FOUND")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "project_id", ["prj_nope", "inf_0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f", "", None]
)
async def test_get_client_validation(client: LayersClient, project_id: Any) -> None:
    """A malformed project id fails before sending, naming project_id."""
    with pytest.raises(LayersValidationError) as ei:
        await client.keywords.get(project_id)
    assert ei.value.field == "project_id"


# --- refresh --------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_refresh_returns_job_envelope(client: LayersClient) -> None:
    """refresh returns the 202 keywords_refresh envelope pointing at the project."""
    pid = await new_project(client)
    job = await client.keywords.refresh(pid)
    assert isinstance(job, Job)
    assert JOB_ID.match(job.job_id), job.job_id
    assert job.kind == "keywords_refresh"
    assert job.status == "running"
    assert job.stage is None
    assert job.progress == 0
    assert job.project_id == pid
    assert job.influencer_id is None
    assert job.container_ids == ()
    assert job.location_url == f"/v1/jobs/{job.job_id}"
    assert job.started_at == T0
    assert job.meta is not None
    assert job.meta.status_code == 202
    assert job.request_id is not None
    assert REQ_ID.match(job.request_id)


@pytest.mark.anyio
async def test_refresh_replaces_bank(client: LayersClient, sandbox: Sandbox) -> None:
    """When the refresh job completes the bank's refreshed_at equals the job's result."""
    pid = await new_project(client)
    await sandbox.advance(RESEARCH_DONE)
    first = await client.keywords.get(pid)
    job = await client.keywords.refresh(pid)
    assert (await client.keywords.get(pid)).refreshed_at == first.refreshed_at
    await sandbox.advance(RESEARCH_DONE)
    done = await client.jobs.get(job.job_id)
    assert done.status == "completed"
    assert done.result is not None
    assert done.result.project_id == pid
    assert done.result.hashtag_count == 20
    bank = await client.keywords.get(pid)
    assert bank.refreshed_at is not None
    assert first.refreshed_at is not None
    assert bank.refreshed_at > first.refreshed_at
    assert bank.refreshed_at == done.result.refreshed_at


@pytest.mark.anyio
async def test_refresh_needs_app_description(client: LayersClient, sandbox: Sandbox) -> None:
    """Without an app description refresh raises 422 with missingFields [appDescription]."""
    pid = await new_project(client, described=False)
    with pytest.raises(UnprocessableEntityError) as ei:
        await client.keywords.refresh(pid)
    details = api_error(ei.value, 422, "VALIDATION")
    assert details["missingFields"] == ["appDescription"]
    assert [i.path for i in ei.value.issues] == ["appDescription"]
    assert await job_count(sandbox) == 0


@pytest.mark.anyio
async def test_refresh_archived_project(client: LayersClient, sandbox: Sandbox) -> None:
    """refresh on an archived project raises ConflictError {projectId, status: archived}."""
    pid = await new_project(client)
    await client.projects.archive(pid)
    with pytest.raises(ConflictError) as ei:
        await client.keywords.refresh(pid)
    assert api_error(ei.value, 409, "CONFLICT") == {"projectId": pid, "status": "archived"}
    assert await job_count(sandbox) == 0


@pytest.mark.anyio
async def test_refresh_running_jobs_cap(client: LayersClient, sandbox: Sandbox) -> None:
    """The 11th running job of a standard organization raises RateLimitError concurrent_jobs."""
    pid = await new_project(client)
    for _ in range(10):
        await client.keywords.refresh(pid)
    with pytest.raises(RateLimitError) as ei:
        await client.keywords.refresh(pid)
    details = api_error(ei.value, 429, "RATE_LIMITED")
    assert details == {
        "limitType": "concurrent_jobs",
        "endpointClass": "long-running",
        "running": 10,
        "max": 10,
    }
    assert ei.value.retry_after is not None
    assert ei.value.retry_after >= 1
    assert await job_count(sandbox) == 10


@pytest.mark.anyio
async def test_refresh_unknown_project(client: LayersClient) -> None:
    """refresh on a project that does not exist raises NotFoundError."""
    with pytest.raises(NotFoundError) as ei:
        await client.keywords.refresh(GHOST_PRJ)
    api_error(ei.value, 404, "NOT_FOUND")


@pytest.mark.anyio
@pytest.mark.parametrize("project_id", ["prj_nope", "job_01HXA1NHKJZXPV8R7Q6WSM5BCD", None])
async def test_refresh_client_validation(
    client: LayersClient, sandbox: Sandbox, project_id: Any
) -> None:
    """A malformed project id fails before sending; no job is started."""
    with pytest.raises(LayersValidationError) as ei:
        await client.keywords.refresh(project_id)
    assert ei.value.field == "project_id"
    assert await job_count(sandbox) == 0


# --- errors common to every route -----------------------------------------------------------------
def _scoped_keys() -> list[dict[str, Any]]:
    base = {
        "organization": "partner",
        "env": "live",
        "rateLimitTier": "standard",
        "returnUrlAllowlist": ["localhost"],
    }
    return [
        {**base, "name": "demo-live", "scopes": ["*", "org:admin"]},
        {**base, "name": "bare", "scopes": ["social:read", "social:write"]},
    ]


CALLS: list[tuple[str, str, Callable[[LayersClient, str], Any]]] = [
    ("get", "projects:read", lambda c, pid: c.keywords.get(pid)),
    ("refresh", "projects:write", lambda c, pid: c.keywords.refresh(pid)),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "scope", "call"), CALLS, ids=[c[0] for c in CALLS])
async def test_scope_and_auth_errors(
    make_sandbox: MakeSandbox,
    name: str,
    scope: str,
    call: Callable[[LayersClient, str], Any],
) -> None:
    """Without the route's scope → PermissionDeniedError; an unknown key → AuthenticationError."""
    async with (
        make_sandbox(api_keys=_scoped_keys()) as sb,
        LayersClient(api_key=sb.keys["demo-live"], base_url=sb.url) as full,
        LayersClient(api_key=sb.keys["bare"], base_url=sb.url) as bare,
        LayersClient(api_key="lp_live_unknown", base_url=sb.url) as stranger,
    ):
        pid = await new_project(full)
        with pytest.raises(PermissionDeniedError) as denied:
            await call(bare, pid)
        assert api_error(denied.value, 403, "FORBIDDEN_SCOPE")["requiredScope"] == scope
        with pytest.raises(AuthenticationError) as unauth:
            await call(stranger, pid)
        api_error(unauth.value, 401, "UNAUTHENTICATED")
