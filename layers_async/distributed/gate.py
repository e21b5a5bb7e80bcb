"""One rate-limit budget per API key across every process: the rate-limit gate in Redis.

``LayersClient(gate=RedisGates(redis_url))`` gives each key the client sends with a
`RedisRateGate` instead of the in-process `RateGate`. Every process (worker, CLI, web app) on
that key then draws from one budget per endpoint class, kept in Redis by atomic Lua scripts
(`_lua.py`) against the Redis server's clock: the tier's per-minute limits, corrections from
the `X-RateLimit-*` headers, one pause after any 429 that every process waits out, and the
running-jobs hold (contract §1.11).

When Redis cannot be reached, a call raises `GateUnavailableError` without being sent, unless
the gates were made with ``fallback="local"``: then the process goes on with its own local gate
for a while and tries Redis again, logging a warning. It never goes on without any gate.

The retry budget (`RetryPolicy.budget_ratio` / `budget_burst`) stays per process, on purpose:
it bounds the retries a process adds to the calls it makes, and that bound adds up: N processes
together retry at most `budget_ratio` of all their calls plus N bursts, while a shared budget
would cost a Redis round trip on every call for one burst instead of N. A 429 does not need it
to be shared: the shared pause already holds every process.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from .._errors import GateUnavailableError
from .._ratelimit import (
    CLASSES,
    TIER_LIMITS,
    EndpointClass,
    GatePaused,
    RateGate,
    RateLimitGate,
    header_int,
)
from . import _lua

__all__ = ["RedisGates", "RedisRateGate"]

log = logging.getLogger("layers_async.distributed")

Fallback: TypeAlias = Literal["local"] | None
Sleep = Callable[[float], Awaitable[None]]
Arg: TypeAlias = str | int

#: The API's rate windows are a minute long (contract §1.11).
_WINDOW_MS = 60_000
#: Calls taken this close to a window's end may count in the API's next window.
_TAIL_MS = 2_000
#: How far a response's reset may differ from the window the gate believes in before it means
#: another window: `X-RateLimit-Reset` is in whole seconds, plus the time the answer travelled.
_TOLERANCE_MS = 2_000
#: How often a call waiting for the next window asks Redis again as the window's end nears
#: (another process's answer may have moved it earlier).
_POLL = 0.25
#: After a running-jobs 429, starts go one at a time for a window, or ten Retry-Afters.
_SERIAL_FOR = 60.0
_SERIAL_RETRY_AFTERS = 10
#: With ``fallback="local"``: how long the process stays on its local gate before trying Redis.
_LOCAL_FOR = 5.0

#: What the current task's last `acquire` took, for its `release`: ("local", None), or
#: ("redis", the running-jobs lease token it holds, or None).
_TICKET: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "layers_async_gate_ticket", default=None
)


class RedisGates:
    """A factory of Redis rate-limit gates, one per API key: ``LayersClient(gate=gates)``.

    `redis` is a URL (``redis://host:6379/0``; the gates then own the connection pool, closed
    by `aclose()` or ``async with``) or a `redis.asyncio.Redis` you own. `prefix` starts every
    Redis key the gates write (default ``layers:gate``); a key id (a hash of the API key, never
    the key) and the endpoint class follow. ``fallback="local"`` lets a process go on with its
    own local gate while Redis is unreachable (see the module's docstring).

    `clock` (seconds) replaces the Redis server's clock and `sleep` the gate's waits, for
    tests only: every process sharing a budget must use the same clock.
    """

    def __init__(
        self,
        redis: str | aioredis.Redis,
        *,
        prefix: str = "layers:gate",
        fallback: Fallback = None,
        lease_seconds: float = 30.0,
        clock: Callable[[], float] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if fallback not in (None, "local"):
            raise ValueError('fallback must be None or "local"')
        if isinstance(redis, str):
            self.redis = aioredis.Redis.from_url(
                redis, socket_connect_timeout=2.0, socket_timeout=5.0
            )
            self._owns = True
        else:
            self.redis = redis
            self._owns = False
        self.prefix = prefix
        self.fallback: Fallback = fallback
        #: A start that holds the running-jobs lease and never releases it (its process died)
        #: blocks the one-at-a-time starts of its key for at most this long.
        self.lease_ms = int(lease_seconds * 1000)
        self.clock = clock
        self.sleep = sleep
        self._acquire = self.redis.register_script(_lua.ACQUIRE)
        self._observe = self.redis.register_script(_lua.OBSERVE)
        self._pause = self.redis.register_script(_lua.PAUSE)
        self._release = self.redis.register_script(_lua.RELEASE)

    def __call__(self, key_id: str) -> RedisRateGate:
        """The gate of the API key `key_id` (its budget is shared with every process)."""
        return RedisRateGate(self, key_id)

    def __repr__(self) -> str:
        return f"<RedisGates prefix={self.prefix!r} fallback={self.fallback!r}>"

    def now(self) -> str:
        """The `now` argument of every script: the injected clock in ms, or '' (Redis TIME)."""
        return "" if self.clock is None else str(int(self.clock() * 1000))

    async def run(self, script: AsyncScript, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        """Run one script (EVALSHA, loading it again after NOSCRIPT); Redis errors become
        `GateUnavailableError`."""
        try:
            result = await script(keys=keys, args=[self.now(), *args])
        except (RedisError, OSError) as exc:
            raise _unavailable(exc) from None
        return result

    async def aclose(self) -> None:
        """Close the connection pool if the gates made it from a URL."""
        if self._owns:
            await self.redis.aclose()

    async def __aenter__(self) -> RedisGates:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


_Op: TypeAlias = tuple[AsyncScript, list[str], list[Arg]]


class RedisRateGate(RateLimitGate):
    """The rate-limit gate of one API key, kept in Redis and shared by every process on the
    key (made by `RedisGates`). It implements `layers_async.RateLimitGate`.

    Each call takes its token with one script run (`acquire`); what the answer teaches
    (`observe`), a 429's pause and the end of a running-jobs lease are queued and written by
    `sync()`, which the client awaits before the call returns, raises or retries.
    """

    unsynced: bool

    def __init__(self, gates: RedisGates, key_id: str) -> None:
        self._gates = gates
        self.key_id = key_id
        # Sized from the smallest tier at once, so that no process sends the tier lookup: a call
        # outside the shared budget would cost the key a unit nobody counted. The first answer
        # of each class reports the key's real limit (`X-RateLimit-Limit`), which every process
        # then uses; `LayersClient(rate_limit_tier=...)` sizes it from the start.
        self._limits: dict[EndpointClass, int] = dict(
            zip(CLASSES, TIER_LIMITS["standard"], strict=True)
        )
        #: The classes whose limit an answer has reported: until then, every answer is read.
        self._confirmed: set[EndpointClass] = set()
        self._left: dict[EndpointClass, int] = {}
        self._queue: list[_Op] = []
        self.unsynced = False
        self._local = RateGate(time.monotonic, gates.sleep) if gates.fallback else None
        self._local_until = 0.0
        base = f"{gates.prefix}:{{{key_id}}}"
        self._keys = {k: [f"{base}:{k}:{part}" for part in _PARTS] for k in CLASSES}

    def __repr__(self) -> str:
        return f"<RedisRateGate key_id={self.key_id[:8]}… limits={self._limits}>"

    # ------------------------------------------------------------------ sizing
    @property
    def known(self) -> bool:
        """Always True: the gate starts from the smallest tier and follows the answers."""
        return True

    def set_tier(self, tier: str) -> None:
        """Size every class from a tier name (unknown tiers count as `standard`)."""
        limits = TIER_LIMITS.get(tier, TIER_LIMITS["standard"])
        self._limits.update(zip(CLASSES, limits, strict=True))
        if self._local is not None:
            self._local.set_tier(tier)

    # ------------------------------------------------------------------ taking a token
    def try_acquire(self, klass: EndpointClass) -> bool:
        """Only the local fallback takes a token without a round trip; else False."""
        if self._on_local() and self._local is not None and self._local.try_acquire(klass):
            _TICKET.set(("local", None))
            return True
        return False

    async def acquire(
        self, klass: EndpointClass, deadline: float | None, max_pause: float | None = None
    ) -> float:
        """Wait until the key's shared budget lets the class send, and take a token; returns
        the seconds waited. Raises `TimeoutError` at the deadline, `GatePaused` when a pause
        outlasts `max_pause` or the deadline, `GateUnavailableError` without Redis (unless
        the fallback is local)."""
        waited = 0.0
        while True:
            if self._on_local():
                return waited + await self._acquire_locally(klass, deadline, max_pause)
            token = uuid.uuid4().hex
            limit = self._limits[klass]
            args: list[Arg] = [limit, _WINDOW_MS, _TAIL_MS, token, self._gates.lease_ms]
            try:
                granted, wait_ms, why, left = await self._gates.run(
                    self._gates._acquire, self._keys[klass], args
                )
            except GateUnavailableError as exc:
                self._unreachable(exc)
                continue
            if granted:
                self._left[klass] = int(left)
                _TICKET.set(("redis", token if why == 1 else None))
                return waited
            why = why.decode() if isinstance(why, bytes) else why
            wait = int(wait_ms) / 1000
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise TimeoutError("the shared rate-limit gate held this call until its deadline")
            if why == "pause" and (
                (max_pause is not None and wait > max_pause)
                or (deadline is not None and now + wait > deadline)
            ):
                raise GatePaused(wait)
            if why != "pause":
                # Another process's answer may end the window earlier: look again halfway
                # (then every _POLL near its end), not just at the end.
                wait = min(wait, max(_POLL, wait / 2))
            if deadline is not None:
                wait = min(wait, max(deadline - now, 0.001))
            await self._gates.sleep(wait)
            waited += wait

    def release(self, klass: EndpointClass) -> None:
        """The attempt has ended: give a local token back, or queue freeing the lease."""
        ticket = _TICKET.get()
        if ticket is None:
            return
        _TICKET.set(None)
        where, lease = ticket
        if where == "local" and self._local is not None:
            self._local.release(klass)
        elif lease is not None:
            self._enqueue(self._gates._release, [self._keys[klass][3]], [lease])

    # ------------------------------------------------------------------ what answers teach
    def observe(
        self, klass: EndpointClass, headers: Mapping[str, str], *, lazily: bool = False
    ) -> None:
        """Queue a correction of the shared budget from a response's `X-RateLimit-*` headers
        (with `lazily`, only once the class has used half its window)."""
        if self._local is not None:
            self._local.observe(klass, headers, lazily=lazily)
        limit = header_int(headers.get("X-RateLimit-Limit"))
        if lazily and klass in self._confirmed:
            left = self._left.get(klass)
            if left is not None and left * 2 >= self._limits[klass]:
                return
        if limit is not None:
            self._limits[klass] = limit
            self._confirmed.add(klass)
        remaining = header_int(headers.get("X-RateLimit-Remaining"))
        if remaining is None:
            return
        reset = header_int(headers.get("X-RateLimit-Reset"))
        args: list[Arg] = [
            "" if limit is None else limit,
            remaining,
            "" if reset is None else reset * 1000,
            _WINDOW_MS,
            _TOLERANCE_MS,
        ]
        self._enqueue(self._gates._observe, [self._keys[klass][0]], args)

    def pause(self, klass: EndpointClass, seconds: float) -> None:
        """Queue a pause of the class for every process on the key (after a 429)."""
        if self._local is not None:
            self._local.pause(klass, seconds)
        self._queue_pause(klass, seconds, 0.0)

    def hold_for_jobs_cap(self, klass: EndpointClass, seconds: float) -> None:
        """Queue the running-jobs hold: pause the class for every process, then let starts go
        one at a time across all of them for a while."""
        if self._local is not None:
            self._local.hold_for_jobs_cap(klass, seconds)
        self._queue_pause(klass, seconds, max(_SERIAL_FOR, _SERIAL_RETRY_AFTERS * seconds))

    def _queue_pause(self, klass: EndpointClass, seconds: float, serial: float) -> None:
        keys = self._keys[klass]
        args: list[Arg] = [max(1, int(seconds * 1000)), int(serial * 1000)]
        self._enqueue(self._gates._pause, [keys[1], keys[2]], args)

    async def paused_for(self, klass: EndpointClass) -> float:
        """Seconds the class is still paused for every process on the key (0 when it is not)."""
        try:
            raw = await self._gates.redis.get(self._keys[klass][1])
            if raw is None:
                return 0.0
            if self._gates.clock is not None:
                now_ms = int(self._gates.clock() * 1000)
            else:
                seconds, micros = await self._gates.redis.time()
                now_ms = int(seconds) * 1000 + int(micros) // 1000
        except (RedisError, OSError) as exc:
            raise _unavailable(exc) from None
        return max(0.0, (int(raw) - now_ms) / 1000)

    # ------------------------------------------------------------------ writing it
    def _enqueue(self, script: AsyncScript, keys: list[str], args: list[Arg]) -> None:
        if self._on_local():
            return  # the local gate has it; Redis is not asked again before _LOCAL_FOR ends
        self._queue.append((script, keys, args))
        self.unsynced = True

    async def sync(self) -> None:
        """Write everything queued, in order. It never raises: the attempt it follows has been
        answered, and its answer must reach the caller. Without Redis what is queued is dropped
        with a warning, and the next `acquire` raises `GateUnavailableError` (or, with the local
        fallback, uses the local gate, which already has it)."""
        ops, self._queue = self._queue, []
        self.unsynced = False
        for script, keys, args in ops:
            try:
                await self._gates.run(script, keys, args)
            except GateUnavailableError as exc:
                if self._local is None:
                    log.warning("%s; the rate-limit bookkeeping of one answer is lost", exc)
                else:
                    self._unreachable(exc)
                return

    # ------------------------------------------------------------------ without Redis
    def _on_local(self) -> bool:
        return self._local_until > 0.0 and time.monotonic() < self._local_until

    def _unreachable(self, exc: GateUnavailableError) -> None:
        """Redis failed: raise, or (``fallback="local"``) use the local gate for a while."""
        if self._local is None:
            raise exc
        log.warning("%s; using this process's own gate for %.0f s", exc, _LOCAL_FOR)
        self._queue.clear()
        self.unsynced = False
        self._local_until = time.monotonic() + _LOCAL_FOR

    async def _acquire_locally(
        self, klass: EndpointClass, deadline: float | None, max_pause: float | None
    ) -> float:
        assert self._local is not None
        waited = await self._local.acquire(klass, deadline, max_pause)
        _TICKET.set(("local", None))
        return waited


def _unavailable(exc: BaseException) -> GateUnavailableError:
    return GateUnavailableError(
        f"the shared rate-limit gate cannot reach Redis: {type(exc).__name__}: {exc}"
    )


#: The Redis keys of one (key id, class), in the order the scripts take them.
_PARTS = ("bucket", "pause", "serial", "lease")
