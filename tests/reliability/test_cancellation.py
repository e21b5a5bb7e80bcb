"""Cancellation (issue 4, item 5): a cancelled call ends at once with `CancelledError` — never
retried, swallowed or turned into `APITimeoutError` — leaves no task behind, warns about
nothing, and the client's pool and rate-limit gate go on serving the next calls.

Half the calls are mid-request (a 2 s `latency` fault), half mid-backoff (`http_503` with
`Retry-After: 2` on every request). The server's own per-connection tasks live in the same event
loop, so the "no task left" checks look only at tasks that are not aiohttp.web's.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Any

import anyio
import pytest

from layers_async import APITimeoutError, AttemptEvent, LayersClient, RetryPolicy, Sandbox

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]

CREDITS = "GET /v1/credits"
WHOAMI = "GET /v1/whoami"
#: A partner-tier key: 100 calls stay far below every per-minute bucket of the paused clock.
PARTNER_KEY: dict[str, Any] = {
    "name": "bench",
    "organization": "partner",
    "rateLimitTier": "partner",
    "scopes": ["*", "org:admin"],
    "returnUrlAllowlist": ["localhost", "127.0.0.1"],
}
FAULTS: list[dict[str, Any]] = [
    {"route": CREDITS, "action": "latency", "latencyMs": 2000},  # mid-request
    {"route": WHOAMI, "action": "http_503", "retryAfter": 2},  # mid-backoff
]
#: Plenty of attempts and budget, so only cancellation can stop a call early.
POLICY = RetryPolicy(max_attempts=4, budget_burst=200)
CANCEL_AFTER = 0.3


class Attempts:
    """Counts hook events per path."""

    def __init__(self) -> None:
        self.requests: list[AttemptEvent] = []
        self.retries: list[AttemptEvent] = []
        #: Called (without arguments) after each retry is recorded.
        self.on_retry: Callable[[], None] | None = None

    def retried(self, event: AttemptEvent) -> None:
        self.retries.append(event)
        if self.on_retry is not None:
            self.on_retry()

    def count(self, events: list[AttemptEvent], path: str) -> int:
        return sum(e.path == path for e in events)


def _client(sb: Sandbox, seen: Attempts, **kwargs: Any) -> LayersClient:
    kwargs.setdefault("rate_limit_tier", False)
    return LayersClient(
        api_key=sb.keys["bench"],
        base_url=sb.url,
        retry=POLICY,
        on_request=seen.requests.append,
        on_retry=seen.retried,
        **kwargs,
    )


def _ours(tasks: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """The tasks that are not aiohttp.web's server-side connection handlers."""
    return {
        t
        for t in tasks
        if not getattr(t.get_coro(), "__qualname__", "").startswith("RequestHandler.")
    }


@contextmanager
def loop_errors() -> Iterator[list[dict[str, Any]]]:
    """Collect what the event loop reports (e.g. "Task exception was never retrieved")."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    found: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: found.append(context))
    try:
        yield found
    finally:
        gc.collect()  # finalizers of abandoned tasks report now, inside the handler
        loop.set_exception_handler(previous)


def _calls(c: LayersClient) -> list[Callable[[], Coroutine[Any, Any, object]]]:
    """50 calls that will be mid-request and 50 that will be mid-backoff."""
    return [c.credits.get, c.whoami] * 50


async def _serves_a_normal_call(sb: Sandbox, c: LayersClient) -> None:
    await sb.configure(faults=[])
    wallet = await c.credits.get(timeout=5)
    me = await c.whoami(timeout=5)
    for meta in (wallet.meta, me.meta):
        assert meta is not None
        assert meta.status_code == 200
        assert meta.attempts == 1


@pytest.mark.anyio
async def test_cancelling_100_in_flight_tasks_leaves_nothing_behind(
    make_sandbox: MakeSandbox,
) -> None:
    """task.cancel() on 100 calls mid-request/mid-backoff: all cancelled, none retried, no leak."""
    seen = Attempts()
    async with make_sandbox(faults=FAULTS, api_keys=[PARTNER_KEY]) as sb, _client(sb, seen) as c:
        with loop_errors() as errors:
            before = asyncio.all_tasks()
            tasks = [asyncio.create_task(call()) for call in _calls(c)]
            await asyncio.sleep(CANCEL_AFTER)
            assert not any(t.done() for t in tasks)
            assert seen.count(seen.retries, "/v1/whoami") == 50  # all asleep in backoff
            for t in tasks:
                t.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(type(r) is asyncio.CancelledError for r in results)
            assert all(t.cancelled() for t in tasks)
            await asyncio.sleep(0.05)
            assert _ours(asyncio.all_tasks() - before) == set()
            # Nothing was retried after the cancel: one attempt each reached the server.
            assert len(seen.requests) == 100
            state = await sb.state()
            assert state["requests"]["byRoute"][CREDITS] == 50
            assert state["requests"]["byRoute"][WHOAMI] == 50
            await _serves_a_normal_call(sb, c)
        assert errors == []


@pytest.mark.anyio
async def test_anyio_cancel_scope_cancels_100_in_flight_calls_cleanly(
    make_sandbox: MakeSandbox,
) -> None:
    """anyio.move_on_after over a task group: every call sees CancelledError, none a timeout."""
    seen = Attempts()
    outcomes: list[type[BaseException] | None] = []

    async def run(call: Callable[[], Awaitable[object]]) -> None:
        try:
            await call()
        except BaseException as exc:
            outcomes.append(type(exc))
            raise
        outcomes.append(None)

    async with make_sandbox(faults=FAULTS, api_keys=[PARTNER_KEY]) as sb, _client(sb, seen) as c:
        with loop_errors() as errors:
            before = asyncio.all_tasks()
            with anyio.move_on_after(CANCEL_AFTER) as scope:
                async with anyio.create_task_group() as tg:
                    for call in _calls(c):
                        tg.start_soon(run, call)
            assert scope.cancelled_caught
            assert len(outcomes) == 100
            assert all(o is anyio.get_cancelled_exc_class() for o in outcomes)
            assert not any(o is not None and issubclass(o, APITimeoutError) for o in outcomes)
            await asyncio.sleep(0.05)
            assert _ours(asyncio.all_tasks() - before) == set()
            assert len(seen.requests) == 100
            await _serves_a_normal_call(sb, c)
        assert errors == []


@pytest.mark.anyio
async def test_call_cancelled_at_the_gate_releases_nothing_it_does_not_hold(
    make_sandbox: MakeSandbox,
) -> None:
    """Calls cancelled while held by a 429 pause leave the gate's in-flight count intact."""
    seen = Attempts()
    retry_planned = asyncio.Event()
    seen.on_retry = retry_planned.set
    faults = [
        {"route": WHOAMI, "action": "latency", "latencyMs": 1500, "times": 1},
        {"route": CREDITS, "action": "http_429", "retryAfter": 1, "times": 1},
    ]
    async with (
        make_sandbox(faults=faults, api_keys=[PARTNER_KEY]) as sb,
        _client(sb, seen, rate_limit_tier="partner") as c,
    ):
        gate = c._pool.shared.gate  # the one private peek: its count of tokens in flight
        holder = asyncio.create_task(c.whoami())  # holds a read-light token for 1.5 s
        paused = asyncio.create_task(c.credits.get())  # its 429 pauses read-light for 1 s
        await asyncio.wait_for(retry_planned.wait(), timeout=2)
        assert gate.paused_for("read-light") > 0.5
        assert gate.in_flight() == {"read-light": 1}  # the holder's token
        waiting = [asyncio.create_task(c.credits.get()) for _ in range(20)]
        await asyncio.sleep(0.2)
        assert not any(t.done() for t in waiting)
        assert len(seen.requests) == 2  # the waiters never got past the gate
        for t in waiting:
            t.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        assert all(t.cancelled() for t in waiting)
        assert gate.in_flight() == {"read-light": 1}  # still only the holder's token
        wallet = await paused
        me = await holder
        assert wallet.meta is not None
        assert wallet.meta.attempts == 2
        assert me.meta is not None
        assert me.meta.attempts == 1
        assert gate.in_flight() == {}
        wallets = await asyncio.wait_for(
            asyncio.gather(*(c.credits.get() for _ in range(20))), timeout=2
        )
        assert len(wallets) == 20
        assert gate.in_flight() == {}


@pytest.mark.anyio
async def test_cancelling_calls_waiting_for_the_tier_leaves_no_task(
    make_sandbox: MakeSandbox,
) -> None:
    """With rate_limit_tier=True, cancelling every call still learning the tier leaves no task."""
    seen = Attempts()
    faults = [{"route": WHOAMI, "action": "latency", "latencyMs": 1500, "times": 1}]
    async with (
        make_sandbox(faults=faults, api_keys=[PARTNER_KEY]) as sb,
        _client(sb, seen, rate_limit_tier=True) as c,
    ):
        before = asyncio.all_tasks()
        tasks = [asyncio.create_task(c.credits.get()) for _ in range(10)]
        await asyncio.sleep(CANCEL_AFTER)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert all(t.cancelled() for t in tasks)
        await asyncio.sleep(0.05)
        assert _ours(asyncio.all_tasks() - before) == set()
