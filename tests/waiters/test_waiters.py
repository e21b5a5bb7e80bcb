"""Waiters over the shared PollHub: coalescing, economy, every error path, cancellation."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from layers_async import (
    DEFAULT_POLL,
    NO_RETRY,
    InfluencerFailedError,
    Job,
    JobCanceledError,
    JobFailedError,
    LayersClient,
    LayersValidationError,
    OAuthExpiredError,
    OAuthFailedError,
    PollPolicy,
    Sandbox,
    WaitTimeoutError,
    wait_for_job,
    wait_for_keywords,
    wait_for_oauth,
    wait_for_ready_influencer,
)

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
DESC = (
    "Acme Coffee delivers freshly roasted beans on a schedule that fits runners and night-shift "
    "workers who never want to run out."
)
#: Fast, deterministic polling for tests against a paused clock.
QUICK = PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0, margin=0.0)
JOB_ROUTE = "GET /v1/jobs/{jobId}"


def _client(sb: Sandbox, **kw: Any) -> LayersClient:
    kw.setdefault("poll_policy", QUICK)
    kw.setdefault("poll_rate", None)
    kw.setdefault("rate_limit_tier", "partner")
    return LayersClient(api_key=sb.api_key, base_url=sb.url, **kw)


async def _polls(sb: Sandbox, route: str = JOB_ROUTE) -> int:
    return int((await sb.state())["requests"]["byRoute"].get(route, 0))


async def _ready_project(client: LayersClient, sb: Sandbox) -> tuple[str, str]:
    project = await client.projects.create(name="Acme", timezone="UTC", app_description=DESC)
    await sb.advance(80)
    ready = await client.influencers.list(project.id, status="ready")
    return project.id, ready.items[0].influencer_id


async def _remix(client: LayersClient, project_id: str, influencer_id: str) -> Job:
    recs = await client.content.source_recommendations(project_id, kind="slideshow", keyword="tea")
    return await client.content.slideshow_remix(
        project_id, tiktok_video_id=recs.items[0].tiktok_id, influencer_id=influencer_id
    )


@pytest.mark.anyio
async def test_many_waiters_share_one_poll_stream(make_sandbox: MakeSandbox) -> None:
    """100 concurrent waiters on one job send as many polls (±1) as a single waiter."""
    # One poll at once, the next 0.5 s later; the clock advances in between, so a single
    # waiter needs exactly two polls to see the job complete.
    two_polls = PollPolicy(initial=0.5, multiplier=1.0, max_interval=0.5, jitter=0.0)
    async with make_sandbox(jitter=0) as sb, _client(sb, poll_policy=two_polls) as client:
        pid, inf = await _ready_project(client, sb)
        single_job = await _remix(client, pid, inf)
        base = await _polls(sb)
        done, _ = await asyncio.gather(
            wait_for_job(client, single_job.job_id), _advance_in(sb, 0.1, 130)
        )
        single = await _polls(sb) - base
        assert done.status == "completed"

        crowd_job = await _remix(client, pid, inf)
        base = await _polls(sb)
        results = await asyncio.gather(
            *[wait_for_job(client, crowd_job.job_id) for _ in range(100)],
            _advance_in(sb, 0.1, 130),
        )
        crowd = await _polls(sb) - base
        assert all(r is not None and r.status == "completed" for r in results[:100])
        assert single == 2
        assert abs(crowd - single) <= 1, (single, crowd)
        assert client._waiting.hub.active_streams == 0


async def _advance_in(sb: Sandbox, delay: float, seconds: float) -> None:
    await asyncio.sleep(delay)
    await sb.advance(seconds)


@pytest.mark.anyio
@pytest.mark.timeout(90)
async def test_a_long_job_costs_few_polls_and_is_seen_promptly(make_sandbox: MakeSandbox) -> None:
    """A 120-virtual-second remix at speed 60 is detected in <= 6 polls with a small lag."""
    async with (
        make_sandbox(speed=60, jitter=0) as sb,
        _client(sb, poll_policy=DEFAULT_POLL.scaled(1 / 60), poll_rate=50.0) as client,
    ):
        project = await client.projects.create(name="Acme", timezone="UTC", app_description=DESC)
        influencer = await wait_for_ready_influencer(client, project.id, timeout=30)
        lags: list[float] = []
        polls: list[int] = []
        for _ in range(5):
            job = await _remix(client, project.id, influencer.influencer_id)
            before = await _polls(sb)
            done = await wait_for_job(client, job.job_id, timeout=30)
            state = await sb.state()  # read the clock right after the waiter returned
            polls.append(int(state["requests"]["byRoute"][JOB_ROUTE]) - before)
            assert done.finished_at is not None
            now = datetime.fromisoformat(state["now"].replace("Z", "+00:00"))
            lags.append((now - done.finished_at).total_seconds() / 60)  # virtual → real s
        assert max(polls) <= 6, polls
        assert statistics.median(lags) <= 0.15 * 2.0, lags
        assert max(lags) <= 0.30 * 2.0, lags


@pytest.mark.anyio
async def test_failed_job_raises_job_failed_error(make_sandbox: MakeSandbox) -> None:
    """A job that fails raises JobFailedError carrying the job and its error code."""
    async with (
        make_sandbox(jitter=0, failure_rates={"content_generate": 1.0}) as sb,
        _client(sb) as client,
    ):
        pid, inf = await _ready_project(client, sb)
        job = await _remix(client, pid, inf)
        waiter = asyncio.create_task(wait_for_job(client, job.job_id))
        await _advance_in(sb, 0.05, 130)
        with pytest.raises(JobFailedError) as info:
            await waiter
        assert info.value.job.status == "failed"
        assert info.value.error.code == "GENERATION_FAILED"


@pytest.mark.anyio
async def test_canceled_job_raises_job_canceled_error(make_sandbox: MakeSandbox) -> None:
    """A job canceled on the server raises JobCanceledError for its waiter."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        pid, inf = await _ready_project(client, sb)
        job = await _remix(client, pid, inf)
        waiter = asyncio.create_task(wait_for_job(client, job.job_id))
        await asyncio.sleep(0.05)
        await client.jobs.cancel(job.job_id)  # stage queued: canceled at once
        with pytest.raises(JobCanceledError) as info:
            await waiter
        assert info.value.job.status == "canceled"


@pytest.mark.anyio
async def test_deadline_raises_wait_timeout_with_last_state(make_sandbox: MakeSandbox) -> None:
    """A waiter whose deadline passes raises WaitTimeoutError holding the last job seen."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        pid, inf = await _ready_project(client, sb)
        job = await _remix(client, pid, inf)
        with pytest.raises(WaitTimeoutError) as info:
            await wait_for_job(client, job.job_id, timeout=0.3)
        assert isinstance(info.value, TimeoutError)
        last = info.value.last_state
        assert isinstance(last, Job)
        assert last.status == "running"
        assert client._waiting.hub.active_streams == 0


@pytest.mark.anyio
async def test_cancelling_one_waiter_leaves_the_other(make_sandbox: MakeSandbox) -> None:
    """Of two waiters on one job, cancelling the first does not disturb the second."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        pid, inf = await _ready_project(client, sb)
        job = await _remix(client, pid, inf)
        first = asyncio.create_task(wait_for_job(client, job.job_id))
        second = asyncio.create_task(wait_for_job(client, job.job_id))
        await asyncio.sleep(0.05)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert client._waiting.hub.active_streams == 1
        await sb.advance(130)
        done = await asyncio.wait_for(second, 5)
        assert done.status == "completed"
        assert (await client.jobs.get(job.job_id)).status == "completed"


@pytest.mark.anyio
async def test_cancel_remote_cancels_the_job_on_the_server(make_sandbox: MakeSandbox) -> None:
    """With cancel_remote=True, cancelling the waiter also cancels the job."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        pid, inf = await _ready_project(client, sb)
        job = await _remix(client, pid, inf)
        waiter = asyncio.create_task(wait_for_job(client, job.job_id, cancel_remote=True))
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert (await client.jobs.get(job.job_id)).status == "canceled"
        assert (await sb.state())["counts"]["containers"]["byStatus"] == {"canceled": 1}


@pytest.mark.anyio
async def test_ready_influencer_and_failed_influencer(make_sandbox: MakeSandbox) -> None:
    """wait_for_ready_influencer returns the first ready one; a failed one raises."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        project = await client.projects.create(name="Acme", timezone="UTC", app_description=DESC)
        waiter = asyncio.create_task(wait_for_ready_influencer(client, project.id))
        await _advance_in(sb, 0.05, 61)
        ready = await waiter
        assert ready.status == "ready"
    faulty = {"influencer_create": 1.0}
    async with make_sandbox(jitter=0, failure_rates=faulty) as sb, _client(sb) as client:
        project = await client.projects.create(name="Acme", timezone="UTC", app_description=DESC)
        job = await client.influencers.create(project.id)
        assert job.influencer_id is not None
        only = asyncio.create_task(
            wait_for_ready_influencer(client, project.id, influencer_id=job.influencer_id)
        )
        anyone = asyncio.create_task(wait_for_ready_influencer(client, project.id))
        await _advance_in(sb, 0.05, 61)
        with pytest.raises(InfluencerFailedError) as one:
            await only
        assert one.value.influencer.influencer_id == job.influencer_id
        with pytest.raises(InfluencerFailedError):
            await anyone  # the first influencer failed too: every influencer has failed


@pytest.mark.anyio
async def test_keywords_wait_for_refreshed_at(make_sandbox: MakeSandbox) -> None:
    """wait_for_keywords returns once research sets refreshedAt, and honours `after`."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        project = await client.projects.create(name="Acme", timezone="UTC", app_description=DESC)
        waiter = asyncio.create_task(wait_for_keywords(client, project.id))
        await _advance_in(sb, 0.05, 271)
        bank = await waiter
        assert bank.refreshed_at is not None
        assert len(bank.hashtags) == 20
        await client.keywords.refresh(project.id)
        again = asyncio.create_task(wait_for_keywords(client, project.id, after=bank.refreshed_at))
        await asyncio.sleep(0.05)
        assert not again.done()
        await sb.advance(271)
        newer = await asyncio.wait_for(again, 5)
        assert newer.refreshed_at is not None
        assert newer.refreshed_at > bank.refreshed_at


@pytest.mark.anyio
async def test_oauth_completed_denied_and_expired(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """wait_for_oauth returns on consent, raises OAuthFailedError on denial, OAuthExpired on TTL."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        project = await client.projects.create(name="Acme", timezone="UTC")
        cb = "http://localhost:3000/cb"
        ok = await client.social.oauth_url(project.id, platform="tiktok", return_url=cb)
        waiter = asyncio.create_task(wait_for_oauth(client, project.id, ok.state))
        await asyncio.sleep(0.05)
        async with session.get(ok.authorize_url, allow_redirects=False) as r:
            assert r.status == 302
        done = await asyncio.wait_for(waiter, 5)
        assert done.social_account_id is not None

        denied = await client.social.oauth_url(project.id, platform="tiktok", return_url=cb)
        waiter = asyncio.create_task(wait_for_oauth(client, project.id, denied.state))
        await asyncio.sleep(0.05)
        async with session.get(denied.authorize_url + "&decision=deny", allow_redirects=False):
            pass
        with pytest.raises(OAuthFailedError) as failed:
            await asyncio.wait_for(waiter, 5)
        assert failed.value.attempt.error.code == "OAUTH_DENIED"

        late = await client.social.oauth_url(project.id, platform="instagram", return_url=cb)
        waiter = asyncio.create_task(wait_for_oauth(client, project.id, late.state))
        await _advance_in(sb, 0.05, 601)
        with pytest.raises(OAuthExpiredError) as expired:
            await asyncio.wait_for(waiter, 5)
        assert expired.value.attempt.status == "expired"


@pytest.mark.anyio
async def test_unknown_job_fails_the_waiter_with_not_found(sandbox: Sandbox) -> None:
    """A job that does not exist ends the wait with the API's NotFoundError, not a hang."""
    from layers_async import NotFoundError

    async with _client(sandbox, retry=NO_RETRY) as client:
        with pytest.raises(NotFoundError):
            await wait_for_job(client, "job_01HXA1NHKJZXPV8R7Q6WSM5BCD", timeout=5)
        assert client._waiting.hub.active_streams == 0


@pytest.mark.anyio
async def test_waiters_share_streams_only_inside_one_organization(
    make_sandbox: MakeSandbox,
) -> None:
    """The same job id awaited through another organization's view polls on its own stream."""
    from layers_async import NotFoundError

    async with make_sandbox(jitter=0) as sb, _client(sb, retry=NO_RETRY) as client:
        pid, inf = await _ready_project(client, sb)
        job = await _remix(client, pid, inf)
        other = client.for_organization("org_00000000-0000-4000-8000-000000000000")
        mine = asyncio.ensure_future(wait_for_job(client, job.job_id, timeout=30))
        await asyncio.sleep(0.05)  # the first waiter's stream is polling
        assert client._waiting.hub.active_streams == 1
        with pytest.raises(NotFoundError):  # polled as the other organization: no such org
            await other.wait_for_job(job.job_id, timeout=30)
        await sb.advance(130)
        assert (await mine).status == "completed"
        assert client._waiting.hub.active_streams == 0


@pytest.mark.anyio
async def test_bad_waiter_input_is_refused_before_polling(sandbox: Sandbox) -> None:
    """Malformed ids, a non-positive timeout and a wrong policy raise LayersValidationError."""
    async with _client(sandbox) as client:
        with pytest.raises(LayersValidationError):
            await wait_for_job(client, "job-1")
        with pytest.raises(LayersValidationError):
            await wait_for_job(client, "job_01HXA1NHKJZXPV8R7Q6WSM5BCD", timeout=0)
        with pytest.raises(LayersValidationError):
            await wait_for_ready_influencer(client, "prj_x")
        with pytest.raises(LayersValidationError):
            await wait_for_oauth(client, "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11", "st_lower")
        with pytest.raises(LayersValidationError):
            await wait_for_job(
                client,
                "job_01HXA1NHKJZXPV8R7Q6WSM5BCD",
                policy="fast",  # type: ignore[arg-type]
            )
        assert (await sandbox.state())["requests"]["total"] == 0


@pytest.mark.anyio
async def test_client_methods_mirror_the_functions(make_sandbox: MakeSandbox) -> None:
    """client.wait_for_job and friends behave as the module functions."""
    async with make_sandbox(jitter=0) as sb, _client(sb) as client:
        project = await client.projects.create(name="Acme", timezone="UTC", app_description=DESC)
        waiter = asyncio.create_task(client.wait_for_ready_influencer(project.id))
        await _advance_in(sb, 0.05, 61)
        influencer = await waiter
        job = await _remix(client, project.id, influencer.influencer_id)
        waiter2 = asyncio.create_task(client.wait_for_job(job.job_id))
        await _advance_in(sb, 0.05, 130)
        assert (await waiter2).status == "completed"
