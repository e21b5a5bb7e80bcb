"""Forward compatibility (contract §1.14, §1.6, the [decision] rule of the preamble): answers
from "the API of tomorrow" — unknown fields at every level, unknown enum values, timestamps with
microseconds and `+00:00`, and [decision]-tagged optional fields left out — decode without error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest
from aiohttp import web

from layers_async import Job, LayersClient, Project, Whoami

KEY = "lp_live_01HXA1NHKJZXPV8R_q3Jx9vT2mB7nK4pL8wR1sY6zC0dF5gH2jN7aE3uVb9k"
ORG = "org_2481fa5c-7d3e-4b0a-8c61-5e9f2a7b1c04"
PRJ = "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11"
JOB_RUNNING = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"
JOB_DONE = "job_01HXA1NHKJZXPV8R7Q6WSM5BCE"
JOB_MINIMAL = "job_01HXA1NHKJZXPV8R7Q6WSM5BCF"
UNKNOWN = {"futureFlag": True, "futureObject": {"deep": [1, {"deeper": None}]}, "x_vendor": "y"}

WHOAMI: dict[str, Any] = {
    "organizationId": ORG,
    "workspaceId": ORG,
    "organizationName": "Acme Partner",
    # parentOrganizationId is a [decision] field: absent here
    "scopes": ["*", "metrics:read", "ads:write:meta", "brand_new:scope"],
    "rateLimitTier": "enterprise",  # a tier this SDK has never heard of
    "apiKeyId": "key_c2037e9a-5b14-4f6d-8a2e-91c0d7b3e845",
    "creditBalance": 6000,
    "killSwitch": False,  # an old field that came back
    **UNKNOWN,
}

PROJECT: dict[str, Any] = {
    "id": PRJ,
    "organizationId": ORG,
    "name": "Acme Coffee",
    "status": "paused",
    "customerExternalId": "acme-coffee",
    "ownerEmail": "owner@acme.example",
    "timezone": "America/Los_Angeles",
    "primaryLanguage": "en-US",
    "appName": "Acme Coffee",
    "appDescription": None,
    "tagline": None,
    "brandVoice": "sarcastic",
    "targetGender": "nonbinary",
    "brandContext": {
        "appName": "Acme Coffee",
        "appDescription": None,
        "tagline": None,
        "audience": "coffee people",
        "icp": None,
        "brandVoice": "sarcastic",
        "keywords": ["#coffee", "#beans"],
        "primaryLanguage": "en-US",
        "logoUrl": None,
        "competitors": ["Other Coffee"],  # unknown nested field
    },
    "requiresApproval": False,
    "metadata": {"crm": {"id": 42}},
    # archivedAt is a [decision] field: absent here
    "createdAt": "2026-05-14T16:00:00.123456+00:00",
    "updatedAt": "2026-05-14T16:00:01Z",
    "ingestion": {"status": "idle", "sources": []},
    **UNKNOWN,
}

JOB_RUNNING_BODY: dict[str, Any] = {
    "jobId": JOB_RUNNING,
    "kind": "project_ingest_website",
    "status": "paused",
    "stage": "rendering_audio",
    "progress": 0.42,
    "projectId": PRJ,
    "containerIds": [],
    "locationUrl": f"/v1/jobs/{JOB_RUNNING}",
    "startedAt": "2026-05-14T16:04:11.000001+00:00",
    # updatedAt and error are [decision] fields: absent here
    "finishedAt": None,
    "result": None,
    "priority": "high",
    "websiteUrl": "https://acme.example",
    **UNKNOWN,
}

JOB_DONE_BODY: dict[str, Any] = {
    "jobId": JOB_DONE,
    "kind": "content_generate",
    "status": "completed",
    "stage": "finalizing",
    "progress": 1,
    "projectId": PRJ,
    "containerIds": ["cnt_7d18b9a1-4c2e-4f6a-8b0d-2e4f6a8c0e1d"],
    "locationUrl": f"/v1/jobs/{JOB_DONE}",
    "startedAt": "2026-05-14T16:06:00Z",
    "updatedAt": "2026-05-14T16:08:01.5+00:00",
    "finishedAt": "2026-05-14T16:08:01.999999Z",
    "result": {
        "containerId": "cnt_7d18b9a1-4c2e-4f6a-8b0d-2e4f6a8c0e1d",
        "assets": [
            {
                "assetId": "ast_2b4d6f8a-0c2e-4a4b-8c6d-8e0f2a4b6c8d",
                "kind": "audio",  # unknown asset kind
                "url": "https://cdn.example/a.mp3",
                "thumbnailUrl": None,
                "durationMs": 1234,
                **UNKNOWN,
            }
        ],
        "captions": ["new result field"],
        **UNKNOWN,
    },
    "error": {"code": "SOMETHING_NEW", "message": "A future warning.", "hint": "new", **UNKNOWN},
    **UNKNOWN,
}

# A running job with every optional or [decision] field missing.
JOB_MINIMAL_BODY: dict[str, Any] = {
    "jobId": JOB_MINIMAL,
    "kind": "keywords_refresh",
    "status": "running",
    "locationUrl": f"/v1/jobs/{JOB_MINIMAL}",
    "startedAt": "2026-05-14T16:04:11.000Z",
}


async def _handle(request: web.Request) -> web.Response:
    headers = {"X-Request-Id": "req_01HXZ9G7KMV2QX8Y1S5RJW3B7T", "X-Future-Header": "1"}
    path = request.path
    if path == "/v1/whoami":
        return web.json_response(WHOAMI, headers=headers)
    if path == f"/v1/projects/{PRJ}":
        return web.json_response(PROJECT, headers=headers)
    bodies = {
        f"/v1/jobs/{JOB_RUNNING}": JOB_RUNNING_BODY,
        f"/v1/jobs/{JOB_DONE}": JOB_DONE_BODY,
        f"/v1/jobs/{JOB_MINIMAL}": JOB_MINIMAL_BODY,
    }
    if path in bodies:
        return web.json_response(bodies[path], headers={**headers, "ETag": '"0123456789abcdef"'})
    return web.json_response({"error": {"code": "NOT_FOUND", "message": "?"}}, status=404)


@pytest.fixture
async def tomorrow() -> AsyncIterator[LayersClient]:
    """A client talking to a server that speaks a newer revision of /v1."""
    app = web.Application()
    app.router.add_get("/{tail:.*}", _handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = runner.addresses[0][1]
    try:
        async with LayersClient(api_key=KEY, base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        await runner.cleanup()


def _no_extras(obj: Any) -> None:
    """Unknown wire fields leave no trace on a model (slotted: nowhere to hold them)."""
    names = {a.name for a in attrs.fields(type(obj))}
    for extra in ("futureFlag", "future_flag", "futureObject", "future_object", "x_vendor"):
        assert extra not in names
        assert not hasattr(obj, extra)


@pytest.mark.anyio
async def test_whoami_with_unknown_fields_and_values(tomorrow: LayersClient) -> None:
    """whoami decodes extra fields, unknown tier, new scopes; no parentOrganizationId is None."""
    me = await tomorrow.whoami()
    assert isinstance(me, Whoami)
    assert me.organization_id == ORG
    assert me.rate_limit_tier == "enterprise"
    assert me.scopes == ("*", "metrics:read", "ads:write:meta", "brand_new:scope")
    assert me.parent_organization_id is None
    assert me.credit_balance == 6000
    _no_extras(me)


@pytest.mark.anyio
async def test_project_with_unknown_enums_fields_and_microsecond_timestamps(
    tomorrow: LayersClient,
) -> None:
    """Unknown enum values and fields, `+00:00` µs times, no archivedAt: a Project decodes."""
    project = await tomorrow.projects.get(PRJ)
    assert isinstance(project, Project)
    assert project.status == "paused"
    assert type(project.status) is str
    assert project.brand_voice == "sarcastic"
    assert project.target_gender == "nonbinary"
    assert project.archived_at is None
    assert project.created_at == datetime(2026, 5, 14, 16, 0, 0, 123456, tzinfo=timezone.utc)
    assert project.created_at.utcoffset() is not None
    assert project.updated_at == datetime(2026, 5, 14, 16, 0, 1, tzinfo=timezone.utc)
    assert project.brand_context is not None
    assert project.brand_context.audience == "coffee people"
    assert project.brand_context.keywords == ("#coffee", "#beans")
    assert project.brand_context.brand_voice == "sarcastic"
    assert project.metadata == {"crm": {"id": 42}}  # partner JSON is kept as sent
    _no_extras(project)
    _no_extras(project.brand_context)
    assert not hasattr(project, "ingestion")
    assert not hasattr(project.brand_context, "competitors")


@pytest.mark.anyio
async def test_job_with_unknown_kind_status_and_stage(tomorrow: LayersClient) -> None:
    """Unknown kind, status and stage decode as plain strings; absent updatedAt/error are None."""
    job = await tomorrow.jobs.get(JOB_RUNNING)
    assert isinstance(job, Job)
    assert job.kind == "project_ingest_website"
    assert job.status == "paused"
    assert job.stage == "rendering_audio"
    assert {type(job.kind), type(job.status), type(job.stage)} == {str}
    assert not job.is_terminal  # an unknown status is not mistaken for a terminal one
    assert job.progress == pytest.approx(0.42)
    assert job.updated_at is None
    assert job.error is None
    assert job.started_at == datetime(2026, 5, 14, 16, 4, 11, 1, tzinfo=timezone.utc)
    assert job.meta is not None
    assert job.meta.etag == '"0123456789abcdef"'
    _no_extras(job)
    assert not hasattr(job, "priority")


@pytest.mark.anyio
async def test_completed_job_with_unknown_nested_fields(tomorrow: LayersClient) -> None:
    """Unknown fields in result, assets and error decode; 1-6 fractional digit timestamps parse."""
    job = await tomorrow.jobs.get(JOB_DONE)
    assert job.is_terminal
    assert job.progress == 1.0
    assert job.updated_at == datetime(2026, 5, 14, 16, 8, 1, 500000, tzinfo=timezone.utc)
    assert job.finished_at == datetime(2026, 5, 14, 16, 8, 1, 999999, tzinfo=timezone.utc)
    assert job.result is not None
    assert job.result.container_id == "cnt_7d18b9a1-4c2e-4f6a-8b0d-2e4f6a8c0e1d"
    (asset,) = job.result.assets
    assert asset.kind == "audio"
    assert asset.thumbnail_url is None
    assert job.error is not None
    assert job.error.code == "SOMETHING_NEW"
    for obj in (job, job.result, asset, job.error):
        _no_extras(obj)


@pytest.mark.anyio
async def test_job_with_only_required_fields(tomorrow: LayersClient) -> None:
    """A job body with only the required fields decodes, the rest taking their defaults."""
    job = await tomorrow.jobs.get(JOB_MINIMAL)
    assert job.kind == "keywords_refresh"
    assert job.stage is None
    assert job.progress == 0.0
    assert job.project_id is None
    assert job.container_ids == ()
    assert job.finished_at is None
    assert job.result is None
