"""One deadline per logical call (issue 4, item 2): `timeout=` spans every attempt and backoff
sleep and its expiry raises `APITimeoutError(deadline_exceeded=True)`; an attempt timeout is a
retryable `APITimeoutError(deadline_exceeded=False)`; the caller's own cancel scopes stay
`CancelledError` (or the caller's `TimeoutError`), never the SDK's error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import pytest

from layers_async import (
    APITimeoutError,
    AttemptEvent,
    InternalServerError,
    LayersClient,
    RetryPolicy,
    Sandbox,
    Timeouts,
)
from layers_async.testing import no_waits

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]

CREDITS = "GET /v1/credits"
POLICY = RetryPolicy(max_attempts=4, budget_burst=100)


@pytest.fixture
def nowait() -> Iterator[None]:
    """No real backoff sleeps (attempt timeouts and deadlines still run on real time)."""
    with no_waits():
        yield


def _latency(ms: int) -> list[dict[str, object]]:
    return [{"route": CREDITS, "action": "latency", "latencyMs": ms}]


def _client(sb: Sandbox, **options: Any) -> LayersClient:
    """A client of `sb` without the gate, retrying by POLICY unless told otherwise."""
    options.setdefault("retry", POLICY)
    return LayersClient(api_key=sb.api_key, base_url=sb.url, rate_limit_tier=False, **options)


async def _requests(sb: Sandbox) -> int:
    count: int = (await sb.state())["requests"]["byRoute"].get(CREDITS, 0)
    return count


@pytest.mark.anyio
async def test_timeout_2_against_5s_latency_fails_within_2_5s(make_sandbox: MakeSandbox) -> None:
    """timeout=2 against 100% latency of 5 s: the deadline cuts the one attempt, no retry."""
    answered: list[AttemptEvent] = []
    retried: list[AttemptEvent] = []
    async with (
        make_sandbox(faults=_latency(5000)) as sb,
        _client(sb, on_response=answered.append, on_retry=retried.append) as c,
    ):
        with pytest.raises(APITimeoutError) as info:
            await c.credits.get(timeout=2)
        assert await _requests(sb) == 1
    err = info.value
    assert err.deadline_exceeded is True
    assert isinstance(err, TimeoutError)
    assert err.attempts == 1
    assert err.waited == 0.0
    # The attempt itself was bounded by the deadline (not by its own timeout) and not retried.
    assert [e.attempt for e in answered] == [1]
    assert isinstance(answered[0].error, APITimeoutError)
    assert answered[0].error.deadline_exceeded is True
    assert retried == []


@pytest.mark.anyio
async def test_attempt_timeouts_are_retried_until_attempts_run_out(
    make_sandbox: MakeSandbox, nowait: None
) -> None:
    """An attempt timeout below the latency, with a long deadline, is retried max_attempts times."""
    retried: list[AttemptEvent] = []
    policy = RetryPolicy(max_attempts=3, budget_burst=100)
    async with (
        make_sandbox(faults=_latency(600)) as sb,
        _client(
            sb, retry=policy, timeout=Timeouts(total=30, attempt=0.25), on_retry=retried.append
        ) as c,
    ):
        with pytest.raises(APITimeoutError) as info:
            await c.credits.get()
        assert await _requests(sb) == 3
    err = info.value
    assert err.deadline_exceeded is False  # the last attempt's own timeout, not the deadline
    assert err.attempts == 3
    assert err.__cause__ is None  # the attempts ran out; the deadline never stepped in
    assert [e.attempt for e in retried] == [1, 2]
    for event in retried:
        assert isinstance(event.error, APITimeoutError)
        assert event.error.deadline_exceeded is False


@pytest.mark.anyio
async def test_deadline_spans_every_attempt(make_sandbox: MakeSandbox, nowait: None) -> None:
    """With attempt=0.4 and total=1.0 the third attempt is cut at the deadline, not at 1.2 s."""
    answered: list[AttemptEvent] = []
    async with (
        make_sandbox(faults=_latency(700)) as sb,
        _client(
            sb,
            retry=RetryPolicy(max_attempts=8, budget_burst=100),
            timeout=Timeouts(total=1.0, attempt=0.4),
            on_response=answered.append,
        ) as c,
    ):
        with pytest.raises(APITimeoutError) as info:
            await c.credits.get()
        assert await _requests(sb) == 3
    assert info.value.deadline_exceeded is True
    assert info.value.attempts == 3
    # The first two attempts ran out their own 0.4 s; the third was bounded by what was left of
    # the deadline (an attempt cut at its own 0.4 s would report deadline_exceeded=False).
    errors = [e.error for e in answered]
    assert all(isinstance(e, APITimeoutError) for e in errors)
    assert [getattr(e, "deadline_exceeded", None) for e in errors] == [False, False, True]
    assert info.value.__cause__ is None


@pytest.mark.anyio
async def test_deadline_shorter_than_retry_after_fails_early(make_sandbox: MakeSandbox) -> None:
    """A Retry-After of 5 s that would outlast a 2 s deadline fails at once, deadline_exceeded."""
    rule = {"route": CREDITS, "action": "http_503", "retryAfter": 5}
    retried: list[AttemptEvent] = []
    async with (
        make_sandbox(faults=[rule]) as sb,
        _client(sb, on_retry=retried.append) as c,
    ):
        with pytest.raises(APITimeoutError) as info:
            await c.credits.get(timeout=2)
        assert await _requests(sb) == 1
    err = info.value
    assert err.deadline_exceeded is True
    assert err.attempts == 1
    assert isinstance(err.__cause__, InternalServerError)  # the 503 that would need the wait
    assert err.__cause__.retry_after == 5.0
    # It did not sleep towards a deadline it could not meet: no retry planned, nothing waited.
    assert retried == []
    assert err.waited == 0.0


async def _watched(
    call: Callable[[], Awaitable[object]], seen: list[type[BaseException]]
) -> object:
    try:
        return await call()
    except BaseException as exc:
        seen.append(type(exc))
        raise


@pytest.mark.anyio
async def test_caller_cancellation_is_not_the_sdk_deadline(make_sandbox: MakeSandbox) -> None:
    """wait_for, anyio.fail_after and move_on_after cancel the call; none is an APITimeoutError."""
    async with (
        make_sandbox(faults=_latency(1000)) as sb,
        _client(sb) as c,
    ):
        seen: list[type[BaseException]] = []
        with pytest.raises(TimeoutError) as waited:
            await asyncio.wait_for(_watched(c.credits.get, seen), timeout=0.2)
        assert not isinstance(waited.value, APITimeoutError)

        with pytest.raises(TimeoutError) as failed:
            with anyio.fail_after(0.2):
                await _watched(c.credits.get, seen)
        assert not isinstance(failed.value, APITimeoutError)

        with anyio.move_on_after(0.2) as scope:
            await _watched(c.credits.get, seen)
        assert scope.cancelled_caught

        # Inside the SDK every one of them was a cancellation, not a timeout of its own.
        assert seen == [asyncio.CancelledError] * 3
        assert await _requests(sb) == 3  # cancelled calls are never retried
