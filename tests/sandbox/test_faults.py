"""Contract tests for fault injection (§5.6): injected errors, drops, latency and rule matching."""

from __future__ import annotations

import asyncio
import types

import aiohttp
import pytest

from layers_async.sandbox import _app as sandbox_app
from tests.sandbox._checks import (
    assert_error,
    assert_only_class_header,
    create_project,
)
from tests.sandbox._http import Api, MakeSandbox

_BODY = {"name": "Acme Coffee", "timezone": "UTC", "metadata": {"a": 1, "b": [1, 2]}}

# --------------------------------------------------------------------------------------------
# fault injection (contract §5.6)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("action", "status", "code"),
    [
        ("http_500", 500, "INTERNAL_ERROR"),
        ("http_502", 502, "BAD_GATEWAY"),
        ("http_503", 503, "SERVICE_UNAVAILABLE"),
        ("http_429", 429, "RATE_LIMITED"),
    ],
)
async def test_error_fault_actions(api: Api, action: str, status: int, code: str) -> None:
    """http_5xx/429 faults answer their envelope before auth, with only the class header."""
    await api.configure({"faults": [{"route": "GET /v1/whoami", "action": action}]})
    r = await api.get("/v1/whoami")
    err = assert_error(r, status, code)
    assert_only_class_header(r, "read-light")
    if action in ("http_503", "http_429"):
        assert r.headers["Retry-After"] == "1"
    if action == "http_429":
        assert err["details"] == {"limitType": "per_minute", "endpointClass": "read-light"}


@pytest.mark.anyio
@pytest.mark.parametrize("action", ["http_503", "http_429"])
async def test_fault_retry_after_is_configurable(api: Api, action: str) -> None:
    """retryAfter sets the Retry-After of http_503 and http_429 faults."""
    await api.configure(
        {"faults": [{"route": "POST /v1/projects", "action": action, "retryAfter": 7}]}
    )
    r = await api.post("/v1/projects", _BODY)
    assert r.headers["Retry-After"] == "7"
    if action == "http_429":
        assert r.error["details"]["endpointClass"] == "write-light"


@pytest.mark.anyio
async def test_http_429_fault_consumes_no_bucket(api: Api) -> None:
    """Injected 429s consume no rate-limit unit."""
    await api.configure({"faults": [{"route": "GET /v1/whoami", "action": "http_429", "times": 3}]})
    for _ in range(3):
        assert (await api.get("/v1/whoami")).status == 429
    r = await api.get("/v1/whoami")
    assert r.status == 200
    assert int(r.headers["X-RateLimit-Remaining"]) == 119


@pytest.mark.anyio
async def test_fault_times_limit(api: Api) -> None:
    """A rule with times=2 fires twice and then stays inert."""
    await api.configure({"faults": [{"route": "GET /v1/whoami", "action": "http_500", "times": 2}]})
    statuses = [(await api.get("/v1/whoami")).status for _ in range(4)]
    assert statuses == [500, 500, 200, 200]


@pytest.mark.anyio
async def test_fault_probability_zero_never_fires(api: Api) -> None:
    """A rule with probability 0 never fires; probability 1 always does."""
    await api.configure(
        {"faults": [{"route": "GET /v1/whoami", "action": "http_500", "probability": 0}]}
    )
    assert [(await api.get("/v1/whoami")).status for _ in range(20)] == [200] * 20
    await api.configure(
        {"faults": [{"route": "GET /v1/whoami", "action": "http_500", "probability": 1}]}
    )
    assert [(await api.get("/v1/whoami")).status for _ in range(5)] == [500] * 5


@pytest.mark.anyio
async def test_fault_route_templates(api: Api) -> None:
    """`{name}` placeholders match one segment, the method must match, `*` matches any method."""
    project = await create_project(api)
    pid = project["id"]
    await api.configure(
        {"faults": [{"route": "GET /v1/projects/{projectId}", "action": "http_502"}]}
    )
    assert (await api.get(f"/v1/projects/{pid}")).status == 502
    assert (await api.get(f"/v1/projects/{pid[4:]}")).status == 502
    assert (await api.get("/v1/projects")).status == 200
    assert (await api.patch(f"/v1/projects/{pid}", {"name": "Renamed"})).status == 200
    assert (await api.get(f"/v1/projects/{pid}/app-media")).status == 200
    await api.configure({"faults": [{"route": "* /v1/projects/{projectId}", "action": "http_502"}]})
    assert (await api.get(f"/v1/projects/{pid}")).status == 502
    assert (await api.patch(f"/v1/projects/{pid}", {"name": "Again"})).status == 502
    assert (await api.delete(f"/v1/projects/{pid}")).status == 502
    assert (await api.get("/v1/whoami")).status == 200
    await api.configure({"faults": [{"route": "*", "action": "http_502"}]})
    assert (await api.get("/v1/whoami")).status == 502
    assert (await api.post("/v1/projects", _BODY)).status == 502


@pytest.mark.anyio
async def test_faults_do_not_apply_to_sandbox_routes_or_unknown_routes(api: Api) -> None:
    """Fault rules never touch /_sandbox/ routes, and route matching (404) comes first."""
    await api.configure({"faults": [{"route": "*", "action": "http_500"}]})
    assert (await api.get("/_sandbox/state")).status == 200
    assert (await api.get("/_sandbox/clock")).status == 200
    r = await api.get("/v1/not-a-route")
    assert_error(r, 404, "NOT_FOUND")


@pytest.fixture
def latencies(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The latency faults' sleeps, recorded and skipped: the sandbox's request pipeline
    (`sandbox._app`, internal: no public name shows a sleep) gets a spy for `asyncio.sleep`,
    so the tests read the delay asked for instead of timing requests on the wall clock."""
    asked: list[float] = []
    real_sleep = asyncio.sleep

    async def spy(seconds: float) -> None:
        asked.append(seconds)
        await real_sleep(0)

    fake = types.SimpleNamespace(**vars(asyncio))
    fake.sleep = spy
    monkeypatch.setattr(sandbox_app, "asyncio", fake)
    return asked


@pytest.mark.anyio
async def test_latency_fault_adds_delay_then_continues(api: Api, latencies: list[float]) -> None:
    """latency waits latencyMs (rules add up) and the request then proceeds normally."""
    await api.configure(
        {
            "faults": [
                {"route": "GET /v1/whoami", "action": "latency", "latencyMs": 120},
                {"route": "*", "action": "latency", "latencyMs": 120},
            ]
        }
    )
    r = await api.get("/v1/whoami")
    assert r.status == 200, r
    assert latencies == [0.12, 0.12]
    r = await api.get("/v1/credits")
    assert r.status == 200
    assert latencies == [0.12, 0.12, 0.12]


@pytest.mark.anyio
async def test_latency_then_error_and_first_firing_rule_wins(
    api: Api, latencies: list[float]
) -> None:
    """A latency rule continues to later rules; the first non-latency rule that fires ends it."""
    await api.configure(
        {
            "faults": [
                {"route": "*", "action": "latency", "latencyMs": 200},
                {"route": "GET /v1/whoami", "action": "http_503"},
                {"route": "GET /v1/whoami", "action": "http_500"},
            ]
        }
    )
    r = await api.get("/v1/whoami")
    assert latencies == [0.2]
    assert_error(r, 503, "SERVICE_UNAVAILABLE")


@pytest.mark.anyio
async def test_latency_only_request_is_stored_for_replay(api: Api) -> None:
    """A request that met only latency rules is stored; a retry with its key replays."""
    await api.configure(
        {"faults": [{"route": "POST /v1/projects", "action": "latency", "latencyMs": 50}]}
    )
    first = await api.post("/v1/projects", _BODY, idem="slow")
    assert first.status == 201
    second = await api.post("/v1/projects", _BODY, idem="slow")
    assert second.headers["Idempotency-Replayed"] == "true"
    assert second.body == first.body


@pytest.mark.anyio
async def test_faults_from_constructor_options(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """Fault rules given at start-up apply like those set through /_sandbox/config."""
    faults = [{"id": "boot", "route": "GET /v1/credits", "action": "http_502", "times": 1}]
    async with make_sandbox(faults=faults) as sb:
        api = Api(session, sb.url, sb.api_key)
        assert_error(await api.get("/v1/credits"), 502, "BAD_GATEWAY")
        assert (await api.get("/v1/credits")).status == 200
