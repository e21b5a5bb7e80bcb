"""The retry budget (issue 4, item 4): during an outage retries add at most `budget_ratio` of the
calls plus `budget_burst`, each client has its own budget, and healthy traffic refills it.

Every test runs under `testing.no_waits()`: the budget counts attempts, not time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager

import pytest

from layers_async import (
    APIConnectionError,
    InternalServerError,
    LayersClient,
    RetryPolicy,
    Sandbox,
)
from layers_async.testing import no_waits

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]

CREDITS = "GET /v1/credits"
WHOAMI = "GET /v1/whoami"
#: 100% 503 on one route only; every other route stays healthy.
OUTAGE = [{"route": CREDITS, "action": "http_503", "retryAfter": 1}]
POLICY = RetryPolicy(max_attempts=8, budget_ratio=0.2, budget_burst=10)
CALLS = 100
#: Issue 4's bound: requests sent <= (1 + budget fraction) x calls + burst.
BOUND = (1 + POLICY.budget_ratio) * CALLS + POLICY.budget_burst


@pytest.fixture(autouse=True)
def nowait() -> Iterator[None]:
    """No real backoff sleeps in this module."""
    with no_waits():
        yield


def _client(sb: Sandbox) -> LayersClient:
    return LayersClient(api_key=sb.api_key, base_url=sb.url, retry=POLICY, rate_limit_tier=False)


async def _fail(c: LayersClient) -> InternalServerError:
    """One call to the broken route; returns the error it must raise."""
    with pytest.raises(InternalServerError) as info:
        await c.credits.get()
    return info.value


async def _requests(sb: Sandbox, route: str) -> int:
    count: int = (await sb.state())["requests"]["byRoute"].get(route, 0)
    return count


def _check_errors(errors: list[InternalServerError]) -> None:
    """Every call failed with the original 503; a call cut short says the budget stopped it."""
    assert len(errors) == CALLS
    for err in errors:
        assert err.code == "SERVICE_UNAVAILABLE"
        assert 1 <= err.attempts <= POLICY.max_attempts
        # Short of max_attempts only because the budget refused the next retry.
        assert err.budget_exhausted is (err.attempts < POLICY.max_attempts)
    refused = sum(err.budget_exhausted for err in errors)
    assert refused >= CALLS - POLICY.budget_burst  # the outage did not get multiplied


@pytest.mark.anyio
async def test_budget_bounds_requests_of_sequential_calls_during_an_outage(
    make_sandbox: MakeSandbox,
) -> None:
    """100 sequential calls to a 100%-503 route send at most 1.2 x 100 + 10 requests."""
    async with make_sandbox(faults=OUTAGE) as sb, _client(sb) as c:
        errors = [await _fail(c) for _ in range(CALLS)]
        sent = await _requests(sb, CREDITS)
    _check_errors(errors)
    assert sent == sum(err.attempts for err in errors)
    assert CALLS < sent <= BOUND
    # The first call spends the saved burst: it gets every attempt the policy allows.
    assert errors[0].attempts == POLICY.max_attempts


@pytest.mark.anyio
async def test_budget_bounds_requests_of_concurrent_calls_during_an_outage(
    make_sandbox: MakeSandbox,
) -> None:
    """100 concurrent calls to a 100%-503 route send at most 1.2 x 100 + 10 requests."""
    async with make_sandbox(faults=OUTAGE) as sb, _client(sb) as c:
        errors = await asyncio.gather(*(_fail(c) for _ in range(CALLS)))
        sent = await _requests(sb, CREDITS)
    _check_errors(list(errors))
    assert sent == sum(err.attempts for err in errors)
    assert CALLS < sent <= BOUND


@pytest.mark.anyio
async def test_each_client_has_its_own_budget_and_views_share_theirs(
    make_sandbox: MakeSandbox,
) -> None:
    """Exhausting one client's budget leaves another client's intact; its views share it."""
    async with make_sandbox(faults=OUTAGE) as sb, _client(sb) as a, _client(sb) as b:
        while (await _fail(a)).attempts > 1:
            pass  # spend a's budget until a call gets no retry at all
        view = await _fail(a.with_options(timeout=30))  # a view spends the same budget
        assert view.budget_exhausted is True
        assert view.attempts <= 2  # at most the fraction of a retry it earned itself
        fresh = await _fail(b)
        assert fresh.budget_exhausted is False
        assert fresh.attempts == POLICY.max_attempts


@pytest.mark.anyio
async def test_successful_calls_refill_the_budget(make_sandbox: MakeSandbox) -> None:
    """After the budget is spent, healthy calls earn retries back (0.2 each, up to the burst)."""
    async with make_sandbox(faults=OUTAGE) as sb, _client(sb) as c:
        while (await _fail(c)).attempts > 1:
            pass  # spend the budget until a call gets no retry at all
        assert (await _fail(c)).budget_exhausted is True
        for _ in range(10):  # 10 x 0.2 = 2 retries earned
            await c.whoami()
        partial = await _fail(c)
        assert partial.budget_exhausted is True
        assert 3 <= partial.attempts <= 4  # two earned retries, plus less than 1.2 left over
        for _ in range(50):  # 50 x 0.2 = 10: the budget is full again
            await c.whoami()
        refilled = await _fail(c)
        assert refilled.budget_exhausted is False
        assert refilled.attempts == POLICY.max_attempts
        assert await _requests(sb, WHOAMI) == 60


@pytest.mark.anyio
async def test_budget_bounds_requests_when_every_connection_drops(
    make_sandbox: MakeSandbox,
) -> None:
    """100 calls to a GET route whose every connection drops send at most 1.2 x 100 + 10."""
    drops = [{"route": CREDITS, "action": "drop_before_commit"}]
    async with make_sandbox(faults=drops) as sb, _client(sb) as c:
        for _ in range(CALLS):
            with pytest.raises(APIConnectionError):
                await c.credits.get()
        sent = await _requests(sb, CREDITS)
    assert sent <= BOUND
