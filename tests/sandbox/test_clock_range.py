"""The virtual clock only takes values it can represent, and nothing bricks the sandbox.

The clock runs from 1970-01-01T00:00:00Z to 9900-01-01T00:00:00Z (it stops there) at a speed
from 0 to 1,000,000; a speed, advance or start beyond that is refused (422 over HTTP,
`SandboxConfigError` in process) and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest

from layers_async.sandbox import Sandbox, SandboxConfigError
from tests.sandbox._checks import assert_validation
from tests.sandbox._http import Api, MakeSandbox
from tests.sandbox._routes import assert_every_route_answers

#: The furthest instant the virtual clock holds.
CLOCK_MAX = "9900-01-01T00:00:00.000Z"
MAX_SPEED = 1_000_000
TEN_YEARS = 10 * 365 * 86_400


async def _clock(api: Api) -> Any:
    r = await api.get("/_sandbox/clock")
    assert r.status == 200, r
    return r.json


#: Requests that ask the clock for what it cannot hold: (method, route, body, issue path).
_REFUSED = [
    *(
        ("PATCH", "/_sandbox/clock", {"speed": v}, "speed")
        for v in (1e308, 1e16, MAX_SPEED + 1, MAX_SPEED * 1.5, -1, 5e-324, 0.0009)
    ),
    *(
        ("POST", "/_sandbox/clock/advance", {"seconds": v}, "seconds")
        for v in (0, -5, TEN_YEARS + 1, 1e308, "60", True, None)
    ),
    ("PATCH", "/_sandbox/config", {"speed": 1e308}, "speed"),
    ("PATCH", "/_sandbox/config", {"durations": {"keywords": 1e300}}, "durations.keywords"),
    ("POST", "/_sandbox/reset", {"clockStart": "9999-01-01T00:00:00Z"}, "clockStart"),
    ("POST", "/_sandbox/reset", {"speed": 1e16}, "speed"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "route", "body", "path"), _REFUSED)
async def test_what_the_clock_cannot_hold_is_422_and_changes_nothing(
    api: Api, method: str, route: str, body: dict[str, Any], path: str
) -> None:
    """A speed, advance, duration or start beyond the clock is a 422 on it; the clock is intact."""
    before = await _clock(api)
    assert_validation(await api.call(method, route, json=body), path)
    assert await _clock(api) == before


@pytest.mark.anyio
async def test_slowest_and_fastest_speeds_are_accepted(api: Api) -> None:
    """Speeds 0.001 and 1,000,000 are the slowest and fastest the clock runs; 0 pauses it."""
    assert (await api.set_speed(MAX_SPEED))["speed"] == MAX_SPEED
    assert (await api.set_speed(0.001))["speed"] == 0.001
    r = await api.post("/v1/projects", {"name": "Slow Co", "timezone": "UTC"})
    assert r.status == 201, r
    assert int(r.headers["X-RateLimit-Reset"]) <= 60_000  # a virtual minute at 0.001
    assert (await api.set_speed(0))["speed"] == 0


@pytest.mark.anyio
async def test_after_a_rejected_speed_the_sandbox_still_answers_every_route(api: Api) -> None:
    """After `{"speed": 1e308}` every route answers without a 5xx, with envelope and request id."""
    r = await api.patch("/_sandbox/clock", {"speed": 1e308})
    assert r.status == 422, r
    await asyncio.sleep(0.3)  # a few ticks of the background ticker
    await assert_every_route_answers(api)
    r = await api.post("/_sandbox/reset", {})
    assert r.status == 200, r


@pytest.mark.anyio
@pytest.mark.parametrize("option", ["speed", "clock_start", "durations", "auto_complete"])
async def test_configuration_beyond_the_clock_is_refused(option: str) -> None:
    """A configured speed, start, duration or auto-completion the clock cannot hold is refused."""
    options: dict[str, Any] = {
        "speed": {"speed": 1e308},
        "clock_start": {"clock_start": "9999-12-31T23:59:59Z"},
        "durations": {"durations": {"influencer": 1e300}},
        "auto_complete": {"oauth_auto_complete_seconds": TEN_YEARS + 1},
    }[option]
    with pytest.raises(SandboxConfigError) as info:
        Sandbox(**options)
    path = {"auto_complete": "oauthAutoCompleteSeconds", "clock_start": "clockStart"}
    expected = path.get(option, "durations.influencer" if option == "durations" else option)
    assert [i["path"] for i in info.value.issues] == [expected]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "start", ["1970-01-01T00:00:00Z", "2026-05-14T16:00:00Z", "9900-01-01T00:00:00Z"]
)
async def test_clock_start_within_the_range_is_accepted(start: str) -> None:
    """The first and last instants the clock holds are valid starts."""
    async with Sandbox(speed=0, clock_start=start) as sb:
        assert (await sb.now()).isoformat().startswith(start[:19])


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "body", "issue"),
    [
        ("/_sandbox/reset", {"clockStart": "0000-01-01T00:00:00Z"}, "clockStart"),
        (
            "/v1/content/cnt_7d18b9a1-4c2e-4f6a-8b0d-2e4f6a8c0e1d/schedule",
            {"scheduledFor": "0000-01-01T00:00:00Z", "targets": []},
            "scheduledFor",
        ),
    ],
)
async def test_year_zero_is_an_invalid_time_not_a_500(
    api: Api, path: str, body: dict[str, Any], issue: str
) -> None:
    """Year 0 is refused as an invalid time (422 naming the field), never a 500."""
    r = await api.post(path, body)
    assert r.status == 422, r.body
    assert issue in {i["path"] for i in r.json["error"]["details"]["issues"]}


@pytest.mark.anyio
async def test_clock_start_before_the_epoch_is_refused() -> None:
    """The clock does not start before 1970-01-01T00:00:00Z."""
    with pytest.raises(SandboxConfigError, match="clockStart"):
        Sandbox(clock_start="1969-12-31T23:59:59Z")


@pytest.mark.anyio
@pytest.mark.sandbox_options(clock_start="9899-06-01T00:00:00Z")
async def test_advance_past_the_furthest_instant_is_422(custom_api: Api) -> None:
    """An advance within ten years that would pass 9900-01-01 is refused; one up to it is not."""
    before = await _clock(custom_api)
    r = await custom_api.post("/_sandbox/clock/advance", {"seconds": 365 * 86_400})
    assert_validation(r, "seconds")
    assert await _clock(custom_api) == before
    to_the_end = (214 * 86_400) * 1.0  # June 1 to January 1
    assert (await custom_api.advance(to_the_end))["now"] == CLOCK_MAX


@pytest.mark.anyio
@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e308, -1.0])
async def test_in_process_speed_and_advance_refuse_what_the_clock_cannot_hold(
    sandbox: Sandbox, value: float
) -> None:
    """`set_speed` and `advance` raise SandboxConfigError (a ValueError); the clock is intact."""
    before = await sandbox.now()
    with pytest.raises(SandboxConfigError, match="speed"):
        await sandbox.set_speed(value)
    with pytest.raises(ValueError, match="seconds"):
        await sandbox.advance(value)
    assert sandbox.config["speed"] == 0
    assert await sandbox.now() == before
    assert (await sandbox.advance(1))["transitionsApplied"] == 0


@pytest.mark.anyio
async def test_clock_stops_at_its_furthest_instant(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """At full speed near the end of its range the clock stops at 9900-01-01; all still works."""
    async with make_sandbox(clock_start="9899-12-31T23:59:00Z", speed=MAX_SPEED) as sb:
        api = Api(session, sb.url, sb.api_key)
        for _ in range(100):  # 60 virtual seconds take 60 real microseconds at this speed
            await asyncio.sleep(0.01)
            if (await _clock(api))["now"] == CLOCK_MAX:
                break
        assert (await _clock(api))["now"] == CLOCK_MAX
        assert await sb.now() == datetime(9900, 1, 1, tzinfo=timezone.utc)
        r = await api.post("/v1/projects", {"name": "Last Co", "timezone": "UTC"})
        assert r.status == 201, r
        await assert_every_route_answers(api)
        reset = await api.post(
            "/_sandbox/reset", {"clockStart": "2026-05-14T16:00:00Z", "speed": 0}
        )
        assert reset.status == 200, reset
        assert reset.json["now"] == "2026-05-14T16:00:00.000Z"


@pytest.mark.anyio
async def test_a_failing_transition_neither_stops_the_ticker_nor_fails_aclose(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A transition that raises is logged; the ticker goes on and `aclose()` does not raise."""
    applied: list[str] = []

    def boom(when: int) -> bool:
        applied.append("boom")
        raise RuntimeError("transition bug")

    def fine(when: int) -> bool:
        applied.append("fine")
        return True

    sb = Sandbox(speed=0, clock_start="2026-05-14T16:00:00Z")
    await sb.start()
    try:
        world = sb._core.w
        with caplog.at_level(logging.ERROR, logger="layers_async.sandbox"):
            world.at(world.now(), boom)
            for _ in range(100):
                await asyncio.sleep(0.02)
                if applied:
                    break
            world.at(world.now(), fine)  # only the ticker runs it: no request is sent
            for _ in range(100):
                await asyncio.sleep(0.02)
                if "fine" in applied:
                    break
        assert applied == ["boom", "fine"]
        assert "transition bug" in caplog.text
    finally:
        await sb.aclose()


@pytest.mark.anyio
async def test_a_failing_transition_in_a_request_is_a_500_envelope_once(
    api: Api, sandbox: Sandbox
) -> None:
    """A transition that raises while a request applies it answers 500 INTERNAL_ERROR, once."""

    def boom(when: int) -> bool:
        raise RuntimeError("transition bug")

    world = sandbox._core.w
    world.at(world.now() + 1_000, boom)  # due once the advance below has moved the clock
    r = await api.post("/_sandbox/clock/advance", {"seconds": 2})
    assert r.status == 500, r
    assert r.code == "INTERNAL_ERROR"
    assert r.error["requestId"] == r.headers["X-Request-Id"]
    assert (await api.post("/_sandbox/clock/advance", {"seconds": 2})).status == 200
    assert (await api.get("/v1/whoami")).status == 200
