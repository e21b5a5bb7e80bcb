"""Contract tests for keywords (§3.6): the researched hashtag bank and its refresh job."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox._flows import (
    DESCRIPTION,
    GHOST_PRJ,
    assert_ts,
    check_envelope,
    check_job,
    create_project,
    err,
    get_job,
    invalid,
    kw_path,
    ok,
    shift,
)
from tests.sandbox._http import Api


# --- keywords (contract §3.6) ---------------------------------------------------------------------
def check_bank(bank: dict[str, Any], *, project_id: str) -> None:
    assert set(bank) >= {"projectId", "hashtags", "refreshedAt"}
    assert bank["projectId"] == project_id
    assert len(bank["hashtags"]) == 20
    for h in bank["hashtags"]:
        assert set(h) >= {"hashtag", "phrase", "score", "viewCount", "useCount"}, h
        assert isinstance(h["hashtag"], str)
        assert h["hashtag"]
        assert "#" not in h["hashtag"]
        assert " " not in h["hashtag"]
        assert isinstance(h["phrase"], str)
        assert isinstance(h["score"], int)
        assert not isinstance(h["score"], bool)
        assert 70 <= h["score"] <= 100
        assert isinstance(h["viewCount"], int)
        assert h["viewCount"] >= 0
        assert isinstance(h["useCount"], int)
        assert h["useCount"] >= 0
    keys = [(-h["score"], -h["viewCount"]) for h in bank["hashtags"]]
    assert keys == sorted(keys), bank["hashtags"]
    assert_ts(bank["refreshedAt"])


async def researched_bank(api: Api) -> tuple[str, dict[str, Any]]:
    """A new project whose first keyword research has completed (300 s on a jitter-free
    sandbox), and its checked bank."""
    pid = (await create_project(api))["id"]
    await api.advance(300)
    bank = ok(await api.get(kw_path(pid)))
    check_bank(bank, project_id=pid)
    return pid, bank


@pytest.mark.anyio
async def test_keywords_empty_bank(api: Api) -> None:
    """Before any research run the bank is {projectId, hashtags: [], refreshedAt: null}."""
    pid = (await create_project(api, app=False))["id"]
    r = await api.get(kw_path(pid))
    assert ok(r) == {**r.json, "projectId": pid, "hashtags": [], "refreshedAt": None}
    pid2 = (await create_project(api, name="With Desc"))["id"]
    assert ok(await api.get(kw_path(pid2)))["hashtags"] == []


@pytest.mark.anyio
@pytest.mark.parametrize("body", [None, {}])
async def test_refresh_needs_app_description(api: Api, body: Any) -> None:
    """Refresh without appDescription → 422 with missingFields [appDescription]."""
    pid = (await create_project(api, app=False, appName="Acme Coffee"))["id"]
    if body is None:
        r = await api.post(kw_path(pid) + "/refresh")
    else:
        r = await api.post(kw_path(pid) + "/refresh", body)
    e = invalid(r, "appDescription")
    assert e["details"]["missingFields"] == ["appDescription"]


@pytest.mark.anyio
async def test_refresh_rejects_body_keys(api: Api) -> None:
    """The refresh route takes no body: an unknown key → 422 with that key as path."""
    pid = (await create_project(api))["id"]
    invalid(await api.post(kw_path(pid) + "/refresh", {"force": True}), "force")


@pytest.mark.anyio
async def test_refresh_on_archived_project(api: Api) -> None:
    """Refresh on an archived project → 409 {projectId, status: archived}."""
    pid = (await create_project(api))["id"]
    ok(await api.delete(f"/v1/projects/{pid}"))
    e = err(await api.post(kw_path(pid) + "/refresh"), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "projectId": pid, "status": "archived"}


@pytest.mark.anyio
async def test_refresh_lifecycle(nominal_api: Api) -> None:
    """jitter=0: queued → researching → curating → completed at 270 s, 20 hashtags."""
    pid, old = await researched_bank(nominal_api)
    start = await nominal_api.now()
    r = await nominal_api.post(kw_path(pid) + "/refresh")
    env = ok(r, 202)
    check_envelope(env, kind="keywords_refresh", project_id=pid, now=start)
    assert r.headers["X-RateLimit-Endpoint-Class"] == "long-running"
    jid = env["jobId"]
    progress = 0.0
    # walk the clock through the stages
    t = 0.0
    for at, stage in [
        (0, "queued"),
        (12, "queued"),
        (20, "researching"),
        (214, "researching"),
        (218, "curating"),
        (269, "curating"),
    ]:
        if at > t:
            await nominal_api.advance(at - t)
            t = at
        job = await get_job(nominal_api, jid)
        check_job(job)
        assert (job["status"], job["stage"]) == ("running", stage), (at, job)
        assert job["progress"] >= progress
        progress = job["progress"]
        assert ok(await nominal_api.get(kw_path(pid))) == old
    await nominal_api.advance(2)
    job = await get_job(nominal_api, jid)
    check_job(job)
    assert job["status"] == "completed"
    assert job["stage"] == "curating"
    new = ok(await nominal_api.get(kw_path(pid)))
    check_bank(new, project_id=pid)
    assert new["refreshedAt"] == shift(start, 270)
    assert job["result"] == {
        **job["result"],
        "projectId": pid,
        "hashtagCount": 20,
        "refreshedAt": new["refreshedAt"],
    }


@pytest.mark.anyio
async def test_automatic_research_fills_bank(nominal_api: Api) -> None:
    """The research run started by project create fills the bank at 270 s (jitter=0)."""
    start = await nominal_api.now()
    pid = (await create_project(nominal_api))["id"]
    await nominal_api.advance(269)
    assert ok(await nominal_api.get(kw_path(pid)))["refreshedAt"] is None
    await nominal_api.advance(2)
    bank = ok(await nominal_api.get(kw_path(pid)))
    check_bank(bank, project_id=pid)
    assert bank["refreshedAt"] == shift(start, 270)


@pytest.mark.anyio
async def test_refresh_failure_leaves_bank(nominal_api: Api) -> None:
    """A failed refresh ends RESEARCH_FAILED and leaves the previous bank unchanged."""
    pid, old = await researched_bank(nominal_api)
    await nominal_api.configure({"failureRates": {"keywords_refresh": 1.0}})
    env = ok(await nominal_api.post(kw_path(pid) + "/refresh", {}), 202)
    await nominal_api.advance(280)
    job = await get_job(nominal_api, env["jobId"])
    check_job(job)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "RESEARCH_FAILED"
    assert ok(await nominal_api.get(kw_path(pid))) == old


@pytest.mark.anyio
@pytest.mark.sandbox_options(failure_rates={"keywords_refresh": 1.0})
async def test_refresh_failure_without_previous_bank(custom_api: Api) -> None:
    """With keywords_refresh failing, neither the automatic run nor a refresh fills the bank."""
    pid = (await create_project(custom_api))["id"]
    env = ok(await custom_api.post(kw_path(pid) + "/refresh"), 202)
    await custom_api.advance(400)
    assert (await get_job(custom_api, env["jobId"]))["error"]["code"] == "RESEARCH_FAILED"
    bank = ok(await custom_api.get(kw_path(pid)))
    assert bank["hashtags"] == []
    assert bank["refreshedAt"] is None


@pytest.mark.anyio
async def test_refresh_cancel_rules(nominal_api: Api) -> None:
    """curating refuses cancel (409); researching cancels at its end, bank kept."""
    pid, old = await researched_bank(nominal_api)
    late = ok(await nominal_api.post(kw_path(pid) + "/refresh"), 202)["jobId"]
    await nominal_api.advance(30)
    early = ok(await nominal_api.post(kw_path(pid) + "/refresh"), 202)["jobId"]
    await nominal_api.advance(20)
    assert ok(await nominal_api.post(f"/v1/jobs/{early}/cancel"), 202)["accepted"] is True
    await nominal_api.advance(170)  # late: 220 s in → curating; early: 190 s in → researching
    assert (await get_job(nominal_api, late))["stage"] == "curating"
    e = err(await nominal_api.post(f"/v1/jobs/{late}/cancel"), 409, "CONFLICT")
    assert e["details"] == {
        **e["details"],
        "subcode": "JOB_CANCEL_UNAVAILABLE",
        "jobId": late,
        "stage": "curating",
    }
    assert (await get_job(nominal_api, early))["status"] == "running"
    await nominal_api.advance(30)  # early: 220 s in, past the researching boundary at 216 s
    job = await get_job(nominal_api, early)
    check_job(job)
    assert job["status"] == "canceled"
    assert job["stage"] == "researching"
    assert ok(await nominal_api.get(kw_path(pid))) == old
    await nominal_api.advance(60)  # late completes at 270 s
    assert (await get_job(nominal_api, late))["status"] == "completed"
    assert ok(await nominal_api.get(kw_path(pid)))["refreshedAt"] != old["refreshedAt"]


@pytest.mark.anyio
async def test_keywords_project_errors(api: Api) -> None:
    """Keywords routes: unknown project → 404, malformed projectId → 422."""
    err(await api.get(kw_path(GHOST_PRJ)), 404, "NOT_FOUND")
    err(await api.post(kw_path(GHOST_PRJ) + "/refresh"), 404, "NOT_FOUND")
    invalid(await api.get(kw_path("prj_bad")), "projectId")
    invalid(await api.post(kw_path("prj_bad") + "/refresh"), "projectId")


@pytest.mark.anyio
async def test_keywords_accept_description_edge(api: Api) -> None:
    """A project whose appDescription is set later via PATCH can be refreshed."""
    pid = (await create_project(api, app=False))["id"]
    ok(await api.patch(f"/v1/projects/{pid}", {"appDescription": DESCRIPTION}))
    env = ok(await api.post(kw_path(pid) + "/refresh"), 202)
    assert env["kind"] == "keywords_refresh"


@pytest.mark.anyio
async def test_refresh_cancel_while_queued(api: Api) -> None:
    """A refresh canceled while queued is canceled at once and leaves the bank as it was."""
    pid = (await create_project(api))["id"]
    env = ok(await api.post(kw_path(pid) + "/refresh"), 202)
    r = await api.post(f"/v1/jobs/{env['jobId']}/cancel")
    assert ok(r, 202) == {**r.json, "jobId": env["jobId"], "accepted": True}
    job = await get_job(api, env["jobId"])
    check_job(job)
    assert (job["status"], job["stage"]) == ("canceled", "queued")
    again = await api.post(f"/v1/jobs/{env['jobId']}/cancel")
    assert ok(again)["reason"] == "ALREADY_CANCELED"
