"""`LayersClient(gate=RedisGates(...))` against the sandbox over real HTTP and a real Redis:
calls count in the shared bucket, a 429 pauses every process, and without Redis no call is
sent (a typed error) unless the local fallback was chosen."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager

import pytest
import redis

from layers_async import (
    NO_RETRY,
    AttemptEvent,
    GateUnavailableError,
    LayersClient,
    LayersValidationError,
    RateLimitError,
    RateLimitGate,
    Sandbox,
)
from layers_async._ratelimit import EndpointClass, RateGate
from layers_async.distributed import RedisGates
from layers_async.distributed import _redis_server as servers

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gates(redis_url: str) -> AsyncIterator[RedisGates]:
    """Redis gates on the test's Redis (its real clock)."""
    async with RedisGates(redis_url) as made:
        yield made


def bucket(redis_url: str, api_key: str, klass: str) -> dict[bytes, bytes]:
    """The shared bucket of `api_key`'s class in Redis (named by a hash of the key)."""
    key_id = hashlib.sha256(api_key.encode()).hexdigest()[:32]
    with redis.Redis.from_url(redis_url) as conn:
        return conn.hgetall(f"layers:gate:{{{key_id}}}:{klass}:bucket")  # type: ignore[return-value]


async def test_calls_count_in_the_shared_bucket_of_their_key(
    sandbox: Sandbox, gates: RedisGates, redis_url: str
) -> None:
    """Three GETs through a Redis-gated client use three read-light units in Redis."""
    async with LayersClient(api_key=sandbox.api_key, base_url=sandbox.url, gate=gates) as client:
        for _ in range(3):
            await client.credits.get()
    assert bucket(redis_url, sandbox.api_key, "read-light")[b"used"] == b"3"


async def test_a_429_in_one_client_pauses_another_process(
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]], redis_url: str
) -> None:
    """A 429 (Retry-After 30) seen by one client pauses the class for a gate elsewhere."""
    fault = {"route": "GET /v1/credits", "action": "http_429", "retryAfter": 30, "times": 1}
    async with (
        make_sandbox(faults=[fault]) as sb,
        RedisGates(redis_url) as mine,
        RedisGates(redis_url) as theirs,
        LayersClient(api_key=sb.api_key, base_url=sb.url, gate=mine, retry=NO_RETRY) as client,
    ):
        with pytest.raises(RateLimitError):
            await client.credits.get()
        other = theirs(hashlib.sha256(sb.api_key.encode()).hexdigest()[:32])
        assert await other.paused_for("read-light") > 10.0
        assert await other.paused_for("write-light") == 0.0


async def test_without_redis_no_call_is_sent_and_the_error_is_typed(sandbox: Sandbox) -> None:
    """Redis unreachable: the call raises GateUnavailableError before any attempt."""
    attempts: list[AttemptEvent] = []
    dead = f"redis://127.0.0.1:{servers._free_port()}/0"
    async with (
        RedisGates(dead) as gates,
        LayersClient(
            api_key=sandbox.api_key,
            base_url=sandbox.url,
            gate=gates,
            rate_limit_tier="standard",
            on_request=attempts.append,
        ) as client,
    ):
        with pytest.raises(GateUnavailableError, match="cannot reach Redis"):
            await client.credits.get()
    assert attempts == []


async def test_with_the_local_fallback_calls_go_on_without_redis(sandbox: Sandbox) -> None:
    """fallback="local" chosen: Redis unreachable, calls still go, through the local gate."""
    dead = f"redis://127.0.0.1:{servers._free_port()}/0"
    async with (
        RedisGates(dead, fallback="local") as gates,
        LayersClient(api_key=sandbox.api_key, base_url=sandbox.url, gate=gates) as client,
    ):
        for _ in range(3):
            await client.credits.get()


def test_gate_must_be_a_factory_with_the_gate_on(redis_url: str) -> None:
    """`gate=` takes a factory, and contradicts `rate_limit_tier=False` (no gate at all)."""
    with pytest.raises(LayersValidationError, match="gate"):
        LayersClient(api_key="k", gate="redis://x")  # type: ignore[arg-type]
    with pytest.raises(LayersValidationError, match="gate"):
        LayersClient(api_key="k", gate=RedisGates(redis_url), rate_limit_tier=False)


class SyncCountingGate(RateGate):
    """The local gate, except that every answer it learns from is left for `sync()`."""

    def __init__(self) -> None:
        super().__init__(time.monotonic, asyncio.sleep)
        self.syncs = 0

    def observe(
        self, klass: EndpointClass, headers: Mapping[str, str], *, lazily: bool = False
    ) -> None:
        super().observe(klass, headers, lazily=lazily)
        self.unsynced = True

    def pause(self, klass: EndpointClass, seconds: float) -> None:
        super().pause(klass, seconds)
        self.unsynced = True

    async def sync(self) -> None:
        self.syncs += 1
        self.unsynced = False


async def test_the_client_syncs_a_gate_after_every_answer_it_learned_from(
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
) -> None:
    """Any `gate=` factory works: its gate gets `sync()` after a success and after a 429,
    before the call returns or raises; the factory sees a key id, never the key."""
    gate = SyncCountingGate()
    key_ids: list[str] = []

    def factory(key_id: str) -> RateLimitGate:
        key_ids.append(key_id)
        return gate

    fault = {"route": "GET /v1/credits", "action": "http_429", "retryAfter": 1, "times": 1}
    async with (
        make_sandbox(faults=[fault]) as sb,
        sb.client(gate=factory, retry=NO_RETRY, rate_limit_tier="standard") as client,
    ):
        with pytest.raises(RateLimitError):
            await client.credits.get()
        assert (gate.syncs, gate.unsynced) == (1, False)
        assert gate.paused_for("read-light") > 0
        await client.projects.list()  # waits the 1 s pause out at the gate
        assert (gate.syncs, gate.unsynced) == (2, False)
    assert key_ids == [hashlib.sha256(sb.api_key.encode()).hexdigest()[:32]]
