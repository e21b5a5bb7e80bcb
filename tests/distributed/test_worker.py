"""Durable onboarding on arq: checkpoints that resume a flow at its step, job ids that make a
second enqueue do nothing, failures recorded with their reason and retried by a new enqueue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio

from layers_async import Customer, OAuthUrl, Sandbox, onboard_customer
from layers_async.distributed import (
    FlowOptions,
    FlowStore,
    RedisCheckpoint,
    connect_redis,
    enqueue_onboarding,
    job_id,
    run_worker,
)
from layers_async.distributed._worker import MAX_TRIES, _arq_worker, _Jobs, _Leases
from layers_async.models import JSON
from tests.cli._remote import KEYS, ORGS
from tests.waiters.test_flows import MakeSandbox, _customers


@asynccontextmanager
async def _fast_sandbox(make_sandbox: MakeSandbox) -> AsyncIterator[Sandbox]:
    async with make_sandbox(speed=600, api_keys=KEYS, organizations=ORGS) as sb:
        yield sb


def _options(sb: Sandbox, *, consent: bool = True) -> FlowOptions:
    async def authorize(customer: Customer, attempt: OAuthUrl) -> None:
        await sb.authorize(attempt.authorize_url)

    return FlowOptions(authorize=authorize if consent else None, now=sb.now)


class _Killed(Exception):
    """Stands for the worker dying right after a step."""


class _DiesAfter:
    """A checkpoint that records steps until `step` finishes, then 'kills the worker'."""

    def __init__(self, inner: RedisCheckpoint, step: str) -> None:
        self.inner, self.step = inner, step

    async def load(self) -> Mapping[str, Mapping[str, Any]]:
        return await self.inner.load()

    async def save(self, step: str, outputs: Mapping[str, JSON]) -> None:
        await self.inner.save(step, outputs)
        if step == self.step:
            raise _Killed


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_a_resumed_flow_skips_its_checkpointed_steps_and_makes_nothing_twice(
    make_sandbox: MakeSandbox, redis_url: str
) -> None:
    """A flow that died after its generation started resumes from its Redis checkpoint: no
    project, media, consent or generation request is sent again, and exactly one of each
    exists; the result holds the checkpointed ids."""
    conn = redis.asyncio.Redis.from_url(redis_url)
    store = FlowStore(conn)
    (customer,) = _customers(1)
    async with _fast_sandbox(make_sandbox) as sb, sb.client() as client:

        async def authorize(attempt: OAuthUrl) -> None:
            await sb.authorize(attempt.authorize_url)

        first = _DiesAfter(store.checkpoint(customer.external_id, 1), "generate")
        with pytest.raises(_Killed):
            await onboard_customer(
                client, customer, authorize=authorize, now=sb.now, checkpoint=first
            )
        saved = await store.checkpoint(customer.external_id, 1).load()
        assert set(saved) == {"project", "media", "social", "influencer", "source", "generate"}
        before = (await sb.state())["requests"]["byRoute"]

        result = await onboard_customer(
            client,
            customer,
            authorize=authorize,
            now=sb.now,
            checkpoint=store.checkpoint(customer.external_id, 2),
        )
        after = (await sb.state())["requests"]["byRoute"]
        sent = {route: n - before.get(route, 0) for route, n in after.items()}
        sent = {route: n for route, n in sent.items() if n}
        assert set(sent) <= {
            "GET /v1/jobs/{jobId}",
            "GET /v1/content/{containerId}",
            "GET /v1/projects/{projectId}/scheduled-posts",
            "POST /v1/content/{containerId}/schedule",
        }, sent
        counts = (await sb.state())["counts"]
        for name in ("projects", "appMedia", "socialAccounts", "containers", "scheduledPosts"):
            assert counts[name]["total"] == 1, name
        assert result.project_id == saved["project"]["project_id"]
        assert result.container_id == saved["generate"]["container_id"]
        assert result.social_account_id == saved["social"]["social_account_id"]
    await conn.aclose()


@pytest.mark.anyio
@pytest.mark.timeout(90)
async def test_enqueuing_twice_runs_each_customer_once_and_a_new_enqueue_retries_failures(
    make_sandbox: MakeSandbox, redis_url: str
) -> None:
    """Job ids ``onboard:<external id>`` make a second enqueue do nothing; a failed flow is
    recorded with its reason, and enqueuing again runs it from its step while the done ones
    stay done."""
    customers = _customers(6)
    redis_pool = await connect_redis(redis_url)
    store = FlowStore(redis_pool)
    try:
        first = await enqueue_onboarding(redis_pool, customers)
        again = await enqueue_onboarding(redis_pool, customers)
        assert (first.enqueued, again.enqueued, again.pending) == (6, 0, 6)
        async with _fast_sandbox(make_sandbox) as sb, sb.client() as client:
            # no consent callback: every flow fails at the social step, after two steps
            await run_worker(
                client,
                redis_url,
                options=_options(sb, consent=False),
                burst=True,
                handle_signals=False,
            )
            status = await store.status()
            assert status.count("failed") == 6
            reasons = {e["type"]: e.get("field") for e in status.failures.values()}
            assert reasons == {"LayersValidationError": "authorize"}
            retried = await enqueue_onboarding(redis_pool, customers)
            assert (retried.enqueued, retried.retried) == (6, 6)
            await run_worker(
                client, redis_url, options=_options(sb), burst=True, handle_signals=False
            )
            status = await store.status()
            assert status.count("done") == 6, status
            counts = (await sb.state())["counts"]
            for name in ("projects", "appMedia", "containers", "scheduledPosts"):
                assert counts[name]["total"] == 6, name
            last = await enqueue_onboarding(redis_pool, customers)
            assert (last.enqueued, last.done) == (0, 6)
            results = await store.results()
            assert sorted(results) == [c.external_id for c in customers]
            assert all(r["scheduled_post_ids"] for r in results.values())
    finally:
        await redis_pool.aclose()


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_a_job_whose_workers_kept_dying_is_recorded_failed_not_left_running(
    make_sandbox: MakeSandbox, redis_url: str
) -> None:
    """Past `MAX_TRIES` tries (each a dead worker) a flow is recorded failed as TooManyTries,
    with nothing sent to the API, instead of staying "running" for ever."""
    (customer,) = _customers(1)
    redis_pool = await connect_redis(redis_url)
    try:
        await enqueue_onboarding(redis_pool, [customer])
        await redis_pool.set(f"arq:retry:{job_id(customer.external_id)}", MAX_TRIES)
        async with _fast_sandbox(make_sandbox) as sb, sb.client() as client:
            await run_worker(
                client, redis_url, options=_options(sb), burst=True, handle_signals=False
            )
            assert (await sb.state())["requests"]["total"] == 0
        status = await FlowStore(redis_pool).status()
        assert status.count("failed") == 1
        assert status.failures[customer.external_id]["type"] == "TooManyTries"
    finally:
        await redis_pool.aclose()


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_a_job_claimed_by_a_worker_that_died_before_running_it_is_free_within_a_lease(
    make_sandbox: MakeSandbox, redis_url: str
) -> None:
    """A worker killed between arq's claim of a job and the job's first line leaves an
    in-progress mark of one lease, not of the 3-hour job timeout: once it expires, another
    worker runs the flow to the end. (Internals `_arq_worker`, `_Jobs` and `_Leases`: that
    moment cannot be reached from outside a worker; it was hit by SIGKILL in the crash test.)"""
    (customer,) = _customers(1)
    job = job_id(customer.external_id)
    redis_pool = await connect_redis(redis_url)
    try:
        await enqueue_onboarding(redis_pool, [customer])
        async with _fast_sandbox(make_sandbox) as sb, sb.client() as client:
            jobs = _Jobs(client, _options(sb), FlowStore(redis_pool), _Leases(redis_pool, 0.5))
            dying = _arq_worker(redis_pool, jobs, concurrency=1, burst=True, handle_signals=False)
            await dying.start_jobs([job.encode()])  # claimed: its task is made, not yet run
            for task in dying.tasks.values():
                task.cancel()  # the worker dies before the job's first line
            left_ms = await redis_pool.pttl(f"arq:in-progress:{job}")
            assert 0 < left_ms <= 500
            await asyncio.sleep(left_ms / 1000 + 0.1)  # the lease runs out in Redis
            assert not await redis_pool.exists(f"arq:in-progress:{job}")
            await run_worker(
                client, redis_url, options=_options(sb), burst=True, handle_signals=False
            )
        status = await FlowStore(redis_pool).status()
        assert status.count("done") == 1
    finally:
        await redis_pool.aclose()
