"""The Redis rate-limit gate against a real Redis: the Lua scripts' windows, pauses, header
corrections and running-jobs hold, shared between gates made by separate `RedisGates` (as
separate processes make them) and between real OS processes.

Most tests inject one clock into every gate (Redis TIME cannot be injected: the scripts take
`now` from the caller when one is given) whose `sleep` advances it, so every count and every
second is exact. The multi-process test also runs on Redis TIME and asserts on counts only.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis

from layers_async import GateUnavailableError
from layers_async._ratelimit import TIER_LIMITS, EndpointClass, GatePaused
from layers_async.distributed import RedisGates, RedisRateGate
from layers_async.distributed import _redis_server as servers

pytestmark = pytest.mark.anyio

KEY = "k" * 32
LONG: EndpointClass = "long-running"
WRITE: EndpointClass = "write-light"
START = 1_000_000.0


class FakeClock:
    """A clock (seconds) shared by every gate of a test; it moves only when a gate sleeps."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


MakeGates = Callable[..., RedisGates]


@pytest.fixture
async def make_gates(redis_url: str) -> AsyncIterator[MakeGates]:
    """Makes `RedisGates` on the test's Redis, each with its own connection pool (as each
    process has), all closed at the end of the test."""
    made: list[RedisGates] = []

    def make(**options: object) -> RedisGates:
        options.setdefault("redis", redis_url)
        gates = RedisGates(**options)  # type: ignore[arg-type]
        made.append(gates)
        return gates

    yield make
    for gates in made:
        await gates.aclose()


@pytest.fixture
def clock() -> FakeClock:
    """The one injected clock of the test's gates."""
    return FakeClock()


def gate_on(make: MakeGates, clock: FakeClock, key: str = KEY) -> RedisRateGate:
    """A `standard` gate of `key` on its own connection pool and the test's clock."""
    gate = make(clock=clock, sleep=clock.sleep)(key)
    gate.set_tier("standard")
    return gate


async def takes_now(gate: RedisRateGate, klass: EndpointClass) -> bool:
    """True when the gate grants a token at once (its deadline has already passed)."""
    try:
        await gate.acquire(klass, time.monotonic())
    except TimeoutError:
        return False
    gate.release(klass)
    await gate.sync()
    return True


async def count_granted(gate: RedisRateGate, klass: EndpointClass, tries: int) -> int:
    """How many of `tries` immediate acquisitions the gate grants."""
    return sum([await takes_now(gate, klass) for _ in range(tries)])


# -- windows ---------------------------------------------------------------------------------
async def test_a_window_grants_exactly_the_tier_limit(
    make_gates: MakeGates, clock: FakeClock
) -> None:
    """A standard key gets exactly 20 long-running and 60 write-light tokens per window."""
    gate = gate_on(make_gates, clock)
    assert await count_granted(gate, LONG, 25) == 20
    assert await count_granted(gate, WRITE, 70) == 60


async def test_the_bucket_refills_when_the_window_ends(
    make_gates: MakeGates, clock: FakeClock
) -> None:
    """After 20 starts the 21st waits for the window's end (60 s on the clock), then goes."""
    gate = gate_on(make_gates, clock)
    assert await count_granted(gate, LONG, 20) == 20
    waited = await gate.acquire(LONG, None)
    gate.release(LONG)
    assert waited == pytest.approx(60.0, abs=0.01)
    assert clock.now - START == pytest.approx(60.0, abs=0.01)
    assert await count_granted(gate, LONG, 25) == 19  # the refilled window, less that one


async def test_two_processes_on_one_key_share_one_budget(
    make_gates: MakeGates, clock: FakeClock
) -> None:
    """Gates of one key on separate connection pools draw from one budget of 20 starts."""
    first, second = gate_on(make_gates, clock), gate_on(make_gates, clock)
    assert await count_granted(first, LONG, 12) == 12
    assert await count_granted(second, LONG, 12) == 8
    assert not await takes_now(first, LONG)


async def test_keys_and_classes_have_separate_buckets(
    make_gates: MakeGates, clock: FakeClock
) -> None:
    """Another key id, or another class of the same key, has its own full bucket."""
    gate = gate_on(make_gates, clock)
    assert await count_granted(gate, LONG, 20) == 20
    assert await count_granted(gate_on(make_gates, clock, "other" * 6), LONG, 25) == 20
    assert await count_granted(gate, WRITE, 5) == 5


async def test_redis_holds_no_part_of_the_api_key(
    make_gates: MakeGates, clock: FakeClock, redis_url: str
) -> None:
    """Every key the gate writes is `prefix:{key id}:class:part`, nothing else."""
    gate = gate_on(make_gates, clock)
    await takes_now(gate, LONG)
    gate.pause(LONG, 1.0)
    await gate.sync()
    with redis.Redis.from_url(redis_url) as conn:
        keys = sorted(k.decode() for k in conn.keys("*"))
    assert keys == [f"layers:gate:{{{KEY}}}:long-running:{part}" for part in ("bucket", "pause")]


async def test_scripts_reload_after_redis_forgets_them(
    make_gates: MakeGates, clock: FakeClock, redis_url: str
) -> None:
    """After SCRIPT FLUSH (a restarted Redis) the gate loads its scripts again (NOSCRIPT)."""
    gate = gate_on(make_gates, clock)
    assert await takes_now(gate, LONG)
    with redis.Redis.from_url(redis_url) as conn:
        conn.script_flush()
    assert await takes_now(gate, LONG)


# -- pauses ----------------------------------------------------------------------------------
async def test_a_429_pause_holds_every_process_until_its_ttl(
    make_gates: MakeGates, clock: FakeClock, redis_url: str
) -> None:
    """A pause written by one gate holds another gate of the key; the Redis key has its TTL."""
    first, second = gate_on(make_gates, clock), gate_on(make_gates, clock)
    first.pause(LONG, 5.0)
    assert first.unsynced
    await first.sync()
    assert not first.unsynced
    with redis.Redis.from_url(redis_url) as conn:
        ttl = conn.pttl(f"layers:gate:{{{KEY}}}:long-running:pause")
    assert 0 < ttl <= 5_000
    assert await second.paused_for(LONG) == pytest.approx(5.0)
    with pytest.raises(GatePaused) as paused:
        await second.acquire(LONG, None, max_pause=1.0)
    assert paused.value.seconds == pytest.approx(5.0)
    assert await second.acquire(LONG, None) == pytest.approx(5.0)  # it waits the pause out
    second.release(LONG)
    assert await takes_now(first, WRITE)  # other classes were never paused


async def test_a_shorter_pause_never_shortens_a_longer_one(
    make_gates: MakeGates, clock: FakeClock
) -> None:
    """Pauses only ever extend: 10 s then 2 s leaves 10 s."""
    gate = gate_on(make_gates, clock)
    gate.pause(LONG, 10.0)
    gate.pause(LONG, 2.0)
    await gate.sync()
    assert await gate.paused_for(LONG) == pytest.approx(10.0)


async def test_a_pause_expires_on_redis_time_without_a_clock(make_gates: MakeGates) -> None:
    """On Redis TIME, a 50 ms pause is over once its key expired (polled, not timed)."""
    gate = make_gates()(KEY)
    gate.set_tier("standard")
    gate.pause(LONG, 0.05)
    await gate.sync()
    assert await gate.paused_for(LONG) > 0
    for _ in range(200):
        if await gate.paused_for(LONG) == 0:
            break
        await asyncio.sleep(0.01)
    assert await takes_now(gate, LONG)


# -- header corrections ----------------------------------------------------------------------
def headers(remaining: int, reset: int | None = None, limit: int = 20) -> dict[str, str]:
    """The rate-limit headers of one answer."""
    out = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}
    if reset is not None:
        out["X-RateLimit-Reset"] = str(reset)
    return out


@pytest.mark.parametrize(
    ("taken", "later", "answer", "left"),
    [
        (5, 0.0, headers(10, reset=50), 10),
        (15, 0.0, headers(19, reset=50), 5),
        (1, 0.5, headers(0, reset=1), 19),
        (20, 30.0, headers(15, reset=59), 15),
        (0, 0.0, headers(60, reset=60, limit=60), 60),
    ],
    ids=[
        "the-server-counted-more-lowers-it",
        "an-overtaken-answer-never-raises-it",
        "an-answer-from-the-window-before-is-ignored",
        "the-servers-next-window-is-followed",
        "the-limit-header-resizes-the-bucket",
    ],
)
async def test_an_answer_corrects_the_budget_of_every_process(
    make_gates: MakeGates,
    clock: FakeClock,
    taken: int,
    later: float,
    answer: dict[str, str],
    left: int,
) -> None:
    """One gate takes `taken` starts, `later` s pass, it observes `answer`: another gate of the
    key then gets exactly `left` (corrections only lower the budget, within its window)."""
    first, second = gate_on(make_gates, clock), gate_on(make_gates, clock)
    assert await count_granted(first, LONG, taken) == taken
    await clock.sleep(later)
    first.observe(LONG, answer)
    await first.sync()
    assert await count_granted(second, LONG, 70) == left


async def test_reset_moves_the_window_end_earlier(make_gates: MakeGates, clock: FakeClock) -> None:
    """Reset 10 s: the shared window ends 10 s from now instead of 60 s after its start."""
    gate = gate_on(make_gates, clock)
    assert await count_granted(gate, LONG, 20) == 20
    gate.observe(LONG, headers(0, reset=10))
    await gate.sync()
    assert await gate.acquire(LONG, None) == pytest.approx(10.0, abs=0.01)
    gate.release(LONG)


async def test_a_lazy_observe_waits_until_half_the_window_is_used(
    make_gates: MakeGates, clock: FakeClock
) -> None:
    """The first answer of a class is read (its limit); later successes cost no round trip
    while more than half the bucket is left."""
    gate = gate_on(make_gates, clock)
    assert await count_granted(gate, LONG, 5) == 5
    gate.observe(LONG, headers(15, reset=50), lazily=True)
    assert gate.unsynced  # the key's real limit is not known yet
    await gate.sync()
    gate.observe(LONG, headers(15, reset=50), lazily=True)
    assert not gate.unsynced
    assert await count_granted(gate, LONG, 6) == 6
    gate.observe(LONG, headers(9, reset=50), lazily=True)
    assert gate.unsynced
    await gate.sync()


async def test_no_tier_lookup_is_needed_before_the_first_call(make_gates: MakeGates) -> None:
    """The gate is sized from the smallest tier at once (no call outside the shared budget)."""
    gate = make_gates()(KEY)
    assert gate.known
    assert await count_granted(gate, LONG, 25) == TIER_LIMITS["standard"][2]


# -- the running-jobs hold -------------------------------------------------------------------
async def test_the_jobs_hold_pauses_then_lets_one_start_at_a_time(
    make_gates: MakeGates, clock: FakeClock
) -> None:
    """After a concurrent_jobs 429: a 2 s pause, then one start in flight across processes."""
    first, second = gate_on(make_gates, clock), gate_on(make_gates, clock)
    first.hold_for_jobs_cap(LONG, 2.0)
    await first.sync()
    assert await first.acquire(LONG, None) == pytest.approx(2.0)
    assert not await takes_now(second, LONG)  # the first start still holds the lease
    first.release(LONG)
    assert first.unsynced
    await first.sync()
    assert await takes_now(second, LONG)
    assert await takes_now(second, WRITE)  # only the long-running class goes one by one


async def test_the_one_at_a_time_hold_ends(make_gates: MakeGates, clock: FakeClock) -> None:
    """Once the hold is over (60 s at least), starts overlap again."""
    first, second = gate_on(make_gates, clock), gate_on(make_gates, clock)
    first.hold_for_jobs_cap(LONG, 1.0)
    await first.sync()
    await clock.sleep(61.0)
    await first.acquire(LONG, None)
    try:
        assert await takes_now(second, LONG)
    finally:
        first.release(LONG)
        await first.sync()


# -- Redis down ------------------------------------------------------------------------------
@pytest.fixture
def dead_url() -> str:
    """A Redis URL with a password on a loopback port nobody listens on."""
    return f"redis://:hunter2@127.0.0.1:{servers._free_port()}/0"


async def test_without_redis_a_call_raises_a_typed_error(
    make_gates: MakeGates, dead_url: str
) -> None:
    """Redis unreachable: acquire raises GateUnavailableError, naming no password."""
    gate = make_gates(redis=dead_url)(KEY)
    gate.set_tier("standard")
    with pytest.raises(GateUnavailableError) as raised:
        await gate.acquire(LONG, None)
    assert "hunter2" not in str(raised.value)


async def test_without_redis_sync_drops_its_writes_with_a_warning(
    make_gates: MakeGates, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """sync() after an answer never raises (the answer must reach its caller): it warns."""
    gate = make_gates(redis=dead_url)(KEY)
    gate.set_tier("standard")
    gate.pause(LONG, 1.0)
    await gate.sync()
    assert not gate.unsynced
    assert "bookkeeping of one answer is lost" in caplog.text
    assert "hunter2" not in caplog.text


async def test_the_local_fallback_is_explicit_and_still_gates(
    make_gates: MakeGates, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """With fallback="local", Redis down means this process's own gate: 20 starts, not more."""
    gate = make_gates(redis=dead_url, fallback="local")(KEY)
    gate.set_tier("standard")
    assert await count_granted(gate, LONG, 25) == TIER_LIMITS["standard"][2]
    assert "using this process's own gate" in caplog.text
    assert "hunter2" not in caplog.text


def test_an_unknown_fallback_is_refused(redis_url: str) -> None:
    """Only None and "local" are fallbacks: never a silent "no gate"."""
    with pytest.raises(ValueError, match="fallback"):
        RedisGates(redis_url, fallback="none")  # type: ignore[arg-type]


# -- several OS processes --------------------------------------------------------------------
def _acquirer(
    url: str, clock_at: float | None, klass: EndpointClass, tries: int, barrier: Any, out: Any
) -> None:
    """One OS process: `tries` immediate acquisitions on one key; puts how many went."""

    async def run() -> int:
        clock = None if clock_at is None else (lambda: clock_at)
        async with RedisGates(url, clock=clock) as gates:
            gate = gates(KEY)
            gate.set_tier("standard")
            await asyncio.to_thread(barrier.wait, 30)
            return await count_granted(gate, klass, tries)

    out.put(asyncio.run(run()))


def _in_processes(
    url: str, clock_at: float | None, klass: EndpointClass, processes: int, tries: int
) -> list[int]:
    """Run `_acquirer` in `processes` spawned OS processes started together; their counts."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    out = ctx.Queue()
    workers = [
        ctx.Process(target=_acquirer, args=(url, clock_at, klass, tries, barrier, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        return [out.get(timeout=60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.kill()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("clock_at", [START, None], ids=["injected-clock", "redis-time"])
def test_concurrent_processes_never_exceed_the_limit(
    redis_url: str, clock_at: float | None
) -> None:
    """4 OS processes racing for one key's 60 write-light tokens get exactly 60 together."""
    granted = _in_processes(redis_url, clock_at, WRITE, 4, 40)
    assert sum(granted) == TIER_LIMITS["standard"][1], granted
