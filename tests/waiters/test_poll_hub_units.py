"""Unit tests of the poll hub on a virtual clock (issue 15): how a stream spaces its polls
(policy, jitter, progress extrapolation, refusals), the poll budget's slots, and how waiters
join, leave and fail.

The hub is internal (`layers_async._polling`): users reach it only through `wait_for_*` and
the flows, where a poll that comes a second early or late, or a slot never given back, is
invisible. These tests drive it directly with fake fetches and a clock that only moves when the
hub sleeps, so every interval is exact and nothing depends on the machine's load.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable

import pytest

from layers_async import ClientClosedError, PollPolicy, RateLimitError, WaitTimeoutError, _polling
from layers_async._polling import PollBudget, PollHub, WaitContext

pytestmark = pytest.mark.anyio

START = 1_000.0
REAL_SLEEP = asyncio.sleep
STEADY = PollPolicy(initial=1.0, multiplier=1.0, max_interval=1.0, jitter=0.0, margin=0.0)


class VirtualClock:
    """`time.monotonic` and `asyncio.sleep` as `_polling` sees them: a sleep is recorded,
    moves the clock by exactly what was asked and yields once; `hold` makes sleeps block."""

    def __init__(self) -> None:
        self.now = START
        self.sleeps: list[float] = []
        self.hold: asyncio.Event | None = None

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.hold is not None:
            await self.hold.wait()
        self.now += seconds
        await REAL_SLEEP(0)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """The virtual clock, patched into `_polling` (jitter draws the middle of its range)."""
    fake = VirtualClock()
    fake_asyncio = types.SimpleNamespace(**vars(asyncio))
    fake_asyncio.sleep = fake.sleep
    monkeypatch.setattr(_polling, "asyncio", fake_asyncio)
    monkeypatch.setattr(_polling, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    monkeypatch.setattr(_polling, "random", types.SimpleNamespace(uniform=lambda a, b: (a + b) / 2))
    return fake


class Counter:
    """A fetch returning 1, 2, 3, ... and recording the last state each call was given."""

    def __init__(self, fail: list[BaseException | None] | None = None) -> None:
        """`fail`: what the first fetches raise, in order (None: that fetch answers)."""
        self.given: list[int | None] = []
        self.fail = list(fail or [])
        self.value = 0

    async def __call__(self, last: int | None) -> int:
        self.given.append(last)
        if self.fail:
            error = self.fail.pop(0)
            if error is not None:
                raise error
        self.value += 1
        return self.value


def at_least(n: int) -> Callable[[int], int | None]:
    return lambda state: state if state >= n else None


def never(state: int) -> None:
    """A check no state satisfies."""
    return None


def refused(retry_after: float | None = None) -> RateLimitError:
    return RateLimitError(
        "Rate limit exceeded.",
        status_code=429,
        code="RATE_LIMITED",
        request_id=None,
        details=None,
        method="GET",
        path="/v1/jobs/x",
        retry_after=retry_after,
    )


async def test_polls_follow_first_delay_interval_growth_jitter_and_cap(
    clock: VirtualClock,
) -> None:
    """first_delay, then interval + jitter, the interval multiplied per poll up to its cap; each
    fetch gets the state polled before it; the hub counts every poll."""
    policy = PollPolicy(initial=1.0, multiplier=2.0, max_interval=5.0, jitter=0.5, first_delay=3.0)
    hub = PollHub(None)
    fetch = Counter()
    got = await hub.wait("k", fetch, at_least(5), policy=policy, timeout=None)
    assert got == 5
    assert clock.sleeps == [3.0, 1.25, 2.25, 4.25, 5.25]
    assert fetch.given == [None, 1, 2, 3, 4]
    assert hub.polls == 5
    assert hub.active_streams == 0


async def test_progress_extrapolates_the_next_poll_within_its_bounds(
    clock: VirtualClock,
) -> None:
    """With progress reported, the next poll comes when the rate seen says it will be done
    (plus the margin), never sooner than `initial` nor later than `max_extrapolated`."""
    policy = PollPolicy(
        initial=1.0, multiplier=1.0, max_interval=1.0, jitter=0.0, margin=0.25, max_extrapolated=60
    )
    hub = PollHub(None)
    got = await hub.wait(
        "k",
        Counter(),
        at_least(5),
        policy=policy,
        timeout=None,
        progress=lambda state: state / 10,
    )
    assert got == 5
    # 0.1 at t, 0.2 at t+1: 0.8 left at 0.1/s = 8 s (+0.25); then 0.1 per 8.25 s: 57.75 s left
    # (+0.25 = 58); then 0.1 per 58 s: far past the 60 s cap.
    assert clock.sleeps == pytest.approx([1.0, 8.25, 58.0, 60.0])


async def test_progress_that_does_not_move_keeps_the_plain_interval(clock: VirtualClock) -> None:
    """Progress that stays put (or only starts being reported) never extrapolates, and a
    step back is not taken as the new reference."""
    seen = iter([0.5, 0.5, 0.4, 0.5, None])
    hub = PollHub(None)
    got = await hub.wait(
        "k", Counter(), at_least(5), policy=STEADY, timeout=None, progress=lambda s: next(seen)
    )
    assert got == 5
    # 0.5 → 0.5: no rate; 0.4: lower, ignored; 0.5 again: not above the 0.5 first seen.
    assert clock.sleeps == [1.0, 1.0, 1.0, 1.0]


async def test_extrapolation_with_no_time_between_polls_keeps_the_interval(
    clock: VirtualClock,
) -> None:
    """Two polls at the same instant (no time passed) give no rate to extrapolate from."""
    policy = PollPolicy(initial=0.0, multiplier=1.0, max_interval=0.0, jitter=0.0, margin=0.0)
    hub = PollHub(None)
    got = await hub.wait(
        "k", Counter(), at_least(3), policy=policy, timeout=None, progress=lambda s: s / 10
    )
    assert got == 3
    assert clock.sleeps == [0.0, 0.0]


@pytest.mark.parametrize(
    ("interval", "refusals", "retry_after", "pause"),
    [
        (0.01, 1, None, 0.05),  # never less than 50 ms
        (0.01, 3, None, 0.2),  # 50 ms doubled per refusal in a row
        (1.0, 1, None, 1.0),  # the poll interval when it is longer
        (1.0, 4, None, 8.0),
        (1.0, 4, 3.0, 3.0),  # never beyond the server's Retry-After...
        (1.0, 4, 0.0, 0.05),  # ...but never under 50 ms
        (1.0, 7, None, 60.0),  # never beyond a minute
        (0.01, 5_000, None, 60.0),  # the doubling stops (at 2**16): no float overflow
    ],
)
def test_pause_after_a_refused_poll(
    interval: float, refusals: int, retry_after: float | None, pause: float
) -> None:
    """The wait after the n-th refused poll in a row, value by value."""
    got = _polling._after_refusal(refused(retry_after), interval, refusals)
    assert got == pytest.approx(pause)


async def test_refused_polls_back_off_then_the_stream_goes_on(clock: VirtualClock) -> None:
    """Two polls refused with a 429 do not end the wait: the stream backs off (50 ms, 100 ms)
    and polls again; refused polls are not counted as polls."""
    policy = PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0)
    hub = PollHub(None)
    fetch = Counter(fail=[refused(), refused()])
    got = await hub.wait("k", fetch, at_least(2), policy=policy, timeout=None)
    assert got == 2
    assert clock.sleeps == pytest.approx([0.05, 0.1, 0.01])
    assert fetch.given == [None, None, None, 1]
    assert hub.polls == 2


async def test_a_wait_timing_out_behind_refusals_says_so(clock: VirtualClock) -> None:
    """A waiter whose polls are all refused times out with WaitTimeoutError naming what it
    waited for, its timeout and the refusal (its cause), with no state seen."""
    policy = PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0)
    clock.hold = asyncio.Event()  # the stream sits in its back-off until the wait gives up
    hub = PollHub(None)
    last = refused(2.0)
    with pytest.raises(WaitTimeoutError) as info:
        await hub.wait(
            "k", Counter(fail=[last]), at_least(1), policy=policy, timeout=0.05, what="job x"
        )
    err = info.value
    assert str(err) == f"gave up waiting for job x after 0.05 s (its last poll was refused: {last})"
    assert err.__cause__ is last
    assert err.last_state is None
    assert hub.active_streams == 0


async def test_a_wait_timing_out_keeps_the_last_state(clock: VirtualClock) -> None:
    """A waiter that times out after polls carries the last state, and its message no refusal."""
    clock.hold = asyncio.Event()  # after the first poll the stream sleeps until the wait ends
    hub = PollHub(None)
    with pytest.raises(WaitTimeoutError) as info:
        await hub.wait("k", Counter(), at_least(9), policy=STEADY, timeout=0.05)
    err = info.value
    assert str(err) == "gave up waiting for the awaited state after 0.05 s"
    assert err.__cause__ is None
    assert err.last_state == 1


async def test_a_newcomer_already_satisfied_by_the_last_state_does_not_wait(
    clock: VirtualClock,
) -> None:
    """A waiter joining a stream whose last state already satisfies it returns that state at
    once, without another poll; one that is not satisfied joins the same stream."""
    clock.hold = asyncio.Event()
    hub = PollHub(None)
    fetch = Counter()
    first = asyncio.ensure_future(hub.wait("k", fetch, at_least(3), policy=STEADY, timeout=None))
    while not clock.sleeps:
        await REAL_SLEEP(0)  # the first poll (state 1) is in; the stream sleeps
    assert await hub.wait("k", fetch, at_least(1), policy=STEADY, timeout=None) == 1
    assert fetch.given == [None]
    second = asyncio.ensure_future(hub.wait("k", fetch, at_least(2), policy=STEADY, timeout=None))
    await REAL_SLEEP(0)
    assert hub.active_streams == 1
    clock.hold.set()
    clock.hold = None
    assert await second == 2
    assert await first == 3
    assert fetch.given == [None, 1, 2]
    assert hub.active_streams == 0


async def test_the_last_waiter_leaving_stops_the_stream(clock: VirtualClock) -> None:
    """A cancelled waiter that was the stream's only one stops its polls and frees its key;
    while another waiter remains, the stream goes on."""
    clock.hold = asyncio.Event()
    hub = PollHub(None)
    fetch = Counter()
    one = asyncio.ensure_future(hub.wait("k", fetch, at_least(9), policy=STEADY, timeout=None))
    two = asyncio.ensure_future(hub.wait("k", fetch, at_least(9), policy=STEADY, timeout=None))
    while not clock.sleeps:
        await REAL_SLEEP(0)
    one.cancel()
    with pytest.raises(asyncio.CancelledError):
        await one
    assert hub.active_streams == 1  # `two` still waits
    two.cancel()
    with pytest.raises(asyncio.CancelledError):
        await two
    assert hub.active_streams == 0
    clock.hold.set()
    await REAL_SLEEP(0)
    assert fetch.given == [None]  # no poll after the last waiter left


async def test_a_failing_fetch_fails_every_waiter_and_frees_the_key(clock: VirtualClock) -> None:
    """A poll that fails for good (not a 429) ends every waiter of the stream with its error."""
    boom = RuntimeError("gone")
    hub = PollHub(None)
    results = await asyncio.gather(
        hub.wait("k", Counter(fail=[boom]), at_least(1), policy=STEADY, timeout=None),
        hub.wait("k", Counter(), at_least(1), policy=STEADY, timeout=None),
        return_exceptions=True,
    )
    assert results == [boom, boom]
    assert hub.active_streams == 0


async def test_a_check_that_raises_ends_only_its_own_waiter(clock: VirtualClock) -> None:
    """A waiter whose check raises gets that error; the other waiter on the stream goes on."""
    bad = ValueError("job failed")

    def failing(state: int) -> int | None:
        if state >= 2:
            raise bad
        return None

    hub = PollHub(None)
    fetch = Counter()
    results = await asyncio.gather(
        hub.wait("k", fetch, failing, policy=STEADY, timeout=None),
        hub.wait("k", fetch, at_least(4), policy=STEADY, timeout=None),
        return_exceptions=True,
    )
    assert results == [bad, 4]
    assert fetch.given == [None, 1, 2, 3]


async def test_closing_the_hub_fails_its_waiters_with_a_clear_error(clock: VirtualClock) -> None:
    """`aclose` ends every pending waiter with ClientClosedError and stops every stream."""
    clock.hold = asyncio.Event()
    hub = PollHub(None)
    waiters = [
        asyncio.ensure_future(hub.wait(k, Counter(), at_least(9), policy=STEADY, timeout=None))
        for k in ("a", "b")
    ]
    while len(clock.sleeps) < 2:
        await REAL_SLEEP(0)
    await hub.aclose()
    for waiter in waiters:
        with pytest.raises(ClientClosedError) as info:
            await waiter
        assert str(info.value) == "the LayersClient was closed while this waiter waited"
    assert hub.active_streams == 0


async def test_streams_are_shared_only_inside_one_organization(clock: VirtualClock) -> None:
    """`WaitContext.wait` keys a stream by kind, organization and id: the same id in two
    organizations is polled twice, in one organization once."""
    clock.hold = asyncio.Event()
    hub = PollHub(None)
    fetches = {org: Counter() for org in ("org_a", "org_b")}
    contexts = [WaitContext(hub, org, STEADY) for org in ("org_a", "org_a", "org_b")]
    waits = [
        asyncio.ensure_future(
            ctx.wait(
                ("job", "job_1"),
                fetches[ctx.organization or ""],
                at_least(2),
                policy=STEADY,
                timeout=None,
                what="job job_1",
            )
        )
        for ctx in contexts
    ]
    while len(clock.sleeps) < 2:
        await REAL_SLEEP(0)
    assert hub.active_streams == 2
    clock.hold.set()
    clock.hold = None
    assert await asyncio.gather(*waits) == [2, 2, 2]
    assert [fetches[o].given for o in ("org_a", "org_b")] == [[None, 1], [None, 1]]


async def test_the_poll_budget_hands_out_slots_in_order(clock: VirtualClock) -> None:
    """At 4 polls a second, polls asked for at once go at 0, 0.25 and 0.5 s; without a rate
    (None or 0) nobody waits."""
    budget = PollBudget(4.0)
    for _ in range(3):
        await budget.acquire()
        clock.now = START  # all three ask at the same instant
    assert clock.sleeps == [0.25, 0.5]
    for rate in (None, 0.0):
        free = PollBudget(rate)
        await free.acquire()
        await free.acquire()
    assert clock.sleeps == [0.25, 0.5]


async def test_a_poll_cancelled_in_the_budget_gives_its_slot_back(clock: VirtualClock) -> None:
    """A poll cancelled while it waits for its slot gives the slot back: the next poll takes
    it instead of queueing behind it."""
    budget = PollBudget(4.0)
    await budget.acquire()  # slot at START
    clock.hold = asyncio.Event()
    waiting = asyncio.ensure_future(budget.acquire())  # slot at START + 0.25
    await REAL_SLEEP(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    clock.hold = None
    await budget.acquire()
    assert clock.sleeps == [0.25, 0.25]  # not 0.5: the cancelled slot was reused


async def test_progress_that_stalls_keeps_its_first_reference_point(clock: VirtualClock) -> None:
    """Progress 0.1, 0.1, then 0.2 one second apart: the rate is measured from where 0.1 was
    first seen (0.1 per 2 s: 16 s left), not from where it was seen again."""
    seen = iter([0.1, 0.1, 0.2])
    policy = PollPolicy(initial=1.0, multiplier=1.0, max_interval=1.0, jitter=0.0, margin=0.0)
    hub = PollHub(None)
    got = await hub.wait(
        "k", Counter(), at_least(4), policy=policy, timeout=None, progress=lambda s: next(seen)
    )
    assert got == 4
    assert clock.sleeps == pytest.approx([1.0, 1.0, 16.0])


async def test_a_successful_poll_ends_the_refusal_streak(clock: VirtualClock) -> None:
    """Refused, answered, refused: the second refusal backs off as the first of a new streak
    (50 ms, not 100 ms); a wait timing out after that says nothing of refusals."""
    policy = PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0)
    hub = PollHub(None)
    fetch = Counter(fail=[refused(), None, refused()])
    got = await hub.wait("k", fetch, at_least(2), policy=policy, timeout=None)
    assert got == 2
    assert clock.sleeps == pytest.approx([0.05, 0.01, 0.05])
    # The stream polls on (the virtual clock does not hold it) until the real 50 ms are up.
    with pytest.raises(WaitTimeoutError) as info:
        await hub.wait("k2", Counter(fail=[refused(), None]), never, policy=policy, timeout=0.05)
    assert str(info.value) == "gave up waiting for the awaited state after 0.05 s"
    assert info.value.__cause__ is None
    assert isinstance(info.value.last_state, int)


async def test_a_wait_context_passes_its_timeout_progress_and_name_on(
    clock: VirtualClock,
) -> None:
    """`WaitContext.wait` hands the hub its timeout, progress and what it waits for."""
    seen = iter([0.1, 0.2])
    policy = PollPolicy(initial=1.0, multiplier=1.0, max_interval=1.0, jitter=0.0, margin=0.0)
    ctx = WaitContext(PollHub(None), "org_a", policy)
    got = await ctx.wait(
        ("job", "job_1"),
        Counter(),
        at_least(3),
        policy=policy,
        timeout=None,
        progress=lambda s: next(seen),
        what="job job_1",
    )
    assert got == 3
    assert clock.sleeps == pytest.approx([1.0, 8.0])  # extrapolated: the progress arrived
    clock.hold = asyncio.Event()
    with pytest.raises(WaitTimeoutError) as info:
        await ctx.wait(
            ("job", "job_2"), Counter(), at_least(9), policy=policy, timeout=0.05, what="job job_2"
        )
    assert str(info.value) == "gave up waiting for job job_2 after 0.05 s"


def test_a_hub_paces_its_polls_at_its_rate() -> None:
    """`PollHub(rate)` hands its rate to the one poll budget all its streams share."""
    assert PollHub(4.0).budget.rate == 4.0
    assert PollHub(None).budget.rate is None
