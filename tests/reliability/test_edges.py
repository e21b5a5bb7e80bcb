"""Edge cases of retries, the gate, the budget and waiters found in review, pinned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from layers_async import (
    NO_RETRY,
    APITimeoutError,
    Customer,
    JobFailedError,
    LayersClient,
    PollPolicy,
    RateLimitError,
    RetryPolicy,
    Sandbox,
    fan_out,
    onboard_customer,
    wait_for_job,
    wait_for_ready_influencer,
)
from layers_async._ratelimit import RetryBudget
from layers_async.testing import QUICK_POLL

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
DESC = (
    "Freshly roasted coffee delivered on a schedule for runners and night-shift workers who "
    "never want to run out of beans."
)
JOB = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"


async def _running_job(client: LayersClient, sb: Sandbox) -> str:
    project = await client.projects.create(name="Edge Co", timezone="UTC")
    job = await client.content.slideshow_builder(project.id, hook="hello")
    return job.job_id


@pytest.mark.anyio
async def test_closing_the_client_fails_pending_waiters(sandbox: Sandbox) -> None:
    """A waiter pending when its client closes ends at once with a clear error, not a hang."""
    client = LayersClient(api_key=sandbox.api_key, base_url=sandbox.url, poll_policy=QUICK_POLL)
    job_id = await _running_job(client, sandbox)
    waiter = asyncio.create_task(wait_for_job(client, job_id, timeout=None))
    await asyncio.sleep(0.05)
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await asyncio.wait_for(waiter, 2)


@pytest.mark.anyio
async def test_slow_tier_lookup_does_not_eat_the_deadline(make_sandbox: MakeSandbox) -> None:
    """With whoami held back 5 s, a call with timeout=3 still succeeds: the lookup is skipped."""
    faults = [{"route": "GET /v1/whoami", "action": "latency", "latencyMs": 5_000}]
    async with (
        make_sandbox(faults=faults) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url) as client,
    ):
        # Waiting out the 5 s lookup would pass the 3 s deadline: success means it was skipped.
        wallet = await client.credits.get(timeout=3)
        assert wallet.balance == 6000


@pytest.mark.anyio
async def test_waiters_that_leave_give_their_poll_slots_back(make_sandbox: MakeSandbox) -> None:
    """Forty waiters timing out under a tight poll budget do not starve the next waiter."""
    slow = PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0)
    keys = [
        {
            "name": "p",
            "organization": "partner",
            "env": "test",
            "rateLimitTier": "partner",
            "scopes": ["*"],
            "returnUrlAllowlist": ["localhost"],
        }
    ]
    orgs = [{"ref": "partner", "name": "Edge", "maxRunningJobs": 100}]
    async with (
        make_sandbox(api_keys=keys, organizations=orgs) as sb,
        LayersClient(
            api_key=sb.api_key, base_url=sb.url, poll_policy=slow, poll_rate=2.0
        ) as client,
    ):
        project = await client.projects.create(name="Edge Co", timezone="UTC")
        jobs = [
            (await client.content.slideshow_builder(project.id, hook=f"h{i}")).job_id
            for i in range(40)
        ]
        results = await asyncio.gather(
            *[wait_for_job(client, j, timeout=0.5) for j in jobs], return_exceptions=True
        )
        assert all(isinstance(r, TimeoutError) for r in results)
        await sb.advance(120)
        assert client._waiting.hub.active_streams == 0  # every timed-out waiter left its stream
        done = await wait_for_job(client, jobs[0], timeout=5)
        assert done.status == "completed"


@pytest.mark.anyio
async def test_a_new_waiter_right_after_a_cancel_shares_one_stream(sandbox: Sandbox) -> None:
    """Cancelling the only waiter and arriving again at once leaves exactly one stream."""
    async with LayersClient(
        api_key=sandbox.api_key, base_url=sandbox.url, poll_policy=QUICK_POLL
    ) as client:
        job_id = await _running_job(client, sandbox)
        first = asyncio.create_task(wait_for_job(client, job_id))
        await asyncio.sleep(0.05)
        first.cancel()
        second = asyncio.create_task(wait_for_job(client, job_id))
        third = asyncio.create_task(wait_for_job(client, job_id))
        with pytest.raises(asyncio.CancelledError):
            await first
        await asyncio.sleep(0.1)
        assert client._waiting.hub.active_streams == 1
        await sandbox.advance(120)
        assert (await asyncio.wait_for(second, 5)).status == "completed"
        assert (await asyncio.wait_for(third, 5)).status == "completed"
        assert client._waiting.hub.active_streams == 0


@pytest.mark.anyio
async def test_cancel_remote_that_fails_still_ends_cancelled(make_sandbox: MakeSandbox) -> None:
    """If the remote cancel request fails, the waiter still ends with its CancelledError."""
    faults = [{"route": "POST /v1/jobs/{jobId}/cancel", "action": "drop_before_commit"}]
    async with (
        make_sandbox(faults=faults) as sb,
        LayersClient(
            api_key=sb.api_key, base_url=sb.url, poll_policy=QUICK_POLL, retry=NO_RETRY
        ) as client,
    ):
        job_id = await _running_job(client, sb)
        waiter = asyncio.create_task(wait_for_job(client, job_id, cancel_remote=True))
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert waiter.cancelled()


@pytest.mark.anyio
async def test_a_pause_longer_than_allowed_fails_later_calls_at_once(
    make_sandbox: MakeSandbox,
) -> None:
    """After a 429 asking for an hour, the class is paused for `max_retry_after` (60 s) at most:
    other calls of the class that cannot wait that long raise RateLimitError at once."""
    faults = [{"route": "GET /v1/credits", "action": "http_429", "retryAfter": 3600, "times": 1}]
    async with (
        make_sandbox(faults=faults) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url, rate_limit_tier="standard") as client,
    ):
        with pytest.raises(RateLimitError) as first:
            await client.credits.get()
        assert first.value.retry_after == 3600
        with pytest.raises(RateLimitError) as second:
            await client.whoami(timeout=3)
        assert second.value.waited == 0.0  # refused at once: not one wait at the gate
        assert second.value.attempts == 0
        assert second.value.retry_after is not None
        assert 50 < second.value.retry_after <= 60  # the pause is capped by max_retry_after
        assert second.value.details["limitType"] == "client_pause"
        assert (await sb.state())["requests"]["byRoute"].get("GET /v1/whoami", 0) == 0


def test_budget_holds_over_a_slow_outage() -> None:
    """One failing call a second for 100 s: retries stay within burst + ratio x calls. (The
    internal `RetryBudget` on an injected clock: 100 s of outage cannot run in real time.)"""
    now = [0.0]
    budget = RetryBudget(0.2, 10, clock=lambda: now[0])
    retries = 0
    for _ in range(100):
        budget.on_first_attempt()
        for _ in range(3):  # max_attempts=4 → up to three retries per call
            if budget.try_spend():
                retries += 1
        now[0] += 1.0
    assert retries <= 10 + 0.2 * 100


def test_budget_lets_a_burst_earn_its_share() -> None:
    """200 calls at once earn 0.5 each at once: 100 retries plus the burst are available (the
    internal `RetryBudget`: no public name shows how many retries it holds)."""
    budget = RetryBudget(0.5, 10, clock=lambda: 0.0)
    for _ in range(200):
        budget.on_first_attempt()
    spent = sum(budget.try_spend() for _ in range(500))
    assert spent == 110


@pytest.mark.anyio
async def test_deadline_flag_only_when_the_deadline_ran_out(make_sandbox: MakeSandbox) -> None:
    """An attempt cut by the call's deadline is flagged deadline_exceeded; retries stop."""
    faults = [{"route": "GET /v1/credits", "action": "latency", "latencyMs": 3000}]
    async with (
        make_sandbox(faults=faults) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url, rate_limit_tier="standard") as client,
    ):
        with pytest.raises(APITimeoutError) as info:
            await client.credits.get(timeout=1)
        assert info.value.deadline_exceeded
        assert info.value.attempts == 1


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_rerun_recovers_after_a_failed_generation(make_sandbox: MakeSandbox) -> None:
    """A customer whose remix failed gets a new one on the next run, not a replayed failure."""
    import aiohttp

    async with (
        make_sandbox(speed=60, failure_rates={"content_generate": 1.0}) as sb,
        LayersClient(
            api_key=sb.api_key, base_url=sb.url, poll_policy=PollPolicy().scaled(1 / 60)
        ) as client,
        aiohttp.ClientSession() as http,
    ):
        customer = Customer(external_id="edge-1", name="Edge Co", app_description=DESC)

        async def run() -> Any:
            return (await fan_out([customer], lambda c: onboard_customer(client, c)))[0]

        first = await run()
        assert isinstance(first.error, JobFailedError)
        await sb.configure(failure_rates={"content_generate": 0.0})
        second = await run()
        assert second.ok, second.error
        containers = (await sb.state())["counts"]["containers"]["byStatus"]
        assert containers == {"failed": 1, "completed": 1}
        edited = Customer(external_id="edge-1", name="Edge Coffee", app_description=DESC)
        third = (await fan_out([edited], lambda c: onboard_customer(client, c)))[0]
        assert third.ok, third.error
        assert third.value is not None
        assert third.value.adopted_project
        assert (await sb.state())["counts"]["projects"]["total"] == 1
        del http


@pytest.mark.anyio
async def test_fan_out_survives_a_faulty_callback_and_a_self_cancelled_item() -> None:
    """A raising on_progress is ignored; an item cancelled from inside is recorded, not fatal."""

    async def work(n: int) -> int:
        if n == 2:
            raise asyncio.CancelledError
        await asyncio.sleep(0.01)
        return n

    def progress(done: int, total: int, result: Any) -> None:
        raise ValueError("bug in a progress callback")

    results = await fan_out(range(5), work, concurrency=5, on_progress=progress)
    assert [r.item for r in results] == [0, 1, 2, 3, 4]
    assert [r.value for r in results if r.ok] == [0, 1, 3, 4]
    assert isinstance(results[2].error, asyncio.CancelledError)


def test_retry_policy_validates() -> None:
    """RetryPolicy refuses nonsense values."""
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(budget_ratio=-1)


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_running_jobs_cap_holds_starts_after_the_first_refusal(
    make_sandbox: MakeSandbox,
) -> None:
    """Once the org's running-jobs cap refuses a start, later starts go one at a time: far
    fewer 429s than without the gate, and every start still succeeds."""
    policy = RetryPolicy(max_attempts=20, budget_ratio=1.0, budget_burst=1000, max_retry_after=120)

    async def starts(gate: bool) -> tuple[int, int]:
        async with (
            make_sandbox(speed=60, jitter=0) as sb,
            LayersClient(
                api_key=sb.keys["demo-test"],
                base_url=sb.url,
                rate_limit_tier=gate,
                retry=policy,
                timeout=60,
            ) as client,
        ):
            projects = [
                await client.projects.create(name=f"Cap {i}", timezone="UTC") for i in range(3)
            ]
            results = await asyncio.gather(
                *[client.influencers.create(projects[i % 3].id) for i in range(30)],
                return_exceptions=True,
            )
            ok = sum(not isinstance(r, BaseException) for r in results)
            refused = (await sb.state())["responses"]["byStatus"].get("429", 0)
            return ok, refused

    ok_off, refused_off = await starts(False)
    ok_on, refused_on = await starts(True)
    assert ok_on == 30
    assert ok_off == 30
    assert refused_on <= refused_off / 2, (refused_on, refused_off)


@pytest.mark.anyio
async def test_ready_influencer_beyond_the_first_page_is_found(make_sandbox: MakeSandbox) -> None:
    """wait_for_ready_influencer reads every page: the 101st-newest influencer is still seen."""
    keys = [
        {
            "name": "p",
            "organization": "partner",
            "env": "test",
            "rateLimitTier": "partner",
            "scopes": ["*"],
            "returnUrlAllowlist": ["localhost"],
        }
    ]
    orgs = [{"ref": "partner", "name": "Edge", "maxRunningJobs": 500}]
    async with (
        make_sandbox(api_keys=keys, organizations=orgs, jitter=0) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url, poll_policy=QUICK_POLL) as client,
    ):
        project = await client.projects.create(name="Edge Co", timezone="UTC")
        first = await client.influencers.create(project.id)
        await sb.advance(61)  # the first one is ready; the next 100 stay pending
        for _ in range(100):
            await client.influencers.create(project.id)
        ready = await wait_for_ready_influencer(
            client, project.id, influencer_id=first.influencer_id, timeout=5
        )
        assert ready.influencer_id == first.influencer_id
        assert ready.status == "ready"
