"""A poll's transient failure (timeout, 5xx, 429) is retried within the waiter's deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from layers_async import (
    NO_RETRY,
    InternalServerError,
    LayersClient,
    NotFoundError,
    PollPolicy,
    Sandbox,
    Timeouts,
    WaitTimeoutError,
    wait_for_job,
)
from layers_async.testing import no_waits

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
QUICK = PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0, margin=0.0)
JOB_ROUTE = "GET /v1/jobs/{jobId}"
#: The first poll meets a 503, the second a response slower than the attempt timeout.
FLAKY = [
    {"route": JOB_ROUTE, "action": "http_503", "times": 1},
    {"route": JOB_ROUTE, "action": "latency", "latencyMs": 1500, "times": 1},
]


def _client(sb: Sandbox, **kw: Any) -> LayersClient:
    """No retries in the transport: every failed attempt reaches the waiter."""
    return LayersClient(
        api_key=sb.api_key,
        base_url=sb.url,
        poll_policy=QUICK,
        poll_rate=None,
        rate_limit_tier="partner",
        retry=NO_RETRY,
        timeout=Timeouts(attempt=0.3),
        **kw,
    )


async def _finished_job(client: LayersClient, sb: Sandbox) -> str:
    project = await client.projects.create(name="Acme", timezone="UTC")
    job = await client.content.slideshow_builder(project.id, hook="tea at dawn")
    await sb.advance(3600)
    return job.job_id


async def _polls(sb: Sandbox) -> int:
    return int((await sb.state())["requests"]["byRoute"].get(JOB_ROUTE, 0))


@pytest.mark.anyio
async def test_waiter_survives_a_503_and_a_poll_timeout(make_sandbox: MakeSandbox) -> None:
    """A 503 then a timed-out poll do not end the wait: the third poll returns the job."""
    async with make_sandbox(jitter=0, faults=FLAKY) as sb, _client(sb) as client:
        job_id = await _finished_job(client, sb)
        job = await wait_for_job(client, job_id, timeout=60)
        assert job.status == "completed"
        assert await _polls(sb) == 3
        assert client._waiting.hub.active_streams == 0


@pytest.mark.anyio
async def test_persistent_404_still_fails_at_the_first_poll(make_sandbox: MakeSandbox) -> None:
    """A 404 is not transient: the waiter fails with NotFoundError after one poll."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        with pytest.raises(NotFoundError):
            await wait_for_job(client, "job_01HXA1NHKJZXPV8R7Q6WSM5BCD", timeout=60)
        assert await _polls(sb) == 1
        assert client._waiting.hub.active_streams == 0


@pytest.mark.anyio
async def test_persistent_503_ends_at_the_deadline_with_the_last_failure(
    make_sandbox: MakeSandbox,
) -> None:
    """Polls failing with 503 every time end the wait at its deadline: WaitTimeoutError whose
    cause is the last poll's InternalServerError, after more than one poll."""
    always = [{"route": JOB_ROUTE, "action": "http_503"}]
    with no_waits():
        async with make_sandbox(jitter=0, faults=always) as sb, _client(sb) as client:
            job_id = await _finished_job(client, sb)
            with pytest.raises(WaitTimeoutError) as info:
                await wait_for_job(client, job_id, timeout=0.5)
            assert isinstance(info.value.__cause__, InternalServerError)
            assert "its last poll failed" in str(info.value)
            assert await _polls(sb) > 1
            assert client._waiting.hub.active_streams == 0


@pytest.mark.anyio
async def test_polls_in_flight_stay_within_the_hubs_bound(make_sandbox: MakeSandbox) -> None:
    """40 waits on distinct (unknown, slow) jobs never have more than `max_in_flight` polls
    sent at once: polls wait for a slot in the hub, not in the connection pool, where their
    attempt timeout would run out (what ended waits at 20,000 concurrent ones)."""
    in_flight = peak = 0

    def sent(event: Any) -> None:
        nonlocal in_flight, peak
        if event.path.startswith("/v1/jobs/"):
            in_flight += 1
            peak = max(peak, in_flight)

    def answered(event: Any) -> None:
        nonlocal in_flight
        if event.path.startswith("/v1/jobs/"):
            in_flight -= 1

    slow = [{"route": JOB_ROUTE, "action": "latency", "latencyMs": 100}]
    async with (
        make_sandbox(jitter=0, faults=slow) as sb,
        _client(sb, on_request=sent, on_response=answered) as client,
    ):
        client._waiting.hub.max_in_flight = 4
        ids = [f"job_01HXA1NHKJZXPV8R7Q6WSM{i:04d}" for i in range(40)]
        results = await asyncio.gather(
            *[wait_for_job(client, j, timeout=60) for j in ids], return_exceptions=True
        )
        assert all(isinstance(r, NotFoundError) for r in results)
        assert await _polls(sb) == 40
        assert 1 < peak <= 4
