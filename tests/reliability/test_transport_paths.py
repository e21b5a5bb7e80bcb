"""The request path's gate and deadline branches, pinned by their effects (issue 15): the error
class raised, the attempts and seconds waited it records, what the server saw, and (through the
autouse teardown in tests/conftest.py) that no branch keeps a gate token.
"""

from __future__ import annotations

import asyncio
import random
import types
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from layers_async import (
    NOT_GIVEN,
    APIConnectionError,
    APITimeoutError,
    AttemptEvent,
    InternalServerError,
    LayersClient,
    NotGiven,
    RateLimitError,
    RetryPolicy,
    Sandbox,
    Timeouts,
    _waiting,
)
from layers_async._ratelimit import EndpointClass
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
        assert err.waited == 0.0  # nothing slept before this first attempt
        assert err.message == "The call's deadline passed before it could complete."
        assert str(err) == f"{err.message} (GET /v1/credits)"
        assert (err.method, err.path) == ("GET", "/v1/credits")
        assert err.rate_limit is None  # nothing answered this call
        assert err.headers is None
        assert err.__cause__ is None
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
            assert err.waited == 0.0
            assert err.code == "RATE_LIMITED"
            assert err.message == (
                "The endpoint class is paused after a 429 for longer than this call may wait."
            )
            assert (err.method, err.path) == ("GET", "/v1/credits")
            assert err.__cause__ is None
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


async def test_a_deadline_error_after_an_answer_carries_that_answer(
    make_sandbox: MakeSandbox,
) -> None:
    """A 503 asking for 5 s against a 2 s deadline: the deadline error names the call and the
    503 it follows, and keeps that answer's rate-limit state and headers."""
    rule = {"route": CREDITS, "action": "http_503", "retryAfter": 5, "times": 1}
    async with make_sandbox(faults=[rule]) as sb, _gated(sb) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.credits.get(timeout=2)
    err = info.value
    last = err.__cause__
    assert isinstance(last, InternalServerError)
    assert err.message == (
        f"The call's deadline passed before it could complete; last error: 503 {last.code}."
    )
    assert last.code
    assert str(err) == f"{err.message} (GET /v1/credits)"
    assert (err.method, err.path) == ("GET", "/v1/credits")
    assert (err.deadline_exceeded, err.attempts, err.waited) == (True, 1, 0.0)
    assert err.rate_limit is not None
    assert err.rate_limit == last.rate_limit
    assert err.headers is not None
    assert err.headers == last.headers
    assert err.headers["Retry-After"] == "5"


async def test_a_deadline_error_after_a_dropped_connection_names_the_error_class(
    make_sandbox: MakeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dropped connection whose backoff (10 s, drawn at its cap) would outlast the deadline:
    the deadline error names `APIConnectionError` and carries no answer's headers."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # what _transport draws from
    rule = {"route": CREDITS, "action": "drop_before_commit", "times": 1}
    policy = RetryPolicy(max_attempts=4, initial_backoff=10.0, max_backoff=10.0)
    async with make_sandbox(faults=[rule]) as sb, _gated(sb, retry=policy) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.credits.get(timeout=2)
        assert await _requests(sb) == 1
    err = info.value
    assert isinstance(err.__cause__, APIConnectionError)
    assert err.message == (
        "The call's deadline passed before it could complete; last error: APIConnectionError."
    )
    assert (err.deadline_exceeded, err.attempts, err.waited) == (True, 1, 0.0)
    assert err.rate_limit is None
    assert err.headers is None


async def test_a_calls_timeout_option_replaces_the_clients_deadline_or_timeouts(
    make_sandbox: MakeSandbox,
) -> None:
    """Against one 600 ms answer, with a client deadline of 0.3 s: the client's deadline cuts
    the call; `timeout=None` lifts the deadline (the client's attempt timeout stays); a whole
    `Timeouts` replaces both (its 0.3 s attempt timeout is retried)."""
    slow = {"route": CREDITS, "action": "latency", "latencyMs": 600, "times": 1}
    client_timeouts = Timeouts(total=0.3, attempt=5.0)
    async with make_sandbox() as sb, _gated(sb, timeout=client_timeouts) as client:
        await sb.configure(faults=[slow])
        with pytest.raises(APITimeoutError) as cut:
            await client.credits.get()
        assert cut.value.deadline_exceeded is True
        await sb.configure(faults=[slow])
        lifted = await client.credits.get(timeout=None)
        assert lifted.meta is not None
        assert lifted.meta.attempts == 1
        await sb.configure(faults=[slow])
        with no_waits():
            own = await client.credits.get(timeout=Timeouts(total=30.0, attempt=0.3))
        assert own.meta is not None
        assert own.meta.attempts == 2  # the first attempt timed out and was retried
        assert await _requests(sb) == 4


async def test_a_deadline_error_reports_the_backoff_already_waited(
    make_sandbox: MakeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500, a 0.2 s backoff, then a 503 asking for 5 s against a 2 s deadline: the deadline
    error (and the 503 it carries) report the backoff as waited."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # what _transport draws from
    faults = [
        {"route": CREDITS, "action": "http_500", "times": 1},
        {"route": CREDITS, "action": "http_503", "retryAfter": 5, "times": 1},
    ]
    policy = RetryPolicy(max_attempts=4, initial_backoff=0.2, max_backoff=0.2, budget_burst=100)
    async with make_sandbox(faults=faults) as sb, _gated(sb, retry=policy) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.credits.get(timeout=2)
    err = info.value
    assert (err.deadline_exceeded, err.attempts) == (True, 2)
    assert err.waited > 0
    assert isinstance(err.__cause__, InternalServerError)
    assert err.__cause__.waited == err.waited


async def test_a_client_pause_error_reports_the_backoff_already_waited(
    make_sandbox: MakeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call backing off after a 500 finds its class paused for 30 s by another call's 429
    when it comes back: RateLimitError(client_pause) after 1 attempt, its backoff waited.
    (The SDK's one sleep, internal `_waiting`, is made to end once the other call is done, so
    that the order does not depend on timing.)"""
    backing_off = asyncio.Event()
    other_done = asyncio.Event()

    async def backoff(seconds: float) -> None:
        backing_off.set()
        await other_done.wait()

    monkeypatch.setattr(_waiting, "asyncio", types.SimpleNamespace(sleep=backoff))
    faults = [
        {"route": CREDITS, "action": "http_500", "times": 1},
        {"route": CREDITS, "action": "http_429", "retryAfter": 30, "times": 1},
    ]
    async with make_sandbox(faults=faults) as sb, _gated(sb) as client:
        first = asyncio.create_task(client.credits.get(timeout=10))
        await backing_off.wait()
        with pytest.raises(APITimeoutError):  # the 429's 30 s outlast this call's deadline
            await client.credits.get(timeout=5)
        other_done.set()
        with pytest.raises(RateLimitError) as info:
            await first
    err = info.value
    assert err.details == {"limitType": "client_pause"}
    assert err.attempts == 1
    assert err.waited > 0


def test_not_given_is_one_falsy_marker_that_names_itself() -> None:
    """`NOT_GIVEN` (an option the caller left out) is the one `NotGiven`, falsy, shown by name."""
    assert NotGiven() is NOT_GIVEN
    assert not NOT_GIVEN
    assert bool(NOT_GIVEN) is False
    assert repr(NOT_GIVEN) == "NOT_GIVEN"


async def test_a_pause_longer_than_a_views_retry_after_cap_fails_at_once(
    make_sandbox: MakeSandbox,
) -> None:
    """A 60 s pause (the client's cap) fails at once, unsent, a call without a deadline made
    through a view whose policy may wait only 10 s, even in the no-wait testing mode."""
    faults = [{"route": CREDITS, "action": "http_429", "retryAfter": 60, "times": 1}]
    with no_waits():
        async with (
            make_sandbox(faults=faults) as sb,
            _gated(sb, retry=RetryPolicy(max_attempts=1)) as client,
        ):
            with pytest.raises(RateLimitError):
                await client.credits.get()
            impatient = client.with_options(retry=RetryPolicy(max_retry_after=10))
            with pytest.raises(RateLimitError) as info:
                await impatient.credits.get(timeout=None)
            assert info.value.details == {"limitType": "client_pause"}
            assert info.value.retry_after is not None
            assert 50 < info.value.retry_after <= 60
            assert await _requests(sb) == 1


def _free_tokens(client: LayersClient, klass: EndpointClass) -> int:
    """How many calls of `klass` the client's gate would let through now. It takes them (the
    in-flight count is given back, the tokens are not: the last look of a test), through the
    one private peek `client._pool.shared.gate`, since no public name shows the gate's count."""
    gate = client._pool.shared.gate
    taken = 0
    while gate.try_acquire(klass):
        taken += 1
    for _ in range(taken):
        gate.release(klass)
    return taken


async def test_a_success_corrects_the_gate_from_the_servers_remaining_once_half_is_used(
    sandbox: Sandbox,
) -> None:
    """Another client used 30 of the key's 120 read-light calls: once this client's 61st call
    has used half its bucket, it takes the server's `Remaining` (29), not its own count (59)."""
    async with _gated(sandbox) as other:
        for _ in range(30):
            await other.credits.get()
    async with _gated(sandbox) as client:
        for _ in range(61):
            await client.credits.get()
        assert _free_tokens(client, "read-light") == 120 - 30 - 61


async def test_a_call_without_a_deadline_retries_a_failure(make_sandbox: MakeSandbox) -> None:
    """`timeout=None` (no deadline at all): a 500 is retried like under a deadline."""
    faults = [{"route": CREDITS, "action": "http_500", "times": 1}]
    with no_waits():
        async with make_sandbox(faults=faults) as sb, _gated(sb) as client:
            wallet = await client.credits.get(timeout=None)
    assert wallet.meta is not None
    assert wallet.meta.attempts == 2
