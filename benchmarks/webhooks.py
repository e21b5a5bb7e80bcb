"""Event-fed waiters against polling only: 1,000 onboarding flows at sandbox speed 60.

Usage::

    python benchmarks/webhooks.py [--customers 1000] [--rounds 3] [--concurrency 200]

The sandbox runs in its own subprocess at speed 60 (``partner`` key, jitter 0) and POSTs its
webhook deliveries to a `WebhookReceiver` on 127.0.0.1 in this process. Each round runs the same
``onboard_customer`` flow (project, screenshot, TikTok consent, ready influencer, source, remix,
job, container, schedule) for ``--customers`` new customers three ways, interleaved:

- ``polling``: a polling-only client (the endpoint paused: nothing is delivered);
- ``events``: a client fed by the receiver (``client=``), its job and OAuth waits polling only
  on the safety net (`SAFETY_NET_POLL` scaled to speed 60);
- ``events, 20% dropped``: the same with the sandbox dropping 20 % of deliveries
  (``webhookDropRate``), which only a safety poll can recover.

Printed side by side (medians of the rounds, with their ranges): failed flows; polls per wait
of the event-fed kinds (job and OAuth waits), of the ready-influencer wait (no event announces
it: it polls in every variant) and of all three; the waits answered by an event alone; the time
from a delivery's receipt to the return of the job wait its event ends (median and p95,
measured in this process: a timestamp as the receiver's ``aiohttp.web`` handler is entered,
before the body is read, then the flow's step callback right after the wait returns), the part
of it the SDK spends before the event reaches the client (reading, verifying, decoding,
deduplicating: p95), beside the event loop's own scheduling delay (p95 of how late it runs a
5 ms sleep: a woken waiter cannot return sooner than the loop gets to it); and, with drops,
how many job waits lost their event and how many of those a safety poll finished.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fanout import CONFIG, DESC, sandbox_now
from sandbox_throughput import free_port, stop, wait_for_sandbox

from layers_async import (
    DEFAULT_POLL,
    SAFETY_NET_POLL,
    AttemptEvent,
    Customer,
    JobCompletedEvent,
    LayersClient,
    MediaItem,
    OAuthUrl,
    OnboardingResult,
    WebhookEvent,
    fan_out,
    onboard_customer,
)
from layers_async.cli.webhook_demo import local_receiver

SPEED = 60.0
VARIANTS = ("polling", "events", "events, 20% dropped")
#: The figures a polling-only run has none of.
EVENTS_ONLY = ("lag_median", "lag_p95", "before_feed", "by_event", "lost", "lost_polled")


#: perf_counter() as the receiver's handler was entered, in the task handling that delivery.
RECEIVED: contextvars.ContextVar[float] = contextvars.ContextVar("received")


@web.middleware
async def stamp_receipt(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Stamp a delivery's receipt before anything of the receiver runs (body read included)."""
    RECEIVED.set(time.perf_counter())
    return await handler(request)


class Tap:
    """The receiver's `client=`: keeps each job event's receipt time, then feeds the client."""

    def __init__(self) -> None:
        self.client: LayersClient | None = None
        #: perf_counter() at the delivery's receipt, by project (the flow's one content job).
        self.arrived: dict[str, float] = {}
        #: Seconds from receipt to this feed (the receiver's own work), per job event.
        self.before_feed: list[float] = []
        #: Job ids whose event arrived.
        self.jobs: set[str] = set()

    @property
    def webhooks(self) -> Tap:
        """What a `WebhookReceiver` feeds (`client.webhooks`)."""
        return self

    def feed(self, event: WebhookEvent) -> object:
        """Stamp, then hand the event to the current client."""
        if isinstance(event, JobCompletedEvent) and event.data.kind == "content_generate":
            received = RECEIVED.get()
            self.arrived[event.data.project_id or ""] = received
            self.before_feed.append(time.perf_counter() - received)
            self.jobs.add(event.data.job_id)
        return self.client.webhooks.feed(event) if self.client is not None else 0


class Counts:
    """Polls by kind and by job, from the client's `on_request` hook."""

    def __init__(self) -> None:
        self.by_kind: dict[str, int] = {}
        self.by_job: dict[str, int] = {}

    def attempt(self, event: AttemptEvent) -> None:
        """Count one attempt of a poll route."""
        path = event.path.split("?", 1)[0]
        if path.startswith("/v1/jobs/") and event.method == "GET":
            kind = "job"
            job = path.rsplit("/", 1)[-1]
            self.by_job[job] = self.by_job.get(job, 0) + 1
        elif path.endswith("/social/oauth-status"):
            kind = "oauth"
        elif path.endswith("/influencers") and event.method == "GET":
            kind = "influencer"
        else:
            return
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


async def loop_lag(samples: list[float], stop: asyncio.Event) -> None:
    """How late the event loop runs a 5 ms sleep, sampled until `stop` (its scheduling delay:
    a woken waiter cannot return sooner than the loop gets to it)."""
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.005)
        samples.append(time.perf_counter() - t - 0.005)


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)] if ordered else float("nan")


async def one_run(
    variant: str,
    client: LayersClient,
    counts: Counts,
    tap: Tap,
    http: aiohttp.ClientSession,
    base: str,
    prefix: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """`--customers` new customers' flows on `client`; the figures of this run."""
    n = args.customers

    async def authorize(attempt: OAuthUrl) -> None:
        async with http.get(attempt.authorize_url, allow_redirects=False) as r:
            if r.status != 302:
                raise RuntimeError(f"consent page answered {r.status}")

    async def now() -> Any:
        return await sandbox_now(http, base)

    steps: dict[tuple[str, str], float] = {}

    def on_step(ext: str, step: str) -> None:
        steps[ext, step] = time.perf_counter()

    customers = [
        Customer(
            external_id=f"{prefix}-{i:05d}",
            name=f"Customer {prefix} {i:05d}",
            app_name=f"App {i}",
            app_description=DESC,
            media=(MediaItem("screenshot", f"https://cdn.example.com/{prefix}/{i}/home.png"),),
            connect="tiktok",
        )
        for i in range(n)
    ]

    async def flow(customer: Customer) -> OnboardingResult:
        return await onboard_customer(
            client, customer, authorize=authorize, now=now, on_step=on_step
        )

    counts.by_kind.clear()
    counts.by_job.clear()
    tap.arrived.clear()
    tap.before_feed.clear()
    tap.jobs.clear()
    answered_before = client.webhooks.answered_by_events
    polls_before = client.polls_sent
    lag: list[float] = []
    stop_lag = asyncio.Event()
    lag_task = asyncio.create_task(loop_lag(lag, stop_lag))
    started = time.perf_counter()
    results = await fan_out(customers, flow, concurrency=args.concurrency)
    wall = time.perf_counter() - started
    stop_lag.set()
    await lag_task
    ok = [r.value for r in results if r.ok and r.value is not None]
    lags = []
    for r in ok:
        arrived = tap.arrived.get(r.project_id)
        returned = steps.get((r.customer_external_id, "job"))
        began = steps.get((r.customer_external_id, "generate"))
        if arrived is not None and returned is not None and began is not None:
            lags.append(returned - max(arrived, began))
    lost = [r.job_id for r in ok if r.job_id not in tap.jobs] if variant != "polling" else []
    return {
        "wall": wall,
        "failed": sum(not r.ok for r in results),
        "errors": sorted({type(r.error).__name__ for r in results if not r.ok}),
        "fed": (counts.by_kind.get("job", 0) + counts.by_kind.get("oauth", 0)) / (2 * n),
        "job": counts.by_kind.get("job", 0) / n,
        "oauth": counts.by_kind.get("oauth", 0) / n,
        "influencer": counts.by_kind.get("influencer", 0) / n,
        "all": (client.polls_sent - polls_before) / (3 * n),
        "per_flow": (client.polls_sent - polls_before) / n,
        "loop_lag": p95(lag) * 1000,
        "by_event": (client.webhooks.answered_by_events - answered_before) / (2 * n),
        "lag_median": statistics.median(lags) * 1000 if lags else float("nan"),
        "lag_p95": p95(lags) * 1000,
        "before_feed": p95(tap.before_feed) * 1000,
        "lost": len(lost),
        "lost_polled": sum(counts.by_job.get(j, 0) >= 1 for j in lost),
    }


def summary(rows: list[dict[str, Any]], key: str, fmt: Callable[[float], str]) -> str:
    """Median of the rounds, with their range."""
    values = [r[key] for r in rows]
    med = statistics.median(values)
    if len(values) == 1 or min(values) == max(values):
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(values))}-{fmt(max(values))})"


def report(runs: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> None:
    """The side-by-side table."""

    def f2(v: float) -> str:
        return f"{v:.2f}"

    def f0(v: float) -> str:
        return f"{v:.0f}"

    def f1(v: float) -> str:
        return f"{v:.1f}"

    rows = [
        ("failed flows", "failed", f0),
        ("wall s", "wall", f1),
        ("polls/wait, job + OAuth", "fed", f2),
        ("  job waits", "job", f2),
        ("  OAuth waits", "oauth", f2),
        ("polls/wait, influencer", "influencer", f2),
        ("polls/wait, all three", "all", f2),
        ("polls per flow", "per_flow", f2),
        ("waits ended by an event alone", "by_event", f2),
        ("receipt -> return, median ms", "lag_median", f1),
        ("receipt -> return, p95 ms", "lag_p95", f1),
        ("  receipt -> client fed, p95 ms", "before_feed", f2),
        ("event loop lag, p95 ms", "loop_lag", f1),
        ("job events lost", "lost", f0),
        ("  finished by a safety poll", "lost_polled", f0),
    ]
    width = 34
    cols = 26
    print(
        f"{args.customers} flows per run, concurrency {args.concurrency}, speed {SPEED:g}, "
        f"{args.rounds} interleaved rounds: median (range)"
    )
    print(f"{'':<{width}}" + "".join(f"{v:>{cols}}" for v in VARIANTS))
    for label, key, fmt in rows:
        cells = []
        for v in VARIANTS:
            if key in EVENTS_ONLY and v == "polling":
                cells.append("-")
            else:
                cells.append(summary(runs[v], key, fmt))
        print(f"{label:<{width}}" + "".join(f"{c:>{cols}}" for c in cells))
    for v in VARIANTS:
        errors = sorted({e for r in runs[v] for e in r["errors"]})
        if errors:
            print(f"errors ({v}):", ", ".join(errors))


async def measure(
    args: argparse.Namespace, http: aiohttp.ClientSession, base: str, key: str, tap: Tap
) -> None:
    """The interleaved rounds of every variant, then the table."""
    policy = DEFAULT_POLL.scaled(1 / SPEED)
    counts = {v: Counts() for v in VARIANTS}
    clients = {
        v: LayersClient(
            api_key=key,
            base_url=base,
            poll_policy=policy,
            poll_rate=args.poll_rate,
            on_request=counts[v].attempt,
        )
        for v in VARIANTS
    }
    for v in VARIANTS[1:]:
        clients[v].webhooks.enable(SAFETY_NET_POLL.scaled(1 / SPEED))
    setup = clients["polling"]
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    async with local_receiver(setup, feed=tap, middlewares=[stamp_receipt]) as (_, endpoint):
        for rnd in range(args.rounds):
            for i, v in enumerate(VARIANTS):
                await setup.webhook_endpoints.update(
                    endpoint.endpoint.id, status="paused" if v == "polling" else "active"
                )
                drop = 0.2 if "dropped" in v else 0.0
                async with http.patch(
                    f"{base}/_sandbox/config", json={"webhookDropRate": drop}
                ) as r:
                    r.raise_for_status()
                tap.client = clients[v] if v != "polling" else None
                row = await one_run(v, clients[v], counts[v], tap, http, base, f"r{rnd}v{i}", args)
                runs[v].append(row)
                print(f"round {rnd + 1}, {v}: {row['wall']:.1f} s", file=sys.stderr)
    for c in clients.values():
        await c.aclose()
    report(runs, args)


async def run(args: argparse.Namespace) -> int:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="layers-webhooks-") as tmp:
        cfg = Path(tmp) / "sandbox.json"
        cfg.write_text(json.dumps({**CONFIG, "seed": args.seed}))
        options = ["--host", "127.0.0.1", "--port", str(port), "--speed", str(SPEED)]
        command = [sys.executable, "-m", "layers_async.sandbox", *options, "--config", str(cfg)]
        # Started once, before any load; its own process, as a remote API would be.
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: ASYNC220
        base = f"http://127.0.0.1:{port}"
        tap = Tap()
        try:
            async with aiohttp.ClientSession() as http:
                await wait_for_sandbox(http, base, proc)
                async with http.get(f"{base}/_sandbox/keys") as r:
                    key = (await r.json())["items"][0]["key"]
                await measure(args, http, base, key, tap)
        finally:
            exit_status = stop(proc)
    print(f"\nsandbox exit status after SIGTERM: {exit_status}")
    return 0 if exit_status == 0 else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--poll-rate", type=float, default=2000.0)
    p.add_argument("--seed", type=int, default=7)
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
