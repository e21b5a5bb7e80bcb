"""Contract tests for rate limits (§1.11): rate headers, per-minute buckets, the daily write cap
and the running-jobs cap."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import (
    APP_DESCRIPTION,
    assert_error,
    assert_only_class_header,
    assert_rate_headers,
    burst,
    create_project,
    new_uuid,
    start_builder,
)
from tests.sandbox._flows import parse_ts
from tests.sandbox._http import Api, MakeSandbox

# --------------------------------------------------------------------------------------------
# rate limits (contract §1.11)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_rate_headers_on_authenticated_responses(api: Api) -> None:
    """Authenticated responses, errors included, carry class, limit, remaining and reset."""
    r = await api.get("/v1/whoami")
    assert_rate_headers(r, "read-light", 120)
    assert int(r.headers["X-RateLimit-Remaining"]) == 119
    r = await api.get("/v1/whoami")
    assert int(r.headers["X-RateLimit-Remaining"]) == 118
    r = await api.get(f"/v1/projects/prj_{new_uuid()}")
    assert r.status == 404
    assert_rate_headers(r, "read-light", 120)
    assert int(r.headers["X-RateLimit-Remaining"]) == 117
    r = await api.post("/v1/projects", {"name": "A"})
    assert r.status == 422
    assert_rate_headers(r, "write-light", 60)
    assert int(r.headers["X-RateLimit-Remaining"]) == 59
    project = await create_project(api)
    r = await api.post(
        f"/v1/projects/{project['id']}/content/slideshow-builder", {"hook": "A hook"}
    )
    assert r.status == 202, r
    assert_rate_headers(r, "long-running", 20)
    assert int(r.headers["X-RateLimit-Remaining"]) == 19


@pytest.mark.anyio
async def test_rate_limit_reset_counts_to_window_end(api: Api) -> None:
    """X-RateLimit-Reset is whole seconds to the end of the virtual minute (paused: ceil(v))."""
    r = await api.get("/v1/whoami")
    assert int(r.headers["X-RateLimit-Reset"]) == 60
    await api.advance(15)
    r = await api.get("/v1/whoami")
    assert int(r.headers["X-RateLimit-Reset"]) == 45


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "cls"), [("GET", "read-light"), ("POST", "write-light"), ("DELETE", "write-light")]
)
async def test_pre_auth_responses_carry_only_class_header(api: Api, method: str, cls: str) -> None:
    """Unknown-route 404s and 401s carry only X-RateLimit-Endpoint-Class (class by method)."""
    r = await api.call(method, "/v1/does-not-exist")
    assert_error(r, 404, "NOT_FOUND")
    assert_only_class_header(r, cls)
    path = "/v1/projects" if method != "DELETE" else f"/v1/projects/prj_{new_uuid()}"
    r = await api.with_key(None).call(method, path)
    assert_error(r, 401, "UNAUTHENTICATED")
    assert_only_class_header(r, cls)


@pytest.mark.anyio
async def test_read_light_per_minute_limit(api: Api) -> None:
    """The 121st GET in a virtual minute is 429 per_minute read-light; the next minute refills."""
    replies = await burst(api, 120)
    assert [r.status for r in replies] == [200] * 120
    r = await api.get("/v1/whoami")
    err = assert_error(r, 429, "RATE_LIMITED")
    assert err["details"]["limitType"] == "per_minute"
    assert err["details"]["endpointClass"] == "read-light"
    assert int(r.headers["Retry-After"]) >= 1
    assert int(r.headers["Retry-After"]) == 60
    assert_rate_headers(r, "read-light", 120)
    assert int(r.headers["X-RateLimit-Remaining"]) == 0
    for _ in range(5):
        assert (await api.get("/v1/credits")).status == 429
    write = await api.post("/v1/projects", {"name": "Acme", "timezone": "UTC"})
    assert write.status == 201, write
    await api.advance(60)
    r = await api.get("/v1/whoami")
    assert r.status == 200, r
    assert int(r.headers["X-RateLimit-Remaining"]) == 119


@pytest.mark.anyio
async def test_refused_requests_consume_nothing_across_keys(api: Api, sandbox: Sandbox) -> None:
    """Buckets are per key: one exhausted key does not affect another key's bucket."""
    await burst(api, 121)
    other = api.with_key(sandbox.keys["demo-test"])
    r = await other.get("/v1/whoami")
    assert r.status == 200
    assert int(r.headers["X-RateLimit-Remaining"]) == 119


@pytest.mark.anyio
async def test_write_light_per_minute_limit(api: Api) -> None:
    """The 61st write-light call in a minute is 429 per_minute write-light."""
    project = await create_project(api)
    pid = project["id"]
    replies = await asyncio.gather(
        *(api.patch(f"/v1/projects/{pid}", {"name": f"Name {i:02d}"}) for i in range(59))
    )
    assert all(r.status == 200 for r in replies)
    r = await api.patch(f"/v1/projects/{pid}", {"name": "Too many"})
    err = assert_error(r, 429, "RATE_LIMITED")
    assert err["details"] == {"limitType": "per_minute", "endpointClass": "write-light"}
    assert int(r.headers["Retry-After"]) >= 1


@pytest.mark.anyio
async def test_running_jobs_cap(nominal_api: Api) -> None:
    """The 11th running job is 429 concurrent_jobs with running/max; the refusal is not stored."""
    project = await create_project(nominal_api)
    for _ in range(10):
        await start_builder(nominal_api, project["id"])
    path = f"/v1/projects/{project['id']}/content/slideshow-builder"
    r = await nominal_api.post(path, {"hook": "one too many"}, idem="cap-key")
    err = assert_error(r, 429, "RATE_LIMITED")
    assert err["details"] == {
        "limitType": "concurrent_jobs",
        "endpointClass": "long-running",
        "running": 10,
        "max": 10,
    }
    assert int(r.headers["Retry-After"]) == 60
    state = await nominal_api.state()
    assert state["counts"]["jobs"]["total"] == 10
    assert state["counts"]["containers"]["total"] == 10
    await nominal_api.advance(61)
    r = await nominal_api.post(path, {"hook": "one too many"}, idem="cap-key")
    assert r.status == 202, r
    assert "Idempotency-Replayed" not in r.headers


@pytest.mark.anyio
async def test_running_jobs_cap_is_per_organization(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """The cap counts the organization's running jobs across keys, not automatic workflows."""
    async with make_sandbox() as sb:
        live = Api(session, sb.url, sb.keys["demo-live"])
        test = Api(session, sb.url, sb.keys["demo-test"])
        for _ in range(3):
            await create_project(live, appDescription=APP_DESCRIPTION)
        project = await create_project(live)
        for i in range(10):
            await start_builder(live if i % 2 else test, project["id"])
        for key in (live, test):
            r = await key.post(
                f"/v1/projects/{project['id']}/content/slideshow-builder", {"hook": "more"}
            )
            err = assert_error(r, 429, "RATE_LIMITED")
            assert err["details"]["limitType"] == "concurrent_jobs"
            assert err["details"]["running"] == 10


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tier", "limits"),
    [
        ("standard", (120, 60, 20)),
        ("pilot", (1200, 600, 60)),
        ("partner", (6000, 3000, 300)),
        ("sandbox", (120, 60, 20)),
    ],
)
async def test_rate_limit_per_tier(
    make_sandbox: MakeSandbox,
    session: aiohttp.ClientSession,
    tier: str,
    limits: tuple[int, int, int],
) -> None:
    """X-RateLimit-Limit is the per-minute limit of the class for the key's tier."""
    keys = [
        {
            "name": "k",
            "organization": "partner",
            "rateLimitTier": tier,
            "scopes": ["*"],
            "returnUrlAllowlist": ["localhost"],
        }
    ]
    async with make_sandbox(api_keys=keys) as sb:
        api = Api(session, sb.url, sb.keys["k"])
        r = await api.get("/v1/whoami")
        assert_rate_headers(r, "read-light", limits[0])
        assert int(r.headers["X-RateLimit-Remaining"]) == limits[0] - 1
        project = await create_project(api)
        r = await api.patch(f"/v1/projects/{project['id']}", {"name": "Renamed"})
        assert_rate_headers(r, "write-light", limits[1])
        r = await api.post(
            f"/v1/projects/{project['id']}/content/slideshow-builder", {"hook": "hook"}
        )
        assert r.status == 202, r
        assert_rate_headers(r, "long-running", limits[2])


@pytest.mark.anyio
async def test_long_running_bucket_counts_cap_refusals(api: Api) -> None:
    """Jobs refused by the running-jobs cap still consume long-running units (21st: per_minute)."""
    project = await create_project(api)
    path = f"/v1/projects/{project['id']}/content/slideshow-builder"
    statuses = []
    for i in range(20):
        r = await api.post(path, {"hook": f"hook {i}"})
        statuses.append(r.status)
    assert statuses == [202] * 10 + [429] * 10
    r = await api.post(path, {"hook": "hook 21"})
    err = assert_error(r, 429, "RATE_LIMITED")
    assert err["details"] == {"limitType": "per_minute", "endpointClass": "long-running"}


@pytest.mark.anyio
async def test_write_light_daily_cap(api: Api) -> None:
    """10,000 write-light calls a UTC day (refusals not counted), then 429 daily until midnight."""
    path = f"/v1/scheduled-posts/sp_{new_uuid()}"
    first = await asyncio.gather(*(api.delete(path) for _ in range(60)))
    assert all(r.status == 404 for r in first)
    refused = await asyncio.gather(*(api.delete(path) for _ in range(200)))
    assert all(r.status == 429 for r in refused)
    assert all(r.error["details"]["limitType"] == "per_minute" for r in refused)
    await api.advance(60)
    done = 60
    while done < 10_000:
        n = min(60, 10_000 - done)
        replies = await asyncio.gather(*(api.delete(path) for _ in range(n)))
        assert all(r.status == 404 for r in replies), replies[0]
        done += n
        await api.advance(60)
    r = await api.delete(path)
    err = assert_error(r, 429, "RATE_LIMITED")
    assert err["details"]["limitType"] == "daily"
    assert err["details"]["endpointClass"] == "write-light"
    now = parse_ts(await api.now())
    midnight = datetime(now.year, now.month, now.day, tzinfo=timezone.utc) + timedelta(days=1)
    assert int(r.headers["Retry-After"]) == math.ceil((midnight - now).total_seconds())
    assert (await api.get("/v1/whoami")).status == 200
    await api.advance((midnight - now).total_seconds() + 1)
    assert (await api.delete(path)).status == 404
