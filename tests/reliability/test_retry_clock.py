"""The retry loop's edges on the request path's own clock, replaced by a virtual one
(`VirtualTime`): an attempt ended at, or exactly 50 ms before, the call's deadline is cut by
it (never retried); one ended there by its own shorter timeout is not; a retry that could only
start exactly at the deadline is not made; a token handed over exactly at the deadline is
never used; the backoff cap doubles per attempt; the retry's DEBUG line names the call.

Only the clock the transport reads is virtual: attempts still go over real HTTP to a local
server, and an attempt that gets no answer ends at its real (short) timeout, while an
`on_request` hook moves the virtual clock to where the test needs the deadline to be.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import pytest

from layers_async import (
    NOT_GIVEN,
    APITimeoutError,
    AttemptEvent,
    InternalServerError,
    LayersClient,
    RetryPolicy,
    Timeouts,
)
from tests.client._rogue import KEY, answer, rogue_server
from tests.reliability.test_attempt_limits import unanswered
from tests.reliability.test_retries import VirtualTime
from tests.reliability.test_scripted_gate import ScriptedGate, Step

pytestmark = pytest.mark.anyio

#: A real attempt timeout short enough to wait for, and a power of two: on the virtual clock
#: (which starts at 1000.0) `deadline - now` is then exactly this value.
SHORT = 0.125
#: How close to the deadline an attempt that timed out counts as cut by it (the transport's
#: `_DEADLINE_SLACK`, restated: a test must notice when it changes).
SLACK = 0.05
#: No gate, and a first backoff of 1 s drawn at its cap: past every deadline here.
POLICY = RetryPolicy(max_attempts=3, initial_backoff=1.0, budget_burst=100)
GET_WHOAMI = ("GET", "/v1/whoami")
ATTEMPT_TIMED_OUT = "The attempt timed out before a response arrived."
DEADLINE_PASSED = "The call's deadline passed before it could complete"


def _client(url: str, clock: VirtualTime, **options: object) -> LayersClient:
    """A client without a gate whose attempts move the virtual clock as `clock.move` says."""

    def on_request(event: AttemptEvent) -> None:
        if clock.move is not None:
            clock.now = clock.move(clock.deadline)

    options.setdefault("retry", POLICY)
    return LayersClient(
        api_key=KEY,
        base_url=url,
        rate_limit_tier=False,
        on_request=on_request,
        **options,  # type: ignore[arg-type]
    )


class Clock(VirtualTime):
    """`VirtualTime` plus where to move the clock when an attempt starts (from the deadline)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, total: float) -> None:
        super().__init__(monkeypatch)
        self.deadline = self.now + total
        self.move: Callable[[float], float] | None = None


@pytest.fixture(autouse=True)
def draws_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every backoff is drawn at its cap (what `_transport` draws from)."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)


@pytest.mark.parametrize(
    ("attempt", "total", "ends_at"),
    [(SHORT, SHORT, 0.0), (2 * SHORT, SHORT, SLACK)],
    ids=["at-the-deadline", "exactly-50ms-before-it"],
)
async def test_an_attempt_the_deadline_bounds_and_ends_is_cut_by_it(
    monkeypatch: pytest.MonkeyPatch, attempt: float, total: float, ends_at: float
) -> None:
    """An attempt bounded by the deadline (its remaining time is not longer than the attempt
    timeout, here equal) that times out at the deadline, or exactly 50 ms before it, ends the
    call with its own error flagged deadline_exceeded: not retried, not wrapped."""
    clock = Clock(monkeypatch, total)
    clock.move = lambda deadline: deadline - ends_at
    async with unanswered() as rogue, _client(rogue.url, clock) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.whoami(timeout=Timeouts(total=total, attempt=attempt))
    err = info.value
    assert err.message == ATTEMPT_TIMED_OUT
    assert (err.deadline_exceeded, err.attempts) == (True, 1)
    assert err.__cause__ is None
    assert rogue.seen == [GET_WHOAMI]


@pytest.mark.parametrize("given", ["by-the-client", "by-the-call"])
async def test_an_attempt_its_own_timeout_ends_near_the_deadline_is_not_cut_by_it(
    monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """An attempt bounded by its own shorter timeout (the client's default or the call's own)
    that ends at the deadline is a retryable timeout (deadline_exceeded False); the retry's
    backoff then outlasts the deadline, so the call ends with the deadline error, caused by
    that timeout."""
    clock = Clock(monkeypatch, 2 * SHORT)
    clock.move = lambda deadline: deadline
    timeouts = Timeouts(total=2 * SHORT, attempt=SHORT)
    by_client = given == "by-the-client"
    async with (
        unanswered() as rogue,
        _client(rogue.url, clock, timeout=timeouts if by_client else NOT_GIVEN) as client,
    ):
        with pytest.raises(APITimeoutError) as info:
            await client.whoami(timeout=NOT_GIVEN if by_client else timeouts)
    err = info.value
    assert err.message == f"{DEADLINE_PASSED}; last error: APITimeoutError."
    assert (err.deadline_exceeded, err.attempts) == (True, 1)
    cause = err.__cause__
    assert isinstance(cause, APITimeoutError)
    assert cause.message == ATTEMPT_TIMED_OUT
    assert cause.deadline_exceeded is False
    assert rogue.seen == [GET_WHOAMI]


async def test_a_retry_that_could_only_start_at_the_deadline_is_not_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 503 asking for 2 s, 2 s before the deadline: the retry would start exactly at the
    deadline, so the call ends at once with the deadline error caused by the 503."""
    clock = Clock(monkeypatch, 2.0)
    async with rogue_server() as rogue:
        rogue.then(answer(b'{"error":{"code":"INTERNAL"}}', 503, {"Retry-After": "2"}))
        async with _client(rogue.url, clock) as client:
            with pytest.raises(APITimeoutError) as info:
                await client.whoami(timeout=2.0)
    err = info.value
    assert (err.deadline_exceeded, err.attempts, err.waited) == (True, 1, 0.0)
    assert isinstance(err.__cause__, InternalServerError)
    assert clock.asked == []  # nothing slept
    assert rogue.seen == [GET_WHOAMI]


@pytest.mark.parametrize("first_failed", [False, True], ids=["first-attempt", "retry"])
async def test_a_token_handed_over_at_the_deadline_is_never_used(
    monkeypatch: pytest.MonkeyPatch, first_failed: bool
) -> None:
    """A gate that hands the token over exactly at the deadline (after 2.5 s at the gate): the
    attempt is not sent, the call ends with the deadline error counting the attempts before
    it and every second waited, and the token is released."""
    monkeypatch.setattr(random, "uniform", lambda low, high: low)  # no backoff: exact sums
    clock = Clock(monkeypatch, 10.0)

    def at_the_deadline(deadline: float | None) -> float:
        assert deadline == clock.deadline
        clock.now = deadline
        return 2.5

    script: list[Step] = [2.5, at_the_deadline] if first_failed else [at_the_deadline]
    gate = ScriptedGate(script)
    async with rogue_server() as rogue:
        rogue.fallback = answer(b'{"error":{"code":"INTERNAL"}}', 500)
        async with LayersClient(
            api_key=KEY, base_url=rogue.url, retry=POLICY, gate=lambda _key_id: gate
        ) as client:
            with pytest.raises(APITimeoutError) as info:
                await client.whoami(timeout=10.0)
    err = info.value
    sent = 1 if first_failed else 0
    assert (err.deadline_exceeded, err.attempts, err.waited) == (True, sent, 2.5 * (sent + 1))
    assert err.message == f"{DEADLINE_PASSED}."
    assert (gate.taken, gate.released) == (sent + 1, sent + 1)
    assert rogue.seen == [GET_WHOAMI] * sent


async def test_the_backoff_cap_doubles_with_each_attempt_until_max_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With `initial_backoff=0.1, max_backoff=0.3`, the n-th retry draws its delay from
    [0, 0.1], [0, 0.2], then [0, 0.3] (0.4 capped); each is slept whole and summed into
    `waited`."""
    draws: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        draws.append((low, high))
        return high

    monkeypatch.setattr(random, "uniform", uniform)
    clock = Clock(monkeypatch, 60.0)
    policy = RetryPolicy(max_attempts=4, initial_backoff=0.1, max_backoff=0.3, budget_burst=100)
    async with rogue_server() as rogue:
        rogue.then(*[answer(b'{"error":{"code":"INTERNAL"}}', 500)] * 3)
        async with _client(rogue.url, clock, retry=policy) as client:
            me = await client.whoami()
    assert draws == [(0.0, 0.1), (0.0, 0.2), (0.0, 0.3)]
    assert clock.asked == [0.1, 0.2, 0.3]
    assert me.meta is not None
    assert me.meta.attempts == 4
    assert me.meta.waited == pytest.approx(0.6)


async def test_a_retrys_debug_line_names_the_call_the_failure_and_the_wait(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The DEBUG line of a retry reads `GET /v1/whoami attempt 1 failed (500 INTERNAL);
    retrying in 1.000s key=<the key's prefix>_…`."""
    caplog.set_level(logging.DEBUG, logger="layers_async")
    clock = Clock(monkeypatch, 60.0)
    async with rogue_server() as rogue:
        rogue.then(answer(b'{"error":{"code":"INTERNAL"}}', 500))
        async with _client(rogue.url, clock) as client:
            me = await client.whoami()
    assert me.meta is not None
    assert me.meta.attempts == 2
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    prefix = KEY[: len("lp_live_") + 16]
    assert retries == [
        f"GET /v1/whoami attempt 1 failed (500 INTERNAL); retrying in 1.000s key={prefix}_…"
    ]
