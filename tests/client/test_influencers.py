"""`client.influencers` against the sandbox: list, create, get, update (contract §3.5)."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta, timezone
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
from layers_async.models.influencers import Influencer, InfluencerSummary
from layers_async.sandbox import Sandbox

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]

REQ_ID = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")
INF_ID = re.compile(r"^inf_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
JOB_ID = re.compile(r"^job_[0-9A-HJKMNP-TV-Z]{26}$")
T0 = datetime(2026, 5, 14, 16, 0, tzinfo=timezone.utc)
GHOST_PRJ = "prj_0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
GHOST_INF = "inf_0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
#: Enough virtual seconds for a 60 s (±20 %) creation to finish.
READY_AFTER = 80


def api_error(exc: APIStatusError, status: int, code: str) -> dict[str, Any]:
    """Check the common error attributes and return `details`."""
    assert exc.status_code == status
    assert exc.code == code
    assert exc.request_id is not None
    assert REQ_ID.match(exc.request_id), exc.request_id
    return exc.details


async def new_project(client: LayersClient, **fields: Any) -> str:
    """A fresh project id (no brand description: no automatic first influencer)."""
    return (await client.projects.create(name="Acme Coffee", timezone="UTC", **fields)).id


async def counts(sandbox: Sandbox) -> tuple[int, int]:
    """(influencers, jobs) in the sandbox."""
    c = (await sandbox.state())["counts"]
    return int(c["influencers"]["total"]), int(c["jobs"]["total"])


# --- create ---------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_create_returns_job_envelope(client: LayersClient) -> None:
    """create returns the 202 influencer_create envelope pointing at the new persona."""
    pid = await new_project(client)
    job = await client.influencers.create(pid)
    assert isinstance(job, Job)
    assert JOB_ID.match(job.job_id), job.job_id
    assert job.kind == "influencer_create"
    assert job.status == "running"
    assert job.stage is None
    assert job.progress == 0
    assert job.project_id == pid
    assert job.influencer_id is not None
    assert INF_ID.match(job.influencer_id)
    assert job.container_ids == ()
    assert job.location_url == f"/v1/jobs/{job.job_id}"
    assert job.started_at == T0
    assert job.is_terminal is False
    assert job.meta is not None
    assert job.meta.status_code == 202
    assert job.request_id is not None
    assert REQ_ID.match(job.request_id)


@pytest.mark.anyio
async def test_create_sends_fields(client: LayersClient) -> None:
    """gender, age_range and prompt are sent; the persona carries the chosen gender and age."""
    pid = await new_project(client)
    job = await client.influencers.create(
        pid, gender="non_binary", age_range="mature", prompt="p" * 1000
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
async def test_create_archived_project(client: LayersClient, sandbox: Sandbox) -> None:
    """create on an archived project raises ConflictError {projectId, status: archived}."""
    pid = await new_project(client)
    await client.projects.archive(pid)
    with pytest.raises(ConflictError) as ei:
        await client.influencers.create(pid)
    assert api_error(ei.value, 409, "CONFLICT") == {"projectId": pid, "status": "archived"}
    assert await counts(sandbox) == (0, 0)


@pytest.mark.anyio
async def test_create_running_jobs_cap(client: LayersClient, sandbox: Sandbox) -> None:
    """The 11th running job of a standard organization raises RateLimitError concurrent_jobs."""
    pid = await new_project(client)
    for _ in range(10):
        await client.influencers.create(pid)
    with pytest.raises(RateLimitError) as ei:
        await client.influencers.create(pid)
    details = api_error(ei.value, 429, "RATE_LIMITED")
    assert details == {
        "limitType": "concurrent_jobs",
        "endpointClass": "long-running",
        "running": 10,
        "max": 10,
    }
    assert ei.value.retry_after is not None
    assert ei.value.retry_after >= 1
    assert await counts(sandbox) == (10, 10)


@pytest.mark.anyio
async def test_create_unknown_project(client: LayersClient) -> None:
    """create on a project that does not exist raises NotFoundError."""
    with pytest.raises(NotFoundError) as ei:
        await client.influencers.create(GHOST_PRJ)
    api_error(ei.value, 404, "NOT_FOUND")


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
    with pytest.raises(LayersValidationError) as ei:
        await client.influencers.create(pid, **kwargs)
    assert ei.value.field == field
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
    assert inf.request_id is not None
    assert REQ_ID.match(inf.request_id)
    await sandbox.advance(READY_AFTER)
    ready = await client.influencers.get(job.influencer_id)
    assert ready.status == "ready"
    assert ready.image_url is not None
    assert ready.image_url.startswith(f"{sandbox.url}/_sandbox/media/")
    assert ready.name == inf.name


@pytest.mark.anyio
async def test_get_failed_persona(make_sandbox: MakeSandbox) -> None:
    """A persona whose creation failed decodes as failed with an error_message."""
    async with (
        make_sandbox(failure_rates={"influencer_create": 1.0}) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url) as client,
    ):
        pid = await new_project(client)
        job = await client.influencers.create(pid)
        assert job.influencer_id is not None
        await sb.advance(READY_AFTER)
        inf = await client.influencers.get(job.influencer_id)
        assert inf.status == "failed"
        assert inf.error_message
        assert inf.image_url is None


@pytest.mark.anyio
async def test_get_unknown(client: LayersClient) -> None:
    """get on an unknown influencer raises NotFoundError."""
    with pytest.raises(NotFoundError) as ei:
        await client.influencers.get(GHOST_INF)
    api_error(ei.value, 404, "NOT_FOUND")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "influencer_id", ["inf_nope", "0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f", GHOST_PRJ, None]
)
async def test_get_client_validation(client: LayersClient, influencer_id: Any) -> None:
    """A malformed influencer id (bare UUIDs included) fails before sending."""
    with pytest.raises(LayersValidationError) as ei:
        await client.influencers.get(influencer_id)
    assert ei.value.field == "influencer_id"


# --- update ---------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_update_changes_fields(client: LayersClient, sandbox: Sandbox) -> None:
    """update sends every given field and decodes the changed persona."""
    pid = await new_project(client)
    job = await client.influencers.create(pid)
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
async def test_update_clears_age_range_and_keeps_others(client: LayersClient) -> None:
    """age_range=None clears it; fields not given stay unchanged."""
    pid = await new_project(client)
    job = await client.influencers.create(pid, gender="male", age_range="senior")
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
async def test_update_unknown(client: LayersClient) -> None:
    """update on an unknown influencer raises NotFoundError."""
    with pytest.raises(NotFoundError) as ei:
        await client.influencers.update(GHOST_INF, name="Nobody")
    api_error(ei.value, 404, "NOT_FOUND")


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
    with pytest.raises(LayersValidationError) as ei:
        await client.influencers.update(influencer_id, **kwargs)
    assert ei.value.field == field


@pytest.mark.anyio
async def test_update_bounds_accepted(client: LayersClient) -> None:
    """A 128-character name is accepted (the upper bound of the rule)."""
    pid = await new_project(client)
    job = await client.influencers.create(pid)
    assert job.influencer_id is not None
    inf = await client.influencers.update(job.influencer_id, name="n" * 128)
    assert inf.name == "n" * 128


# --- list -----------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_list_decodes_summaries(client: LayersClient, sandbox: Sandbox) -> None:
    """list returns summaries newest first; thumbnail_url appears once ready; status filters."""
    pid = await new_project(client)
    a = (await client.influencers.create(pid, gender="male", age_range="teen")).influencer_id
    await sandbox.advance(READY_AFTER)
    b = (await client.influencers.create(pid)).influencer_id
    page = await client.influencers.list(pid)
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
    only_ready = await client.influencers.list(pid, status="ready")
    assert [s.influencer_id for s in only_ready.items] == [a]
    assert (await client.influencers.list(pid, status="failed")).items == ()


@pytest.mark.anyio
async def test_list_pages(client: LayersClient, sandbox: Sandbox) -> None:
    """limit=1 pages through every influencer with opaque cursors."""
    pid = await new_project(client)
    made = []
    for _ in range(3):
        made.append((await client.influencers.create(pid)).influencer_id)
        await sandbox.advance(1)
    first = await client.influencers.list(pid, limit=1)
    assert [s.influencer_id for s in first.items] == [made[2]]
    assert first.has_next
    seen = [s.influencer_id async for s in client.influencers.list(pid, limit=1)]
    assert seen == made[::-1]


@pytest.mark.anyio
async def test_list_unknown_project(client: LayersClient) -> None:
    """Listing the influencers of a project that does not exist raises NotFoundError."""
    with pytest.raises(NotFoundError) as ei:
        await client.influencers.list(GHOST_PRJ)
    api_error(ei.value, 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_list_bad_cursor(client: LayersClient) -> None:
    """A cursor the server cannot decode raises UnprocessableEntityError with path cursor."""
    pid = await new_project(client)
    with pytest.raises(UnprocessableEntityError) as ei:
        await client.influencers.list(pid, cursor="!!not-a-cursor!!")
    api_error(ei.value, 422, "VALIDATION")
    assert [i.path for i in ei.value.issues] == ["cursor"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("project_id", "kwargs", "field"),
    [
        ("prj_nope", {}, "project_id"),
        (GHOST_PRJ, {"status": "archived"}, "status"),
        (GHOST_PRJ, {"limit": 0}, "limit"),
        (GHOST_PRJ, {"limit": 101}, "limit"),
    ],
)
async def test_list_client_validation(
    client: LayersClient, project_id: str, kwargs: dict[str, Any], field: str
) -> None:
    """A bad project id, status or limit (1-100) fails when list() is called."""
    with pytest.raises(LayersValidationError) as ei:
        client.influencers.list(project_id, **kwargs)
    assert ei.value.field == field


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
        {**base, "name": "bare", "scopes": ["projects:read", "projects:write"]},
    ]


CALLS: list[tuple[str, Callable[[LayersClient, str], Any]]] = [
    ("list", lambda c, pid: c.influencers.list(pid)),
    ("create", lambda c, pid: c.influencers.create(pid)),
    ("get", lambda c, pid: c.influencers.get(GHOST_INF)),
    ("update", lambda c, pid: c.influencers.update(GHOST_INF, name="Maya")),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "call"), CALLS, ids=[c[0] for c in CALLS])
async def test_scope_and_auth_errors(
    make_sandbox: MakeSandbox, name: str, call: Callable[[LayersClient, str], Any]
) -> None:
    """Every route needs influencers:write (reads too); an unknown key → AuthenticationError."""
    async with (
        make_sandbox(api_keys=_scoped_keys()) as sb,
        LayersClient(api_key=sb.keys["demo-live"], base_url=sb.url) as full,
        LayersClient(api_key=sb.keys["bare"], base_url=sb.url) as bare,
        LayersClient(api_key="lp_live_unknown", base_url=sb.url) as stranger,
    ):
        pid = await new_project(full)
        with pytest.raises(PermissionDeniedError) as denied:
            await call(bare, pid)
        details = api_error(denied.value, 403, "FORBIDDEN_SCOPE")
        assert details["requiredScope"] == "influencers:write"
        with pytest.raises(AuthenticationError) as unauth:
            await call(stranger, pid)
        api_error(unauth.value, 401, "UNAUTHENTICATED")
