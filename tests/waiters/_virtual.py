"""The virtual-clock harness of the poll hub's unit tests (`test_poll_hub_units.py`,
`test_poll_hub_events.py`): an event loop whose clock jumps to its next timer when nothing is
ready, fake fetches that record when they were called, and a few checks and failures.

Only `_polling.time` / `_polling.random` are patched (through `monkeypatch`): the hub's own
clock reads become the loop's, and its jitter draws the middle of its range.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from layers_async import PollPolicy, RateLimitError, _polling
from layers_async._polling import PollHub

T = TypeVar("T")
START = 1_000.0
STEADY = PollPolicy(initial=1.0, multiplier=1.0, max_interval=1.0, jitter=0.0, margin=0.0)


class VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop whose `time()` only moves when nothing is ready: it then jumps to the
    next live timer (a loop with nothing ready and no timer is a deadlock, raised at once)."""

    def __init__(self) -> None:
        super().__init__()
        self.now = START

    def time(self) -> float:
        return self.now

    def _run_once(self) -> None:
        if not self._ready:  # type: ignore[attr-defined]
            whens = [h.when() for h in self._scheduled if not h.cancelled()]  # type: ignore[attr-defined]
            if not whens:
                raise RuntimeError("deadlock: nothing ready and no timer")
            self.now = max(self.now, min(whens))
        super()._run_once()  # type: ignore[misc]


def virtual_runner(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[Callable[[], Coroutine[Any, Any, T]]], T]:
    """What the `run` fixture of each test module returns: a function running a test's
    coroutine on a fresh virtual loop, `_polling`'s clock being that loop's and its jitter
    drawing the middle of its range."""

    def runner(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
        loop = VirtualLoop()
        monkeypatch.setattr(_polling, "time", types.SimpleNamespace(monotonic=loop.time))
        monkeypatch.setattr(
            _polling, "random", types.SimpleNamespace(uniform=lambda a, b: (a + b) / 2)
        )
        try:
            return loop.run_until_complete(main())
        finally:  # what asyncio.run does (asyncio.Runner is 3.11+): nothing outlives the test
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    return runner


def now() -> float:
    """Virtual seconds since the test's loop started."""
    return asyncio.get_running_loop().time() - START


async def until(t: float) -> None:
    """Let the loop run until `t` virtual seconds after its start."""
    await asyncio.sleep(t - now())


def start(aw: Awaitable[T]) -> asyncio.Task[T]:
    """Await `aw` in a task of its own, as a caller of `wait_for_*` does."""

    async def wrapped() -> T:
        return await aw

    return asyncio.ensure_future(wrapped())


async def stopped(hub: PollHub, fetch: Counter) -> None:
    """The hub has no stream left, and `fetch` is called no more after its first poll."""
    assert hub.active_streams == 0
    await until(now() + 5.0)
    assert fetch.given == [None]
    await hub.aclose()


class Counter:
    """A fetch returning 1, 2, 3, ...; it records the last state each call was given and the
    virtual time of each call."""

    def __init__(self, fail: list[BaseException | None] | None = None, took: float = 0.0) -> None:
        """`fail`: what the first fetches raise, in order (None: that fetch answers); `took`:
        the virtual seconds each fetch takes (a poll in flight that long). `times`: when each
        fetch began; `ended`: when each one that was not cancelled ended."""
        self.given: list[int | None] = []
        self.times: list[float] = []
        self.ended: list[float] = []
        self.fail = list(fail or [])
        self.took = took
        self.value = 0

    async def __call__(self, last: int | None) -> int:
        self.given.append(last)
        self.times.append(now())
        if self.took:
            await asyncio.sleep(self.took)
        self.ended.append(now())
        if self.fail:
            error = self.fail.pop(0)
            if error is not None:
                raise error
        self.value += 1
        return self.value

    def gaps(self) -> list[float]:
        """The time between each poll and the one before it."""
        return [b - a for a, b in zip(self.times, self.times[1:], strict=False)]


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


Run = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]
