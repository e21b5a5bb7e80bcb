"""Closing a client under its waiters and calls raises `ClientClosedError`, a `LayersError` (and a
`RuntimeError`, as before), in every waiter and in every call made afterwards."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from layers_async import (
    ClientClosedError,
    LayersClient,
    LayersError,
    Sandbox,
    wait_for_job,
    wait_for_ready_influencer,
)
from layers_async.testing import QUICK_POLL


async def _running_job(client: LayersClient) -> tuple[str, str]:
    """A project and a job on it that stays running (the sandbox's clock is paused)."""
    project = await client.projects.create(name="Closing Co", timezone="UTC")
    job = await client.content.slideshow_builder(project.id, hook="hello")
    return project.id, job.job_id


@pytest.mark.anyio
async def test_waiters_pending_at_close_raise_client_closed_error(sandbox: Sandbox) -> None:
    """Every waiter pending when its client closes (two on one job, one on an influencer)
    raises ClientClosedError, a LayersError."""
    client = LayersClient(api_key=sandbox.api_key, base_url=sandbox.url, poll_policy=QUICK_POLL)
    project_id, job_id = await _running_job(client)
    waiters = [
        asyncio.create_task(wait_for_job(client, job_id, timeout=None)),
        asyncio.create_task(client.wait_for_job(job_id, timeout=None)),
        asyncio.create_task(wait_for_ready_influencer(client, project_id, timeout=None)),
    ]
    await asyncio.sleep(0.05)
    await client.aclose()
    done = await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True), 2)
    for err in done:
        assert isinstance(err, ClientClosedError)
        assert isinstance(err, LayersError)
        assert isinstance(err, RuntimeError)
        assert "closed" in str(err)
        assert isinstance(pickle.loads(pickle.dumps(err)), ClientClosedError)


@pytest.mark.anyio
async def test_calls_and_waiters_after_close_raise_client_closed_error(sandbox: Sandbox) -> None:
    """A call, a view's call and a new waiter on a closed client raise ClientClosedError."""
    client = LayersClient(api_key=sandbox.api_key, base_url=sandbox.url, poll_policy=QUICK_POLL)
    _, job_id = await _running_job(client)
    view = client.with_options(timeout=5)
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await client.whoami()
    with pytest.raises(ClientClosedError):
        await view.jobs.get(job_id)
    with pytest.raises(ClientClosedError):
        await asyncio.wait_for(wait_for_job(client, job_id, timeout=None), 2)
