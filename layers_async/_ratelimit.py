"""The client-side rate-limit gate and the retry budget, shared by every task of a client.

The gate keeps one token bucket per endpoint class (contract §1.11), sized from the key's tier and
corrected by the `X-RateLimit-*` headers of every response. A `429` pauses its whole class for
every task until `Retry-After` has passed, instead of each task sleeping (and retrying) on its
own. The budget caps how much extra traffic retries may add during an outage.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping

__all__ = ["TIER_LIMITS", "GatePaused", "RateGate", "RetryBudget", "endpoint_class"]

#: Per tier: read-light, write-light and long-running calls per minute (contract §1.11).
TIER_LIMITS: dict[str, tuple[int, int, int]] = {
    "standard": (120, 60, 20),
    "pilot": (1_200, 600, 60),
    "partner": (6_000, 3_000, 300),
    "sandbox": (120, 60, 20),
}
CLASSES = ("read-light", "write-light", "long-running")
_LONG_RUNNING = re.compile(
    r"^/v1/projects/[^/]+/(influencers|keywords/refresh|"
    r"content/(slideshow-remix|video-remix|slideshow-builder|ugc-remix))$"
)

Sleep = Callable[[float], Awaitable[None]]


def endpoint_class(method: str, path: str) -> str:
    """The rate-limit class of a route: GETs are read-light, job-starting POSTs long-running."""
    if method == "GET":
        return "read-light"
    if method == "POST" and _LONG_RUNNING.match(path):
        return "long-running"
    return "write-light"


class GatePaused(Exception):
    """The class is paused (after a 429) for longer than the call may wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"paused for {seconds:.1f} s more")
        self.seconds = seconds


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


class RateGate:
    """Token buckets per endpoint class; `acquire` waits for a token, `observe` corrects."""

    def __init__(self, loop_time: Callable[[], float], sleep: Sleep) -> None:
        self._time = loop_time
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
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

    def try_acquire(self, klass: str) -> bool:
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
        self, klass: str, deadline: float | None, max_pause: float | None = None
    ) -> float:
        """Wait until the class may send and take a token; returns the seconds waited.

        Every successful `acquire` must be followed by `release` once the attempt ends.
        Raises `TimeoutError` once `deadline` (a monotonic instant) has passed while waiting;
        estimated window ends never fail a call early, since responses keep correcting them.
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
            free = not (bucket.inflight and bucket.serial_until > now)
            if bucket.paused_until <= now and bucket.tokens >= 1 and free:
                bucket.tokens -= 1
                bucket.inflight += 1
                return waited
            if deadline is not None and now >= deadline:
                raise TimeoutError("the rate-limit gate held this call until its deadline")
            pause = bucket.paused_until - now
            if pause > 0 and (
                (max_pause is not None and pause > max_pause)
                or (deadline is not None and bucket.paused_until > deadline)
            ):
                # The server asked for a pause this call cannot sit out: say so at once.
                raise GatePaused(pause)
            until = bucket.paused_until if bucket.paused_until > now else bucket.window_end
            delay = min(max(until - now, 0.001), _POLL)
            if deadline is not None:
                delay = min(delay, max(deadline - now, 0.001))
            await self._sleep(delay)
            waited += delay

    def release(self, klass: str) -> None:
        """The attempt that took a token has ended (answered, failed or cancelled)."""
        bucket = self._buckets.get(klass)
        if bucket is not None and bucket.inflight > 0:
            bucket.inflight -= 1

    def observe(self, klass: str, headers: Mapping[str, str], *, lazily: bool = False) -> None:
        """Correct the estimate from a response's `X-RateLimit-*` headers (after `release`).

        The server's `Remaining` counted every request it had seen; the ones still in flight
        will each use a unit too, so what this client may still send is the difference. With
        `lazily`, a success response is only read once the bucket is half used.
        """
        bucket = self._buckets.get(klass)
        if lazily and bucket is not None and bucket.tokens * 2 >= bucket.limit:
            # Plenty left: the local count is good enough; correct it once it matters.
            return
        remaining = _int(headers.get("X-RateLimit-Remaining"))
        if remaining is None:
            return
        limit = _int(headers.get("X-RateLimit-Limit"))
        if bucket is None:
            if limit is None:
                return
            bucket = self._buckets[klass] = _Bucket(limit)
        elif limit is not None:
            bucket.limit = limit  # the server knows the key's tier better than our guess
        bucket.tokens = float(max(0, remaining - bucket.inflight))
        reset = _int(headers.get("X-RateLimit-Reset"))
        if reset is not None:
            bucket.window_end = self._time() + reset

    def pause(self, klass: str, seconds: float) -> None:
        """Hold the whole class for `seconds` (after a 429): no task sends until then."""
        bucket = self._buckets.get(klass)
        if bucket is None:
            bucket = self._buckets[klass] = _Bucket(1)
        until = self._time() + seconds
        bucket.paused_until = max(bucket.paused_until, until)

    def hold_for_jobs_cap(self, klass: str, seconds: float) -> None:
        """The organization's running-jobs cap binds (a `concurrent_jobs` 429): pause the class
        until a running job is due to end, and for a while after that send its calls one at a
        time, so that filling the cap again costs one 429 instead of one per waiting task.
        (Long-running calls are few per minute on every tier, so sending them one by one
        costs no throughput.)"""
        self.pause(klass, seconds)
        bucket = self._buckets[klass]
        bucket.serial_until = max(bucket.serial_until, self._time() + max(60.0, 10 * seconds))

    def paused_for(self, klass: str) -> float:
        """Seconds the class is still paused (0 when it is not)."""
        bucket = self._buckets.get(klass)
        if bucket is None:
            return 0.0
        return max(0.0, bucket.paused_until - self._time())


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class RetryBudget:
    """Retries may add at most `ratio` of the calls plus `burst`.

    A token bucket: it starts with `burst` tokens, every call adds `ratio`, every retry takes
    one. What it may hold is capped at `burst` plus `ratio` times the calls of the last
    `window` seconds, so a burst of concurrent calls earns its share at once while a long
    healthy stretch cannot bank retries for the next outage. Over any run, retries never exceed
    `burst + ratio * calls`.
    """

    __slots__ = ("_clock", "_slots", "_tokens", "burst", "ratio", "window")

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
        self._slots: deque[list[int]] = deque()  # [second, calls]

    def _recent_calls(self) -> int:
        second = int(self._clock())
        slots = self._slots
        while slots and slots[0][0] <= second - self.window:
            slots.popleft()
        if not slots or slots[-1][0] != second:
            slots.append([second, 0])
        return sum(s[1] for s in slots)

    def on_first_attempt(self) -> None:
        """Count one logical call: it earns `ratio` of a retry."""
        recent = self._recent_calls()
        self._slots[-1][1] += 1
        cap = self.burst + self.ratio * (recent + 1)
        self._tokens = min(cap, self._tokens + self.ratio)

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
