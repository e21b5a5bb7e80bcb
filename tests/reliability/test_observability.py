"""Observability as data (issue 4, item 6): `attempts`, `waited` and `rate_limit` on results and
errors; `on_request`/`on_response`/`on_retry` hooks once per attempt; one DEBUG line per attempt
on the "layers_async" logger carrying only the key's prefix; aiohttp `TraceConfig` passthrough.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from layers_async import (
    APIConnectionError,
    APITimeoutError,
    AttemptEvent,
    InternalServerError,
    LayersClient,
    NotFoundError,
    RetryPolicy,
    Sandbox,
    Timeouts,
)

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]

CREDITS = "GET /v1/credits"
#: Real but short backoff sleeps, so `waited` measures something.
POLICY = RetryPolicy(max_attempts=4, initial_backoff=0.02, max_backoff=0.05, budget_burst=100)


class Hooked:
    """Records every hook event."""

    def __init__(self) -> None:
        self.request: list[AttemptEvent] = []
        self.response: list[AttemptEvent] = []
        self.retry: list[AttemptEvent] = []

    def kwargs(self) -> dict[str, Any]:
        return {
            "on_request": self.request.append,
            "on_response": self.response.append,
            "on_retry": self.retry.append,
        }


def _client(sb: Sandbox, **kwargs: Any) -> LayersClient:
    kwargs.setdefault("retry", POLICY)
    return LayersClient(api_key=sb.api_key, base_url=sb.url, rate_limit_tier=False, **kwargs)


def _fails(action: str, times: int | None, **extra: Any) -> list[dict[str, Any]]:
    return [{"route": CREDITS, "action": action, "times": times, **extra}]


@pytest.mark.anyio
async def test_retried_success_reports_attempts_and_waited(make_sandbox: MakeSandbox) -> None:
    """meta.attempts counts every attempt and meta.waited sums the backoff actually planned."""
    hooks = Hooked()
    async with (
        make_sandbox(faults=_fails("http_500", 2)) as sb,
        _client(sb, **hooks.kwargs()) as c,
    ):
        wallet = await c.credits.get()
        plain = await c.credits.get()
    assert wallet.meta is not None
    assert wallet.meta.attempts == 3
    assert wallet.meta.status_code == 200
    assert wallet.meta.waited > 0
    assert wallet.meta.waited >= sum(e.wait for e in hooks.retry)  # real time slept
    assert wallet.meta.waited == pytest.approx(sum(e.wait for e in hooks.retry), abs=0.05)
    assert plain.meta is not None
    assert (plain.meta.attempts, plain.meta.waited) == (1, 0.0)
    assert wallet.meta.rate_limit is not None
    assert wallet.meta.rate_limit.endpoint_class == "read-light"
    assert wallet.meta.rate_limit.limit == 120


@pytest.mark.anyio
async def test_failure_reports_attempts_waited_and_rate_limit(make_sandbox: MakeSandbox) -> None:
    """An exhausted call's error carries attempts, waited and the last rate-limit state."""
    hooks = Hooked()
    async with (
        make_sandbox(faults=_fails("http_503", None, retryAfter=1)) as sb,
        _client(sb, retry=RetryPolicy(max_attempts=2, budget_burst=100), **hooks.kwargs()) as c,
    ):
        with pytest.raises(InternalServerError) as info:
            await c.credits.get()
        with pytest.raises(NotFoundError) as nf:
            await c.projects.get("prj_00000000-0000-4000-8000-000000000000")
    err = info.value
    assert err.attempts == 2
    assert err.waited >= 1.0  # Retry-After: 1
    assert err.waited == pytest.approx(sum(e.wait for e in hooks.retry), abs=0.05)
    assert err.budget_exhausted is False
    # Injected faults answer before authentication: only the endpoint class is known.
    assert err.rate_limit is not None
    assert err.rate_limit.endpoint_class == "read-light"
    assert err.rate_limit.limit is None
    # A real answer after authentication carries the whole bucket state.
    missing = nf.value
    assert (missing.attempts, missing.waited) == (1, 0.0)
    assert missing.rate_limit is not None
    assert missing.rate_limit.endpoint_class == "read-light"
    assert missing.rate_limit.limit == 120
    assert missing.rate_limit.remaining is not None
    assert 0 <= missing.rate_limit.remaining < 120
    assert missing.rate_limit.reset_seconds is not None


@pytest.mark.anyio
async def test_hooks_fire_once_per_attempt_with_numbers_and_statuses(
    make_sandbox: MakeSandbox,
) -> None:
    """3 attempts: on_request 3x, on_response 3x (500, 502, 200), on_retry 2x with the waits."""
    hooks = Hooked()
    async with (
        make_sandbox(faults=_fails("http_500", 1) + _fails("http_502", 1)) as sb,
        _client(sb, **hooks.kwargs()) as c,
    ):
        wallet = await c.credits.get()
    assert wallet.meta is not None
    assert [e.attempt for e in hooks.request] == [1, 2, 3]
    assert all(e.status is None and e.error is None for e in hooks.request)
    assert all((e.method, e.path) == ("GET", "/v1/credits") for e in hooks.request)
    assert [e.attempt for e in hooks.response] == [1, 2, 3]
    assert [e.status for e in hooks.response] == [500, 502, 200]
    assert [type(e.error) for e in hooks.response] == [
        InternalServerError,
        InternalServerError,
        type(None),
    ]
    assert all(e.request_id and e.request_id.startswith("req_") for e in hooks.response)
    assert hooks.response[-1].request_id == wallet.meta.request_id
    assert [e.attempt for e in hooks.retry] == [1, 2]
    assert [e.status for e in hooks.retry] == [500, 502]
    assert all(0.0 <= e.wait <= POLICY.max_backoff for e in hooks.retry)


@pytest.mark.anyio
async def test_hooks_see_attempts_that_got_no_response(make_sandbox: MakeSandbox) -> None:
    """A dropped connection reaches on_response and on_retry with status None and the error."""
    hooks = Hooked()
    rule = {"route": "POST /v1/projects", "action": "drop_before_commit", "times": 1}
    async with make_sandbox(faults=[rule]) as sb, _client(sb, **hooks.kwargs()) as c:
        await c.projects.create(name="Acme Coffee", timezone="UTC")
    assert [e.attempt for e in hooks.request] == [1, 2]
    first = hooks.response[0]
    assert (first.attempt, first.status, first.request_id) == (1, None, None)
    assert isinstance(first.error, APIConnectionError)
    assert [e.status for e in hooks.response] == [None, 201]
    assert len(hooks.retry) == 1
    assert isinstance(hooks.retry[0].error, APIConnectionError)


@pytest.mark.anyio
async def test_a_raising_hook_does_not_break_the_call(
    make_sandbox: MakeSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Hooks that raise are logged and ignored; the call still retries and succeeds."""

    def boom(event: AttemptEvent) -> None:
        raise RuntimeError(f"hook failed on attempt {event.attempt}")

    caplog.set_level(logging.ERROR, logger="layers_async")
    async with (
        make_sandbox(faults=_fails("http_500", 1)) as sb,
        _client(sb, on_request=boom, on_response=boom, on_retry=boom) as c,
    ):
        wallet = await c.credits.get()
    assert wallet.meta is not None
    assert wallet.meta.status_code == 200
    assert wallet.meta.attempts == 2
    hook_logs = [r for r in caplog.records if "hook raised" in r.getMessage()]
    assert len(hook_logs) == 5  # 2 x on_request, 2 x on_response, 1 x on_retry
    assert {r.getMessage() for r in hook_logs} == {"a layers_async hook raised; ignoring it"}
    assert all(r.exc_info is not None for r in hook_logs)


@pytest.mark.anyio
async def test_debug_log_has_one_line_per_attempt_with_the_key_prefix_only(
    make_sandbox: MakeSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """DEBUG: one line per attempt (number, status, request id) and per retry; never the key."""
    caplog.set_level(logging.DEBUG, logger="layers_async")
    async with (
        make_sandbox(faults=_fails("http_500", 2)) as sb,
        _client(sb) as c,
    ):
        wallet = await c.credits.get()
        key = sb.api_key
    assert wallet.meta is not None
    lines = [r.getMessage() for r in caplog.records if r.name == "layers_async"]
    attempt_lines = [m for m in lines if re.match(r"GET /v1/credits attempt \d+ -> ", m)]
    assert len(attempt_lines) == 3
    for n, (line, status) in enumerate(zip(attempt_lines, (500, 500, 200), strict=True), 1):
        assert line.startswith(f"GET /v1/credits attempt {n} -> {status} wait=")
        assert " request_id=req_" in line
    assert f"request_id={wallet.meta.request_id}" in attempt_lines[-1]
    retry_lines = [m for m in lines if "retrying in" in m]
    assert len(retry_lines) == 2
    assert "attempt 1 failed (500 INTERNAL_ERROR)" in retry_lines[0]
    prefix = key[: len("lp_live_") + 16]
    secret = key[len(prefix) + 1 :]
    for line in attempt_lines + retry_lines:
        assert f"key={prefix}_…" in line
    text = "\n".join(lines) + caplog.text
    assert key not in text
    assert secret not in text


@pytest.mark.anyio
async def test_trace_config_sees_every_attempt(make_sandbox: MakeSandbox) -> None:
    """An aiohttp TraceConfig passed via trace_configs= sees each attempt, including failed ones."""
    starts: list[str] = []
    ends: list[int] = []
    failures: list[str] = []

    async def on_start(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        starts.append(params.url.path)

    async def on_end(
        session: aiohttp.ClientSession, ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        ends.append(params.response.status)

    async def on_exception(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        failures.append(type(params.exception).__name__)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    trace.on_request_exception.append(on_exception)
    faults = [
        {"route": "POST /v1/projects", "action": "http_500", "times": 1},
        {"route": "POST /v1/projects", "action": "drop_before_commit", "times": 1},
    ]
    async with make_sandbox(faults=faults) as sb, _client(sb, trace_configs=[trace]) as c:
        project = await c.projects.create(name="Acme Coffee", timezone="UTC")
    assert project.meta is not None
    assert project.meta.attempts == 3
    assert starts == ["/v1/projects"] * 3
    assert ends == [500, 201]
    assert len(failures) == 1


@pytest.mark.anyio
async def test_deadline_error_keeps_the_last_rate_limit_state(make_sandbox: MakeSandbox) -> None:
    """A deadline hit after a 503 still reports the rate-limit state that 503 carried."""
    rule = {"route": CREDITS, "action": "http_503", "retryAfter": 5}
    async with make_sandbox(faults=[rule]) as sb, _client(sb) as c:
        with pytest.raises(APITimeoutError) as info:
            await c.credits.get(timeout=2)
    assert info.value.deadline_exceeded is True
    assert info.value.rate_limit is not None
    assert info.value.rate_limit.endpoint_class == "read-light"


@pytest.mark.anyio
async def test_hook_events_name_the_endpoint_class_of_every_attempt(
    make_sandbox: MakeSandbox,
) -> None:
    """Every event (request, answered or failed response, retry) carries the route's class."""
    hooks = Hooked()
    dropped = {"route": "POST /v1/projects", "action": "drop_before_commit", "times": 1}
    faults = [*_fails("http_500", 1), dropped]
    async with make_sandbox(faults=faults) as sb, _client(sb, **hooks.kwargs()) as c:
        await c.credits.get()
        await c.projects.create(name="Acme Coffee", timezone="UTC")
    events = hooks.request + hooks.response + hooks.retry
    assert len(events) == 4 + 4 + 2
    for event in events:
        credits = event.path == "/v1/credits"
        assert event.endpoint_class == ("read-light" if credits else "write-light"), event
        assert event.method == ("GET" if credits else "POST"), event
    assert [e.status for e in hooks.response] == [500, 200, None, 201]
    assert [e.wait for e in hooks.response] == [0.0] * 4  # `wait` is for on_retry only


@pytest.mark.anyio
async def test_debug_log_names_timeouts_dropped_connections_and_the_deadline(
    make_sandbox: MakeSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """DEBUG lines for an attempt that timed out, one whose connection dropped, and a call
    whose deadline passed: each names the call, the attempt and the key's prefix only."""
    caplog.set_level(logging.DEBUG, logger="layers_async")
    faults = [
        {"route": CREDITS, "action": "latency", "latencyMs": 600, "times": 1},
        {"route": "POST /v1/projects", "action": "drop_before_commit", "times": 1},
        {"route": "GET /v1/whoami", "action": "http_503", "retryAfter": 5},
    ]
    async with make_sandbox(faults=faults) as sb, _client(sb, timeout=Timeouts(attempt=0.25)) as c:
        prefix = sb.api_key[: len("lp_live_") + 16] + "_…"
        await c.credits.get()
        await c.projects.create(name="Acme Coffee", timezone="UTC")
        with pytest.raises(APITimeoutError):
            await c.whoami(timeout=2)
    lines = [r.getMessage() for r in caplog.records if r.name == "layers_async"]
    assert f"GET /v1/credits attempt 1 -> timeout key={prefix}" in lines
    dropped = [m for m in lines if m.startswith("POST /v1/projects attempt 1 -> ")]
    assert len(dropped) == 1
    pattern = rf"POST /v1/projects attempt 1 -> \w+Error key={re.escape(prefix)}"
    assert re.fullmatch(pattern, dropped[0]), dropped
    assert f"GET /v1/whoami -> deadline passed key={prefix}" in lines
