"""Event-fed waiters: real deliveries from the sandbox end `wait_for_job` and `wait_for_oauth`
through `client.webhooks.feed`, polling only as a safety net for lost deliveries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import aiohttp
import attrs
import pytest

from layers_async import (
    DEFAULT_POLL,
    AttemptEvent,
    Job,
    JobCanceledError,
    JobCompletedEvent,
    JobEventData,
    JobFailedError,
    LayersClient,
    PollPolicy,
    Sandbox,
    wait_for_job,
    wait_for_oauth,
)
from tests.waiters._fed import fed
from tests.waiters.test_waiters import DESC, QUICK, _ready_project, _remix

pytestmark = pytest.mark.anyio
MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
#: A safety net that never polls within a test: only events can end the waits.
NEVER = PollPolicy(initial=600.0, max_interval=600.0, jitter=0.0, first_delay=600.0)
#: A safety net that polls soon and often (lost deliveries).
SOON = PollPolicy(initial=0.05, multiplier=1.0, max_interval=0.05, jitter=0.0, first_delay=0.05)


def _client(sb: Sandbox, **kw: Any) -> LayersClient:
    kw.setdefault("poll_policy", QUICK)
    kw.setdefault("poll_rate", None)
    return LayersClient(api_key=sb.api_key, base_url=sb.url, rate_limit_tier="partner", **kw)


@asynccontextmanager
async def _job_running(
    make_sandbox: MakeSandbox, net: PollPolicy, **options: Any
) -> AsyncIterator[tuple[Sandbox, LayersClient, Job]]:
    """A fed client made event-fed on `net`, and a remix job running on its paused sandbox."""
    async with make_sandbox(jitter=0, **options) as sb, _client(sb) as client, fed(client):
        client.webhooks.enable(net)
        pid, inf = await _ready_project(client, sb)
        yield sb, client, await _remix(client, pid, inf)


async def _advance_soon(sb: Sandbox, seconds: float) -> None:
    await asyncio.sleep(0.05)  # let the waiter start first
    await sb.advance(seconds)


async def test_completed_event_ends_the_wait_without_a_poll(make_sandbox: MakeSandbox) -> None:
    """Given the job's envelope, job.completed alone ends the wait: no poll, the polled Job."""
    async with _job_running(make_sandbox, NEVER) as (sb, client, job):
        before = client.polls_sent
        done, _ = await asyncio.gather(
            wait_for_job(client, job, timeout=30), _advance_soon(sb, 130)
        )
        assert client.polls_sent == before
        assert client.webhooks.answered_by_events == 1
        polled = await client.jobs.get(job.job_id)
        assert attrs.evolve(done, finished_at=None, updated_at=None) == attrs.evolve(
            polled, finished_at=None, updated_at=None
        )
        assert done.finished_at is not None
        assert polled.finished_at is not None
        assert done.finished_at >= polled.finished_at


async def test_completed_event_for_a_bare_id_costs_one_poll(make_sandbox: MakeSandbox) -> None:
    """Given only the job id, the event makes the stream poll once, at once: the polled Job."""
    async with _job_running(make_sandbox, NEVER) as (sb, client, job):
        before = client.polls_sent
        done, _ = await asyncio.gather(
            wait_for_job(client, job.job_id, timeout=30), _advance_soon(sb, 130)
        )
        assert client.polls_sent == before + 1
        assert done == await client.jobs.get(job.job_id)


async def test_failed_event_raises_what_polling_raises(make_sandbox: MakeSandbox) -> None:
    """job.failed raises JobFailedError with the polled failed job and its error code."""
    async with _job_running(make_sandbox, NEVER, failure_rates={"content_generate": 1.0}) as (
        sb,
        client,
        job,
    ):
        waiter = asyncio.create_task(wait_for_job(client, job, timeout=30))
        await _advance_soon(sb, 130)
        with pytest.raises(JobFailedError) as info:
            await waiter
        assert info.value.job.status == "failed"
        assert info.value.error.code == "GENERATION_FAILED"


async def test_canceled_event_raises_job_canceled_error(make_sandbox: MakeSandbox) -> None:
    """job.canceled raises JobCanceledError, as polling does."""
    async with _job_running(make_sandbox, NEVER) as (_, client, job):
        waiter = asyncio.create_task(wait_for_job(client, job, timeout=30))
        await asyncio.sleep(0.05)
        await client.jobs.cancel(job.job_id)
        with pytest.raises(JobCanceledError) as info:
            await waiter
        assert info.value.job.status == "canceled"


async def _delivered(client: LayersClient, job_id: str) -> None:
    """Until the job's event was fed (kept for later waits)."""
    for _ in range(200):
        if ("job", job_id) in client._pool.hub.recent:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the job's event never arrived")


async def test_event_before_the_wait_ends_it_at_once(make_sandbox: MakeSandbox) -> None:
    """An event fed before anyone waits is kept: a wait that starts after ends without a poll."""
    async with _job_running(make_sandbox, NEVER) as (sb, client, job):
        await sb.advance(130)
        await _delivered(client, job.job_id)
        before = client.polls_sent
        done = await wait_for_job(client, job, timeout=30)
        assert done.status == "completed"
        assert client.polls_sent == before


def _event(job_id: str, org: str | None, event_id: str = "evt_01KPM7QZEC6NJF4XJTCZRR6S3N") -> Any:
    data = JobEventData(job_id=job_id, organization_id=org, kind="content_generate", result={})
    return JobCompletedEvent(id=event_id, type="job.completed", data=data)


async def test_duplicate_events_are_harmless(make_sandbox: MakeSandbox) -> None:
    """Feeding the same event again wakes nothing and changes nothing."""
    async with _job_running(make_sandbox, NEVER) as (_, client, job):
        waiter = asyncio.create_task(wait_for_job(client, job, timeout=30))
        await asyncio.sleep(0.05)
        me = await client.whoami()
        event = _event(job.job_id, me.organization_id)
        assert client.webhooks.feed(event) == 1
        first = await waiter
        assert client.webhooks.feed(event) == 0
        assert await wait_for_job(client, job, timeout=30) == first


async def test_events_of_other_organizations_and_unknown_ids_are_ignored(
    make_sandbox: MakeSandbox,
) -> None:
    """An event naming another organization, or a job nobody waits on, ends no wait."""
    async with _job_running(make_sandbox, NEVER) as (_, client, job):
        me = await client.whoami()  # the client learns its own organization
        waiter = asyncio.create_task(wait_for_job(client, job, timeout=30))
        await asyncio.sleep(0.05)
        other = "org_00000000-0000-4000-8000-000000000000"
        assert client.webhooks.feed(_event(job.job_id, other)) == 0
        assert client.webhooks.feed(_event("job_01HXA1NHKJZXPV8R7Q6WSM5BCD", None)) == 0
        await asyncio.sleep(0.05)
        assert not waiter.done()
        assert client.webhooks.feed(_event(job.job_id, me.organization_id)) == 1
        assert (await waiter).status == "completed"


async def test_lost_delivery_is_finished_by_a_safety_poll(make_sandbox: MakeSandbox) -> None:
    """With every delivery dropped, the safety net's poll still ends the wait."""
    async with _job_running(make_sandbox, SOON, webhook_drop_rate=1.0) as (sb, client, job):
        before = client.polls_sent
        done, _ = await asyncio.gather(
            wait_for_job(client, job, timeout=30), _advance_soon(sb, 130)
        )
        assert done == await client.jobs.get(job.job_id)
        assert client.polls_sent > before
        assert client.webhooks.answered_by_events == 0


async def test_paused_endpoint_still_lets_the_wait_finish(make_sandbox: MakeSandbox) -> None:
    """With the receiver's endpoint paused (no delivery at all), the safety net ends the wait."""
    async with _job_running(make_sandbox, SOON) as (sb, client, job):
        endpoint = await anext(aiter(client.webhook_endpoints.list()))
        await client.webhook_endpoints.update(endpoint.id, status="paused")
        done, _ = await asyncio.gather(
            wait_for_job(client, job, timeout=30), _advance_soon(sb, 130)
        )
        assert done.status == "completed"
        assert client.webhooks.answered_by_events == 0


async def test_event_fed_waits_poll_on_the_safety_net_only(make_sandbox: MakeSandbox) -> None:
    """While the job runs (clock paused), an event-fed wait sends no poll before its safety
    net's first one; the same wait on a polling-only client polls on its policy."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client, _client(sb) as fed_client:
        fed_client.webhooks.enable(NEVER)
        pid, inf = await _ready_project(client, sb)
        job = await _remix(client, pid, inf)
        for c in (client, fed_client):
            waiter = asyncio.create_task(wait_for_job(c, job, timeout=30))
            await asyncio.sleep(0.2)
            waiter.cancel()
        assert fed_client.polls_sent == 0
        assert client.polls_sent >= 2


async def test_safety_net_first_poll_comes_before_the_deadline(make_sandbox: MakeSandbox) -> None:
    """A wait shorter than the safety net's first delay still polls (at half its deadline)."""
    async with _job_running(make_sandbox, NEVER, webhook_drop_rate=1.0) as (sb, client, job):
        done, _ = await asyncio.gather(
            wait_for_job(client, job, timeout=0.5), _advance_soon(sb, 130)
        )
        assert done.status == "completed"


async def test_first_feed_makes_the_client_event_fed(make_sandbox: MakeSandbox) -> None:
    """Without enable(), the first fed event switches the client to the scaled safety net."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        assert not client.webhooks.is_event_fed
        assert client.webhooks.feed(_event("job_01HXA1NHKJZXPV8R7Q6WSM5BCD", None)) == 0
        assert client.webhooks.is_event_fed
        assert client.webhooks.safety_net is not None
        client.webhooks.disable()
        assert not client.webhooks.is_event_fed


async def test_connected_event_ends_the_oauth_wait_without_a_poll(
    make_sandbox: MakeSandbox,
) -> None:
    """Given the OAuthUrl, social_account.connected alone ends the wait: the polled attempt."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client, fed(client):
        client.webhooks.enable(NEVER)
        project = await client.projects.create(name="Acme", timezone="UTC", app_description=DESC)
        url = await client.social.oauth_url(
            project.id, platform="tiktok", return_url="http://localhost:3000/cb"
        )
        waiter = asyncio.create_task(wait_for_oauth(client, project.id, url, timeout=30))
        await asyncio.sleep(0.05)
        await sb.authorize(url.authorize_url)
        done = await waiter
        assert client.polls_sent == 0
        assert done == await client.social.oauth_status(project.id, url.state)


async def test_connected_event_for_a_bare_state_costs_one_poll(make_sandbox: MakeSandbox) -> None:
    """Given only the state, the project's connected event makes the OAuth wait poll once."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client, fed(client):
        client.webhooks.enable(NEVER)
        project = await client.projects.create(name="Acme", timezone="UTC", app_description=DESC)
        url = await client.social.oauth_url(
            project.id, platform="tiktok", return_url="http://localhost:3000/cb"
        )
        waiter = asyncio.create_task(wait_for_oauth(client, project.id, url.state, timeout=30))
        await asyncio.sleep(0.05)
        await sb.authorize(url.authorize_url)
        assert (await waiter).status == "completed"
        assert client.polls_sent == 1


async def test_safety_net_polls_at_the_extrapolated_end(make_sandbox: MakeSandbox) -> None:
    """With every delivery lost, the safety net places its next poll at the job's end
    extrapolated from `progress` (sandbox clock at speed 60), not at its blind interval."""
    net = PollPolicy(
        initial=0.2, multiplier=1.0, max_interval=0.2, jitter=0.0, margin=0.1, first_delay=0.5
    )
    async with _job_running(make_sandbox, net, speed=60, webhook_drop_rate=1.0) as (_, client, job):
        before = client.polls_sent
        done = await wait_for_job(client, job, timeout=30)  # 120 virtual s: 2 real s
        assert done.status == "completed"
        # Blind, every 0.2 s from 0.5 s to the end would take 8 polls or more.
        assert client.polls_sent - before <= 4


async def test_an_event_whose_result_cannot_be_read_makes_the_wait_poll(
    make_sandbox: MakeSandbox,
) -> None:
    """A job.completed whose result this SDK cannot read ends the wait by one poll instead."""
    lost = {"webhook_drop_rate": 1.0}  # only the event fed by hand arrives
    async with _job_running(make_sandbox, NEVER, **lost) as (sb, client, job):
        me = await client.whoami()
        waiter = asyncio.create_task(wait_for_job(client, job, timeout=30))
        await _advance_soon(sb, 130)
        before = client.polls_sent
        org = me.organization_id
        data = JobEventData(job_id=job.job_id, organization_id=org, result={"assets": [1]})
        event = JobCompletedEvent(id="evt_x", type="job.completed", data=data)
        assert client.webhooks.feed(event) == 1
        assert (await waiter) == await client.jobs.get(job.job_id)
        assert client.polls_sent == before + 1
        assert client.webhooks.answered_by_events == 0


async def test_confirm_polls_once_on_each_event(make_sandbox: MakeSandbox) -> None:
    """enable(confirm=True): the event makes the wait poll once instead of building the Job."""
    async with _job_running(make_sandbox, NEVER) as (sb, client, job):
        client.webhooks.enable(NEVER, confirm=True)
        before = client.polls_sent
        done, _ = await asyncio.gather(
            wait_for_job(client, job, timeout=30), _advance_soon(sb, 130)
        )
        assert done == await client.jobs.get(job.job_id)
        assert client.polls_sent == before + 1
        assert client.webhooks.answered_by_events == 0


async def test_onboarding_flows_wait_on_events_without_job_or_oauth_polls(
    make_sandbox: MakeSandbox,
) -> None:
    """onboard_customer on an event-fed client: its job and OAuth waits end on their events
    alone (the flow hands them the envelope and the OAuthUrl), with no poll of either."""
    from tests.waiters.test_flows import _customers, _Flow, _sandbox

    polls: list[str] = []

    def count(event: AttemptEvent) -> None:
        if event.path.startswith("/v1/jobs/") or "oauth-status" in event.path:
            polls.append(event.path)

    speed60 = DEFAULT_POLL.scaled(1 / 60)
    async with (
        _sandbox(make_sandbox) as sb,
        _client(sb, poll_policy=speed60, poll_rate=1000.0, on_request=count) as client,
        fed(client),
        aiohttp.ClientSession() as http,
    ):
        client.webhooks.enable(NEVER)
        results = await _Flow(sb, client, http).run(_customers(5))
        assert [r.error for r in results if not r.ok] == []
        assert client.webhooks.answered_by_events == 10
        assert polls == []


async def test_every_waiter_on_one_job_counts_as_answered_by_the_event(
    make_sandbox: MakeSandbox,
) -> None:
    """Three waits sharing one stream all end on the event: three waits answered, no poll."""
    async with _job_running(make_sandbox, NEVER) as (sb, client, job):
        *done, _ = await asyncio.gather(
            *[wait_for_job(client, job, timeout=30) for _ in range(3)], _advance_soon(sb, 130)
        )
        assert {d.status for d in done} == {"completed"}
        assert client.webhooks.answered_by_events == 3
        assert client.polls_sent == 0


async def test_a_client_fed_without_enable_builds_the_state_from_the_event(
    make_sandbox: MakeSandbox,
) -> None:
    """Without enable(), fed events are read as with enable(confirm=False): a job.completed fed
    before the wait ends it at once from the event's data, without a poll."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        pid, inf = await _ready_project(client, sb)
        job = await _remix(client, pid, inf)
        me = await client.whoami()
        assert client.webhooks.feed(_event(job.job_id, me.organization_id)) == 0
        before = client.polls_sent
        done = await wait_for_job(client, job, timeout=5)
        assert done.status == "completed"
        assert client.polls_sent == before
        assert client.webhooks.answered_by_events == 1
