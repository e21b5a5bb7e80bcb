"""`PollHub`: one poller per client for everything its waiters wait on.

Waiters register *what* they wait for (a key such as `("job", job_id)`) and a predicate; the
hub runs one poll stream per key, however many waiters share it, and stops the stream as soon as
no waiter needs it. Every poll of every stream takes a slot from one poll budget (requests per
second per client), handed out in arrival order so that no stream starves another. Polls go
through the client's transport, so retries, `Retry-After` and the rate-limit gate apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from ._config import PollPolicy
from ._errors import WaitTimeoutError
from ._waiting import sleep

__all__ = ["Outcome", "PollBudget", "PollHub"]

log = logging.getLogger("layers_async")
S = TypeVar("S")
#: What a waiter's predicate returns: None (keep waiting), or ("ok", value) / ("error", exc).
Outcome = tuple[str, Any] | None


class PollBudget:
    """At most `rate` polls per second for the whole client, in first-come order."""

    __slots__ = ("_next", "rate")

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._next = 0.0

    async def acquire(self) -> None:
        """Wait for this poll's slot."""
        if not self.rate:
            return
        now = time.monotonic()
        step = 1.0 / self.rate
        slot = max(now, self._next)
        self._next = slot + step
        if slot > now:
            try:
                await sleep(slot - now)
            except asyncio.CancelledError:
                # Give the slot back, so streams that leave do not push later polls back.
                self._next = max(time.monotonic(), self._next - step)
                raise


class _Waiter:
    __slots__ = ("check", "future")

    def __init__(self, check: Callable[[Any], Outcome], future: asyncio.Future[Any]) -> None:
        self.check = check
        self.future = future


class _Stream(Generic[S]):
    """The polls of one thing, shared by every waiter on it."""

    def __init__(
        self,
        hub: PollHub,
        key: Hashable,
        fetch: Callable[[S | None], Awaitable[S]],
        policy: PollPolicy,
        progress: Callable[[S], float | None] | None,
    ) -> None:
        self.hub = hub
        self.key = key
        self.fetch = fetch
        self.policy = policy
        self.progress = progress
        self.waiters: list[_Waiter] = []
        self.last: S | None = None
        self.polls = 0
        self.task: asyncio.Task[None] | None = None

    def deliver(self, state: S) -> None:
        for waiter in list(self.waiters):
            if waiter.future.done():
                self.waiters.remove(waiter)
                continue
            try:
                outcome = waiter.check(state)
            except Exception as exc:  # a predicate bug must not kill the stream for others
                outcome = ("error", exc)
            if outcome is None:
                continue
            self.waiters.remove(waiter)
            kind, value = outcome
            if kind == "ok":
                waiter.future.set_result(value)
            else:
                waiter.future.set_exception(value)

    def fail(self, exc: BaseException) -> None:
        for waiter in self.waiters:
            if not waiter.future.done():
                waiter.future.set_exception(exc)
        self.waiters.clear()

    async def run(self) -> None:
        policy = self.policy
        interval = policy.initial
        seen: tuple[float, float] | None = None  # (client time, progress) of the last change
        try:
            if policy.first_delay > 0:
                await sleep(policy.first_delay)
            while self.waiters:
                await self.hub.budget.acquire()
                if not self.waiters:
                    return
                state = await self.fetch(self.last)
                self.polls += 1
                self.hub.polls += 1
                self.last = state
                self.deliver(state)
                if not self.waiters:
                    return
                delay = interval + random.uniform(0.0, policy.jitter)
                interval = min(policy.max_interval, interval * policy.multiplier)
                progress = self.progress(state) if self.progress is not None else None
                if progress is not None:
                    now = time.monotonic()
                    if seen is not None and progress > seen[1] and now > seen[0]:
                        rate = (progress - seen[1]) / (now - seen[0])
                        eta = (1.0 - progress) / rate
                        delay = min(
                            policy.max_extrapolated, max(policy.initial, eta + policy.margin)
                        )
                    if seen is None or progress > seen[1]:
                        seen = (now, progress)
                await sleep(delay)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the fetch failed for good (after the transport's retries)
            self.fail(exc)
        finally:
            if self.hub._streams.get(self.key) is self:
                del self.hub._streams[self.key]


class PollHub:
    """One per client: coalesces waiters by key, runs their polls within one budget."""

    def __init__(self, rate: float | None) -> None:
        self.budget = PollBudget(rate)
        self._streams: dict[Hashable, _Stream[Any]] = {}
        #: Polls sent by every stream so far.
        self.polls = 0

    @property
    def active_streams(self) -> int:
        """Streams currently polling."""
        return len(self._streams)

    async def wait(
        self,
        key: Hashable,
        fetch: Callable[[S | None], Awaitable[S]],
        check: Callable[[S], Outcome],
        *,
        policy: PollPolicy,
        timeout: float | None,
        progress: Callable[[S], float | None] | None = None,
        what: str = "the awaited state",
    ) -> Any:
        """Wait until `check` accepts a polled state; raises its error, or WaitTimeoutError."""
        stream = self._streams.get(key)
        if stream is None:
            stream = _Stream(self, key, fetch, policy, progress)
            self._streams[key] = stream
        elif stream.last is not None:
            # A newcomer may already be satisfied by what the stream saw last.
            outcome = check(stream.last)
            if outcome is not None:
                kind, value = outcome
                if kind == "ok":
                    return value
                raise value
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(check, future)
        stream.waiters.append(waiter)
        if stream.task is None or stream.task.done():
            stream.task = asyncio.create_task(stream.run(), name=f"layers_async poll {key!r}")
        try:
            if timeout is None:
                return await future
            done, _ = await asyncio.wait({future}, timeout=timeout)
            if future in done:
                return future.result()
            raise WaitTimeoutError(
                f"gave up waiting for {what} after {timeout} s", subject=stream.last
            )
        finally:
            self._leave(stream, waiter)

    def _leave(self, stream: _Stream[Any], waiter: _Waiter) -> None:
        """A waiter is done (answered, timed out or cancelled): stop the stream if it was last."""
        if waiter in stream.waiters:
            stream.waiters.remove(waiter)
        future = waiter.future
        if not future.done():
            future.cancel()
        elif not future.cancelled():
            future.exception()  # mark it retrieved: the waiter may have left before reading it
        if not stream.waiters and stream.task is not None and not stream.task.done():
            stream.task.cancel()
            if self._streams.get(stream.key) is stream:
                del self._streams[stream.key]

    async def aclose(self) -> None:
        """Stop every stream; their waiters fail with a clear error instead of hanging."""
        streams = list(self._streams.values())
        for stream in streams:
            stream.fail(RuntimeError("the LayersClient was closed while this waiter was waiting"))
        tasks = [s.task for s in streams if s.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._streams.clear()
