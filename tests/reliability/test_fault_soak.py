"""Fault soak (issue 4): 200 customers onboarded at once while the sandbox injects faults on
every /v1 route. Nothing may be created twice; with a policy sized for the hostile network
nothing may be lost either.

The figures of each run (requests the server saw, retries, responses by status, failures) are
printed; run with `-s` to see them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import pytest

from layers_async import (
    DEFAULT_RETRY,
    APIConnectionError,
    APIStatusError,
    LayersClient,
    LayersError,
    RetryPolicy,
    Sandbox,
)
from layers_async.testing import no_waits
from tests.reliability._soak import (
    HOSTILE_POLICY,
    RESOURCES,
    SOAK_FAULTS,
    SOAK_ORGANIZATIONS,
    SOAK_PARTNER_KEY,
    SOAK_TIMEOUTS,
    AttemptCounter,
    FlowResult,
    created_bounds,
    duplicates,
    per_project_counts,
    run_soak,
    summarize,
)

CUSTOMERS = 200
MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]


def _soak_sandbox(make_sandbox: MakeSandbox) -> AbstractAsyncContextManager[Sandbox]:
    """A sandbox at speed 600 with one partner-tier key, credits for every remix and the faults."""
    return make_sandbox(
        speed=600,
        jitter=0,
        api_keys=[SOAK_PARTNER_KEY],
        organizations=SOAK_ORGANIZATIONS,
        faults=SOAK_FAULTS,
    )


async def _soak(
    sandbox: Sandbox, session: aiohttp.ClientSession, policy: RetryPolicy
) -> tuple[list[FlowResult], dict[str, Any], AttemptCounter]:
    """Run the soak on one fresh client (no real backoff sleeps); return results and state."""
    counter = AttemptCounter()
    async with LayersClient(
        api_key=sandbox.keys["soak"],
        base_url=sandbox.url,
        retry=policy,
        rate_limit_tier="partner",
        timeout=SOAK_TIMEOUTS,
        **counter.hooks(),
    ) as client:
        with no_waits():
            results = await run_soak(client, sandbox.url, session, CUSTOMERS)
    return results, await sandbox.state(), counter


def _report(title: str, figures: dict[str, Any]) -> str:
    text = f"{title}\n{json.dumps(figures, indent=2, sort_keys=True)}"
    print(text)
    return text


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_hostile_policy_completes_every_flow_with_nothing_duplicated_or_lost(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """max_attempts=8, budget_ratio=0.5: all 200 flows complete; state shows exactly 200 each."""
    assert (HOSTILE_POLICY.max_attempts, HOSTILE_POLICY.budget_ratio) == (8, 0.5)
    async with _soak_sandbox(make_sandbox) as sb:
        results, state, counter = await _soak(sb, session, HOSTILE_POLICY)
    figures = summarize(results, state, counter)
    report = _report("fault soak, hostile-network policy", figures)

    failed = {r.customer: f"{r.step}: {r.error!r}" for r in results if not r.ok}
    assert failed == {}, report
    counts = state["counts"]
    assert {name: counts[name]["total"] for name in RESOURCES} == dict.fromkeys(
        RESOURCES, CUSTOMERS
    ), report
    assert duplicates(state, CUSTOMERS) == dict.fromkeys(RESOURCES, 0)
    # One remix job and one (automatic) influencer per customer, nothing more.
    assert counts["jobs"]["total"] == CUSTOMERS
    assert counts["influencers"]["total"] == CUSTOMERS
    # A retried oauth-url mints a fresh state each time, so attempts may exceed customers, but
    # only the one consented to completed.
    assert counts["oauthAttempts"]["byStatus"].get("completed") == CUSTOMERS
    assert counts["oauthAttempts"]["total"] >= CUSTOMERS
    assert len({r.social_account_id for r in results}) == CUSTOMERS
    assert len({r.container_id for r in results}) == CUSTOMERS
    assert len({r.scheduled_post_id for r in results}) == CUSTOMERS

    # The faults really happened, and the SDK retried through every kind of them.
    by_status = state["responses"]["byStatus"]
    for status in ("429", "500", "502", "503"):
        assert by_status.get(status, 0) > 0, report
    for reason in ("429", "500", "502", "503", "APIConnectionError", "APITimeoutError"):
        assert counter.retry_reasons[reason] > 0, report
    assert counter.retries == sum(counter.retry_reasons.values())
    assert counter.attempts == sum(counter.outcomes.values())
    assert state["requests"]["total"] >= counter.attempts - counter.outcomes["APITimeoutError"]


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_default_policy_fails_only_with_typed_errors_and_never_duplicates(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """Default policy: a lost flow ends in a LayersError for its customer; nothing is made twice."""
    async with _soak_sandbox(make_sandbox) as sb:
        results, state, counter = await _soak(sb, session, DEFAULT_RETRY)
        await sb.configure(faults=[])
        async with LayersClient(
            api_key=sb.keys["soak"], base_url=sb.url, rate_limit_tier=False
        ) as reader:
            per_project = await per_project_counts(reader)
    figures = summarize(results, state, counter)
    report = _report("fault soak, default policy", figures)

    assert [r.customer for r in results] == list(range(CUSTOMERS))
    for r in results:
        if r.ok:
            assert r.step is None
            assert (
                r.done == set(r.attempted) == {"project", "media", "consent", "remix", "schedule"}
            )
            continue
        err = r.error
        assert isinstance(err, LayersError), f"customer {r.customer} at {r.step}: {err!r}"
        assert r.step is not None
        # Transport failures say how they ended: out of attempts, or out of budget.
        assert isinstance(err, (APIStatusError, APIConnectionError)), repr(err)
        assert 1 <= err.attempts <= DEFAULT_RETRY.max_attempts, repr(err)
        retryable = isinstance(err, APIConnectionError) or err.status_code in (429, 500, 502, 503)
        if retryable:
            assert err.budget_exhausted or err.attempts == DEFAULT_RETRY.max_attempts, repr(err)

    # Every acknowledged call created exactly one resource, an unacknowledged one at most one.
    for name, (acked, issued) in created_bounds(results).items():
        total = state["counts"][name]["total"]
        assert acked <= total <= issued, f"{name}: {acked} <= {total} <= {issued}\n{report}"
    assert figures["duplicates_found"] == 0
    assert len(per_project) == state["counts"]["projects"]["total"]
    crowded = {pid: held for pid, held in per_project.items() if any(n > 1 for n in held.values())}
    assert crowded == {}
    assert state["counts"]["jobs"]["total"] <= sum(1 for r in results if "remix" in r.attempted)
