"""Frozen configuration values and their `DEFAULT_*` constants.

Change them with `attrs.evolve(DEFAULT_TIMEOUTS, read=120)` or per client with
`LayersClient(timeout=..., limits=...)` / `client.with_options(...)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import attrs

from ._errors import LayersValidationError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_LIMITS",
    "DEFAULT_POLL",
    "DEFAULT_POLL_RATE",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUTS",
    "NO_RETRY",
    "Limits",
    "PollPolicy",
    "RetryPolicy",
    "Timeouts",
]

V = TypeVar("V")  # the type of the field a validator checks

#: The production API; every route is under `/v1`.
DEFAULT_BASE_URL = "https://api.layers.com"


def _number(value: object) -> float | None:
    """`value` as a float when it is a real number (not a bool, not NaN), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf if value > 0 else -math.inf
    return None if math.isnan(number) else number


def _positive_or_none(_: object, attribute: attrs.Attribute[V], value: V) -> None:
    if value is None:
        return
    seconds = _number(value)
    # NaN would make every deadline comparison false; infinity is spelled None here.
    if seconds is None or not 0 < seconds < math.inf:
        raise LayersValidationError(
            f"timeout.{attribute.name}",
            "must be a positive, finite number of seconds or None",
        )


@attrs.frozen
class Timeouts:
    """Timeouts in seconds.

    - `total`: the deadline of one logical call, spanning every attempt, every backoff sleep and
      every wait at the rate-limit gate (default 60 s; None for none). Its expiry raises
      `APITimeoutError` with `deadline_exceeded=True` and is never retried.
    - `attempt`: the longest one attempt may take before it is abandoned and, if the retry
      policy allows, retried (default 20 s).
    - `connect`: establishing a connection, including waiting for a free one in the pool.
    - `read`: the longest gap allowed between two reads of one response. Off by default: the
      API's responses are small JSON documents that `attempt` already bounds, and a read timer
      is re-armed on every chunk received, which costs measurable CPU per call.
    """

    total: float | None = attrs.field(default=60.0, validator=_positive_or_none)
    attempt: float | None = attrs.field(default=20.0, validator=_positive_or_none)
    connect: float | None = attrs.field(default=10.0, validator=_positive_or_none)
    read: float | None = attrs.field(default=None, validator=_positive_or_none)


def _at_least(minimum: float) -> Callable[[object, attrs.Attribute[V], V], None]:
    def check(_: object, attribute: attrs.Attribute[V], value: V) -> None:
        number = _number(value)
        if number is None or number < minimum:
            raise LayersValidationError(attribute.name, f"must be a number >= {minimum}")

    return check


@attrs.frozen
class RetryPolicy:
    """How a failed call is retried (contract §1.10). Every attempt reuses the call's
    Idempotency-Key, so a retried write never creates twice.

    Retried: no response (reset, closed early, attempt timeout), `429`, `500`/`502`/`503`
    `SERVICE_UNAVAILABLE`, unknown `5xx` codes and non-JSON `5xx`. Never: `KILL_SWITCH`,
    `PLATFORM_ERROR`, any other `4xx`, the call's own deadline, cancellation.

    - `max_attempts`: attempts per call, the first included (1 disables retries).
    - `initial_backoff`, `max_backoff`: exponential backoff with full jitter: the n-th retry
      waits a random time in [0, min(max_backoff, initial_backoff * 2**(n-1))].
    - `max_retry_after`: a `Retry-After` longer than this fails the call at once (the error's
      `retry_after` says how long the server asked for); shorter ones are waited at least.
    - `budget_ratio`, `budget_burst`: across the whole client, retries may add at most
      `budget_ratio` of the calls made plus `budget_burst`; beyond that the original error is
      raised with `budget_exhausted=True`, so an outage is not multiplied by retries.
    """

    max_attempts: int = attrs.field(default=4, validator=_at_least(1))
    initial_backoff: float = attrs.field(default=0.5, validator=_at_least(0))
    max_backoff: float = attrs.field(default=8.0, validator=_at_least(0))
    max_retry_after: float = attrs.field(default=60.0, validator=_at_least(0))
    budget_ratio: float = attrs.field(default=0.2, validator=_at_least(0))
    budget_burst: int = attrs.field(default=10, validator=_at_least(0))


def _positive_int(_: object, attribute: attrs.Attribute[V], value: V) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise LayersValidationError(attribute.name, "must be a non-negative integer")


@attrs.frozen
class Limits:
    """The connection pool of one client (shared by every view of it).

    - `max_connections`: open connections at most (0 = unlimited); default 100.
    - `max_connections_per_host`: per host (0 = unlimited).
    - `keepalive_expiry`: seconds an idle connection is kept.
    - `max_response_bytes`: the largest response body the client reads, counted after
      decompression (default 16 MiB, far above any Layers response). A 2xx answer with a larger
      body raises `ResponseTooLargeError`; reading stops at the limit, so memory stays bounded.
    """

    max_connections: int = attrs.field(default=100, validator=_positive_int)
    max_connections_per_host: int = attrs.field(default=0, validator=_positive_int)
    keepalive_expiry: float = attrs.field(default=15.0, validator=_at_least(0))
    max_response_bytes: int = attrs.field(
        default=16 * 1024 * 1024, validator=[_positive_int, _at_least(1)]
    )


@attrs.frozen
class PollPolicy:
    """How a waiter's poll stream is spaced (contract §1.12).

    The first poll is sent `first_delay` seconds after the first waiter arrives (at once by
    default). Blind polling then waits `initial` seconds before the second poll and multiplies
    that interval by `multiplier` after each poll, up to `max_interval`, adding 0 to `jitter`
    seconds of random delay. When a job reports `progress`, the next poll is placed at the
    completion time extrapolated from the last two observations (plus `margin`), between
    `initial` and `max_extrapolated` seconds, so that a long job costs few polls and its end is
    still seen promptly.
    """

    initial: float = attrs.field(default=2.0, validator=_at_least(0))
    multiplier: float = attrs.field(default=1.3, validator=_at_least(1))
    max_interval: float = attrs.field(default=10.0, validator=_at_least(0))
    jitter: float = attrs.field(default=0.5, validator=_at_least(0))
    max_extrapolated: float = attrs.field(default=60.0, validator=_at_least(0))
    margin: float = attrs.field(default=0.25, validator=_at_least(0))
    #: Delay before the first poll (0: poll at once, which suits things that may be done).
    first_delay: float = attrs.field(default=0.0, validator=_at_least(0))

    def scaled(self, factor: float) -> PollPolicy:
        """Every duration multiplied by `factor`: `DEFAULT_POLL.scaled(1 / 60)` suits a sandbox
        whose clock runs 60 times faster than real time."""
        number = _number(factor)
        if number is None or not 0 < number < math.inf:
            raise LayersValidationError("factor", "must be a finite number > 0")
        return attrs.evolve(
            self,
            initial=self.initial * factor,
            max_interval=self.max_interval * factor,
            jitter=self.jitter * factor,
            max_extrapolated=self.max_extrapolated * factor,
            margin=self.margin * factor,
            first_delay=self.first_delay * factor,
        )


DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_POLL = PollPolicy()
#: Polls per second that all the waiters of one client may send together, by default.
DEFAULT_POLL_RATE = 20.0
DEFAULT_RETRY = RetryPolicy()
#: A policy that never retries (one attempt per call).
NO_RETRY = RetryPolicy(max_attempts=1)
DEFAULT_LIMITS = Limits()
