"""The sandbox's virtual clock and its timestamp helpers (all times are integer milliseconds)."""

from __future__ import annotations

import calendar
import math
import re
import time

__all__ = [
    "CLOCK_MAX_MS",
    "CLOCK_MIN_MS",
    "MAX_SPEED",
    "MAX_STEP_SECONDS",
    "MIN_SPEED",
    "VirtualClock",
    "format_ts",
    "parse_client_ts",
    "parse_config_ts",
    "real_seconds",
]

#: The furthest the virtual clock goes, 9900-01-01T00:00:00Z: whatever the sandbox schedules after
#: now (a simulated duration of at most `MAX_STEP_SECONDS`, twice that with jitter; a day-long
#: idempotency record; the next billing period) still falls before 9999-12-31T23:59:59.999Z, the
#: last instant a four-digit-year timestamp and Python's `datetime` can hold. The clock stops there.
CLOCK_MAX_MS = 250_246_627_200_000
#: The earliest virtual time, the Unix epoch: timestamps and ULIDs count milliseconds from it.
CLOCK_MIN_MS = 0
#: The fastest clock: a real second is then 11.6 virtual days, far beyond the longest simulated
#: work, while `elapsed real seconds x speed x 1000` stays a float exact to the millisecond.
MAX_SPEED = 1_000_000
#: The slowest running clock (0 pauses it): a virtual second per 16.7 real minutes. Slower, the
#: waits the sandbox reports in real seconds (`Retry-After`) outgrow any integer a client reads.
MIN_SPEED = 0.001
#: The most virtual time one step may add: one clock advance, one simulated duration (ten years).
MAX_STEP_SECONDS = 10 * 365 * 86_400

_CLIENT_TS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z\Z", re.ASCII
)
_CONFIG_TS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]00:00)\Z", re.ASCII
)


def format_ts(ms: int) -> str:
    """Format epoch milliseconds as ISO 8601 UTC with millisecond precision and `Z`."""
    sec, milli = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{milli:03d}Z"


def _parse(m: re.Match[str]) -> int | None:
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    # Year 0 does not exist in the calendar the API speaks (ISO 8601 dates start at year 1).
    if not (y >= 1 and 1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 60):
        return None
    try:
        days_in_month = calendar.monthrange(y, mo)[1]
    except ValueError:
        return None
    if d > days_in_month:
        return None
    frac = m.group(7) or ""
    milli = int((frac + "000")[:3]) if frac else 0
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000 + milli


def parse_client_ts(value: object) -> int | None:
    """Parse a client timestamp: UTC with `Z` and 0-6 fractional digits; None when invalid."""
    if not isinstance(value, str):
        return None
    m = _CLIENT_TS.match(value)
    return _parse(m) if m else None


def parse_config_ts(value: str) -> int | None:
    """Parse a configuration timestamp (`Z` or `+00:00`); None when invalid."""
    m = _CONFIG_TS.match(value)
    return _parse(m) if m else None


def real_seconds(virtual_ms: float, speed: float, *, minimum: int) -> int:
    """A virtual wait in whole real seconds at `speed`, rounded up, at least `minimum`.

    A paused clock (speed 0) counts virtual seconds as real ones (contract §1.11).
    """
    v = max(0.0, virtual_ms / 1000.0)
    real = math.ceil(v) if speed <= 0 else math.ceil(v / speed - 1e-9)
    return max(minimum, real)


class VirtualClock:
    """`now = anchor_virtual + (real_now - anchor_real) * speed`; never moves backwards.

    It stops at `CLOCK_MAX_MS`; callers keep `speed` within `MAX_SPEED` and each advance within
    `MAX_STEP_SECONDS` (the sandbox refuses other values with a 422 before they get here).
    """

    __slots__ = ("_anchor_real", "_anchor_virtual", "_last", "speed")

    def __init__(self, start_ms: int, speed: float) -> None:
        self._anchor_virtual = start_ms
        self._anchor_real = time.monotonic()
        self._last = start_ms
        self.speed = float(speed)

    def now(self) -> int:
        """The current virtual time in epoch milliseconds."""
        if self.speed == 0.0:
            return self._last
        t = self._anchor_virtual + int((time.monotonic() - self._anchor_real) * self.speed * 1000)
        if t > self._last:
            self._last = t if t < CLOCK_MAX_MS else CLOCK_MAX_MS
        return self._last

    def _reanchor(self, virtual_ms: int) -> None:
        self._anchor_virtual = virtual_ms
        self._anchor_real = time.monotonic()
        self._last = virtual_ms

    def set_speed(self, speed: float) -> None:
        """Change the speed, re-anchoring at the current virtual time."""
        now = self.now()
        self.speed = float(speed)
        self._reanchor(now)

    def advance(self, seconds: float) -> int:
        """Jump forward by `seconds` of virtual time; returns the new now."""
        target = min(self.now() + round(seconds * 1000), CLOCK_MAX_MS)
        self._reanchor(target)
        return target
