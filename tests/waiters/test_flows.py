"""`onboard_customer` and `fan_out`: many customers at once, reruns that create nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from layers_async import (
    DEFAULT_POLL,
    Customer,
    ItemResult,
    JobFailedError,
    LayersClient,
    LayersValidationError,
    MediaItem,
    OAuthUrl,
    OnboardingResult,
    Sandbox,
    fan_out,
    onboard_customer,
)

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
DESC = (
    "Freshly roasted coffee delivered on a schedule for runners and night-shift workers who "
    "never want to run out of beans."
)
PARTNER = [
    {
        "name": "partner",
        "organization": "partner",
        "rateLimitTier": "partner",
        "scopes": ["*", "org:admin"],
        "returnUrlAllowlist": ["localhost"],
    }
]
RICH = [
    {
        "ref": "partner",
        "name": "Partner",
        "includedThisPeriod": 1000,
        "prepaidBalance": 1_000_000,
        "subscriptionTier": "pro",
    }
]


def _customers(n: int, *, offset: int = 0) -> list[Customer]:
    return [
        Customer(
            external_id=f"cust-{i:04d}",
            name=f"Customer {i:04d}",
            app_name=f"App {i}",
            app_description=DESC,
            media=(MediaItem("screenshot", f"https://cdn.example.com/{i}/home.png"),),
            connect="tiktok",
            schedule_in=timedelta(hours=1),
        )
        for i in range(offset, offset + n)
    ]


class _Flow:
    """Runs customers' flows against one sandbox with one client."""

    def __init__(self, sb: Sandbox, client: LayersClient, http: aiohttp.ClientSession) -> None:
        self.sb, self.client, self.http = sb, client, http

    async def authorize(self, attempt: OAuthUrl) -> None:
        async with self.http.get(attempt.authorize_url, allow_redirects=False) as r:
            assert r.status == 302

    async def now(self) -> datetime:
        async with self.http.get(f"{self.sb.url}/_sandbox/clock") as r:
            text = (await r.json())["now"]
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    async def run(
        self, customers: list[Customer], concurrency: int = 50
    ) -> list[ItemResult[Customer, OnboardingResult]]:
        async def one(customer: Customer) -> OnboardingResult:
            return await onboard_customer(
                self.client, customer, authorize=self.authorize, now=self.now
            )

        return await fan_out(customers, one, concurrency=concurrency)


def _sandbox(make_sandbox: MakeSandbox, **kw: Any) -> AbstractAsyncContextManager[Sandbox]:
    return make_sandbox(speed=60, api_keys=PARTNER, organizations=RICH, **kw)


def _client(sb: Sandbox) -> LayersClient:
    return LayersClient(
        api_key=sb.api_key,
        base_url=sb.url,
        poll_policy=DEFAULT_POLL.scaled(1 / 60),
        poll_rate=1000.0,
    )


@pytest.mark.anyio
@pytest.mark.timeout(90)
async def test_many_customers_onboard_and_a_rerun_creates_nothing(
    make_sandbox: MakeSandbox,
) -> None:
    """40 flows at once all finish; running them again adopts everything and creates nothing."""
    async with _sandbox(make_sandbox) as sb, _client(sb) as client, aiohttp.ClientSession() as h:
        flow = _Flow(sb, client, h)
        customers = _customers(40)
        first = await flow.run(customers)
        assert [r.error for r in first if not r.ok] == []
        state = await sb.state()
        per_flow = state["requests"]["total"] / len(customers)
        assert per_flow <= 20, per_flow
        counts = state["counts"]
        for name in ("projects", "containers", "scheduledPosts", "appMedia", "socialAccounts"):
            assert counts[name]["total"] == 40, name
        results = [r.value for r in first if r.value is not None]
        assert len({r.project_id for r in results}) == 40
        assert all(r.scheduled_post_ids and r.social_account_id for r in results)
        assert not any(r.adopted_project for r in results)

        again = await flow.run(customers)
        assert all(r.ok for r in again)
        counts = (await sb.state())["counts"]
        for name in ("projects", "containers", "scheduledPosts", "appMedia", "socialAccounts"):
            assert counts[name]["total"] == 40, name
        second = [r.value for r in again if r.value is not None]
        assert all(r.adopted_project for r in second)
        assert [r.container_id for r in second] == [r.container_id for r in results]


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_rerun_after_the_idempotency_window_adopts_on_conflict(
    make_sandbox: MakeSandbox,
) -> None:
    """Past the 24 h idempotency window a rerun gets 409 CONFLICT and adopts the project."""
    async with _sandbox(make_sandbox) as sb, _client(sb) as client, aiohttp.ClientSession() as h:
        flow = _Flow(sb, client, h)
        customers = _customers(3)
        assert all(r.ok for r in await flow.run(customers))
        await sb.advance(25 * 3600)
        again = await flow.run(customers)
        assert all(r.ok for r in again), [r.error for r in again]
        assert all(r.value is not None and r.value.adopted_project for r in again)
        counts = (await sb.state())["counts"]
        assert counts["projects"]["total"] == 3
        assert counts["containers"]["total"] == 3
        assert counts["scheduledPosts"]["total"] == 3


@pytest.mark.anyio
@pytest.mark.timeout(90)
async def test_failed_generations_are_recorded_per_customer(make_sandbox: MakeSandbox) -> None:
    """With a 20 % generation failure rate, failures are JobFailedError and the rest complete."""
    async with (
        _sandbox(make_sandbox, failure_rates={"content_generate": 0.2}) as sb,
        _client(sb) as client,
        aiohttp.ClientSession() as h,
    ):
        results = await _Flow(sb, client, h).run(_customers(50))
        assert len(results) == 50
        failed = [r for r in results if not r.ok]
        assert all(isinstance(r.error, JobFailedError) for r in failed), [r.error for r in failed]
        assert 2 <= len(failed) <= 20
        assert sum(r.ok for r in results) == 50 - len(failed)
        state = await sb.state()
        assert state["counts"]["jobs"]["byStatus"].get("canceled", 0) == 0
        assert state["counts"]["containers"]["byStatus"]["failed"] == len(failed)


@pytest.mark.anyio
async def test_fan_out_records_failures_timeouts_and_progress() -> None:
    """One item failing or timing out never cancels the others; progress counts every item."""
    seen: list[int] = []

    async def work(n: int) -> int:
        if n == 3:
            raise ValueError("bad item")
        if n == 5:
            await asyncio.sleep(5)
        await asyncio.sleep(0.01)
        return n * 10

    results = await fan_out(
        range(8),
        work,
        concurrency=3,
        per_item_timeout=0.5,
        on_progress=lambda done, total, result: seen.append(done),
    )
    assert [r.item for r in results] == list(range(8))
    assert [r.value for r in results if r.ok] == [0, 10, 20, 40, 60, 70]
    assert isinstance(results[3].error, ValueError)
    assert isinstance(results[5].error, TimeoutError)
    assert seen == list(range(1, 9))


@pytest.mark.anyio
async def test_fan_out_respects_its_concurrency() -> None:
    """No more than `concurrency` items run at once."""
    running = 0
    peak = 0

    async def work(_: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    await fan_out(range(40), work, concurrency=4)
    assert peak == 4


@pytest.mark.anyio
async def test_cancelling_fan_out_stops_every_item() -> None:
    """Cancelling the caller cancels all running items and leaves no task behind."""
    started = 0
    cancelled = 0

    async def work(_: int) -> None:
        nonlocal started, cancelled
        started += 1
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled += 1
            raise

    before = set(asyncio.all_tasks())
    task = asyncio.create_task(fan_out(range(20), work, concurrency=10))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert started == 10
    assert cancelled == 10
    await asyncio.sleep(0)
    assert set(asyncio.all_tasks()) - before - {asyncio.current_task()} == set()


@pytest.mark.anyio
async def test_fan_out_and_onboarding_validate_input(
    sandbox: Sandbox, client: LayersClient
) -> None:
    """A bad concurrency, timeout or customer is refused with LayersValidationError."""

    async def noop(_: int) -> None:
        return None

    with pytest.raises(LayersValidationError):
        await fan_out([1], noop, concurrency=0)
    with pytest.raises(LayersValidationError):
        await fan_out([1], noop, per_item_timeout=0)
    with pytest.raises(LayersValidationError):
        await onboard_customer(client, {"external_id": "x"})  # type: ignore[arg-type]
    connect = Customer(external_id="c-1", name="Acme", app_description=DESC, connect="tiktok")
    with pytest.raises(LayersValidationError) as info:
        await onboard_customer(client, connect)
    assert info.value.field == "authorize"


@pytest.mark.anyio
async def test_a_customer_without_app_description_is_refused_before_sending(
    layers_sandbox: Sandbox, layers_client: LayersClient
) -> None:
    """Without `app_description` no influencer would ever come: the flow refuses at once, naming
    the field, and sends nothing (it used to wait until its influencer deadline)."""
    before = (await layers_sandbox.state())["requests"]["total"]
    with pytest.raises(LayersValidationError) as caught:
        await onboard_customer(layers_client, Customer(external_id="solo", name="Solo Co"))
    assert caught.value.field == "app_description"
    assert (await layers_sandbox.state())["requests"]["total"] == before
