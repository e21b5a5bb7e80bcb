"""`client.keywords` against the sandbox: the keyword bank and its refresh (contract §3.6)."""

from __future__ import annotations

from typing import Any

import pytest

from layers_async import (
    Hashtag,
    KeywordBank,
    LayersClient,
    Sandbox,
    UnprocessableEntityError,
)
from tests.client._decoded import assert_job_envelope, assert_request_id
from tests.client._ids import GHOST_PRJ
from tests.client._refusals import (
    api_refusal,
    assert_refused_once_archived,
    assert_running_jobs_capped,
    issue_paths,
    refused_field,
)
from tests.client._route_tables import Route, not_found_test, scope_and_auth_test
from tests.client._setup import T0, count, new_project, now

DESCRIPTION = (
    "Acme Coffee roasts small-batch beans and delivers them fresh every week. The app lets "
    "customers pick a roast, schedule deliveries and learn brewing methods from our baristas."
)
#: Enough virtual seconds for a 270 s (±20 %) research run to finish.
RESEARCH_DONE = 330


@pytest.fixture
async def described(client: LayersClient) -> str:
    """A project with the brand fields (its automatic research has started); its id."""
    return await keyword_project(client)


@pytest.fixture
async def researched(sandbox: Sandbox, described: str) -> str:
    """The `described` project once its automatic research run has finished; its id."""
    await sandbox.advance(RESEARCH_DONE)
    return described


async def keyword_project(client: LayersClient, *, described: bool = True) -> str:
    """A fresh project; `described` sends the brand fields (starting the automatic research)."""
    if not described:
        return await new_project(client)
    return await new_project(client, app_name="Acme Coffee", app_description=DESCRIPTION)


# --- get ------------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_get_empty_bank(client: LayersClient, described: str) -> None:
    """Before research ends the bank decodes with no hashtags and refreshed_at None."""
    bank = await client.keywords.get(described)
    assert isinstance(bank, KeywordBank)
    assert bank.project_id == described
    assert bank.hashtags == ()
    assert bank.refreshed_at is None
    assert_request_id(bank)


@pytest.mark.anyio
async def test_get_researched_bank(client: LayersClient, researched: str, sandbox: Sandbox) -> None:
    """After the automatic research run the bank holds 20 scored hashtags, best first."""
    bank = await client.keywords.get(researched)
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
    assert T0 < bank.refreshed_at <= await now(sandbox)
    project = await client.projects.get(researched)
    assert project.brand_context is not None
    assert list(project.brand_context.keywords) == [h.hashtag for h in bank.hashtags[:10]]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "project_id", ["prj_nope", "inf_0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f", "", None]
)
async def test_get_client_validation(client: LayersClient, project_id: Any) -> None:
    """A malformed project id fails before sending, naming project_id."""
    assert await refused_field(client.keywords.get, project_id) == "project_id"


# --- refresh --------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_refresh_returns_job_envelope(client: LayersClient, described: str) -> None:
    """refresh returns the 202 keywords_refresh envelope pointing at the project."""
    job = await client.keywords.refresh(described)
    assert_job_envelope(job, "keywords_refresh", described)
    assert job.influencer_id is None
    assert job.container_ids == ()
    assert job.started_at == T0
    assert_request_id(job)


@pytest.mark.anyio
async def test_refresh_replaces_bank(
    client: LayersClient, researched: str, sandbox: Sandbox
) -> None:
    """When the refresh job completes the bank's refreshed_at equals the job's result."""
    first = await client.keywords.get(researched)
    job = await client.keywords.refresh(researched)
    assert (await client.keywords.get(researched)).refreshed_at == first.refreshed_at
    await sandbox.advance(RESEARCH_DONE)
    done = await client.jobs.get(job.job_id)
    assert done.status == "completed"
    assert done.result is not None
    assert done.result.project_id == researched
    assert done.result.hashtag_count == 20
    bank = await client.keywords.get(researched)
    assert bank.refreshed_at is not None
    assert first.refreshed_at is not None
    assert bank.refreshed_at > first.refreshed_at
    assert bank.refreshed_at == done.result.refreshed_at


@pytest.mark.anyio
async def test_refresh_needs_app_description(client: LayersClient, sandbox: Sandbox) -> None:
    """Without an app description refresh raises 422 with missingFields [appDescription]."""
    pid = await keyword_project(client, described=False)
    refused = await api_refusal(UnprocessableEntityError, client.keywords.refresh(pid))
    assert refused.details["missingFields"] == ["appDescription"]
    assert issue_paths(refused) == ["appDescription"]
    assert await count(sandbox, "jobs") == 0


@pytest.mark.anyio
async def test_refresh_archived_project(
    client: LayersClient, described: str, sandbox: Sandbox
) -> None:
    """refresh on an archived project raises ConflictError {projectId, status: archived}."""
    await assert_refused_once_archived(client, described, client.keywords.refresh)
    assert await count(sandbox, "jobs") == 0


@pytest.mark.anyio
async def test_refresh_running_jobs_cap(
    client: LayersClient, described: str, sandbox: Sandbox
) -> None:
    """The 11th running job of a standard organization raises RateLimitError concurrent_jobs."""
    await assert_running_jobs_capped(lambda: client.keywords.refresh(described))
    assert await count(sandbox, "jobs") == 10


@pytest.mark.anyio
@pytest.mark.parametrize("project_id", ["prj_nope", "job_01HXA1NHKJZXPV8R7Q6WSM5BCD", None])
async def test_refresh_client_validation(
    client: LayersClient, sandbox: Sandbox, project_id: Any
) -> None:
    """A malformed project id fails before sending; no job is started."""
    assert await refused_field(client.keywords.refresh, project_id) == "project_id"
    assert await count(sandbox, "jobs") == 0


# --- errors common to every route -----------------------------------------------------------------
ROUTES: list[Route] = [
    ("get", "projects:read", lambda c, pid: c.keywords.get(pid)),
    ("refresh", "projects:write", lambda c, pid: c.keywords.refresh(pid)),
]

test_scope_and_auth_errors = scope_and_auth_test(
    ROUTES,
    "Without the route's scope → PermissionDeniedError; an unknown key → AuthenticationError.",
    bare_scopes=("social:read", "social:write"),
    make_project=keyword_project,
)
test_unknown_project_is_not_found = not_found_test(
    ROUTES,
    "get or refresh on a project that does not exist raises NotFoundError.",
    project_id=GHOST_PRJ,
)
