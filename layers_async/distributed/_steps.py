"""What the workers keep in Redis about each customer's flow: its state, its steps, its result.

Keys (every one under a prefix, ``layers:`` by default, so that several runs can share a Redis):

- ``<prefix>flows``: a hash, customer external id → the flow's state as JSON:
  ``{"status": "queued" | "running" | "done" | "failed", "step": <the last finished step>,
  "try": <the arq try that last ran it>, "error": {...} (failed only)}``.
- ``<prefix>steps:<external id>``: a hash, step → that step's outputs as JSON (the ids it made);
  the flow's checkpoint, read when a job starts again after its worker died. Deleted when the
  flow is done (its result holds the same ids).
- ``<prefix>results``: a hash, customer external id → the result line (ids in full).

A step is recorded in one transaction with the flow's state, so `status` never shows a step
that the checkpoint does not hold. Nothing here ever holds a secret.
"""

from __future__ import annotations

import inspect
import json
from collections import Counter
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ..models import JSON

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["DEFAULT_PREFIX", "FlowStatus", "FlowStore", "RedisCheckpoint"]

T = TypeVar("T")

#: The prefix of every key the workers write besides arq's own (``arq:``).
DEFAULT_PREFIX = "layers:"


@attrs.frozen
class FlowStatus:
    """Counts of one run read from Redis: by status, running flows by their last finished step,
    and every failure with its reason (external id → the error as a results line holds it)."""

    by_status: Mapping[str, int]
    running_by_step: Mapping[str, int]
    failures: Mapping[str, Mapping[str, Any]]

    @property
    def total(self) -> int:
        """Every customer enqueued."""
        return sum(self.by_status.values())

    def count(self, status: str) -> int:
        """How many flows are in `status` (queued, running, done or failed)."""
        return self.by_status.get(status, 0)


class FlowStore:
    """The flows' state, checkpoints and results in Redis (see the module's key layout)."""

    def __init__(self, redis: Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self.redis = redis
        self.prefix = prefix
        self.flows_key = f"{prefix}flows"
        self.results_key = f"{prefix}results"

    def steps_key(self, external_id: str) -> str:
        """The hash that holds one flow's finished steps."""
        return f"{self.prefix}steps:{external_id}"

    async def state(self, external_id: str) -> dict[str, Any] | None:
        """One flow's state, or None when it was never enqueued."""
        raw = await _reply(self.redis.hget(self.flows_key, external_id))
        return None if raw is None else _object(raw)

    async def queued(self, external_id: str) -> bool:
        """Mark a flow queued unless it is known already; True when it was not."""
        queued = _dump({"status": "queued"})
        added = await _reply(self.redis.hsetnx(self.flows_key, external_id, queued))
        return bool(added)

    async def requeue(self, external_id: str) -> None:
        """Mark a failed flow queued again (its checkpoint stays: it resumes where it failed)."""
        await _reply(self.redis.hset(self.flows_key, external_id, _dump({"status": "queued"})))

    async def started(self, external_id: str, job_try: int, step: str | None) -> None:
        """Mark a flow running in its `job_try`-th try, `step` the last one it finished."""
        state = {"status": "running", "step": step, "try": job_try}
        await _reply(self.redis.hset(self.flows_key, external_id, _dump(state)))

    def checkpoint(self, external_id: str, job_try: int) -> RedisCheckpoint:
        """The `Checkpoint` of one customer's flow (pass it to `onboard_customer`)."""
        return RedisCheckpoint(self, external_id, job_try)

    async def done(self, external_id: str, result: Mapping[str, JSON]) -> None:
        """Record a finished flow: its result line, its state, and drop its checkpoint."""
        state = {"status": "done", "step": "done"}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.results_key, external_id, _dump(result))
            pipe.hset(self.flows_key, external_id, _dump(state))
            pipe.delete(self.steps_key(external_id))
            await pipe.execute()

    async def failed(
        self, external_id: str, error: Mapping[str, JSON], step: str | None, job_try: int
    ) -> None:
        """Record a flow that raised (the checkpoint stays for a later try)."""
        state = {"status": "failed", "step": step, "try": job_try, "error": dict(error)}
        await _reply(self.redis.hset(self.flows_key, external_id, _dump(state)))

    async def status(self) -> FlowStatus:
        """Live counts of every flow enqueued under this prefix (one HGETALL)."""
        raw = await _reply(self.redis.hgetall(self.flows_key))
        by_status: Counter[str] = Counter()
        by_step: Counter[str] = Counter()
        failures: dict[str, Mapping[str, Any]] = {}
        for key, value in raw.items():
            state = _object(value)
            status = str(state.get("status"))
            by_status[status] += 1
            if status == "running":
                by_step[str(state.get("step") or "started")] += 1
            elif status == "failed":
                failures[_text(key)] = state.get("error") or {}
        return FlowStatus(dict(by_status), dict(by_step), failures)

    async def results(self) -> dict[str, dict[str, Any]]:
        """Every finished flow's result line, by customer external id."""
        raw = await _reply(self.redis.hgetall(self.results_key))
        return {_text(k): _object(v) for k, v in raw.items()}


@attrs.define
class RedisCheckpoint:
    """One customer's flow checkpoint in Redis (a `layers_async.flows.Checkpoint`): each
    finished step's outputs, by step."""

    store: FlowStore
    external_id: str
    job_try: int

    async def load(self) -> Mapping[str, Mapping[str, Any]]:
        """The steps earlier tries finished."""
        raw = await _reply(self.store.redis.hgetall(self.store.steps_key(self.external_id)))
        return {_text(k): _object(v) for k, v in raw.items()}

    async def save(self, step: str, outputs: Mapping[str, JSON]) -> None:
        """Record a finished step and show it in the flow's state, in one transaction."""
        state = {"status": "running", "step": step, "try": self.job_try}
        async with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.store.steps_key(self.external_id), step, _dump(outputs))
            pipe.hset(self.store.flows_key, self.external_id, _dump(state))
            await pipe.execute()


async def _reply(reply: Awaitable[T] | T) -> T:
    """The reply of a redis-py call, typed as a reply (its stubs also allow a sync client's)."""
    return await reply if inspect.isawaitable(reply) else reply


def _dump(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _object(raw: bytes | str) -> dict[str, Any]:
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}
