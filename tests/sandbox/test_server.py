"""The in-process `Sandbox` API: lifecycle, facts, control coroutines and config errors."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from layers_async.sandbox import Sandbox, SandboxConfigError
from layers_async.sandbox._render import state as render_state
from tests.sandbox._http import Api

KEY_RE = re.compile(r"^lp_(live|test)_[0-9A-HJKMNP-TV-Z]{16}_[A-Za-z0-9_-]{43}$")


@pytest.mark.anyio
async def test_facts_after_start(sandbox: Sandbox) -> None:
    """`url` is http://127.0.0.1:<port>, `keys` holds both demo keys, `api_key` is demo-live."""
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.url)
    assert set(sandbox.keys) == {"demo-live", "demo-test"}
    assert sandbox.api_key == sandbox.keys["demo-live"]
    assert sandbox.api_key.startswith("lp_live_")
    assert sandbox.keys["demo-test"].startswith("lp_test_")
    for key in sandbox.keys.values():
        assert KEY_RE.match(key)


@pytest.mark.anyio
async def test_url_before_start_is_an_error() -> None:
    """Reading `url` before the sandbox is started raises a clear RuntimeError."""
    with pytest.raises(RuntimeError, match="not started"):
        _ = Sandbox().url


@pytest.mark.anyio
async def test_same_seed_same_keys_other_seed_other_keys() -> None:
    """Key strings are generated from the seed: equal seeds give equal keys."""
    async with (
        Sandbox(seed=3, speed=0) as a,
        Sandbox(seed=3, speed=0) as b,
        Sandbox(seed=4, speed=0) as c,
    ):
        assert a.keys == b.keys
        assert a.keys != c.keys


@pytest.mark.anyio
async def test_bad_options_fail_at_construction() -> None:
    """Unknown options raise TypeError; invalid values raise SandboxConfigError listing each."""
    with pytest.raises(TypeError, match="nonsense"):
        Sandbox(nonsense=1)
    with pytest.raises(SandboxConfigError) as info:
        Sandbox(speed=-1, jitter=2, failure_rates={"content_generate": 3})
    paths = {i["path"] for i in info.value.issues}
    assert {"speed", "jitter", "failureRates.content_generate"} <= paths


@pytest.mark.anyio
async def test_advance_state_and_reset(sandbox: Sandbox, api: Api) -> None:
    """advance() moves the clock, state() counts, reset() wipes state back to clockStart."""
    before = await api.now()
    r = await api.post(
        "/v1/projects",
        json={"name": "Reset Me", "timezone": "UTC", "appDescription": "d" * 120},
    )
    assert r.status == 201
    moved = await sandbox.advance(90)
    assert moved["now"] == "2026-05-14T16:01:30.000Z"
    assert moved["transitionsApplied"] >= 1  # the first influencer left pending and became ready
    state = await sandbox.state()
    assert state["counts"]["projects"]["total"] == 1
    assert state["counts"]["influencers"]["byStatus"] == {"ready": 1}
    await sandbox.reset()
    state = await sandbox.state()
    assert state["counts"]["projects"]["total"] == 0
    assert state["now"] == before


@pytest.mark.anyio
async def test_configure_rejects_unpatchable_keys(sandbox: Sandbox) -> None:
    """configure() changes patchable keys and refuses `seed` (only reset may change it)."""
    cfg = await sandbox.configure(failure_rates={"publish": 0.5})
    assert cfg["failureRates"]["publish"] == 0.5
    with pytest.raises(SandboxConfigError):
        await sandbox.configure(seed=9)


@pytest.mark.anyio
async def test_running_clock_moves_work_without_requests() -> None:
    """At a high speed the background ticker applies transitions with no request arriving (reads
    the world directly through the internal `_render.state`: `Sandbox.state()` would apply due
    transitions itself)."""
    async with Sandbox(speed=6000, jitter=0) as sb, aiohttp.ClientSession() as s:
        api = Api(s, sb.url, sb.api_key)
        r = await api.post(
            "/v1/projects", json={"name": "Ticker", "timezone": "UTC", "appDescription": "t" * 120}
        )
        assert r.status == 201
        for _ in range(50):  # 60 virtual seconds take 10 ms at speed 6000
            await asyncio.sleep(0.05)
            # Rendered in process without `run_due`: only the ticker can have moved the clock.
            counts = render_state(sb._core.w, None)["counts"]
            if counts["influencers"]["byStatus"].get("ready") == 1:
                break
        assert counts["influencers"]["byStatus"] == {"ready": 1}


@pytest.mark.anyio
async def test_state_counts_v1_requests_by_route(sandbox: Sandbox, api: Api) -> None:
    """`/_sandbox/state` counts /v1 requests by route and responses by status, not /_sandbox/."""
    await api.get("/v1/whoami")
    await api.get("/v1/whoami")
    await api.with_key(None).get("/v1/credits")  # counted even though it is refused (401)
    await api.get("/v1/nope")
    await api.now()  # a /_sandbox/ route
    requests = (await sandbox.state())["requests"]
    assert requests == {
        "total": 4,
        "byRoute": {"GET /v1/credits": 1, "GET /v1/whoami": 2, "unmatched": 1},
    }
    responses = (await sandbox.state())["responses"]
    assert responses == {"byStatus": {"200": 2, "401": 1, "404": 1}}
    await sandbox.reset()
    assert (await sandbox.state())["requests"] == {"total": 0, "byRoute": {}}
    assert (await sandbox.state())["responses"] == {"byStatus": {}}
