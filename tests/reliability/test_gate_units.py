"""Unit tests of the rate-limit gate and the retry budget on an injected clock (issue 15).

The gate and the budget are internals (`layers_async._ratelimit`): users see them only through
`LayersClient(rate_limit_tier=..., retry=...)`, where an off-by-one in a window or a leaked
token is invisible. These tests drive them directly with a fake clock whose `sleep` advances
it, so every count and every second is exact and nothing depends on the machine's load.
"""

from __future__ import annotations

import pytest

from layers_async._ratelimit import (
    CLASSES,
    TIER_LIMITS,
    EndpointClass,
    GatePaused,
    RateGate,
    RetryBudget,
    header_int,
)
from layers_async.testing import no_waits

pytestmark = pytest.mark.anyio

START = 1_000.0


def about(seconds: float) -> object:
    """A wait of `seconds`, give or take the float error of 50 ms steps and one 1 ms yield."""
    return pytest.approx(seconds, abs=1.5e-3)


class FakeClock:
    """A loop clock that only moves when the gate sleeps (or the test calls `advance`)."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_gate(tier: str | None = "standard", start: float = START) -> tuple[RateGate, FakeClock]:
    clock = FakeClock(start)
    gate = RateGate(clock, clock.sleep)
    if tier is not None:
        gate.set_tier(tier)
    return gate, clock


def inflight(gate: RateGate, klass: EndpointClass) -> int:
    """The class's tokens in flight, through the gate's read-only `in_flight()`."""
    return gate.in_flight().get(klass, 0)


def tokens(gate: RateGate, klass: EndpointClass) -> float:
    return gate._buckets[klass].tokens


# -- the tier table -------------------------------------------------------------------------


def test_tier_table_is_pinned_value_by_value() -> None:
    """The per-minute limits of every tier and class are exactly the contract's."""
    assert TIER_LIMITS == {
        "standard": (120, 60, 20),
        "pilot": (1_200, 600, 60),
        "partner": (6_000, 3_000, 300),
        "sandbox": (120, 60, 20),
    }
    assert CLASSES == ("read-light", "write-light", "long-running")


@pytest.mark.parametrize("tier", ["standard", "pilot", "partner", "sandbox"])
def test_set_tier_sizes_every_class_from_the_table(tier: str) -> None:
    """`set_tier` gives each class its tier's limit and a full bucket."""
    gate, _ = make_gate(None)
    assert not gate.known
    gate.set_tier(tier)
    assert gate.known
    assert gate.tier == tier
    for klass, limit in zip(CLASSES, TIER_LIMITS[tier], strict=True):
        assert gate._buckets[klass].limit == limit
        assert tokens(gate, klass) == limit


def test_unknown_tier_falls_back_to_standard_and_resizing_keeps_the_bucket() -> None:
    """An unknown tier is sized as standard; a later tier changes the limit of the same bucket."""
    gate, _ = make_gate("enterprise-gold")
    assert [gate._buckets[k].limit for k in CLASSES] == [120, 60, 20]
    bucket = gate._buckets["read-light"]
    gate.set_tier("partner")
    assert gate._buckets["read-light"] is bucket
    assert bucket.limit == 6_000


# -- tokens per window ----------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["standard", "pilot", "partner"])
@pytest.mark.parametrize("klass", CLASSES)
async def test_exactly_the_limit_passes_per_window_then_the_next_waits_a_window(
    tier: str, klass: EndpointClass
) -> None:
    """Per tier and class: `limit` calls pass without waiting, call limit+1 waits for the
    window's end (60 s after the first call), then the window refills."""
    gate, clock = make_gate(tier)
    limit = TIER_LIMITS[tier][CLASSES.index(klass)]
    for _ in range(limit):
        assert await gate.acquire(klass, None) == 0.0
        gate.release(klass)
    assert clock.now == START
    assert tokens(gate, klass) == 0
    waited = await gate.acquire(klass, None)
    assert waited == about(60.0)
    assert clock.now == about(START + 60.0)
    assert tokens(gate, klass) == limit - 1
    assert inflight(gate, klass) == 1


async def test_try_acquire_takes_tokens_only_inside_an_open_window() -> None:
    """`try_acquire` refuses before the first window opens and once the tokens run out; it
    never refills a window itself, and passes every call of a class without a bucket."""
    gate, clock = make_gate(None)
    assert gate.try_acquire("read-light")  # no bucket: the gate does not know the class
    gate.set_tier("standard")
    assert not gate.try_acquire("long-running")  # no window yet: `acquire` opens it
    await gate.acquire("long-running", None)
    taken = 1
    while gate.try_acquire("long-running"):
        taken += 1
    assert taken == 20
    assert inflight(gate, "long-running") == 20
    assert tokens(gate, "long-running") == 0
    gate.observe("long-running", {"X-RateLimit-Remaining": "25"})
    assert tokens(gate, "long-running") == 5  # 25 left on the server, 20 of ours in flight
    clock.now = gate._buckets["long-running"].window_end
    assert not gate.try_acquire("long-running")  # the window ended: `acquire` refills it


async def test_try_acquire_refuses_while_paused() -> None:
    """A paused class refuses `try_acquire` even with tokens left, until the pause ends."""
    gate, clock = make_gate()
    await gate.acquire("read-light", None)
    gate.pause("read-light", 2.0)
    assert not gate.try_acquire("read-light")
    clock.advance(2.0)
    assert gate.try_acquire("read-light")


async def test_window_without_headers_refills_to_limit_minus_inflight() -> None:
    """With no `X-RateLimit-*` headers the gate advances its own 60 s window; calls still in
    flight when it refills count against the new window."""
    gate, clock = make_gate()
    await gate.acquire("long-running", None)
    assert gate._buckets["long-running"].window_end == START + 60.0
    for _ in range(19):
        await gate.acquire("long-running", None)
    for _ in range(15):
        gate.release("long-running")
    assert inflight(gate, "long-running") == 5
    assert await gate.acquire("long-running", None) == about(60.0)
    bucket = gate._buckets["long-running"]
    assert bucket.window_end == about(clock.now + 60.0)
    assert bucket.tokens == 20 - 5 - 1
    assert bucket.inflight == 6


async def test_a_window_refills_at_its_exact_end_and_a_pause_ends_at_its_exact_end() -> None:
    """At the very instant a window ends it refills, and at the instant a pause ends the class
    sends again: neither takes a further wait."""
    gate, clock = make_gate()
    for _ in range(20):
        await gate.acquire("long-running", None)
        gate.release("long-running")
    clock.now = gate._buckets["long-running"].window_end
    assert await gate.acquire("long-running", None) == 0.0
    gate.pause("read-light", 3.0)
    clock.now = gate._buckets["read-light"].paused_until
    assert await gate.acquire("read-light", None) == 0.0
    assert clock.sleeps == []


async def test_a_pause_ending_exactly_at_the_deadline_is_waited() -> None:
    """A pause that ends at the call's deadline is sat out (the call may still send then)."""
    gate, _ = make_gate()
    gate.pause("write-light", 2.0)
    assert await gate.acquire("write-light", START + 2.0) == about(2.0)
    assert inflight(gate, "write-light") == 1


async def test_a_gate_whose_clock_starts_at_zero_opens_its_first_window_at_once() -> None:
    """On a loop clock that starts at 0 (a machine booted under a second ago) the first calls
    pass at once, none waits for another in flight, and the window is a full minute from the
    first call: a fresh bucket holds no pause, no one-at-a-time stretch and no window yet."""
    gate, clock = make_gate(start=0.0)
    for _ in range(20):
        assert await gate.acquire("long-running", None) == 0.0
    assert clock.sleeps == []
    assert gate.paused_for("long-running") == 0.0
    for _ in range(20):
        gate.release("long-running")
    assert await gate.acquire("long-running", None) == about(60.0)


async def test_a_pause_that_is_not_whole_poll_steps_ends_at_its_exact_end() -> None:
    """A 0.52 s pause is sat out to its end and no further: the last step is the 20 ms left,
    not another whole poll interval (nor a wait for the window, with tokens to spare)."""
    gate, clock = make_gate()
    await gate.acquire("read-light", None)
    gate.pause("read-light", 0.52)
    assert await gate.acquire("read-light", None) == about(0.52)
    assert clock.now == about(START + 0.52)


async def test_a_pause_of_zero_seconds_adds_no_wake_up_before_the_window_wait() -> None:
    """A 429 with `Retry-After: 0` on a spent window: the pause has already ended, so the gate
    waits for the window in poll-interval steps from the start (no 1 ms spin at the pause's
    end) and takes a token when it refills."""
    gate, clock = make_gate()
    for _ in range(20):
        await gate.acquire("long-running", None)
        gate.release("long-running")
    gate.pause("long-running", 0.0)
    assert await gate.acquire("long-running", None) == about(60.0)
    assert clock.sleeps[0] == 0.05


async def test_no_waits_polls_the_one_at_a_time_stretch_instead_of_skipping_the_window() -> None:
    """In the no-wait testing mode, a long-running start with a token left that waits only for
    another start in flight (the running-jobs stretch) goes once the stretch ends, inside the
    same window: the gate's clock does not jump to the window's end and refill the bucket."""
    gate, _ = make_gate()
    gate.hold_for_jobs_cap("long-running", 1.0)  # paused 1 s, one at a time until START + 60
    assert await gate.acquire("long-running", None) == about(1.0)
    bucket = gate._buckets["long-running"]
    # The answer to that start: 2 left on the server (1 of ours in flight), a minute to go.
    gate.observe("long-running", {"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "60"})
    assert tokens(gate, "long-running") == 1
    assert bucket.window_end == about(START + 61.0)
    with no_waits():
        assert await gate.acquire("long-running", None) == 0.0
    assert tokens(gate, "long-running") == 0
    assert inflight(gate, "long-running") == 2
    assert bucket.window_end == about(START + 61.0)


# -- correction from the headers ------------------------------------------------------------


async def test_remaining_header_corrects_tokens_minus_inflight() -> None:
    """`Remaining` sets the tokens to what the server allows minus the calls still in flight;
    `Limit` replaces the tier's guess; `Reset` moves the window's end."""
    gate, clock = make_gate()
    await gate.acquire("write-light", None)
    await gate.acquire("write-light", None)
    gate.release("write-light")
    headers = {"X-RateLimit-Remaining": "7", "X-RateLimit-Limit": "90", "X-RateLimit-Reset": "12"}
    gate.observe("write-light", headers)
    bucket = gate._buckets["write-light"]
    assert bucket.tokens == 6  # 7 left on the server, one of ours still in flight
    assert bucket.limit == 90
    assert bucket.window_end == clock.now + 12


async def test_remaining_below_inflight_clamps_to_zero_and_reset_is_capped_at_a_minute() -> None:
    """More calls in flight than the server has left means no token, never a negative count;
    a `Reset` over 60 s is read as 60 s."""
    gate, clock = make_gate()
    for _ in range(3):
        await gate.acquire("read-light", None)
    gate.observe("read-light", {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "3600"})
    bucket = gate._buckets["read-light"]
    assert bucket.tokens == 0
    assert bucket.limit == 120
    assert bucket.window_end == clock.now + 60.0


async def test_observe_without_remaining_or_reset_changes_only_what_it_reads() -> None:
    """No `Remaining`: nothing changes. No `Reset`: the window's end stays."""
    gate, _ = make_gate()
    await gate.acquire("read-light", None)
    bucket = gate._buckets["read-light"]
    gate.observe("read-light", {"X-RateLimit-Limit": "5", "X-RateLimit-Reset": "1"})
    assert (bucket.tokens, bucket.limit, bucket.window_end) == (119, 120, START + 60.0)
    gate.observe("read-light", {"X-RateLimit-Remaining": "50"})
    assert (bucket.tokens, bucket.limit, bucket.window_end) == (49, 120, START + 60.0)


async def test_lazy_observe_reads_headers_only_once_half_the_bucket_is_used() -> None:
    """With `lazily`, headers are ignored while at least half the tokens remain, read after."""
    gate, _ = make_gate()
    await gate.acquire("long-running", None)
    gate.release("long-running")
    bucket = gate._buckets["long-running"]
    bucket.tokens = 10.0  # exactly half of 20: still plenty
    gate.observe("long-running", {"X-RateLimit-Remaining": "2"}, lazily=True)
    assert bucket.tokens == 10
    bucket.tokens = 9.0
    gate.observe("long-running", {"X-RateLimit-Remaining": "2"}, lazily=True)
    assert bucket.tokens == 2


def test_observe_creates_a_bucket_only_from_a_limit() -> None:
    """Before the tier is known, a response with `Limit` sizes its class; without, nothing."""
    gate, _ = make_gate(None)
    gate.observe("read-light", {"X-RateLimit-Remaining": "4"})
    assert not gate.known
    gate.observe("read-light", {"X-RateLimit-Remaining": "4"}, lazily=True)
    assert not gate.known
    gate.observe("read-light", {"X-RateLimit-Remaining": "4", "X-RateLimit-Limit": "9"})
    bucket = gate._buckets["read-light"]
    assert (bucket.limit, bucket.tokens) == (9, 4)


# -- pause and hold -------------------------------------------------------------------------


async def test_pause_holds_the_class_until_it_ends_and_waited_counts_it() -> None:
    """After `pause(5)` the next acquire returns after exactly 5 s, reporting 5 s waited, in
    steps no longer than the gate's poll interval; other classes are not held."""
    gate, clock = make_gate()
    await gate.acquire("read-light", None)
    gate.pause("read-light", 5.0)
    assert gate.paused_for("read-light") == 5.0
    assert gate.paused_for("write-light") == 0.0
    assert await gate.acquire("write-light", None) == 0.0
    waited = await gate.acquire("read-light", None)
    assert waited == about(5.0)
    assert clock.now == about(START + 5.0)
    assert max(clock.sleeps) == about(0.05)
    assert gate.paused_for("read-light") == 0.0


def test_a_shorter_pause_never_shortens_a_longer_one() -> None:
    """Pauses only extend: `pause(10)` then `pause(1)` leaves 10 s."""
    gate, _ = make_gate()
    gate.pause("read-light", 10.0)
    gate.pause("read-light", 1.0)
    assert gate.paused_for("read-light") == 10.0


def test_pause_of_an_unsized_class_creates_a_one_call_bucket() -> None:
    """A 429 before the tier is known pauses its class in a bucket of one call."""
    gate, _ = make_gate(None)
    assert gate.paused_for("long-running") == 0.0
    gate.pause("long-running", 3.0)
    assert gate._buckets["long-running"].limit == 1
    assert gate.paused_for("long-running") == 3.0


async def test_pause_longer_than_max_pause_raises_gate_paused_at_once() -> None:
    """A pause over `max_pause` fails at once with the seconds left; equal to it is waited."""
    gate, clock = make_gate()
    gate.pause("read-light", 4.0)
    with pytest.raises(GatePaused) as info:
        await gate.acquire("read-light", None, max_pause=3.999)
    assert info.value.seconds == 4.0
    assert str(info.value) == "paused for 4.0 s more"
    assert clock.now == START
    assert await gate.acquire("read-light", None, max_pause=4.0) == about(4.0)
    gate.pause("write-light", 0.5)  # under a second over the cap still fails at once
    with pytest.raises(GatePaused):
        await gate.acquire("write-light", None, max_pause=0.25)


async def test_pause_past_the_deadline_raises_gate_paused_and_one_to_it_is_waited() -> None:
    """A pause ending after the deadline fails at once; one ending at the deadline is waited."""
    gate, clock = make_gate()
    gate.pause("read-light", 4.0)
    with pytest.raises(GatePaused):
        await gate.acquire("read-light", START + 3.5)
    assert clock.now == START
    assert await gate.acquire("read-light", START + 4.5) == about(4.0)


async def test_deadline_while_waiting_for_a_window_raises_timeout_at_the_deadline() -> None:
    """Out of tokens with a deadline before the window's end: the gate waits up to the deadline
    (not a poll step past it), then raises TimeoutError without taking a token."""
    gate, clock = make_gate()
    for _ in range(20):
        await gate.acquire("long-running", None)
    with pytest.raises(TimeoutError) as info:
        await gate.acquire("long-running", START + 0.125)
    assert str(info.value) == "the rate-limit gate held this call until its deadline"
    assert clock.now == about(START + 0.125)
    assert inflight(gate, "long-running") == 20
    sleeps = len(clock.sleeps)
    with pytest.raises(TimeoutError):
        await gate.acquire("long-running", clock.now)  # already reached: no wait at all
    assert len(clock.sleeps) == sleeps


async def test_hold_for_jobs_cap_sends_one_at_a_time_for_ten_retry_afters() -> None:
    """After a running-jobs 429 (Retry-After 7): a 7 s pause, then for 70 s a long-running call
    waits while another is in flight, and passes once it is released."""
    gate, clock = make_gate()
    gate.hold_for_jobs_cap("long-running", 7.0)
    bucket = gate._buckets["long-running"]
    assert bucket.paused_until == START + 7.0
    assert bucket.serial_until == START + 70.0
    assert await gate.acquire("long-running", None) == about(7.0)
    assert not gate.try_acquire("long-running")  # one in flight: the next one waits
    with pytest.raises(TimeoutError):
        await gate.acquire("long-running", clock.now + 1.0)
    assert max(clock.sleeps[-20:]) == about(0.05)
    gate.release("long-running")
    assert gate.try_acquire("long-running")
    gate.release("long-running")
    clock.now = START + 70.0
    assert await gate.acquire("long-running", None) == 0.0
    assert await gate.acquire("long-running", None) == 0.0  # the serial stretch is over
    assert gate.try_acquire("long-running")
    assert clock.now == START + 70.0


def test_short_jobs_cap_hold_serialises_for_at_least_a_window() -> None:
    """A Retry-After of 2 s still sends long-running calls one at a time for 60 s."""
    gate, _ = make_gate()
    gate.hold_for_jobs_cap("long-running", 2.0)
    assert gate._buckets["long-running"].serial_until == START + 60.0


# -- in-flight accounting -------------------------------------------------------------------


async def test_release_returns_exactly_one_token_slot_and_never_goes_negative() -> None:
    """Each `release` ends one in-flight call; extra releases and unknown classes are no-ops."""
    gate, _ = make_gate()
    await gate.acquire("read-light", None)
    await gate.acquire("read-light", None)
    assert inflight(gate, "read-light") == 2
    gate.release("read-light")
    assert inflight(gate, "read-light") == 1
    gate.release("read-light")
    gate.release("read-light")
    assert inflight(gate, "read-light") == 0
    gate2, _ = make_gate(None)
    gate2.release("read-light")  # no bucket: nothing to release
    assert not gate2.known


async def test_unsized_gate_lets_every_call_through_without_waiting() -> None:
    """Before the tier is known, `acquire` returns at once and takes nothing."""
    gate, clock = make_gate(None)
    assert gate.tier is None
    assert await gate.acquire("long-running", START - 1) == 0.0
    assert clock.sleeps == []
    assert not gate.known


async def test_no_waits_skips_the_wait_on_the_gate_clock_and_shifts_the_deadline() -> None:
    """In the testing mode a wait takes no loop time and reports 0 s waited; the gate's own
    clock jumps over it, and the caller's deadline moves with it."""
    gate, clock = make_gate()
    gate.pause("read-light", 30.0)
    with no_waits():
        assert await gate.acquire("read-light", START + 31.0) == 0.0
        assert clock.now == START  # the loop's clock did not move
        assert clock.sleeps[-1] == 0.0
        assert gate.paused_for("read-light") == 0.0
        gate.pause("read-light", 30.0)
        # 30 s skipped: the gate's clock reads START + 30 and the pause ends at START + 60. A
        # caller's deadline of START + 29 is START + 59 on the gate's clock: before the pause
        # ends (GatePaused at once), not already past (which would be a TimeoutError).
        with pytest.raises(GatePaused):
            await gate.acquire("read-light", START + 29.0)
        assert await gate.acquire("read-light", START + 31.0) == 0.0
        assert clock.now == START


# -- the header numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0),
        ("7", 7),
        ("9999999999", 9_999_999_999),
        ("12345678901", None),
        ("", None),
        (None, None),
        ("-1", None),
        ("+1", None),
        ("1.0", None),
        (" 1", None),
        ("1e3", None),
        ("inf", None),
        ("\u0661", None),  # ARABIC-INDIC DIGIT ONE: a digit, not an ASCII one
    ],
)
def test_header_int_reads_only_short_ascii_digit_strings(
    value: str | None, expected: int | None
) -> None:
    """`header_int` accepts 1 to 10 ASCII digits and nothing else."""
    assert header_int(value) == expected


# -- the retry budget -----------------------------------------------------------------------


def test_budget_starts_with_its_burst_and_each_spend_takes_one() -> None:
    """A fresh budget allows exactly `burst` retries."""
    clock = FakeClock()
    budget = RetryBudget(0.1, 3, clock=clock)
    assert budget.available == 3
    assert [budget.try_spend() for _ in range(4)] == [True, True, True, False]
    assert budget.available == 0


def test_budget_earns_ratio_per_call_up_to_burst_plus_ratio_times_recent_calls() -> None:
    """Four calls at ratio 0.25 earn one retry; the cap is burst plus ratio times the calls of
    the window, so a full budget cannot grow past it."""
    clock = FakeClock()
    budget = RetryBudget(0.25, 2, clock=clock)
    assert budget.try_spend()
    assert budget.try_spend()
    for _ in range(3):
        budget.on_first_attempt()
    assert budget.available == 0.75
    assert not budget.try_spend()
    assert budget.available == 0.75
    budget.on_first_attempt()
    assert budget.available == 1.0
    assert budget.try_spend()
    assert budget.available == 0.0
    full = RetryBudget(0.5, 1, clock=clock)
    full.on_first_attempt()
    assert full.available == pytest.approx(1.5)  # cap 1 + 0.5 * 1
    full.on_first_attempt()
    assert full.available == pytest.approx(2.0)  # cap 1 + 0.5 * 2


def test_budget_forgets_calls_older_than_its_window() -> None:
    """Calls leave the cap `window` seconds later: a healthy stretch cannot bank retries."""
    clock = FakeClock()
    budget = RetryBudget(1.0, 0, window=10.0, clock=clock)
    for _ in range(5):
        budget.on_first_attempt()
    assert budget.available == 5
    assert budget._recent == 5
    assert len(budget._slots) == 1  # one slot per second, not per call
    clock.advance(9.0)
    budget.on_first_attempt()
    assert budget._recent == 6
    assert budget.available == 6
    clock.advance(1.0)  # the first five are now `window` seconds old
    budget.on_first_attempt()
    assert budget._recent == 2
    assert budget.available == 2  # capped at 0 + 1.0 * 2 recent calls
    assert budget.burst == 0
    assert budget.ratio == 1.0
    assert budget.window == 10.0


def test_budget_defaults_to_a_ten_second_window_on_the_monotonic_clock() -> None:
    """Without a clock the budget uses `time.monotonic` and a 10 s window."""
    import time

    budget = RetryBudget(0.2, 5)
    assert budget.window == 10.0
    assert budget._clock is time.monotonic
