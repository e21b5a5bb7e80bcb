"""Views of one client with other keys (`with_options(api_key=...)`): one pool, but each key its
own rate-limit gate and retry budget; `for_organization()` views keep the parent key's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from layers_async import (
    APITimeoutError,
    InternalServerError,
    LayersClient,
    LayersValidationError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    Sandbox,
    Secret,
)
from layers_async.testing import QUICK_POLL
from tests.client._orgs import child_with_key
from tests.client._setup import MakeSandbox

CREDITS = "GET /v1/credits"
#: Retries allowed, but never a wait longer than 5 s: a 30 s Retry-After fails the call at once
#: (and pauses the key's class for those 5 s).
SHORT_WAITS = RetryPolicy(max_attempts=3, max_retry_after=5.0)
#: A deadline shorter than that pause: a call of a paused key fails at once, unsent.
SOON = 1.0


def _connections() -> tuple[aiohttp.TraceConfig, SimpleNamespace]:
    """A trace config counting new connections and reused ones."""
    seen = SimpleNamespace(created=0, reused=0)
    trace = aiohttp.TraceConfig()

    async def created(*_: Any) -> None:
        seen.created += 1

    async def reused(*_: Any) -> None:
        seen.reused += 1

    trace.on_connection_create_end.append(created)
    trace.on_connection_reuseconn.append(reused)
    return trace, seen


def _requests(state: dict[str, Any], route: str) -> int:
    count: int = state["requests"]["byRoute"].get(route, 0)
    return count


@pytest.fixture
async def faulty_credits(make_sandbox: MakeSandbox) -> AsyncIterator[Sandbox]:
    """A paused sandbox whose first `GET /v1/credits` is a 429 asking for 30 seconds."""
    faults = [{"route": CREDITS, "action": "http_429", "retryAfter": 30, "times": 1}]
    async with make_sandbox(faults=faults) as sb:
        yield sb


@pytest.mark.anyio
async def test_a_429_on_one_child_key_does_not_pause_another(faulty_credits: Sandbox) -> None:
    """Two child-key views over one pool: a 429 pauses the first key's class only; the second
    key and the parent send at once, and the first key's next call fails without being sent."""
    sb = faulty_credits
    trace, conns = _connections()
    async with LayersClient(
        api_key=sb.api_key, base_url=sb.url, retry=SHORT_WAITS, trace_configs=[trace]
    ) as client:
        _, first = await child_with_key(client, "First")
        _, second = await child_with_key(client, "Second")
        a, b = client.with_options(api_key=first), client.with_options(api_key=second)
        assert a.shares_pool_with(b)
        assert a.shares_pool_with(client)
        with pytest.raises(RateLimitError) as refused:
            await a.credits.get()
        assert refused.value.retry_after == 30
        wallet = await b.credits.get()
        assert wallet.meta is not None
        assert (wallet.meta.attempts, wallet.meta.waited) == (1, 0.0)
        assert (await client.credits.get()).meta is not None
        with pytest.raises(RateLimitError) as paused:
            await a.credits.get(timeout=SOON)
        assert paused.value.details == {"limitType": "client_pause"}
        same_key = client.with_options(api_key=first, timeout=SOON)  # another view, same key
        with pytest.raises(RateLimitError, match="paused"):
            await same_key.credits.get()
    state = await sb.state()
    assert _requests(state, CREDITS) == 3  # a's 429, b's and the parent's; not a's second
    assert conns.created == 1  # one pool: every view's calls went over one connection
    assert conns.reused > 0


@pytest.mark.anyio
async def test_for_organization_views_share_the_parent_keys_gate(faulty_credits: Sandbox) -> None:
    """A 429 answered to the parent key pauses its for_organization views too (same key, same
    buckets), while a child key's view goes on."""
    sb = faulty_credits
    async with LayersClient(api_key=sb.api_key, base_url=sb.url, retry=SHORT_WAITS) as client:
        org, secret = await child_with_key(client)
        with pytest.raises(RateLimitError):
            await client.credits.get()
        inside = client.for_organization(org)
        with pytest.raises(RateLimitError) as paused:
            await inside.credits.get(timeout=SOON)
        assert paused.value.details == {"limitType": "client_pause"}
        own_gate = client.with_options(api_key=secret, timeout=SOON)
        assert (await own_gate.credits.get()).organization_id == org


@pytest.mark.anyio
async def test_each_key_spends_its_own_retry_budget(make_sandbox: MakeSandbox) -> None:
    """With a budget of one retry per key, the first key spends its own and fails; the second
    key still retries (its budget is its own) and succeeds."""
    faults = [{"route": CREDITS, "action": "http_500", "times": 3}]
    policy = RetryPolicy(max_attempts=3, budget_ratio=0.0, budget_burst=1)
    async with (
        make_sandbox(faults=faults) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url, retry=policy) as client,
    ):
        _, first = await child_with_key(client, "First")
        _, second = await child_with_key(client, "Second")
        with pytest.raises(InternalServerError) as failed:
            await client.with_options(api_key=first).credits.get()
        assert (failed.value.attempts, failed.value.budget_exhausted) == (2, True)
        wallet = await client.with_options(api_key=second).credits.get()
        assert wallet.meta is not None
        assert wallet.meta.attempts == 2


@pytest.mark.anyio
async def test_one_keys_exhausted_bucket_holds_only_that_key(sandbox: Sandbox) -> None:
    """After 60 writes in a minute, the gate holds the first key's 61st write (never sent, the
    call's deadline passes) while the second key's writes go through; the server answers no
    429."""
    async with LayersClient(api_key=sandbox.api_key, base_url=sandbox.url) as client:
        _, first = await child_with_key(client, "First")
        _, second = await child_with_key(client, "Second")
        a, b = client.with_options(api_key=first), client.with_options(api_key=second)
        for i in range(60):
            await a.projects.create(name=f"Bulk {i:02d}", timezone="UTC")
        with pytest.raises(APITimeoutError) as held:
            await a.projects.create(name="One Too Many", timezone="UTC", timeout=0.3)
        assert held.value.attempts == 0
        assert (await b.projects.create(name="Other Key", timezone="UTC")).name == "Other Key"
        state = await sandbox.state()
    assert "429" not in state["responses"]["byStatus"]


@pytest.mark.anyio
async def test_a_key_view_acts_in_its_own_organization(sandbox: Sandbox) -> None:
    """A view with another key drops the parent's child-organization header unless given one;
    the same key in two views shares one gate; the key is checked like the constructor's."""
    async with LayersClient(api_key=sandbox.api_key, base_url=sandbox.url) as client:
        org, secret = await child_with_key(client)
        inside = client.for_organization(org)
        as_child = inside.with_options(api_key=secret)
        assert as_child.organization is None
        assert (await as_child.whoami()).organization_id == org
        assert secret.reveal()[25:] not in repr(as_child)
        assert (await inside.with_options(api_key=secret.reveal()).whoami()).organization_id == org
        with pytest.raises(LayersValidationError, match="api_key"):
            client.with_options(api_key=" lp_live_x")
        with pytest.raises(LayersValidationError, match="api_key"):
            client.with_options(api_key=Secret(""))


@pytest.mark.anyio
async def test_waiters_of_two_keys_never_share_a_poll_stream(sandbox: Sandbox) -> None:
    """A child key's waiter and the parent's waiter on the same job id poll apart: the parent,
    which cannot see the child's job, gets NotFoundError; the child's waiter gets the job."""
    async with LayersClient(
        api_key=sandbox.api_key, base_url=sandbox.url, poll_policy=QUICK_POLL, poll_rate=None
    ) as client:
        _, secret = await child_with_key(client)
        child = client.with_options(api_key=secret)
        pid = (await child.projects.create(name="Acme Child", timezone="UTC")).id
        job = await child.influencers.create(pid)
        waiting = asyncio.ensure_future(child.wait_for_job(job.job_id, timeout=30))
        await asyncio.sleep(0)  # the child's waiter opens its stream first
        with pytest.raises(NotFoundError):
            await client.wait_for_job(job.job_id, timeout=5)
        await sandbox.advance(120)
        assert (await waiting).status == "completed"
