"""The transport's side of the rate-limit gate protocol, seen through a scripted gate given as
`LayersClient(gate=...)`: the seconds each attempt queued are summed into `waited` across
retries, every token taken is released, and a deadline or a pause met while a retry queues
ends the call with the attempts and seconds so far.

The scripted gate answers `acquire` with the seconds the test chose, without waiting, so the
sums are exact; backoff sleeps are skipped (`no_waits`), so they add next to nothing.
`GatePaused` comes from the internal module: a gate of one's own raises it to say a pause
outlasts what the call may wait, and the package does not export it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest

from layers_async import (
    APITimeoutError,
    InternalServerError,
    LayersClient,
    RateLimitError,
    RetryPolicy,
)
from layers_async._ratelimit import GatePaused
from layers_async.testing import no_waits
from tests.client._rogue import KEY, WHOAMI, answer, rogue_server

pytestmark = pytest.mark.anyio

#: What the scripted gate reports for every queued attempt.
QUEUED = 2.5
#: Room for the skipped backoff sleeps, which still measure a few microseconds each.
SLACK = 0.3
POLICY = RetryPolicy(max_attempts=3, budget_burst=100)
FAILED = answer(b'{"error":{"code":"INTERNAL","message":"x"}}', 500)
GET_WHOAMI = ("GET", "/v1/whoami")


#: One step of a scripted gate's `acquire`.
Step = float | BaseException | Callable[[float | None], float]


class ScriptedGate:
    """A gate that makes every attempt queue; `acquire` plays the next step of its script:
    seconds waited, an exception to raise, or a function of the call's deadline returning the
    seconds waited. It counts tokens taken and released."""

    unsynced = False
    known = True

    def __init__(self, script: Sequence[Step]) -> None:
        self.script = list(script)
        self.taken = 0
        self.released = 0

    def set_tier(self, tier: str) -> None:
        """Sized already."""

    def try_acquire(self, klass: str) -> bool:
        return False

    async def acquire(
        self, klass: str, deadline: float | None, max_pause: float | None = None
    ) -> float:
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        self.taken += 1
        return step(deadline) if callable(step) else step

    def release(self, klass: str) -> None:
        self.released += 1

    def observe(self, klass: str, headers: Mapping[str, str], *, lazily: bool = False) -> None:
        """Nothing to correct."""

    def pause(self, klass: str, seconds: float) -> None:
        """Nothing to hold."""

    def hold_for_jobs_cap(self, klass: str, seconds: float) -> None:
        """Nothing to hold."""

    async def sync(self) -> None:
        """Nothing to write."""


def _client(url: str, gate: ScriptedGate) -> LayersClient:
    return LayersClient(api_key=KEY, base_url=url, retry=POLICY, gate=lambda _key_id: gate)


async def test_waited_sums_the_gate_time_of_every_attempt_of_a_retried_success() -> None:
    """A 500, then a 200, each attempt queued 2.5 s at the gate: the answer reports 2 attempts
    and 5 s waited, and both tokens were released."""
    gate = ScriptedGate([QUEUED, QUEUED])
    with no_waits():
        async with rogue_server() as rogue:
            rogue.then(FAILED, answer(WHOAMI))
            async with _client(rogue.url, gate) as client:
                me = await client.whoami()
    assert me.meta is not None
    assert me.meta.attempts == 2
    assert 2 * QUEUED <= me.meta.waited < 2 * QUEUED + SLACK
    assert (gate.taken, gate.released) == (2, 2)
    assert rogue.seen == [GET_WHOAMI] * 2


async def test_waited_sums_the_gate_time_of_every_attempt_of_a_failed_call() -> None:
    """Three 500s, each attempt queued 2.5 s: the error reports 3 attempts and 7.5 s waited,
    and every token was released."""
    gate = ScriptedGate([QUEUED] * 3)
    with no_waits():
        async with rogue_server() as rogue:
            rogue.fallback = FAILED
            async with _client(rogue.url, gate) as client:
                with pytest.raises(InternalServerError) as info:
                    await client.whoami()
    assert info.value.attempts == 3
    assert 3 * QUEUED <= info.value.waited < 3 * QUEUED + SLACK
    assert (gate.taken, gate.released) == (3, 3)


@pytest.mark.parametrize("met", ["deadline", "pause"])
async def test_a_deadline_or_pause_met_while_a_retry_queues_keeps_the_attempts_and_time_so_far(
    met: str,
) -> None:
    """After one 500 (its attempt queued 2.5 s), the retry's queue meets the deadline (an
    `APITimeoutError`, deadline_exceeded), or finds the class paused for longer than the call
    may wait (a client-pause `RateLimitError` with the pause left as its Retry-After): either
    counts 1 attempt and 2.5 s waited, and the retry is never sent."""
    step = TimeoutError() if met == "deadline" else GatePaused(42.0)
    gate = ScriptedGate([QUEUED, step])
    with no_waits():
        async with rogue_server() as rogue:
            rogue.fallback = FAILED
            async with _client(rogue.url, gate) as client:
                with pytest.raises((APITimeoutError, RateLimitError)) as info:
                    await client.whoami()
    err = info.value
    if isinstance(err, APITimeoutError):
        assert met == "deadline"
        assert err.deadline_exceeded is True
    else:
        assert met == "pause"
        assert err.details == {"limitType": "client_pause"}
        assert err.retry_after == 42.0
    assert err.attempts == 1
    assert QUEUED <= err.waited < QUEUED + SLACK
    assert (gate.taken, gate.released) == (1, 1)
    assert rogue.seen == [GET_WHOAMI]


class WritingGate(ScriptedGate):
    """A scripted gate whose `release` leaves bookkeeping to write (like a shared gate's), which
    `sync` writes: it logs `acquire`, `release` and `sync` in the order the transport calls them."""

    def __init__(self, script: Sequence[Step]) -> None:
        super().__init__(script)
        self.unsynced = False
        self.log: list[str] = []

    async def acquire(
        self, klass: str, deadline: float | None, max_pause: float | None = None
    ) -> float:
        self.log.append("acquire")
        return await super().acquire(klass, deadline, max_pause)

    def release(self, klass: str) -> None:
        super().release(klass)
        self.log.append("release")
        self.unsynced = True

    async def sync(self) -> None:
        self.log.append("sync")
        self.unsynced = False


@pytest.mark.parametrize("attempts", [1, 2])
async def test_a_gates_bookkeeping_is_written_after_every_attempt_before_what_follows(
    attempts: int,
) -> None:
    """With a gate that has bookkeeping to write after each attempt, the transport writes it
    (`sync`) after a failed attempt before retrying or raising, and after the success before
    returning: acquire, release, sync for every attempt."""
    gate = WritingGate([0.0] * attempts)
    with no_waits():
        async with rogue_server() as rogue:
            rogue.then(FAILED)
            async with LayersClient(
                api_key=KEY,
                base_url=rogue.url,
                retry=RetryPolicy(max_attempts=attempts, budget_burst=100),
                gate=lambda _key_id: gate,
            ) as client:
                if attempts == 1:
                    with pytest.raises(InternalServerError):
                        await client.whoami()
                else:
                    await client.whoami()
    assert gate.log == ["acquire", "release", "sync"] * attempts
    assert gate.unsynced is False
