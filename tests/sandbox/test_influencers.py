"""Contract tests for influencers (§3.5) and their lifecycle (§4.2)."""

from __future__ import annotations

from typing import Any

import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import query_validation_test
from tests.sandbox._flows import (
    GHOST_INF,
    GHOST_PRJ,
    INF_RE,
    INFLUENCER_FIELDS,
    INFLUENCER_SUMMARY_FIELDS,
    assert_jobs_cap,
    assert_ts,
    check_envelope,
    check_job,
    create_project,
    err,
    get_job,
    has_fields,
    inf_path,
    invalid,
    kw_path,
    not_found_or_invalid,
    ok,
    route_scope_test,
    shift,
)
from tests.sandbox._http import Api

AGE_RANGES = ["teen", "young_adult", "adult", "mid_adult", "mature", "senior"]


async def get_inf(api: Api, influencer_id: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(await api.get(f"/v1/influencers/{influencer_id}"))
    return body


async def create_inf(api: Api, project_id: str, body: Any = None) -> dict[str, Any]:
    env: dict[str, Any] = ok(await api.post(inf_path(project_id), body or {}), 202)
    return env


def check_influencer(inf: dict[str, Any], *, project_id: str) -> None:
    has_fields(inf, INFLUENCER_FIELDS)
    assert INF_RE.match(inf["influencerId"]), inf
    assert inf["projectId"] == project_id
    assert isinstance(inf["name"], str)
    assert inf["name"]
    assert inf["gender"] in ("male", "female", "non_binary")
    assert inf["ageRange"] is None or inf["ageRange"] in AGE_RANGES
    assert inf["status"] in ("pending", "training", "ready", "failed")
    assert_ts(inf["createdAt"])
    assert_ts(inf["updatedAt"])
    if inf["status"] == "ready":
        assert isinstance(inf["imageUrl"], str)
        assert inf["errorMessage"] is None
    else:
        assert inf["imageUrl"] is None
    if inf["status"] == "failed":
        assert isinstance(inf["errorMessage"], str)
        assert inf["errorMessage"]
    else:
        assert inf["errorMessage"] is None


# --- list (contract §3.5.1) -----------------------------------------------------------------------
@pytest.mark.anyio
async def test_list_empty_without_app_description(api: Api) -> None:
    """A project created without appDescription has no influencer."""
    pid = (await create_project(api, app=False))["id"]
    assert ok(await api.get(inf_path(pid))) == {"items": [], "nextCursor": None}


@pytest.mark.anyio
async def test_list_summary_shape_and_thumbnail(api: Api, sandbox: Sandbox) -> None:
    """List rows are InfluencerSummary; thumbnailUrl is null until ready."""
    pid = (await create_project(api))["id"]
    page = ok(await api.get(inf_path(pid)))
    assert page["nextCursor"] is None
    [row] = page["items"]
    has_fields(row, INFLUENCER_SUMMARY_FIELDS)
    assert INF_RE.match(row["influencerId"])
    assert row["status"] == "pending"
    assert row["thumbnailUrl"] is None
    assert row["gender"] == "female"
    assert row["ageRange"] == "young_adult"
    assert isinstance(row["name"], str)
    assert row["name"]
    assert_ts(row["createdAt"])
    await api.advance(80)
    [row] = ok(await api.get(inf_path(pid)))["items"]
    assert row["status"] == "ready"
    assert row["thumbnailUrl"].startswith(f"{sandbox.url}/_sandbox/media/")


@pytest.mark.anyio
async def test_list_order_status_filter_and_paging(api: Api) -> None:
    """Newest createdAt first; status filters; limit=1 pages with a cursor."""
    pid = (await create_project(api, app=False))["id"]
    first = (await create_inf(api, pid))["influencerId"]
    await api.advance(10)
    second_env = await create_inf(api, pid)
    second = second_env["influencerId"]
    ok(await api.post(f"/v1/jobs/{second_env['jobId']}/cancel"), 202)
    await api.advance(1)
    third = (await create_inf(api, pid))["influencerId"]

    page = ok(await api.get(inf_path(pid)))
    assert [i["influencerId"] for i in page["items"]] == [third, second, first]

    async def ids(**params: str) -> list[str]:
        return [i["influencerId"] for i in ok(await api.get(inf_path(pid), params=params))["items"]]

    assert await ids(status="failed") == [second]
    assert await ids(status="training") == [first]
    assert await ids(status="pending") == [third]
    assert await ids(status="ready") == []

    p1 = ok(await api.get(inf_path(pid), params={"limit": "1"}))
    assert [i["influencerId"] for i in p1["items"]] == [third]
    assert isinstance(p1["nextCursor"], str)
    p2 = ok(await api.get(inf_path(pid), params={"limit": "2", "cursor": p1["nextCursor"]}))
    assert [i["influencerId"] for i in p2["items"]] == [second, first]
    assert len(ok(await api.get(inf_path(pid), params={"limit": "100"}))["items"]) == 3


test_list_validation = query_validation_test(
    "influencers",
    [
        "limit=0 limit=101 limit=1.5 status=archived status=READY cursor=%%%",
    ],
    """Bad limit, status or cursor → 422 with the parameter as path.""",
)


# --- create (contract §3.5.2) ---------------------------------------------------------------------
@pytest.mark.anyio
async def test_create_envelope_and_pending_row(api: Api) -> None:
    """POST → 202 influencer_create envelope; the influencer exists at once as pending."""
    project = await create_project(api, app=False, primaryLanguage="es-MX", brandVoice="witty")
    pid = project["id"]
    now = await api.now()
    r = await api.post(inf_path(pid), {})
    env = ok(r, 202)
    check_envelope(env, kind="influencer_create", project_id=pid, now=now)
    assert INF_RE.match(env["influencerId"])
    assert r.headers["X-RateLimit-Endpoint-Class"] == "long-running"
    inf = await get_inf(api, env["influencerId"])
    check_influencer(inf, project_id=pid)
    assert inf == {
        **inf,
        "status": "pending",
        "imageUrl": None,
        "gender": "female",
        "ageRange": "young_adult",
        "brandVoice": "witty",
        "language": "es-MX",
        "errorMessage": None,
        "createdAt": now,
    }
    job = await get_job(api, env["jobId"])
    check_job(job)
    assert job["stage"] == "queued"
    assert job["influencerId"] == env["influencerId"]
    assert job["projectId"] == pid


@pytest.mark.anyio
async def test_create_without_body(api: Api) -> None:
    """All create fields are optional: no body at all is accepted."""
    pid = (await create_project(api, app=False))["id"]
    r = await api.post(inf_path(pid))
    assert r.status == 202, r


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("target", "expected"), [("all", "female"), ("female", "female"), ("male", "male")]
)
async def test_create_default_gender(api: Api, target: str, expected: str) -> None:
    """Default gender is the project's targetGender when female/male, else female."""
    pid = (await create_project(api, app=False, targetGender=target))["id"]
    env = await create_inf(api, pid)
    assert (await get_inf(api, env["influencerId"]))["gender"] == expected


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        {"gender": "non_binary", "ageRange": "senior", "prompt": "p" * 1000},
        {"gender": "male", "ageRange": "teen", "prompt": "x"},
        {"gender": None, "ageRange": None, "prompt": None},
    ],
)
async def test_create_accepts_fields(api: Api, body: dict[str, Any]) -> None:
    """gender, ageRange and prompt (1-1000 chars) are accepted; null means omitted on create."""
    pid = (await create_project(api, app=False))["id"]
    env = await create_inf(api, pid, body)
    inf = await get_inf(api, env["influencerId"])
    assert inf["gender"] == (body["gender"] or "female")
    assert inf["ageRange"] == (body["ageRange"] or "young_adult")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"gender": "other"}, "gender"),
        ({"gender": "Female"}, "gender"),
        ({"ageRange": "old"}, "ageRange"),
        ({"ageRange": 30}, "ageRange"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "p" * 1001}, "prompt"),
        ({"prompt": 5}, "prompt"),
        ({"name": "Maya Torres"}, "name"),
        ({"influencerId": GHOST_INF}, "influencerId"),
        ({"brandVoice": "warm"}, "brandVoice"),
        ({"language": "en"}, "language"),
        ({"status": "ready"}, "status"),
    ],
)
async def test_create_validation(api: Api, body: dict[str, Any], path: str) -> None:
    """Strict create body: enum and bound checks, and name/brandVoice/language are not accepted."""
    pid = (await create_project(api, app=False))["id"]
    invalid(await api.post(inf_path(pid), body), path)
    assert ok(await api.get(inf_path(pid)))["items"] == []


@pytest.mark.anyio
async def test_create_non_object_body(api: Api) -> None:
    """A JSON array body → 422 with path ""."""
    pid = (await create_project(api, app=False))["id"]
    invalid(await api.post(inf_path(pid), ["gender"]), "")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("project", "status"), [(GHOST_PRJ, 404), ("prj_zzz", 422), ("not-a-project", 422)]
)
async def test_create_project_errors(api: Api, project: str, status: int) -> None:
    """Unknown project → 404; malformed projectId → 422 path projectId."""
    r = await api.post(inf_path(project), {})
    not_found_or_invalid(r, status, "projectId")


@pytest.mark.anyio
async def test_create_on_archived_project(api: Api) -> None:
    """Influencer create on an archived project → 409 {projectId, status: archived}."""
    pid = (await create_project(api, app=False))["id"]
    ok(await api.delete(f"/v1/projects/{pid}"))
    e = err(await api.post(inf_path(pid), {}), 409, "CONFLICT")
    assert e["details"] == {**e["details"], "projectId": pid, "status": "archived"}


# --- lifecycle (contract §4.2) --------------------------------------------------------------------
@pytest.mark.anyio
async def test_lifecycle_pending_training_ready(nominal_api: Api) -> None:
    """jitter=0: pending for 6 s (stage queued), training until 60 s, then ready with imageUrl."""
    api = nominal_api
    pid = (await create_project(api, app=False))["id"]
    start = await api.now()
    env = await create_inf(api, pid, {"gender": "male"})
    iid, jid = env["influencerId"], env["jobId"]
    last_progress = 0.0

    async def snap(expect_inf: str, expect_stage: str, expect_job: str) -> None:
        nonlocal last_progress
        inf = await get_inf(api, iid)
        check_influencer(inf, project_id=pid)
        job = await get_job(api, jid)
        check_job(job)
        assert (inf["status"], job["stage"], job["status"]) == (
            expect_inf,
            expect_stage,
            expect_job,
        )
        assert job["progress"] >= last_progress
        last_progress = job["progress"]

    await snap("pending", "queued", "running")
    await api.advance(5)
    await snap("pending", "queued", "running")
    await api.advance(2)
    await snap("training", "training", "running")
    await api.advance(52)
    await snap("training", "training", "running")
    await api.advance(2)
    await snap("ready", "training", "completed")
    inf = await get_inf(api, iid)
    assert inf["imageUrl"].startswith(f"{api.base_url}/_sandbox/media/")
    assert inf["gender"] == "male"
    job = await get_job(api, jid)
    assert job["progress"] == 1
    assert job["finishedAt"] == shift(start, 60)
    assert job["result"] == {**job["result"], "influencerId": iid, "imageUrl": inf["imageUrl"]}
    [row] = ok(await api.get(inf_path(pid)))["items"]
    assert isinstance(row["thumbnailUrl"], str)


@pytest.mark.anyio
async def test_first_influencer_lifecycle(nominal_api: Api) -> None:
    """Project create with appDescription adds a pending first influencer that is ready at 60 s."""
    pid = (await create_project(nominal_api, targetGender="male"))["id"]
    [row] = ok(await nominal_api.get(inf_path(pid)))["items"]
    assert (row["status"], row["gender"], row["ageRange"]) == ("pending", "male", "young_adult")
    await nominal_api.advance(7)
    assert (await get_inf(nominal_api, row["influencerId"]))["status"] == "training"
    await nominal_api.advance(54)
    inf = await get_inf(nominal_api, row["influencerId"])
    assert inf["status"] == "ready"
    assert inf["brandVoice"] == "warm"
    assert inf["language"] == "en"


@pytest.mark.anyio
@pytest.mark.sandbox_options(jitter=0, failure_rates={"influencer_create": 1.0})
async def test_failure_rate_fails_influencer(custom_api: Api) -> None:
    """Failure rate 1.0 → influencer failed with errorMessage, job TRAINING_FAILED."""
    pid = (await create_project(custom_api, app=False))["id"]
    env = await create_inf(custom_api, pid)
    await custom_api.advance(61)
    inf = await get_inf(custom_api, env["influencerId"])
    check_influencer(inf, project_id=pid)
    assert inf["status"] == "failed"
    assert inf["imageUrl"] is None
    job = await get_job(custom_api, env["jobId"])
    check_job(job)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "TRAINING_FAILED"
    [row] = ok(await custom_api.get(inf_path(pid)))["items"]
    assert row["status"] == "failed"
    assert row["thumbnailUrl"] is None


@pytest.mark.anyio
async def test_cancel_while_queued_fails_influencer(api: Api) -> None:
    """Cancel while queued: at once, influencer failed with 'Creation canceled.'."""
    pid = (await create_project(api, app=False))["id"]
    env = await create_inf(api, pid)
    r = await api.post(f"/v1/jobs/{env['jobId']}/cancel")
    assert ok(r, 202) == {**r.json, "jobId": env["jobId"], "accepted": True}
    job = await get_job(api, env["jobId"])
    check_job(job)
    assert job["status"] == "canceled"
    inf = await get_inf(api, env["influencerId"])
    assert inf["status"] == "failed"
    assert inf["errorMessage"] == "Creation canceled."
    assert inf["imageUrl"] is None
    await api.advance(120)
    assert (await get_inf(api, env["influencerId"]))["status"] == "failed"


@pytest.mark.anyio
async def test_cancel_while_training(nominal_api: Api) -> None:
    """Cancel during training takes effect at the end of the stage, instead of ready."""
    pid = (await create_project(nominal_api, app=False))["id"]
    env = await create_inf(nominal_api, pid)
    await nominal_api.advance(20)
    assert ok(await nominal_api.post(f"/v1/jobs/{env['jobId']}/cancel"), 202)["accepted"] is True
    await nominal_api.advance(38)
    assert (await get_job(nominal_api, env["jobId"]))["status"] == "running"
    assert (await get_inf(nominal_api, env["influencerId"]))["status"] == "training"
    await nominal_api.advance(3)
    job = await get_job(nominal_api, env["jobId"])
    assert job["status"] == "canceled"
    assert job["stage"] == "training"
    inf = await get_inf(nominal_api, env["influencerId"])
    assert inf["status"] == "failed"
    assert inf["errorMessage"] == "Creation canceled."


# --- get (contract §3.5.3) ------------------------------------------------------------------------
@pytest.mark.anyio
async def test_get_unknown_influencer(api: Api) -> None:
    """A well-formed unknown influencer id → 404."""
    err(await api.get(f"/v1/influencers/{GHOST_INF}"), 404, "NOT_FOUND")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "bad",
    [
        "inf_123",
        "5f0b8d2e-6a4c-4e1f-a3b5-c7d9e1f3a5b7",
        "sa_5f0b8d2e-6a4c-4e1f-a3b5-c7d9e1f3a5b7",
        "inf_5f0b8d2e6a4c4e1fa3b5c7d9e1f3a5b7",
    ],
)
async def test_get_malformed_influencer_id(api: Api, bad: str) -> None:
    """A malformed influencerId (including a bare UUID) → 422 path influencerId."""
    invalid(await api.get(f"/v1/influencers/{bad}"), "influencerId")
    invalid(await api.patch(f"/v1/influencers/{bad}", {"name": "X"}), "influencerId")


@pytest.mark.anyio
async def test_get_accepts_uppercase_uuid(api: Api) -> None:
    """Input UUIDs match case-insensitively; the response uses the lowercase prefixed form."""
    pid = (await create_project(api, app=False))["id"]
    iid = (await create_inf(api, pid))["influencerId"]
    inf = ok(await api.get(f"/v1/influencers/inf_{iid[4:].upper()}"))
    assert inf["influencerId"] == iid


@pytest.mark.anyio
async def test_influencer_other_organization(two_live_org_apis: dict[str, Api]) -> None:
    """Another organization's influencer → 404 on GET and PATCH (never 403)."""
    mine = two_live_org_apis["demo-live"]
    theirs = two_live_org_apis["other-live"]
    pid = (await create_project(theirs, app=False))["id"]
    iid = (await create_inf(theirs, pid))["influencerId"]
    err(await mine.get(f"/v1/influencers/{iid}"), 404, "NOT_FOUND")
    err(await mine.patch(f"/v1/influencers/{iid}", {"name": "Hijack"}), 404, "NOT_FOUND")
    err(await mine.get(inf_path(pid)), 404, "NOT_FOUND")
    assert (await get_inf(theirs, iid))["name"] != "Hijack"


# --- PATCH (contract §3.5.4) ----------------------------------------------------------------------
@pytest.mark.anyio
async def test_patch_fields(api: Api) -> None:
    """PATCH changes the given fields, returns the whole Influencer and bumps updatedAt."""
    pid = (await create_project(api, app=False))["id"]
    iid = (await create_inf(api, pid))["influencerId"]
    before = await get_inf(api, iid)
    await api.advance(3)
    now = await api.now()
    patch = {
        "name": "Maya Torres",
        "gender": "non_binary",
        "ageRange": "mature",
        "brandVoice": "educational",
        "language": "zh-Hans-CN",
    }
    r = await api.patch(f"/v1/influencers/{iid}", patch)
    body = ok(r)
    check_influencer(body, project_id=pid)
    assert body == {**before, **patch, "updatedAt": now}
    assert body["createdAt"] == before["createdAt"]
    assert r.headers["X-RateLimit-Endpoint-Class"] == "write-light"
    assert await get_inf(api, iid) == body


@pytest.mark.anyio
async def test_patch_null_age_range_clears(api: Api) -> None:
    """ageRange: null clears the field; other fields are unchanged."""
    pid = (await create_project(api, app=False))["id"]
    iid = (await create_inf(api, pid, {"ageRange": "adult"}))["influencerId"]
    before = await get_inf(api, iid)
    body = ok(await api.patch(f"/v1/influencers/{iid}", {"ageRange": None}))
    assert body["ageRange"] is None
    assert body["name"] == before["name"]
    assert body["gender"] == before["gender"]


@pytest.mark.anyio
async def test_patch_allowed_in_terminal_status(api: Api) -> None:
    """PATCH works in every status (here: failed) and never changes status."""
    pid = (await create_project(api, app=False))["id"]
    env = await create_inf(api, pid)
    ok(await api.post(f"/v1/jobs/{env['jobId']}/cancel"), 202)
    body = ok(await api.patch(f"/v1/influencers/{env['influencerId']}", {"name": "Renamed"}))
    assert body["name"] == "Renamed"
    assert body["status"] == "failed"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, ""),
        ({"status": "ready"}, "status"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "n" * 129}, "name"),
        ({"gender": None}, "gender"),
        ({"gender": "robot"}, "gender"),
        ({"ageRange": "ancient"}, "ageRange"),
        ({"brandVoice": None}, "brandVoice"),
        ({"brandVoice": "snarky"}, "brandVoice"),
        ({"language": None}, "language"),
        ({"language": "not a tag!"}, "language"),
        ({"imageUrl": "https://x.example/a.png"}, "imageUrl"),
        ({"prompt": "more"}, "prompt"),
        ({"name": "Ok", "foo": 1}, "foo"),
    ],
)
async def test_patch_validation(api: Api, body: dict[str, Any], path: str) -> None:
    """PATCH is strict, needs one field, and refuses null except for ageRange."""
    pid = (await create_project(api, app=False))["id"]
    iid = (await create_inf(api, pid))["influencerId"]
    before = await get_inf(api, iid)
    invalid(await api.patch(f"/v1/influencers/{iid}", body), path)
    assert await get_inf(api, iid) == before


@pytest.mark.anyio
async def test_patch_unknown_influencer(api: Api) -> None:
    """PATCH on an unknown influencer → 404."""
    err(await api.patch(f"/v1/influencers/{GHOST_INF}", {"name": "Nobody"}), 404, "NOT_FOUND")


# --- scopes, running-jobs cap, credits ---------------------------------------------------------
test_routes_require_scope = route_scope_test(
    [
        ("GET", f"/v1/projects/{GHOST_PRJ}/influencers", "influencers:write"),
        ("POST", f"/v1/projects/{GHOST_PRJ}/influencers", "influencers:write"),
        ("GET", f"/v1/influencers/{GHOST_INF}", "influencers:write"),
        ("PATCH", f"/v1/influencers/{GHOST_INF}", "influencers:write"),
        ("GET", f"/v1/projects/{GHOST_PRJ}/keywords", "projects:read"),
        ("POST", f"/v1/projects/{GHOST_PRJ}/keywords/refresh", "projects:write"),
    ],
    """Influencer routes (reads included) need influencers:write; keywords need projects:*.""",
)


@pytest.mark.anyio
async def test_running_jobs_cap(nominal_api: Api) -> None:
    """The 11th running job → 429 concurrent_jobs {running, max}; automatic work is not counted."""
    pid = (await create_project(nominal_api))["id"]  # automatic influencer + research: not jobs
    for _ in range(10):
        ok(await nominal_api.post(inf_path(pid), {}), 202)
    for path in (inf_path(pid), kw_path(pid) + "/refresh"):
        r = await nominal_api.post(path, {})
        assert_jobs_cap(r)
    assert len(ok(await nominal_api.get(inf_path(pid)))["items"]) == 11
    await nominal_api.advance(61)
    ok(await nominal_api.post(inf_path(pid), {}), 202)


@pytest.mark.anyio
async def test_influencer_creation_is_free(api: Api) -> None:
    """Influencer creation reserves and charges no credits."""
    pid = (await create_project(api, app=False))["id"]
    ok(await api.post(inf_path(pid), {}), 202)
    w = ok(await api.get("/v1/credits"))
    assert (w["reservedCredits"], w["available"]) == (0, 6000)
    await api.advance(80)
    w = ok(await api.get("/v1/credits"))
    assert (w["usedThisPeriod"], w["balance"]) == (0, 6000)


@pytest.mark.anyio
async def test_ready_portrait_is_served(api: Api) -> None:
    """A ready influencer's imageUrl and thumbnailUrl are served by the sandbox."""
    pid = (await create_project(api, app=False))["id"]
    env = await create_inf(api, pid)
    await api.advance(80)
    inf = await get_inf(api, env["influencerId"])
    [row] = ok(await api.get(inf_path(pid)))["items"]
    for url in (inf["imageUrl"], row["thumbnailUrl"]):
        r = await api.get(url)
        assert r.status == 200, (url, r)
        assert r.headers["Content-Type"].startswith("image/")


@pytest.mark.anyio
@pytest.mark.sandbox_options(jitter=0, failure_rates={"influencer_create": 1.0})
async def test_failure_happens_within_20_to_90_percent(custom_api: Api) -> None:
    """A failing creation is still running before 20 % of its duration and failed by 90 %."""
    pid = (await create_project(custom_api, app=False))["id"]
    env = await create_inf(custom_api, pid)
    await custom_api.advance(11)
    assert (await get_job(custom_api, env["jobId"]))["status"] == "running"
    assert (await get_inf(custom_api, env["influencerId"]))["status"] == "training"
    await custom_api.advance(44)
    assert (await get_job(custom_api, env["jobId"]))["status"] == "failed"
    assert (await get_inf(custom_api, env["influencerId"]))["status"] == "failed"
