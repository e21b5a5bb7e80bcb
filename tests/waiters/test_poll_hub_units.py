"""Unit tests of the poll hub on a virtual clock: how a stream spaces its polls (policy, jitter,
progress extrapolation, refusals), the poll budget's slots, and how waiters join, leave and fail.

The hub is internal (`layers_async._polling`): users reach it only through `wait_for_*` and the
flows, where a poll that comes a second early or late, or a slot never given back, is invisible.
These tests drive it directly with fake fetches on an event loop whose clock is virtual: when
nothing is ready to run, the loop jumps to its next timer, so every interval is exact and
nothing depends on the machine's load. Each test runs on its own such loop (closed after it),
and only `_polling.time` / `_polling.random` are patched, through `monkeypatch` (the harness is
in `_virtual.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import attrs
import pytest

from layers_async import (
    APIConnectionError,
    ClientClosedError,
    PollPolicy,
    WaitTimeoutError,
    _polling,
)
from layers_async._polling import PollBudget, PollHub, WaitContext

from ._virtual import (
    STEADY,
    Counter,
    Run,
    at_least,
    never,
    now,
    refused,
    start,
    stopped,
    until,
    virtual_runner,
)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Run:
    """Runs a test's coroutine on a fresh virtual loop (see `_virtual.virtual_runner`)."""
    return virtual_runner(monkeypatch)


def test_polls_follow_first_delay_interval_growth_jitter_and_cap(run: Run) -> None:
    """first_delay, then interval + jitter, the interval multiplied per poll up to its cap; each
    fetch gets the state polled before it; the hub counts every poll."""

    async def main() -> None:
        policy = PollPolicy(
            initial=1.0, multiplier=2.0, max_interval=5.0, jitter=0.5, first_delay=3.0
        )
        hub = PollHub(None)
        fetch = Counter()
        assert await hub.wait("k", fetch, at_least(5), policy=policy, timeout=None) == 5
        assert fetch.times[0] == 3.0
        assert fetch.gaps() == pytest.approx([1.25, 2.25, 4.25, 5.25])
        assert fetch.given == [None, 1, 2, 3, 4]
        assert hub.polls == 5
        assert hub.active_streams == 0
        await hub.aclose()

    run(main)


def test_progress_extrapolates_the_next_poll_within_its_bounds(run: Run) -> None:
    """With progress reported, the next poll comes when the rate seen says it will be done
    (plus the margin), never sooner than `initial` nor later than `max_extrapolated`."""

    async def main() -> None:
        policy = attrs.evolve(STEADY, margin=0.25, max_extrapolated=60.0)
        hub = PollHub(None)
        fetch = Counter()
        got = await hub.wait(
            "k", fetch, at_least(5), policy=policy, timeout=None, progress=lambda s: s / 10
        )
        assert got == 5
        # 0.1 at t, 0.2 at t+1: 0.8 left at 0.1/s = 8 s (+0.25); then 0.1 per 8.25 s: 57.75 s
        # left (+0.25 = 58); then 0.1 per 58 s: far past the 60 s cap.
        assert fetch.gaps() == pytest.approx([1.0, 8.25, 58.0, 60.0])
        await hub.aclose()

    run(main)


def test_progress_that_does_not_move_keeps_the_plain_interval(run: Run) -> None:
    """Progress that stays put never extrapolates, and a step back is not taken as the new
    reference."""

    async def main() -> None:
        seen = iter([0.5, 0.5, 0.4, 0.5, None])
        hub = PollHub(None)
        fetch = Counter()
        got = await hub.wait(
            "k", fetch, at_least(5), policy=STEADY, timeout=None, progress=lambda s: next(seen)
        )
        assert got == 5
        # 0.5 → 0.5: no rate; 0.4: lower, ignored; 0.5 again: not above the 0.5 first seen.
        assert fetch.gaps() == [1.0, 1.0, 1.0, 1.0]
        await hub.aclose()

    run(main)


def test_extrapolation_with_no_time_between_polls_keeps_the_interval(run: Run) -> None:
    """Two polls at the same instant (no time passed) give no rate to extrapolate from."""

    async def main() -> None:
        policy = PollPolicy(initial=0.0, multiplier=1.0, max_interval=0.0, jitter=0.0, margin=0.0)
        hub = PollHub(None)
        fetch = Counter()
        got = await hub.wait(
            "k", fetch, at_least(3), policy=policy, timeout=None, progress=lambda s: s / 10
        )
        assert got == 3
        assert fetch.times == [0.0, 0.0, 0.0]
        await hub.aclose()

    run(main)


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
    """The wait after the n-th refused poll in a row, value by value (`_after_failure`, the
    former `_after_refusal`, now used for every transient failure)."""
    got = _polling._after_failure(refused(retry_after), interval, refusals)
    assert got == pytest.approx(pause)


@pytest.mark.parametrize(
    "failure",
    [refused, lambda: APIConnectionError("connection reset", method="GET", path="/v1/jobs/x")],
    ids=["429", "lost-connection"],
)
def test_refused_polls_back_off_then_the_stream_goes_on(
    run: Run, failure: Callable[[], Exception]
) -> None:
    """Two polls refused with a 429 (or, since the hub retries transient failures, lost to a
    connection error) do not end the wait: the stream backs off (50 ms, 100 ms) and polls
    again; failed polls are not counted as polls."""

    async def main() -> None:
        policy = PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0)
        hub = PollHub(None)
        fetch = Counter(fail=[failure(), failure()])
        assert await hub.wait("k", fetch, at_least(2), policy=policy, timeout=None) == 2
        assert fetch.gaps() == pytest.approx([0.05, 0.1, 0.01])
        assert fetch.given == [None, None, None, 1]
        assert hub.polls == 2
        await hub.aclose()

    run(main)


def test_a_wait_timing_out_behind_refusals_says_so(run: Run) -> None:
    """A waiter whose polls are all refused times out with WaitTimeoutError naming what it
    waited for, its timeout and the failed poll (its cause, now worded "failed"), with no
    state seen; the stream stops with it."""

    async def main() -> None:
        policy = PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0)
        hub = PollHub(None)
        last = refused(2.0)
        fetch = Counter(fail=[last])
        with pytest.raises(WaitTimeoutError) as info:
            # the retry is due at 50 ms: the 40 ms deadline comes first
            await hub.wait("k", fetch, at_least(1), policy=policy, timeout=0.04, what="job x")
        err = info.value
        assert str(err) == f"gave up waiting for job x after 0.04 s (its last poll failed: {last})"
        assert err.__cause__ is last
        assert err.last_state is None
        await asyncio.sleep(0)  # the waiter's leaving runs as its done callback
        await stopped(hub, fetch)  # no retry after the wait gave up

    run(main)


def test_a_wait_timing_out_keeps_the_last_state(run: Run) -> None:
    """A waiter that times out after polls carries the last state, and its message no failure;
    without `what` it names its key (the default changed from "the awaited state")."""

    async def main() -> None:
        hub = PollHub(None)
        with pytest.raises(WaitTimeoutError) as info:
            await hub.wait("k", Counter(), at_least(9), policy=STEADY, timeout=0.05)
        err = info.value
        assert str(err) == "gave up waiting for k after 0.05 s"
        assert err.__cause__ is None
        assert err.last_state == 1
        await hub.aclose()

    run(main)


def test_a_newcomer_already_satisfied_by_the_last_state_does_not_wait(run: Run) -> None:
    """A waiter joining a stream whose last state already satisfies it returns that state at
    once, without another poll; one that is not satisfied joins the same stream."""

    async def main() -> None:
        hub = PollHub(None)
        fetch = Counter()
        first = start(hub.wait("k", fetch, at_least(3), policy=STEADY, timeout=None))
        await until(0.5)  # the first poll (state 1) is in; the next is due at 1 s
        assert await hub.wait("k", fetch, at_least(1), policy=STEADY, timeout=None) == 1
        assert fetch.given == [None]
        assert now() == 0.5
        second = start(hub.wait("k", fetch, at_least(2), policy=STEADY, timeout=None))
        await asyncio.sleep(0)
        assert hub.active_streams == 1
        assert await second == 2
        assert await first == 3
        assert fetch.given == [None, 1, 2]
        assert hub.active_streams == 0
        await hub.aclose()

    run(main)


def test_the_last_waiter_leaving_stops_the_stream(run: Run) -> None:
    """A cancelled waiter that was the stream's only one stops its polls and frees its key;
    while another waiter remains, the stream goes on."""

    async def main() -> None:
        hub = PollHub(None)
        fetch = Counter()
        one = start(hub.wait("k", fetch, at_least(9), policy=STEADY, timeout=None))
        two = start(hub.wait("k", fetch, at_least(9), policy=STEADY, timeout=None))
        await until(0.5)
        one.cancel()
        with pytest.raises(asyncio.CancelledError):
            await one
        assert hub.active_streams == 1  # `two` still waits
        two.cancel()
        with pytest.raises(asyncio.CancelledError):
            await two
        await stopped(hub, fetch)  # no poll after the last waiter left

    run(main)


def test_a_failing_fetch_fails_every_waiter_and_frees_the_key(run: Run) -> None:
    """A poll that fails for good (not a transient failure) ends every waiter of the stream
    with its error."""

    async def main() -> None:
        boom = RuntimeError("gone")
        hub = PollHub(None)
        results = await asyncio.gather(
            hub.wait("k", Counter(fail=[boom]), at_least(1), policy=STEADY, timeout=None),
            hub.wait("k", Counter(), at_least(1), policy=STEADY, timeout=None),
            return_exceptions=True,
        )
        assert list(results) == [boom, boom]
        assert hub.active_streams == 0
        await hub.aclose()

    run(main)


def test_a_check_that_raises_ends_only_its_own_waiter(run: Run) -> None:
    """A waiter whose check raises gets that error; the other waiter on the stream goes on."""

    async def main() -> None:
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
        assert list(results) == [bad, 4]
        assert fetch.given == [None, 1, 2, 3]
        await hub.aclose()

    run(main)


def test_closing_the_hub_fails_its_waiters_with_a_clear_error(run: Run) -> None:
    """`aclose` ends every pending waiter with ClientClosedError and stops every stream."""

    async def main() -> None:
        hub = PollHub(None)
        fetches = [Counter(), Counter()]
        waiters = [
            start(hub.wait(k, f, at_least(9), policy=STEADY, timeout=None))
            for k, f in zip(("a", "b"), fetches, strict=True)
        ]
        await until(0.5)
        assert hub.active_streams == 2
        await hub.aclose()
        for waiter in waiters:
            with pytest.raises(ClientClosedError) as info:
                await waiter
            assert str(info.value) == "the LayersClient was closed while this waiter waited"
        assert hub.active_streams == 0
        await until(5.0)
        assert [f.given for f in fetches] == [[None], [None]]  # no poll after the close

    run(main)


def test_streams_are_shared_only_inside_one_organization(run: Run) -> None:
    """`WaitContext.key` (which replaced `WaitContext.wait`) keys a stream by kind,
    organization and id: the same id in two organizations is polled twice, in one once."""

    async def main() -> None:
        hub = PollHub(None)
        fetches = {org: Counter() for org in ("org_a", "org_b")}
        contexts = [WaitContext(hub, org, STEADY) for org in ("org_a", "org_a", "org_b")]
        assert contexts[0].key("job", "job_1") == ("job", "org_a", "job_1")
        waits = [
            start(
                hub.wait(
                    ctx.key("job", "job_1"),
                    fetches[ctx.organization or ""],
                    at_least(2),
                    policy=ctx.policy,
                    timeout=None,
                )
            )
            for ctx in contexts
        ]
        await until(0.5)
        assert hub.active_streams == 2
        assert await asyncio.gather(*waits) == [2, 2, 2]
        assert [fetches[o].given for o in ("org_a", "org_b")] == [[None, 1], [None, 1]]
        await hub.aclose()

    run(main)


def test_the_poll_budget_hands_out_slots_in_order(run: Run) -> None:
    """At 4 polls a second, polls asked for at once go at 0, 0.25 and 0.5 s, in the order
    asked; without a rate (None or 0) nobody waits."""

    async def main() -> None:
        budget = PollBudget(4.0)
        got: list[tuple[int, float]] = []

        async def poll(i: int) -> None:
            await budget.acquire()
            got.append((i, now()))

        await asyncio.gather(*(poll(i) for i in range(3)))
        assert got == [(0, 0.0), (1, 0.25), (2, 0.5)]
        for rate in (None, 0.0):
            free = PollBudget(rate)
            await free.acquire()
            await free.acquire()
        assert now() == 0.5

    run(main)


def test_a_poll_cancelled_in_the_budget_gives_its_slot_back(run: Run) -> None:
    """A poll cancelled while it waits for its slot gives the slot back: the next poll takes
    it instead of queueing behind it."""

    async def main() -> None:
        budget = PollBudget(4.0)
        await budget.acquire()  # slot at 0
        waiting = asyncio.ensure_future(budget.acquire())  # slot at 0.25
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert now() == 0.0
        await budget.acquire()
        assert now() == 0.25  # not 0.5: the cancelled slot was reused

    run(main)


def test_progress_that_stalls_keeps_its_first_reference_point(run: Run) -> None:
    """Progress 0.1, 0.1, then 0.2 one second apart: the rate is measured from where 0.1 was
    first seen (0.1 per 2 s: 16 s left), not from where it was seen again."""

    async def main() -> None:
        seen = iter([0.1, 0.1, 0.2])
        hub = PollHub(None)
        fetch = Counter()
        got = await hub.wait(
            "k", fetch, at_least(4), policy=STEADY, timeout=None, progress=lambda s: next(seen)
        )
        assert got == 4
        assert fetch.gaps() == pytest.approx([1.0, 1.0, 16.0])
        await hub.aclose()

    run(main)


def test_a_successful_poll_ends_the_refusal_streak(run: Run) -> None:
    """Refused, answered, refused: the second refusal backs off as the first of a new streak
    (50 ms, not 100 ms); a wait timing out after that says nothing of refusals."""

    async def main() -> None:
        policy = PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0)
        hub = PollHub(None)
        fetch = Counter(fail=[refused(), None, refused()])
        assert await hub.wait("k", fetch, at_least(2), policy=policy, timeout=None) == 2
        assert fetch.gaps() == pytest.approx([0.05, 0.01, 0.05])
        # Refused at 0, then answered at 50, 60 and 70 ms: the 75 ms deadline sees state 3.
        other = Counter(fail=[refused(), None])
        with pytest.raises(WaitTimeoutError) as info:
            await hub.wait("k2", other, never, policy=policy, timeout=0.075)
        assert str(info.value) == "gave up waiting for k2 after 0.075 s"
        assert info.value.__cause__ is None
        assert info.value.last_state == 3
        await hub.aclose()

    run(main)


def test_a_wait_context_key_names_the_wait_in_its_timeout(run: Run) -> None:
    """A wait on a `WaitContext.key` (which replaced `WaitContext.wait`) extrapolates from its
    progress and, without `what`, names the key's kind and id in its timeout's message."""

    async def main() -> None:
        seen = iter([0.1, 0.2])
        ctx = WaitContext(PollHub(None), "org_a", STEADY)
        fetch = Counter()
        got = await ctx.hub.wait(
            ctx.key("job", "job_1"),
            fetch,
            at_least(3),
            policy=ctx.policy,
            timeout=None,
            progress=lambda s: next(seen),
        )
        assert got == 3
        assert fetch.gaps() == pytest.approx([1.0, 8.0])  # extrapolated: the progress arrived
        with pytest.raises(WaitTimeoutError) as info:
            await ctx.hub.wait(
                ctx.key("job", "job_2"), Counter(), at_least(9), policy=ctx.policy, timeout=0.05
            )
        assert str(info.value) == "gave up waiting for job job_2 after 0.05 s"
        await ctx.hub.aclose()

    run(main)


def test_a_hub_paces_its_polls_at_its_rate() -> None:
    """`PollHub(rate)` hands its rate to the one poll budget all its streams share."""
    assert PollHub(4.0).budget.rate == 4.0
    assert PollHub(None).budget.rate is None


def test_one_named_dispatcher_task_serves_every_stream(run: Run) -> None:
    """Between polls, ten waits on ten keys hold no task of their own: the hub's one task is
    its dispatcher, named "layers_async poll dispatcher" (as task dumps show it); `aclose`
    ends it."""

    async def main() -> None:
        hub = PollHub(None)
        waits = [
            hub.wait(str(i), Counter(), at_least(2), policy=STEADY, timeout=None) for i in range(10)
        ]
        await until(0.5)
        others = asyncio.all_tasks() - {asyncio.current_task()}
        assert [task.get_name() for task in others] == ["layers_async poll dispatcher"]
        assert await asyncio.gather(*waits) == [2] * 10
        await hub.aclose()
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(main)


def test_polls_in_flight_stay_within_max_in_flight(run: Run) -> None:
    """With `max_in_flight` 3, five streams due at once: three polls start at 0 s; the fourth
    starts when the first ends (1 s), the fifth only when the next two end (3 s)."""

    async def main() -> None:
        hub = PollHub(None)
        hub.max_in_flight = 3
        fetches = [Counter(took=t) for t in (1.0, 3.0, 3.0, 3.0, 1.0)]
        waits = [
            hub.wait(str(i), fetch, at_least(1), policy=STEADY, timeout=None)
            for i, fetch in enumerate(fetches)
        ]
        assert await asyncio.gather(*waits) == [1] * 5
        assert [f.times for f in fetches] == [[0.0], [0.0], [0.0], [1.0], [3.0]]
        await hub.aclose()

    run(main)


def test_a_waiter_joining_during_a_poll_adds_no_poll(run: Run) -> None:
    """A second waiter joining a stream while its poll is in flight (0 to 0.5 s) waits for that
    poll's answer and the stream's next poll (at 1.5 s): it starts no poll of its own."""

    async def main() -> None:
        hub = PollHub(None)
        fetch = Counter(took=0.5)
        first = start(hub.wait("k", fetch, at_least(2), policy=STEADY, timeout=None))
        await until(0.25)
        second = start(hub.wait("k", fetch, at_least(2), policy=STEADY, timeout=None))
        assert list(await asyncio.gather(first, second)) == [2, 2]
        assert fetch.times == [0.0, 1.5]
        await hub.aclose()

    run(main)


def test_the_last_waiter_leaving_cancels_the_poll_in_flight(run: Run) -> None:
    """When the last waiter of a stream leaves during a poll (in flight 0 to 1 s), that poll is
    cancelled at once and its in-flight place freed: with `max_in_flight` 1, another stream
    polls at 0.5 s, when the first waiter left, not when the abandoned poll would have ended."""

    async def main() -> None:
        hub = PollHub(None)
        hub.max_in_flight = 1
        fetch = Counter(took=1.0)
        left: asyncio.Task[None] = start(hub.wait("k", fetch, never, policy=STEADY, timeout=None))
        await until(0.5)
        left.cancel()
        with pytest.raises(asyncio.CancelledError):
            await left
        other = Counter()
        assert await hub.wait("k2", other, at_least(1), policy=STEADY, timeout=None) == 1
        assert other.times == [0.5]
        await until(5.0)
        assert fetch.times == [0.0]
        assert fetch.ended == []
        assert hub.active_streams == 0
        await hub.aclose()

    run(main)
