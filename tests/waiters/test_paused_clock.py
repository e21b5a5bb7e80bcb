"""A waiter on a paused sandbox clock ends with `WaitTimeoutError` when its deadline passes,
with the `layers_client` fixture exactly as with a default client: polls keep their pace under
the no-wait testing mode, and a poll refused with `429` does not end the wait."""

from __future__ import annotations

import asyncio
import itertools
import textwrap
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import layers_async.testing
from layers_async import (
    NO_RETRY,
    Customer,
    LayersClient,
    PollPolicy,
    Sandbox,
    WaitTimeoutError,
    onboard_customer,
    wait_for_job,
)
from layers_async.testing import QUICK_POLL, no_waits

DESC = (
    "Freshly roasted coffee delivered on a schedule for runners and night-shift workers who "
    "never want to run out of beans."
)
ACME = Customer("acme", "Acme Coffee", app_description=DESC)


async def _running_job(client: LayersClient) -> str:
    """A job that stays running while the clock is paused."""
    project = await client.projects.create(name="Paused Co", timezone="UTC")
    return (await client.content.slideshow_builder(project.id, hook="hello")).job_id


def _documented_example() -> Callable[..., Awaitable[None]]:
    """The example test of `layers_async.testing`'s documentation, defined as written there."""
    doc = layers_async.testing.__doc__ or ""
    lines = doc[doc.index("    @pytest.mark.anyio") :].splitlines()
    block = "\n".join(itertools.takewhile(lambda line: not line or line[:4].isspace(), lines))
    namespace: dict[str, Any] = {"asyncio": asyncio, "pytest": pytest, "DESCRIPTION": DESC}
    exec(textwrap.dedent(block), namespace)
    assert "assert (await waiting).status" in block  # all of it, both of its waits
    example: Callable[..., Awaitable[None]] = namespace["test_a_job_ends"]
    return example


@pytest.mark.anyio
async def test_the_documented_way_to_advance_the_fixture_clock_works(
    layers_client: LayersClient, layers_advance: Callable[[float], Awaitable[object]]
) -> None:
    """The example of `layers_async.testing` (advance, then wait; or wait in a task, advance,
    and await it) runs as written against the fixtures."""
    await _documented_example()(layers_client, layers_advance)


@pytest.mark.anyio
async def test_onboarding_with_the_fixture_on_a_paused_clock_times_out(
    layers_client: LayersClient,
) -> None:
    """`onboard_customer(layers_client, ...)` without advancing the clock ends with the waiter's
    WaitTimeoutError (carrying what it saw last), not a RateLimitError."""
    with pytest.raises(WaitTimeoutError) as info:
        await onboard_customer(layers_client, ACME, influencer_timeout=2.5)
    assert "ready influencer" in str(info.value)
    assert info.value.last_state is not None


@pytest.mark.anyio
async def test_onboarding_with_a_default_client_on_a_paused_clock_times_out(
    layers_sandbox: Sandbox,
) -> None:
    """A default client gets the same WaitTimeoutError on the same paused clock."""
    async with LayersClient(api_key=layers_sandbox.api_key, base_url=layers_sandbox.url) as client:
        with pytest.raises(WaitTimeoutError) as info:
            await onboard_customer(client, ACME, influencer_timeout=2.5)
    assert "ready influencer" in str(info.value)


@pytest.mark.anyio
async def test_no_waits_keeps_the_pace_of_polls(sandbox: Sandbox) -> None:
    """Under no_waits a waiter polling every 50 ms for 0.5 s sends a dozen polls at most (the
    retries' waits are what no_waits removes, not the pace of polls)."""
    pace = PollPolicy(initial=0.05, multiplier=1.0, max_interval=0.05, jitter=0.0)
    async with LayersClient(api_key=sandbox.api_key, base_url=sandbox.url, poll_policy=pace) as c:
        job_id = await _running_job(c)
        with no_waits(), pytest.raises(WaitTimeoutError):
            await wait_for_job(c, job_id, timeout=0.5)
        assert 1 <= c.polls_sent <= 12


@pytest.mark.anyio
async def test_a_rate_limited_poll_does_not_end_the_wait(sandbox: Sandbox) -> None:
    """Polls refused with 429 (no retries left) are polled again later; the waiter still sees
    the job complete once the clock moves."""
    async with LayersClient(
        api_key=sandbox.api_key,
        base_url=sandbox.url,
        poll_policy=QUICK_POLL,
        retry=NO_RETRY,
        rate_limit_tier=False,
    ) as client:
        job_id = await _running_job(client)
        refuse = {"route": "GET /v1/jobs/{jobId}", "action": "http_429", "retryAfter": 1}
        await sandbox.configure(faults=[{**refuse, "times": 3}])
        waiter = asyncio.create_task(wait_for_job(client, job_id, timeout=10))
        await asyncio.sleep(0.1)
        await sandbox.advance(600)
        job = await waiter
    assert job.status == "completed"
    refused = (await sandbox.state())["requests"]["byRoute"]["GET /v1/jobs/{jobId}"]
    assert refused >= 4  # three refused polls, then the one that saw the job done
