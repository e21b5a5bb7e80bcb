"""The client-side rate-limit gate and the retry budget, shared by every task of a client.

The gate keeps one token bucket per endpoint class (contract §1.11), sized from the key's tier and
corrected by the `X-RateLimit-*` headers of every response. A `429` pauses its whole class for
every task until `Retry-After` has passed, instead of each task sleeping (and retrying) on its
own. The budget caps how much extra traffic retries may add during an outage.

`RateLimitGate` is what the transport needs of a gate; `RateGate` (one process) is the default,
and `LayersClient(gate=...)` takes a `GateFactory` that makes another kind per key, such as the
Redis gate of `layers_async.distributed`, which every process on a key shares.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Final, Literal, Protocol, get_args

from . import _waiting

__all__ = [
    "CLASSES",
    "TIER_LIMITS",
    "EndpointClass",
    "GateFactory",
    "GatePaused",
    "RateGate",
    "RateLimitGate",
    "RetryBudget",
    "header_int",
]

#: The rate-limit class of a route, fixed per route and declared by the resource method that
#: calls it: every GET is read-light; PATCH, DELETE and the small synchronous POSTs are
#: write-light; the POSTs that start a job are long-running (contract §1.11, §2).
EndpointClass = Literal["read-light", "write-light", "long-running"]
CLASSES: Final[tuple[EndpointClass, ...]] = get_args(EndpointClass)
#: Per tier: read-light, write-light and long-running calls per minute (contract §1.11).
TIER_LIMITS: dict[str, tuple[int, int, int]] = {
    "standard": (120, 60, 20),
    "pilot": (1_200, 600, 60),
    "partner": (6_000, 3_000, 300),
    "sandbox": (120, 60, 20),
}

Sleep = Callable[[float], Awaitable[None]]


class GatePaused(Exception):
    """The class is paused (after a 429) for longer than the call may wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"paused for {seconds:.1f} s more")
        self.seconds = seconds


class RateLimitGate(Protocol):
    """What the transport needs of a rate-limit gate (one per API key, shared by every task and
    view that sends with that key): `RateGate` keeps the budget in this process; a shared gate
    (`layers_async.distributed.RedisRateGate`) keeps it where every process on the key sees it.

    Per attempt the transport calls `try_acquire` (or, when it answers False, awaits
    `acquire`), sends, calls `release`, then `observe` with the answer's headers and, on a 429,
    `pause` or `hold_for_jobs_cap`. Those four are plain calls so that the local gate costs no
    await; a gate whose bookkeeping needs a round trip queues it, sets `unsynced`, and the
    transport awaits `sync()` before the call returns, raises or retries.
    """

    #: True while the gate holds bookkeeping that `sync()` must still write (never for the
    #: local gate, so the transport's check costs one attribute read).
    unsynced: bool

    @property
    def known(self) -> bool:
        """True once the gate knows its limits (from the tier or a response's headers)."""

    def set_tier(self, tier: str) -> None:
        """Size every class from a tier name (unknown tiers count as `standard`)."""

    def try_acquire(self, klass: EndpointClass) -> bool:
        """Take a token at once when that needs no waiting and no round trip; else False (the
        transport then awaits `acquire`)."""

    async def acquire(
        self, klass: EndpointClass, deadline: float | None, max_pause: float | None = None
    ) -> float:
        """Wait until the class may send and take a token; returns the seconds waited.

        Raises `TimeoutError` once `deadline` (a `time.monotonic()` instant) has passed, and
        `GatePaused` when a pause outlasts `max_pause` or the deadline."""

    def release(self, klass: EndpointClass) -> None:
        """The attempt that took a token has ended (answered, failed or cancelled)."""

    def observe(
        self, klass: EndpointClass, headers: Mapping[str, str], *, lazily: bool = False
    ) -> None:
        """Correct the budget from a response's `X-RateLimit-*` headers."""

    def pause(self, klass: EndpointClass, seconds: float) -> None:
        """Hold the whole class for `seconds` (after a 429)."""

    def hold_for_jobs_cap(self, klass: EndpointClass, seconds: float) -> None:
        """After a `concurrent_jobs` 429: pause the class, then send its calls one at a time."""

    async def sync(self) -> None:
        """Write what `release`, `observe` and `pause` queued (nothing for the local gate).
        It never raises for a store that is down: the attempt has been answered already, so
        the caller gets that answer, and the next `acquire` reports the store."""


class GateFactory(Protocol):
    """Makes the rate-limit gate of one API key: ``LayersClient(gate=factory)`` calls it once
    per key the client sends with (its own, and each ``with_options(api_key=...)`` key).

    `key_id` identifies the key without revealing it (a hash of the secret): a gate that
    stores its budget outside the process names it by this id, never by the key.
    """

    def __call__(self, key_id: str) -> RateLimitGate:
        """The gate of the key `key_id`."""


class _Bucket:
    __slots__ = ("inflight", "limit", "paused_until", "serial_until", "tokens", "window_end")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tokens = float(limit)  # calls this class may still send in the current window
        self.window_end = 0.0  # loop time at which the server's window ends and refills
        self.paused_until = 0.0  # after a 429: nobody sends before this
        self.inflight = 0  # sent, not answered yet: each will use a unit on the server
        self.serial_until = 0.0  # the running-jobs cap binds: one start at a time until then


#: Window length assumed until a response reports one (the API's windows are a minute).
_DEFAULT_WINDOW = 60.0
#: Longest single sleep while waiting at the gate, so that a response that moves the window
#: (or a pause that ends) is noticed promptly by every waiting task.
_POLL = 0.05
#: Shortest sleep at the gate: a wait computed as zero or less still yields to other tasks.
_MIN_SLEEP = 0.001
#: After a running-jobs 429, long-running starts go one at a time for at least one rate window,
#: or for this many times the server's Retry-After when that is longer.
_SERIAL_FOR = 60.0
_SERIAL_RETRY_AFTERS = 10


class RateGate:
    """Token buckets per endpoint class; `acquire` waits for a token, `observe` corrects.

    In the no-wait testing mode the gate works exactly as it does in production, except that a
    wait takes no real time: the gate's own clock jumps over it (`_sit_out`), so a pause ends
    and a window refills at once, in the order they would have in real time.
    """

    #: The local gate writes nothing anywhere: `sync()` never has work.
    unsynced: bool = False

    def __init__(self, loop_time: Callable[[], float], sleep: Sleep) -> None:
        self._clock = loop_time
        #: The gate's clock: `loop_time`, plus whatever waiting the testing mode skipped.
        self._time = loop_time
        self._skipped = 0.0
        self._sleep = sleep
        self._buckets: dict[EndpointClass, _Bucket] = {}
        self.tier: str | None = None

    @property
    def known(self) -> bool:
        """True once the tier (or a response's limits) sized the buckets."""
        return bool(self._buckets)

    def set_tier(self, tier: str) -> None:
        """Size every bucket from a tier name (unknown tiers fall back to `standard`)."""
        self.tier = tier
        limits = TIER_LIMITS.get(tier, TIER_LIMITS["standard"])
        for klass, limit in zip(CLASSES, limits, strict=True):
            bucket = self._buckets.get(klass)
            if bucket is None:
                self._buckets[klass] = _Bucket(limit)
            else:
                bucket.limit = limit

    def try_acquire(self, klass: EndpointClass) -> bool:
        """Take a token without waiting when one is free (the common case); else False."""
        bucket = self._buckets.get(klass)
        if bucket is None:
            return True
        if bucket.tokens >= 1:
            now = self._time()
            if bucket.inflight and bucket.serial_until > now:
                return False
            if bucket.paused_until <= now < bucket.window_end:
                bucket.tokens -= 1
                bucket.inflight += 1
                return True
        return False

    async def acquire(
        self, klass: EndpointClass, deadline: float | None, max_pause: float | None = None
    ) -> float:
        """Wait until the class may send and take a token; returns the seconds waited.

        Every successful `acquire` must be followed by `release` once the attempt ends.
        Raises `TimeoutError` once `deadline` (a monotonic instant) has passed while waiting,
        and `GatePaused` at once when the class is paused for longer than `max_pause` or past
        the deadline; estimated window ends never fail a call early, since responses keep
        correcting them.
        """
        bucket = self._buckets.get(klass)
        if bucket is None:
            return 0.0
        waited = 0.0
        while True:
            now = self._time()
            if now >= bucket.window_end:
                bucket.tokens = float(bucket.limit - bucket.inflight)
                bucket.window_end = now + _DEFAULT_WINDOW
            serial = bucket.inflight and bucket.serial_until > now
            if bucket.paused_until <= now and bucket.tokens >= 1 and not serial:
                bucket.tokens -= 1
                bucket.inflight += 1
                return waited
            # The deadline is on the caller's clock, which the gate's runs ahead of by what the
            # testing mode skipped (nothing in production).
            end = None if deadline is None else deadline + self._skipped
            if end is not None and now >= end:
                raise TimeoutError("the rate-limit gate held this call until its deadline")
            pause = bucket.paused_until - now
            if pause > 0 and (
                (max_pause is not None and pause > max_pause)
                or (end is not None and bucket.paused_until > end)
            ):
                # The server asked for a pause this call cannot sit out: say so at once.
                raise GatePaused(pause)
            if pause > 0:
                until = bucket.paused_until
            elif bucket.tokens < 1:
                until = bucket.window_end
            else:  # a long-running start is in flight while they go one at a time: look again
                until = min(bucket.window_end, now + _POLL)
            wait = max(until - now, _MIN_SLEEP)
            if end is not None:
                wait = min(wait, max(end - now, _MIN_SLEEP))
            waited += await self._sit_out(wait)

    async def _sit_out(self, wait: float) -> float:
        """Wait at the gate for up to `wait` seconds; returns the real seconds waited.

        In real time it sleeps at most `_POLL`, so that every waiting task promptly notices a
        response that moves the window. In the no-wait testing mode it takes no real time: the
        gate's clock jumps over the whole wait, and other tasks get a turn.
        """
        if _waiting.testing:
            if self._time is self._clock:
                self._time = self._skipping_time
            self._skipped += wait
            await self._sleep(0.0)
            return 0.0
        delay = min(wait, _POLL)
        await self._sleep(delay)
        return delay

    def _skipping_time(self) -> float:
        return self._clock() + self._skipped

    def release(self, klass: EndpointClass) -> None:
        """The attempt that took a token has ended (answered, failed or cancelled)."""
        bucket = self._buckets.get(klass)
        if bucket is not None and bucket.inflight > 0:
            bucket.inflight -= 1

    def observe(
        self, klass: EndpointClass, headers: Mapping[str, str], *, lazily: bool = False
    ) -> None:
        """Correct the estimate from a response's `X-RateLimit-*` headers (after `release`).

        The server's `Remaining` counted every request it had seen; the ones still in flight
        will each use a unit too, so what this client may still send is the difference. With
        `lazily`, a success response is only read once the bucket is half used.
        """
        bucket = self._buckets.get(klass)
        if lazily and bucket is not None and bucket.tokens * 2 >= bucket.limit:
            # Plenty left: the local count is good enough; correct it once it matters.
            return
        remaining = header_int(headers.get("X-RateLimit-Remaining"))
        if remaining is None:
            return
        limit = header_int(headers.get("X-RateLimit-Limit"))
        if bucket is None:
            if limit is None:
                return
            bucket = self._buckets[klass] = _Bucket(limit)
        elif limit is not None:
            bucket.limit = limit  # the server knows the key's tier better than our guess
        bucket.tokens = float(max(0, remaining - bucket.inflight))
        reset = header_int(headers.get("X-RateLimit-Reset"))
        if reset is not None:
            # A window is a minute long (contract §1.11): a longer reset is not believed.
            bucket.window_end = self._time() + min(reset, _DEFAULT_WINDOW)

    def pause(self, klass: EndpointClass, seconds: float) -> None:
        """Hold the whole class for `seconds` (after a 429): no task sends until then."""
        bucket = self._buckets.get(klass)
        if bucket is None:
            bucket = self._buckets[klass] = _Bucket(1)
        until = self._time() + seconds
        bucket.paused_until = max(bucket.paused_until, until)

    def hold_for_jobs_cap(self, klass: EndpointClass, seconds: float) -> None:
        """The organization's running-jobs cap binds (a `concurrent_jobs` 429): pause the class
        until a running job is due to end, and for a while after that send its calls one at a
        time, so that filling the cap again costs one 429 instead of one per waiting task.
        (Long-running calls are few per minute on every tier, so sending them one by one
        costs no throughput.)"""
        self.pause(klass, seconds)
        bucket = self._buckets[klass]
        serial_for = max(_SERIAL_FOR, _SERIAL_RETRY_AFTERS * seconds)
        bucket.serial_until = max(bucket.serial_until, self._time() + serial_for)

    def in_flight(self) -> dict[EndpointClass, int]:
        """Tokens taken and not yet released, per endpoint class (classes holding none are left
        out): read-only, for tests and diagnostics; empty whenever no attempt is under way."""
        return {k: b.inflight for k, b in self._buckets.items() if b.inflight}

    def paused_for(self, klass: EndpointClass) -> float:
        """Seconds the class is still paused (0 when it is not)."""
        bucket = self._buckets.get(klass)
        if bucket is None:
            return 0.0
        return max(0.0, bucket.paused_until - self._time())

    async def sync(self) -> None:
        """Nothing to write: the local gate's bookkeeping is done in place."""


#: Most digits a header's number may have (more than a century of seconds): a longer one is
#: unreadable, not a huge wait.
_MAX_DIGITS = 10


def header_int(value: str | None) -> int | None:
    """A header's non-negative integer (ASCII digits only: no sign, point, exponent, `inf`,
    spaces or other scripts' digits); None when absent or anything else."""
    if value is None or not 0 < len(value) <= _MAX_DIGITS:
        return None
    return int(value) if value.isascii() and value.isdigit() else None


class RetryBudget:
    """Retries may add at most `ratio` of the calls plus `burst`.

    A token bucket: it starts with `burst` tokens, every call adds `ratio`, every retry takes
    one. What it may hold is capped at `burst` plus `ratio` times the calls of the last
    `window` seconds, so a burst of concurrent calls earns its share at once while a long
    healthy stretch cannot bank retries for the next outage. Over any run, retries never exceed
    `burst + ratio * calls`.
    """

    __slots__ = (
        "_clock",
        "_recent",
        "_second",
        "_slots",
        "_tokens",
        "burst",
        "ratio",
        "window",
    )

    def __init__(
        self,
        ratio: float,
        burst: int,
        *,
        window: float = 10.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.ratio = ratio
        self.burst = burst
        self.window = window
        self._clock = clock or time.monotonic
        self._tokens = float(burst)
        self._slots: deque[list[int]] = deque()  # [second, calls] of the last `window` seconds
        self._recent = 0  # the calls those slots hold, kept as a running total
        self._second = -math.inf  # the second of the newest slot

    def _roll(self, second: int) -> None:
        """A new second began: forget the slots that left the window, open this second's."""
        slots = self._slots
        while slots and slots[0][0] <= second - self.window:
            self._recent -= slots.popleft()[1]
        slots.append([second, 0])
        self._second = second

    def on_first_attempt(self) -> None:
        """Count one logical call: it earns `ratio` of a retry (the slots only move once a
        second; within it a call is two additions and a comparison)."""
        second = int(self._clock())
        if second != self._second:
            self._roll(second)
        self._slots[-1][1] += 1
        self._recent += 1
        cap = self.burst + self.ratio * self._recent
        tokens = self._tokens + self.ratio
        self._tokens = tokens if tokens < cap else cap

    def try_spend(self) -> bool:
        """Take one retry from the budget; False when it is empty."""
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    @property
    def available(self) -> float:
        """Retries the budget allows right now."""
        return self._tokens
