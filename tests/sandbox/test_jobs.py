"""Contract tests for jobs (§3.8): polling with ETags, progress and cooperative cancellation."""

from __future__ import annotations

import hashlib
import json

import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._flows import (
    ETAG_RE,
    GHOST_JOB,
    REQ_RE,
    builder_job,
    check_container,
    check_job,
    create_project,
    err,
    format_body,
    get_container,
    get_job,
    not_found_or_invalid,
    ok,
    setup_project,
    shift,
    start_content,
    wallet,
)
from tests.sandbox._http import Api


# --- jobs (contract §3.8.1) -----------------------------------------------------------------------
@pytest.mark.anyio
async def test_job_shape_and_other_key(api: Api, sandbox: Sandbox) -> None:
    """GET /v1/jobs: the full Job, stage queued from the first read, for any key of the org."""
    pid = (await create_project(api, app=False))["id"]
    env = await builder_job(api, pid)
    r = await api.get(f"/v1/jobs/{env['jobId']}")
    job = ok(r)
    check_job(job)
    assert job == {
        **job,
        "jobId": env["jobId"],
        "kind": "content_generate",
        "status": "running",
        "stage": "queued",
        "projectId": pid,
        "containerIds": env["containerIds"],
        "locationUrl": env["locationUrl"],
        "startedAt": env["startedAt"],
        "finishedAt": None,
        "result": None,
        "error": None,
    }
    assert ETAG_RE.match(r.headers["ETag"]), r.headers
    other = api.with_key(sandbox.keys["demo-test"])
    assert ok(await other.get(f"/v1/jobs/{env['jobId']}")) == job


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("job_id", "status"),
    [
        (GHOST_JOB, 404),
        ("job_01hxa1nhkjzxpv8r7q6wsm5bcd", 422),
        ("job_123", 422),
        ("01HXA1NHKJZXPV8R7Q6WSM5BCD", 422),
        ("st_01HXA1NHKJZXPV8R7Q6WSM5BCD", 422),
    ],
)
async def test_job_id_errors(api: Api, job_id: str, status: int) -> None:
    """Unknown job → 404; malformed jobId (lowercase ULID, no prefix) → 422 path jobId."""
    for r in (await api.get(f"/v1/jobs/{job_id}"), await api.post(f"/v1/jobs/{job_id}/cancel")):
        not_found_or_invalid(r, status, "jobId")


@pytest.mark.anyio
async def test_job_etag_conditional_requests(api: Api) -> None:
    """If-None-Match (single, list, *, W/) → 304; a changed job → 200 with a new tag."""
    pid = (await create_project(api, app=False))["id"]
    env = await builder_job(api, pid)
    path = f"/v1/jobs/{env['jobId']}"
    first = await api.get(path)
    tag = first.headers["ETag"]
    assert ETAG_RE.match(tag)
    canonical = json.dumps(first.json, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert tag == '"' + hashlib.sha256(canonical.encode()).hexdigest()[:16] + '"'
    assert (await api.get(path)).headers["ETag"] == tag
    for value in (tag, f'"0123456789abcdef", {tag}', "*", f"W/{tag}"):
        r = await api.get(path, headers={"If-None-Match": value})
        assert r.status == 304, (value, r)
        assert r.body == b""
        assert r.headers["ETag"] == tag
        assert REQ_RE.match(r.headers["X-Request-Id"])
        assert r.headers["X-RateLimit-Limit"] == "120"
        assert r.headers["X-RateLimit-Endpoint-Class"] == "read-light"
        assert int(r.headers["X-RateLimit-Remaining"]) >= 0
        assert int(r.headers["X-RateLimit-Reset"]) >= 0
    miss = await api.get(path, headers={"If-None-Match": '"0123456789abcdef"'})
    assert miss.status == 200
    assert miss.json == first.json
    await api.advance(30)
    changed = await api.get(path, headers={"If-None-Match": tag})
    assert changed.status == 200, changed
    assert changed.headers["ETag"] != tag
    assert ETAG_RE.match(changed.headers["ETag"])
    assert changed.json != first.json


@pytest.mark.anyio
async def test_job_304_consumes_rate_limit(api: Api) -> None:
    """A 304 consumes one read-light unit: X-RateLimit-Remaining keeps decreasing."""
    pid = (await create_project(api, app=False))["id"]
    env = await builder_job(api, pid)
    path = f"/v1/jobs/{env['jobId']}"
    tag = (await api.get(path)).headers["ETag"]
    a = await api.get(path, headers={"If-None-Match": tag})
    b = await api.get(path, headers={"If-None-Match": tag})
    assert a.status == b.status == 304
    assert int(b.headers["X-RateLimit-Remaining"]) == int(a.headers["X-RateLimit-Remaining"]) - 1


@pytest.mark.anyio
async def test_job_progress_rounded_and_monotonic(api: Api) -> None:
    """progress has at most two decimals and never decreases while polling."""
    pid = (await create_project(api, app=False))["id"]
    env2 = await builder_job(api, pid)
    last = 0.0
    for _ in range(12):
        job = await get_job(api, env2["jobId"])
        check_job(job)
        assert job["progress"] >= last
        last = job["progress"]
        await api.advance(7.3)
    assert last == 1


@pytest.mark.anyio
async def test_terminal_job_keeps_etag(api: Api) -> None:
    """A completed job never changes: its ETag keeps answering 304."""
    pid = (await create_project(api, app=False))["id"]
    env = await builder_job(api, pid)
    await api.advance(80)
    r = await api.get(f"/v1/jobs/{env['jobId']}")
    assert r.json["status"] == "completed"
    await api.advance(600)
    r2 = await api.get(f"/v1/jobs/{env['jobId']}", headers={"If-None-Match": r.headers["ETag"]})
    assert r2.status == 304


# --- cancel (contract §3.8.2) ---------------------------------------------------------------------
@pytest.mark.anyio
async def test_cancel_queued(api: Api) -> None:
    """Cancel while queued → 202 accepted; job, container canceled at once; credits released."""
    pid = (await create_project(api, app=False))["id"]
    now = await api.now()
    env = await builder_job(api, pid)
    r = await api.post(f"/v1/jobs/{env['jobId']}/cancel")
    assert ok(r, 202) == {**r.json, "jobId": env["jobId"], "accepted": True}
    assert r.headers["X-RateLimit-Endpoint-Class"] == "write-light"
    job = await get_job(api, env["jobId"])
    check_job(job)
    assert (job["status"], job["stage"], job["finishedAt"]) == ("canceled", "queued", now)
    assert (await get_container(api, env["containerIds"][0]))["status"] == "canceled"
    assert (await wallet(api))["reservedCredits"] == 0
    again = await api.post(f"/v1/jobs/{env['jobId']}/cancel")
    assert ok(again) == {
        **again.json,
        "jobId": env["jobId"],
        "accepted": False,
        "reason": "ALREADY_CANCELED",
    }


@pytest.mark.anyio
async def test_cancel_at_stage_boundary(nominal_api: Api) -> None:
    """Cancel in generating_visuals → 202 (repeatable); canceled at the stage end."""
    pid, iid = await setup_project(nominal_api, wait=61)
    start = await nominal_api.now()
    env = ok(
        await start_content(
            nominal_api, pid, "slideshow-remix", format_body("slideshow-remix", influencerId=iid)
        ),
        202,
    )
    jid, cid = env["jobId"], env["containerIds"][0]
    await nominal_api.advance(30)
    r0 = await nominal_api.post(f"/v1/jobs/{jid}/cancel")
    assert ok(r0, 202) == {**r0.json, "jobId": jid, "accepted": True}
    await nominal_api.advance(20)
    r = await nominal_api.post(f"/v1/jobs/{jid}/cancel")
    assert ok(r, 202)["accepted"] is True
    await nominal_api.advance(50)  # 100 s: the stage ends at 102 s
    job = await get_job(nominal_api, jid)
    assert (job["status"], job["stage"]) == ("running", "generating_visuals")
    assert (await get_container(nominal_api, cid))["status"] == "processing"
    assert (await wallet(nominal_api))["reservedCredits"] == 50
    await nominal_api.advance(3)
    job = await get_job(nominal_api, jid)
    check_job(job)
    assert (job["status"], job["stage"]) == ("canceled", "generating_visuals")
    assert job["finishedAt"] == shift(start, 102)
    c = await get_container(nominal_api, cid)
    check_container(c)
    assert c["status"] == "canceled"
    w = await wallet(nominal_api)
    assert (w["reservedCredits"], w["usedThisPeriod"], w["available"]) == (0, 0, 6000)
    prog = ok(await nominal_api.get(f"/v1/content/{cid}/progress"))
    assert (prog["status"], prog["stage"], prog["etaSeconds"]) == (
        "canceled",
        "generating_visuals",
        None,
    )


@pytest.mark.anyio
async def test_cancel_finalizing_refused(nominal_api: Api) -> None:
    """Cancel in finalizing → 409 JOB_CANCEL_UNAVAILABLE; later → ALREADY_COMPLETED."""
    pid = (await create_project(nominal_api, app=False))["id"]
    env = await builder_job(nominal_api, pid)
    jid = env["jobId"]
    await nominal_api.advance(55)
    e = err(await nominal_api.post(f"/v1/jobs/{jid}/cancel"), 409, "CONFLICT")
    assert e["details"] == {
        **e["details"],
        "subcode": "JOB_CANCEL_UNAVAILABLE",
        "jobId": jid,
        "stage": "finalizing",
    }
    await nominal_api.advance(6)
    assert (await get_job(nominal_api, jid))["status"] == "completed"
    r = await nominal_api.post(f"/v1/jobs/{jid}/cancel")
    assert ok(r) == {**r.json, "jobId": jid, "accepted": False, "reason": "ALREADY_COMPLETED"}


@pytest.mark.anyio
@pytest.mark.sandbox_options(failure_rates={"content_generate": 1.0})
async def test_cancel_failed_job(custom_api: Api) -> None:
    """Cancel on a failed job → 200 {accepted: false, reason: ALREADY_FAILED}."""
    pid = (await create_project(custom_api, app=False))["id"]
    env = await builder_job(custom_api, pid)
    await custom_api.advance(80)
    assert (await get_job(custom_api, env["jobId"]))["status"] == "failed"
    r = await custom_api.post(f"/v1/jobs/{env['jobId']}/cancel")
    assert ok(r) == {
        **r.json,
        "jobId": env["jobId"],
        "accepted": False,
        "reason": "ALREADY_FAILED",
    }
