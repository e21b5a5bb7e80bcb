"""`client.influencers` against the sandbox: list, create, get, update (contract §3.5)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from layers_async import (
    Influencer,
    InfluencerSummary,
    LayersClient,
    Sandbox,
)
from tests.client._decoded import assert_job_envelope, assert_request_id
from tests.client._ids import GHOST_INF, GHOST_PRJ, INF_RE
from tests.client._refusals import (
    assert_refused_once_archived,
    assert_running_jobs_capped,
    refused_field,
)
from tests.client._route_tables import Route, not_found_test, scope_and_auth_test
from tests.client._setup import T0, OpenSandbox, count, new_project

#: Enough virtual seconds for a 60 s (±20 %) creation to finish.
READY_AFTER = 80


async def counts(sandbox: Sandbox) -> tuple[int, int]:
    """(influencers, jobs) in the sandbox."""
    return await count(sandbox, "influencers"), await count(sandbox, "jobs")


# --- create ---------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_create_returns_job_envelope(client: LayersClient, project: str) -> None:
    """create returns the 202 influencer_create envelope pointing at the new persona."""
    job = await client.influencers.create(project)
    assert_job_envelope(job, "influencer_create", project)
    assert job.influencer_id is not None
    assert INF_RE.match(job.influencer_id)
    assert job.container_ids == ()
    assert job.started_at == T0
    assert job.is_terminal is False
    assert_request_id(job)


@pytest.mark.anyio
async def test_create_sends_fields(client: LayersClient, project: str) -> None:
    """gender, age_range and prompt are sent; the persona carries the chosen gender and age."""
    job = await client.influencers.create(
        project, gender="non_binary", age_range="mature", prompt="p" * 1000
    )
    assert job.influencer_id is not None
    inf = await client.influencers.get(job.influencer_id)
    assert (inf.gender, inf.age_range) == ("non_binary", "mature")


@pytest.mark.anyio
@pytest.mark.parametrize(("target", "expected"), [("male", "male"), ("all", "female")])
async def test_create_default_gender(client: LayersClient, target: str, expected: str) -> None:
    """Without gender the persona follows the project's target gender (else female)."""
    pid = await new_project(client, target_gender=target)
    job = await client.influencers.create(pid)
    assert job.influencer_id is not None
    inf = await client.influencers.get(job.influencer_id)
    assert inf.gender == expected
    assert inf.age_range == "young_adult"


@pytest.mark.anyio
async def test_create_archived_project(
    client: LayersClient, project: str, sandbox: Sandbox
) -> None:
    """create on an archived project raises ConflictError {projectId, status: archived}."""
    await assert_refused_once_archived(client, project, client.influencers.create)
    assert await counts(sandbox) == (0, 0)


@pytest.mark.anyio
async def test_create_running_jobs_cap(
    client: LayersClient, project: str, sandbox: Sandbox
) -> None:
    """The 11th running job of a standard organization raises RateLimitError concurrent_jobs."""
    await assert_running_jobs_capped(lambda: client.influencers.create(project))
    assert await counts(sandbox) == (10, 10)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("project_id", "kwargs", "field"),
    [
        ("prj_nope", {}, "project_id"),
        (None, {"gender": "all"}, "gender"),
        (None, {"gender": "Male"}, "gender"),
        (None, {"age_range": "child"}, "age_range"),
        (None, {"age_range": 30}, "age_range"),
        (None, {"prompt": ""}, "prompt"),
        (None, {"prompt": "p" * 1001}, "prompt"),
        (None, {"prompt": 5}, "prompt"),
    ],
)
async def test_create_client_validation(
    client: LayersClient,
    sandbox: Sandbox,
    project_id: str | None,
    kwargs: dict[str, Any],
    field: str,
) -> None:
    """Bad gender, age_range, prompt (1-1000) or project id fail before sending; nothing made."""
    pid = project_id or await new_project(client)
    assert await refused_field(client.influencers.create, pid, **kwargs) == field
    assert await counts(sandbox) == (0, 0)


# --- get ------------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_get_pending_then_ready(client: LayersClient, sandbox: Sandbox) -> None:
    """get decodes a pending persona, then the ready one with its image_url."""
    pid = await new_project(client, brand_voice="warm", primary_language="es-MX")
    job = await client.influencers.create(pid)
    assert job.influencer_id is not None
    inf = await client.influencers.get(job.influencer_id)
    assert isinstance(inf, Influencer)
    assert inf.influencer_id == job.influencer_id
    assert inf.project_id == pid
    assert inf.name
    assert inf.status == "pending"
    assert inf.image_url is None
    assert inf.error_message is None
    assert inf.brand_voice == "warm"
    assert inf.language == "es-MX"
    assert inf.created_at == T0
    assert inf.updated_at.tzinfo is not None
    assert_request_id(inf)
    await sandbox.advance(READY_AFTER)
    ready = await client.influencers.get(job.influencer_id)
    assert ready.status == "ready"
    assert ready.image_url is not None
    assert ready.image_url.startswith(f"{sandbox.url}/_sandbox/media/")
    assert ready.name == inf.name


@pytest.mark.anyio
async def test_get_failed_persona(open_sandbox: OpenSandbox) -> None:
    """A persona whose creation failed decodes as failed with an error_message."""
    sb, client = await open_sandbox(failure_rates={"influencer_create": 1.0})
    pid = await new_project(client)
    job = await client.influencers.create(pid)
    assert job.influencer_id is not None
    await sb.advance(READY_AFTER)
    inf = await client.influencers.get(job.influencer_id)
    assert inf.status == "failed"
    assert inf.error_message
    assert inf.image_url is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    "influencer_id", ["inf_nope", "0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f", GHOST_PRJ, None]
)
async def test_get_client_validation(client: LayersClient, influencer_id: Any) -> None:
    """A malformed influencer id (bare UUIDs included) fails before sending."""
    assert await refused_field(client.influencers.get, influencer_id) == "influencer_id"


# --- update ---------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_update_changes_fields(client: LayersClient, project: str, sandbox: Sandbox) -> None:
    """update sends every given field and decodes the changed persona."""
    job = await client.influencers.create(project)
    assert job.influencer_id is not None
    await sandbox.advance(5)
    inf = await client.influencers.update(
        job.influencer_id,
        name="Maya Torres",
        gender="female",
        age_range="adult",
        brand_voice="witty",
        language="zh-Hans-CN",
    )
    assert isinstance(inf, Influencer)
    assert inf.name == "Maya Torres"
    assert inf.gender == "female"
    assert inf.age_range == "adult"
    assert inf.brand_voice == "witty"
    assert inf.language == "zh-Hans-CN"
    assert inf.status == "pending"
    assert inf.updated_at == T0 + timedelta(seconds=5)
    assert inf.created_at == T0
    assert await client.influencers.get(job.influencer_id) == inf


@pytest.mark.anyio
async def test_update_clears_age_range_and_keeps_others(client: LayersClient, project: str) -> None:
    """age_range=None clears it; fields not given stay unchanged."""
    job = await client.influencers.create(project, gender="male", age_range="senior")
    assert job.influencer_id is not None
    before = await client.influencers.get(job.influencer_id)
    after = await client.influencers.update(job.influencer_id, age_range=None)
    assert after.age_range is None
    assert (after.name, after.gender, after.brand_voice) == (
        before.name,
        before.gender,
        before.brand_voice,
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("influencer_id", "kwargs", "field"),
    [
        ("inf_nope", {"name": "Maya"}, "influencer_id"),
        (GHOST_INF, {}, "update"),
        (GHOST_INF, {"name": ""}, "name"),
        (GHOST_INF, {"name": "n" * 129}, "name"),
        (GHOST_INF, {"name": None}, "name"),
        (GHOST_INF, {"gender": None}, "gender"),
        (GHOST_INF, {"gender": "all"}, "gender"),
        (GHOST_INF, {"age_range": "child"}, "age_range"),
        (GHOST_INF, {"brand_voice": "loud"}, "brand_voice"),
        (GHOST_INF, {"brand_voice": None}, "brand_voice"),
        (GHOST_INF, {"language": "english_us"}, "language"),
        (GHOST_INF, {"language": None}, "language"),
    ],
)
async def test_update_client_validation(
    client: LayersClient, influencer_id: str, kwargs: dict[str, Any], field: str
) -> None:
    """Bad ids and fields, None for an unclearable field, or no field at all fail client-side."""
    assert await refused_field(client.influencers.update, influencer_id, **kwargs) == field


@pytest.mark.anyio
async def test_update_bounds_accepted(client: LayersClient, project: str) -> None:
    """A 128-character name is accepted (the upper bound of the rule)."""
    job = await client.influencers.create(project)
    assert job.influencer_id is not None
    inf = await client.influencers.update(job.influencer_id, name="n" * 128)
    assert inf.name == "n" * 128


# --- list -----------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_list_decodes_summaries(client: LayersClient, project: str, sandbox: Sandbox) -> None:
    """list returns summaries newest first; thumbnail_url appears once ready; status filters."""
    a = (await client.influencers.create(project, gender="male", age_range="teen")).influencer_id
    await sandbox.advance(READY_AFTER)
    b = (await client.influencers.create(project)).influencer_id
    page = await client.influencers.list(project)
    assert [s.influencer_id for s in page.items] == [b, a]
    assert page.next_cursor is None
    ready, pending = page.items[1], page.items[0]
    assert isinstance(ready, InfluencerSummary)
    assert (ready.status, ready.gender, ready.age_range) == ("ready", "male", "teen")
    assert ready.thumbnail_url is not None
    assert ready.name
    assert ready.created_at == T0
    assert pending.status == "pending"
    assert pending.thumbnail_url is None
    assert pending.created_at == T0 + timedelta(seconds=READY_AFTER)
    only_ready = await client.influencers.list(project, status="ready")
    assert [s.influencer_id for s in only_ready.items] == [a]
    assert (await client.influencers.list(project, status="failed")).items == ()


@pytest.mark.anyio
async def test_list_pages(client: LayersClient, project: str, sandbox: Sandbox) -> None:
    """limit=1 pages through every influencer with opaque cursors."""
    made = []
    for _ in range(3):
        made.append((await client.influencers.create(project)).influencer_id)
        await sandbox.advance(1)
    first = await client.influencers.list(project, limit=1)
    assert [s.influencer_id for s in first.items] == [made[2]]
    assert first.has_next
    seen = [s.influencer_id async for s in client.influencers.list(project, limit=1)]
    assert seen == made[::-1]


# --- errors common to every route -----------------------------------------------------------------
#: Every route needs influencers:write, the reads too.
ROUTES: list[Route] = [
    ("list", "influencers:write", lambda c, pid: c.influencers.list(pid)),
    ("create", "influencers:write", lambda c, pid: c.influencers.create(pid)),
    ("get", "influencers:write", lambda c, pid: c.influencers.get(GHOST_INF)),
    ("update", "influencers:write", lambda c, pid: c.influencers.update(GHOST_INF, name="Maya")),
]

test_scope_and_auth_errors = scope_and_auth_test(
    ROUTES,
    "Every route needs influencers:write (reads too); an unknown key → AuthenticationError.",
    bare_scopes=("projects:read", "projects:write"),
)
test_unknown_project_or_influencer_is_not_found = not_found_test(
    [
        *ROUTES[:3],
        (
            "update",
            "influencers:write",
            lambda c, pid: c.influencers.update(GHOST_INF, name="Nobody"),
        ),
    ],
    "Every route on a project or influencer that does not exist raises NotFoundError.",
    project_id=GHOST_PRJ,
)
