"""Onboarding flows as durable arq jobs: one job per customer, each step checkpointed in Redis.

`enqueue_onboarding` puts one arq job per customer on the queue, with the job id
``onboard:<external id>``: arq refuses a second job of the same id while the first is queued,
running or its result is kept, so enqueuing a list twice does nothing. `run_worker` runs an arq
worker whose jobs call `onboard_customer` with a `RedisCheckpoint`: each finished step's ids are
recorded, and a job tried again after its worker died resumes at the step it was in, whose calls
replay (their idempotency keys derive from the customer and the step) instead of acting twice.

A job's worker holds a lease on it: arq marks a job it takes "in progress" with a key that
would only expire after the job's timeout, so a worker killed mid-job would leave its jobs
unclaimed for that long. Each worker instead sets that key's expiry to `lease` seconds from the
moment arq takes the job, and renews it every
third of that for the jobs it runs (one pipelined round trip per renewal for all of them): a
worker that dies (SIGKILL, a lost host) stops renewing, and within `lease` seconds another worker
takes its jobs. A worker stopped by SIGINT/SIGTERM cancels its jobs, which arq re-queues at once.

Long waits (an influencer, a 2-minute generation) are awaited on the worker's event loop: they
share the client's one poller, so a job waiting costs a future and a poll-stream entry, not a
slot in a busy loop, and one worker runs hundreds of flows at once (`concurrency`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
from arq import ArqRedis, Worker, create_pool
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix, result_key_prefix
from arq.worker import func
from redis.exceptions import RedisError

from ..flows import Customer, OnboardingResult, onboard_customer, provision_customer
from ..models import JSON
from ..models.social import OAuthUrl
from ._steps import DEFAULT_PREFIX, FlowStore

if TYPE_CHECKING:
    from .. import LayersClient

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_LEASE",
    "MAX_TRIES",
    "Child",
    "Enqueued",
    "FlowOptions",
    "connect_redis",
    "enqueue_onboarding",
    "job_id",
    "run_worker",
]

log = logging.getLogger("layers_async")

#: Flows one worker runs at once: most of a flow is waiting, which costs little (module doc).
DEFAULT_CONCURRENCY = 200
#: Seconds after its worker dies before a job is taken by another worker.
DEFAULT_LEASE = 15.0
#: Tries of one customer's job (each death of its worker is one): then it is recorded failed
#: (``TooManyTries``) and a new `enqueue_onboarding` is needed to run it again.
MAX_TRIES = 20
#: The longest one flow may run (seconds): a 2-minute generation and 10 minutes of waiting for
#: an influencer fit many times over.
JOB_TIMEOUT = 3 * 3600
#: How long arq keeps a finished job's result, and so refuses a job of the same id (7 days);
#: the flows' own results stay in Redis until deleted.
KEEP_RESULT = 7 * 86_400
#: How long a queued job may wait for a worker before arq drops it.
QUEUED_EXPIRY = timedelta(days=7)
#: How often a worker with free slots reads the head of the queue (seconds; arq's default).
#: Each read checks every job id there, the running ones included (about four Redis commands
#: each): a shorter delay takes new jobs sooner for more Redis traffic.
POLL_DELAY = 0.5
_ONBOARD = "onboard"


def job_id(external_id: str) -> str:
    """The arq job id of one customer's onboarding: ``onboard:<external id>``."""
    return f"{_ONBOARD}:{external_id}"


@attrs.frozen
class Child:
    """The child organization a customer's flow runs in, with the child's own key (and so its
    own rate limits): provisioned by the worker with `provision_customer` (once per child and
    worker process; a replay after the first) from the parent's `org:admin` key."""

    external_id: str
    name: str
    #: Credits moved to the child when it is first provisioned.
    allocate: int | None = None


@attrs.frozen
class FlowOptions:
    """How each job runs `onboard_customer` (its keyword arguments of the same names).

    `authorize(customer, attempt)` shows the consent page (a sandbox's is completed for the
    customer by the CLI); `now` supplies the API's time for ``schedule_in``.
    """

    authorize: Callable[[Customer, OAuthUrl], Awaitable[None]] | None = None
    now: Callable[[], Awaitable[datetime]] | None = None
    return_url: str = "http://localhost:3000/social/connect/callback"
    influencer_timeout: float = 600.0
    job_timeout: float = 1200.0
    oauth_timeout: float = 900.0


@attrs.frozen
class Enqueued:
    """What `enqueue_onboarding` did: jobs put on the queue, customers already queued or
    running, already done, and failed ones queued again."""

    enqueued: int
    pending: int
    done: int
    retried: int


def redis_settings(url: str) -> RedisSettings:
    """arq's settings for `url`, failing fast when Redis does not answer."""
    return dataclasses.replace(RedisSettings.from_dsn(url), conn_retries=1, conn_timeout=2)


async def connect_redis(url: str) -> ArqRedis:
    """An arq connection pool to the Redis at `url` (ConnectionError/OSError when unreachable)."""
    return await create_pool(redis_settings(url))


async def enqueue_onboarding(
    redis: ArqRedis,
    customers: Iterable[Customer],
    *,
    child: Callable[[Customer], Child | None] | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> Enqueued:
    """Put one onboarding job per customer on the queue (job id ``onboard:<external id>``).

    A customer already queued, running or done is left alone; a failed one is queued again and
    resumes at the step it failed in. `child(customer)` names the child organization whose own
    key runs that customer's flow (None: the worker's key).
    """
    store = FlowStore(redis, prefix)
    counts = dict.fromkeys(("enqueued", "pending", "done", "retried"), 0)
    for customer in customers:
        ext = customer.external_id
        state = await store.state(ext)
        status = None if state is None else state.get("status")
        if status == "done":
            counts["done"] += 1
            continue
        if status == "failed":  # arq keeps the failed job's result: drop it to run it again
            await redis.delete(result_key_prefix + job_id(ext))
            await store.requeue(ext)
            counts["retried"] += 1
        else:
            await store.queued(ext)
        job = await redis.enqueue_job(
            _ONBOARD,
            customer,
            child(customer) if child is not None else None,
            _job_id=job_id(ext),
            _expires=QUEUED_EXPIRY,
        )
        if job is not None:
            counts["enqueued"] += 1
        elif status != "failed":
            counts["pending"] += 1
    return Enqueued(**counts)


class _Leases:
    """The in-progress keys of the jobs this worker runs, kept `seconds` from expiring."""

    def __init__(self, redis: ArqRedis, seconds: float) -> None:
        self.redis = redis
        self.ms = max(1, int(seconds * 1000))
        self.every = seconds / 3
        self.held: set[str] = set()

    async def hold(self, job: str) -> None:
        """Take the lease of `job` (arq set its key for the whole job timeout)."""
        self.held.add(job)
        await self.redis.pexpire(in_progress_key_prefix + job, self.ms)

    def release(self, job: str) -> None:
        """Stop renewing `job`'s lease (arq deletes its key when the job ends)."""
        self.held.discard(job)

    async def renew_forever(self) -> None:
        """Renew every held lease each third of the lease, in one round trip."""
        while True:
            await asyncio.sleep(self.every)
            if not self.held:
                continue
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for job in self.held:
                        pipe.pexpire(in_progress_key_prefix + job, self.ms)
                    await pipe.execute()
            except Exception:  # Redis away for a moment: the next renewal tries again
                log.warning("could not renew the leases of %d job(s)", len(self.held))


class _Jobs:
    """What one worker process's jobs share: the client, the options, the store, the leases
    and the clients of the child organizations it has provisioned."""

    def __init__(
        self, client: LayersClient, options: FlowOptions, store: FlowStore, leases: _Leases
    ) -> None:
        self.client = client
        self.options = options
        self.store = store
        self.leases = leases
        self.children: dict[str, asyncio.Task[LayersClient]] = {}

    async def acting(self, child: Child | None) -> LayersClient:
        """The client a flow runs with: the worker's, or the child's own key."""
        if child is None:
            return self.client
        task = self.children.get(child.external_id)
        if task is None or (task.done() and task.exception() is not None):
            task = asyncio.ensure_future(self._provision(child))
            self.children[child.external_id] = task
        return await asyncio.shield(task)

    async def _provision(self, child: Child) -> LayersClient:
        made = await provision_customer(
            self.client,
            child.external_id,
            child.name,
            allocate=child.allocate,
            now=self.options.now,
        )
        return self.client.with_options(api_key=made.secret)

    async def onboard(
        self, job: str, job_try: int, customer: Customer, child: Child | None
    ) -> dict[str, JSON]:
        """Run one customer's flow from its checkpoint under the job's lease; record its result
        or its failure."""
        # arq marked the job in progress for `lease` seconds when it claimed it (see
        # `_arq_worker`); renew that from the first moment, before any other round trip
        await self.leases.hold(job)
        try:
            return await self._onboard(job_try, customer, child)
        finally:
            self.leases.release(job)

    async def _onboard(
        self, job_try: int, customer: Customer, child: Child | None
    ) -> dict[str, JSON]:
        ext = customer.external_id
        state = await self.store.state(ext) or {}
        if state.get("status") == "done":  # enqueued again after its result expired
            return (await self.store.results()).get(ext) or {}
        if job_try > MAX_TRIES:  # its workers kept dying: record it rather than run it again
            error = {"type": "TooManyTries", "message": f"not finished after {MAX_TRIES} tries"}
            await self.store.failed(ext, error, state.get("step"), job_try)
            return {}
        await self.store.started(ext, job_try, state.get("step"))
        opts = self.options

        async def authorize(attempt: OAuthUrl) -> None:
            assert opts.authorize is not None
            await opts.authorize(customer, attempt)

        try:
            result = await onboard_customer(
                await self.acting(child),
                customer,
                authorize=authorize if opts.authorize is not None else None,
                return_url=opts.return_url,
                now=opts.now,
                influencer_timeout=opts.influencer_timeout,
                job_timeout=opts.job_timeout,
                oauth_timeout=opts.oauth_timeout,
                checkpoint=self.store.checkpoint(ext, job_try),
            )
        except Exception as exc:
            from ..cli.onboard import error_json

            step = (await self.store.state(ext) or {}).get("step")
            await self.store.failed(ext, error_json(exc), step, job_try)
            raise
        line = result_line(result) | {"tries": job_try}
        await self.store.done(ext, line)
        return line


def result_line(result: OnboardingResult) -> dict[str, JSON]:
    """A finished flow's ids, as `layers-async results` writes them."""
    from ..cli.onboard import result_json

    return result_json(result)


async def _onboard(
    ctx: dict[str, Any], customer: Customer, child: Child | None
) -> Mapping[str, JSON]:
    jobs: _Jobs = ctx["layers"]
    return await jobs.onboard(ctx["job_id"], int(ctx["job_try"]), customer, child)


def _arq_worker(
    redis: ArqRedis, jobs: _Jobs, *, concurrency: int, burst: bool, handle_signals: bool
) -> Worker:
    """The arq worker of the onboarding jobs, whose claim of a job lasts one lease.

    arq marks a job it takes "in progress" for the longest job timeout (3 hours here) before
    the job's code runs; a worker killed in that moment would leave the job unclaimed for that
    long. Marked for one lease instead, the job either starts renewing its lease at once or is
    free again within `lease` seconds."""
    worker = Worker(
        # one try more than ours, so that the last one records the failure (arq would not
        # call the job at all past its own limit)
        functions=[func(_onboard, name=_ONBOARD, max_tries=MAX_TRIES + 1)],
        redis_pool=redis,
        burst=burst,
        max_jobs=concurrency,
        job_timeout=JOB_TIMEOUT,
        keep_result=KEEP_RESULT,
        poll_delay=POLL_DELAY,
        ctx={"layers": jobs},
        handle_signals=handle_signals,
        log_results=False,
    )
    worker.in_progress_timeout_s = jobs.leases.ms / 1000
    return worker


async def run_worker(
    client: LayersClient,
    redis_url: str,
    *,
    options: FlowOptions | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    lease: float = DEFAULT_LEASE,
    prefix: str = DEFAULT_PREFIX,
    burst: bool = False,
    handle_signals: bool = True,
) -> None:
    """Run an arq worker of the onboarding jobs with `client` until stopped (or, with `burst`,
    until the queue is empty); `concurrency` flows at once, leases of `lease` seconds.

    SIGINT/SIGTERM stop it (when `handle_signals`): its running jobs are cancelled and arq
    queues them again at once; their checkpoints keep what they had done. A lost Redis stops it
    with the Redis error (`redis.exceptions.RedisError` or OSError): its jobs stay queued and
    are taken again once their leases expire.
    """
    redis = await connect_redis(redis_url)
    leases = _Leases(redis, lease)
    jobs = _Jobs(client, options or FlowOptions(), FlowStore(redis, prefix), leases)
    worker = _arq_worker(
        redis, jobs, concurrency=concurrency, burst=burst, handle_signals=handle_signals
    )
    renewing = asyncio.ensure_future(leases.renew_forever())
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await worker.async_run()
    finally:
        renewing.cancel()
        # arq closes its pool with redis-py's old close(); a lost Redis fails the close too,
        # and the error that stopped the worker is the one to raise
        with warnings.catch_warnings(), contextlib.suppress(RedisError, OSError):
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await worker.close()
