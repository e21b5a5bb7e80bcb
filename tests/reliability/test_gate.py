"""The client's shared rate-limit gate (issue 4): it keeps a standard-tier key under its
long-running limit instead of provoking 429s, and one 429 pauses the whole endpoint class.

Most of these tests sleep for real: the gate's waits are the point. The sandbox runs at speed 60
(the 60-virtual-second rate-limit window lasts one real second) with the default `demo-live` key
on the `standard` tier (20 long-running starts a minute); influencer jobs last 0.05 virtual
seconds, so the running-jobs cap (10) barely binds. The last ones pin that `testing.no_waits()`
keeps the gate and removes only its waiting, so that tests run the production path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from layers_async import AttemptEvent, Job, LayersClient, RateLimitError, Sandbox, Timeouts
from layers_async.testing import no_waits
from tests.reliability._soak import GATE_POLICY, GATE_SANDBOX, create_projects, start_burst

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
STARTS = 100
PROJECTS = 5
INFLUENCERS_ROUTE = "POST /v1/projects/{projectId}/influencers"
CREDITS = "GET /v1/credits"
WHOAMI = "GET /v1/whoami"


async def _burst(sandbox: Sandbox, *, gate: bool) -> tuple[int, list[Job | BaseException]]:
    """Create the projects, then start STARTS influencers at once; return the server's 429s."""
    async with LayersClient(
        api_key=sandbox.api_key,
        base_url=sandbox.url,
        retry=GATE_POLICY,
        rate_limit_tier=gate,
        # Above the gate's assumed 60 s window, so the early-deadline problem pinned by
        # test_gated_starts_all_succeed_within_the_default_deadline stays out of this count.
        timeout=Timeouts(total=100.0),
    ) as client:
        projects = await create_projects(client, PROJECTS, "Gate")
        before = (await sandbox.state())["responses"]["byStatus"].get("429", 0)
        outcomes = await start_burst(client, projects, STARTS)
    after = (await sandbox.state())["responses"]["byStatus"].get("429", 0)
    return after - before, outcomes


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_gate_cuts_429s_by_at_least_90_percent_and_every_start_succeeds(
    make_sandbox: MakeSandbox,
) -> None:
    """Standard key, 100 concurrent long-running starts: gate on sends <=10% of gate-off 429s."""
    async with make_sandbox(**GATE_SANDBOX) as sb:
        off_429s, off = await _burst(sb, gate=False)
    async with make_sandbox(**GATE_SANDBOX) as sb:
        on_429s, on = await _burst(sb, gate=True)
        jobs = (await sb.state())["counts"]["jobs"]["total"]
    print(
        f"429s from the server: gate off {off_429s}, gate on {on_429s}; reduction "
        f"{100 * (1 - on_429s / off_429s) if off_429s else 0:.1f}%"
    )
    assert [o for o in on if not isinstance(o, Job)] == []
    assert [o for o in off if not isinstance(o, Job)] == []  # the policy finishes both
    assert len({o.job_id for o in on if isinstance(o, Job)}) == STARTS
    assert jobs == STARTS
    assert off_429s >= STARTS - 20  # without the gate, all but one window's worth is refused
    assert on_429s <= 0.1 * off_429s


@pytest.mark.anyio
@pytest.mark.timeout(90)
async def test_gated_starts_all_succeed_within_the_default_deadline(
    make_sandbox: MakeSandbox,
) -> None:
    """Default 60 s deadline: 100 gated starts at 20 a second all succeed, none fails early."""
    async with (
        make_sandbox(**GATE_SANDBOX) as sb,
        LayersClient(
            api_key=sb.api_key, base_url=sb.url, retry=GATE_POLICY, rate_limit_tier=True
        ) as client,
    ):
        projects = await create_projects(client, PROJECTS, "Deadline")
        loop = asyncio.get_running_loop()
        started = loop.time()
        outcomes = await start_burst(client, projects, STARTS)
        elapsed = loop.time() - started
    # The server refills 20 long-running starts every real second here, so the burst needs
    # about 5 s: far inside the default 60 s deadline of each call.
    failures = [
        f"{e!r} attempts={getattr(e, 'attempts', None)}" for e in outcomes if not isinstance(e, Job)
    ]
    assert failures == [], f"{len(failures)} failed within {elapsed:.1f}s: {failures[:3]}"


@pytest.mark.anyio
@pytest.mark.parametrize("gate", [True, False], ids=["gate-on", "gate-off"])
async def test_one_429_pauses_the_long_running_class_for_every_task(
    make_sandbox: MakeSandbox, gate: bool
) -> None:
    """After a 429 with Retry-After 1 the class is paused 1 s and no task sends until the pause
    is over on the gate's clock (gate on); without the gate nothing pauses.

    Under `no_waits` the gate's clock jumps over the pause, so the test reads the pause off the
    gate (`paused_for`, through the one private peek `client._pool.shared.gate`: users never see
    the gate) instead of timing sends on the wall clock.
    """
    sent: list[tuple[int, float]] = []  # (attempt, the class's pause left) of every start
    refused = asyncio.Event()
    paused_at_429: list[float] = []

    def on_request(event: AttemptEvent) -> None:
        if event.method == "POST" and event.path.endswith("/influencers"):
            sent.append((event.attempt, shared_gate.paused_for("long-running")))

    def on_response(event: AttemptEvent) -> None:
        if event.status == 429:
            paused_at_429.append(shared_gate.paused_for("long-running"))
            refused.set()

    async with (
        make_sandbox(**GATE_SANDBOX) as sb,
        LayersClient(
            api_key=sb.api_key,
            base_url=sb.url,
            retry=GATE_POLICY,
            # A tier name sizes the gate at once (no whoami); False disables the gate.
            rate_limit_tier="standard" if gate else False,
            on_request=on_request,
            on_response=on_response,
        ) as client,
    ):
        shared_gate = client._pool.shared.gate
        project = await client.projects.create(name="Pause", timezone="UTC")
        await sb.configure(
            faults=[{"route": INFLUENCERS_ROUTE, "action": "http_429", "times": 1, "retryAfter": 1}]
        )
        with no_waits():
            first = asyncio.ensure_future(client.influencers.create(project.id))
            await refused.wait()
            paused_at_launch = shared_gate.paused_for("long-running")
            others = [
                asyncio.ensure_future(client.influencers.create(project.id)) for _ in range(5)
            ]
            jobs = await asyncio.gather(first, *others)
        state = await sb.state()

    assert all(isinstance(j, Job) for j in jobs)
    assert state["responses"]["byStatus"].get("429", 0) == 1
    assert state["counts"]["jobs"]["total"] == 6
    assert len(sent) == 7  # the refused one, its retry, five new ones
    assert sorted(attempt for attempt, _ in sent) == [1, 1, 1, 1, 1, 1, 2]
    # No start was ever sent while the class was paused.
    assert [left for _, left in sent] == [0.0] * 7
    if gate:
        # The 429 paused the whole class for its Retry-After, and the five new tasks were
        # launched inside that pause: each of them waited it out, not only the refused one.
        assert paused_at_429 == [pytest.approx(1.0, abs=0.25)]
        assert paused_at_launch > 0.5
    else:
        # Without the gate the new tasks know nothing of the 429 and go at once.
        assert paused_at_429 == [0.0]
        assert paused_at_launch == 0.0


def _requests(state: dict[str, Any], route: str) -> int:
    count: int = state["requests"]["byRoute"].get(route, 0)
    return count


@pytest.mark.anyio
async def test_no_waits_keeps_the_gate_and_the_tier_lookup(make_sandbox: MakeSandbox) -> None:
    """Under no_waits the gate still runs: the tier is looked up once, and after a 429 asking
    for an hour (a pause capped at max_retry_after, 60 s) the class fails the next call that
    cannot wait that long at once, without sending it."""
    faults = [{"route": CREDITS, "action": "http_429", "retryAfter": 3600, "times": 1}]
    async with (
        make_sandbox(faults=faults) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url, rate_limit_tier=True) as client,
    ):
        with no_waits():
            with pytest.raises(RateLimitError) as refused:
                await client.credits.get()
            with pytest.raises(RateLimitError) as held:
                await client.whoami(timeout=30)
        state = await sb.state()
    assert refused.value.retry_after == 3600
    assert held.value.details["limitType"] == "client_pause"
    assert _requests(state, WHOAMI) == 1  # the tier lookup; the held call was never sent
    assert _requests(state, CREDITS) == 1


@pytest.mark.anyio
async def test_no_waits_passes_a_pause_at_once_on_the_gate_clock(
    make_sandbox: MakeSandbox,
) -> None:
    """Under no_waits a 429 asking for 30 s still pauses the class at the gate; the retry then
    sits the pause out at once: the gate's clock jumps over it, no real time passes."""
    faults = [{"route": CREDITS, "action": "http_429", "retryAfter": 30, "times": 1}]
    paused: list[float] = []
    async with (
        make_sandbox(faults=faults) as sb,
        LayersClient(
            api_key=sb.api_key,
            base_url=sb.url,
            rate_limit_tier="standard",
            on_retry=lambda e: paused.append(gate.paused_for("read-light")),
        ) as client,
    ):
        gate = client._pool.shared.gate  # the one private peek: how long the class is paused
        with no_waits():
            wallet = await client.credits.get()
        state = await sb.state()
    assert paused == [pytest.approx(30.0, abs=1.0)]  # the gate held the class for 30 s...
    assert gate.paused_for("read-light") == 0.0  # ... which passed on its own clock
    assert wallet.meta is not None
    assert wallet.meta.attempts == 2
    assert wallet.meta.waited < 1.0  # not 30 s
    assert _requests(state, CREDITS) == 2
