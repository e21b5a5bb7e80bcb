"""The request path's gate and deadline branches, pinned by their effects (issue 15): the error
class raised, the attempts and seconds waited it records, what the server saw, and (through the
autouse teardown in tests/conftest.py) that no branch keeps a gate token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from layers_async import (
    APITimeoutError,
    AttemptEvent,
    LayersClient,
    RateLimitError,
    RetryPolicy,
    Sandbox,
)
from layers_async.testing import no_waits

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
CREDITS = "GET /v1/credits"
#: The standard tier's read-light calls per minute.
READ_LIGHT = 120

pytestmark = pytest.mark.anyio


async def _requests(sb: Sandbox, route: str = CREDITS) -> int:
    count: int = (await sb.state())["requests"]["byRoute"].get(route, 0)
    return count


def _gated(sb: Sandbox, **options: object) -> LayersClient:
    """A client with a standard-tier gate sized at once (no tier lookup)."""
    options.setdefault("rate_limit_tier", "standard")
    return LayersClient(api_key=sb.api_key, base_url=sb.url, **options)  # type: ignore[arg-type]


async def test_a_call_held_at_the_gate_past_its_deadline_is_a_deadline_error_never_sent(
    sandbox: Sandbox,
) -> None:
    """Once the window's calls are used, the next call waits at the gate; when its deadline
    passes there it raises APITimeoutError(deadline_exceeded) with 0 attempts, unsent.
    (Real waits: under `no_waits` the gate's skipped time does not use up a deadline.)"""
    async with _gated(sandbox) as client:
        for _ in range(READ_LIGHT):
            await client.credits.get()
        with pytest.raises(APITimeoutError) as info:
            await client.credits.get(timeout=0.2)
        err = info.value
        assert err.deadline_exceeded is True
        assert err.attempts == 0
        assert await _requests(sandbox) == READ_LIGHT
        other = await client.projects.create(name="Other", timezone="UTC")  # not held
        assert other.meta is not None
        assert other.meta.attempts == 1


async def test_a_pause_past_the_deadline_fails_at_once_as_a_client_pause(
    make_sandbox: MakeSandbox,
) -> None:
    """After a 429 asking for 30 s, a call of the class with a 5 s deadline raises
    RateLimitError(client_pause) with 0 attempts and the pause left, without sending."""
    faults = [{"route": CREDITS, "action": "http_429", "retryAfter": 30, "times": 1}]
    policy = RetryPolicy(max_attempts=1)
    with no_waits():
        async with make_sandbox(faults=faults) as sb, _gated(sb, retry=policy) as client:
            with pytest.raises(RateLimitError) as first:
                await client.credits.get()
            assert first.value.attempts == 1
            assert first.value.retry_after == 30
            with pytest.raises(RateLimitError) as second:
                await client.credits.get(timeout=5)
            err = second.value
            assert err.details == {"limitType": "client_pause"}
            assert err.attempts == 0
            assert err.retry_after is not None
            assert 25 < err.retry_after <= 30
            assert err.status_code == 429
            assert err.request_id is None
            assert await _requests(sb) == 1


async def test_waited_includes_the_time_a_call_spent_at_the_gate(
    make_sandbox: MakeSandbox,
) -> None:
    """A call that found its class paused by another call's 429 succeeds at its first attempt
    and reports the gate's pause as time waited (the gate's own count, not a stopwatch)."""
    faults = [{"route": CREDITS, "action": "http_429", "retryAfter": 1, "times": 1}]
    refused = asyncio.Event()

    def on_response(event: AttemptEvent) -> None:
        if event.status == 429:
            refused.set()

    async with (
        make_sandbox(faults=faults) as sb,
        _gated(sb, on_response=on_response) as client,
    ):
        first = asyncio.create_task(client.credits.get())
        await refused.wait()
        later = await client.credits.get()
        wallet = await first
    assert wallet.meta is not None
    assert wallet.meta.attempts == 2
    assert later.meta is not None
    assert later.meta.attempts == 1
    assert later.meta.waited > 0
