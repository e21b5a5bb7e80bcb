"""Child keys over one pool: 200 children each onboarding 5 customers with its own key, versus
the same 1,000 customers through one key.

Usage::

    python benchmarks/children.py [--children 200] [--per-child 5] [--concurrency 200]

The sandbox runs in its own subprocess at speed 60 with a ``partner``-tier key holding
org:admin. Two runs of ``onboard_customer`` (project, screenshot, TikTok account through the
sandbox's consent page, ready influencer, source, remix, job, container, schedule) over one
`LayersClient` (one connection pool), printed side by side:

1. **one key**: the ``children x per-child`` customers through the partner's own key (one
   rate-limit gate, one organization's running-jobs cap);
2. **child keys**: ``--children`` children provisioned first with ``provision_customer`` (not
   timed), then each child's ``--per-child`` customers through
   ``client.with_options(api_key=child.secret)``: one gate and retry budget per key, each
   child's own buckets and running-jobs cap, every view on the same pool.

Printed per run: wall time, failures, requests (as the sandbox counted them), 429s (target 0
for the child keys), retries, client CPU time per request, and the connections the pool
opened.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fanout import CONFIG, DESC, SPEED, sandbox_now, sandbox_state
from sandbox_throughput import free_port, stop, wait_for_sandbox

from layers_async import (
    DEFAULT_POLL,
    AttemptEvent,
    Customer,
    LayersClient,
    MediaItem,
    OAuthUrl,
    fan_out,
    onboard_customer,
    provision_customer,
)

#: Credits moved to each child: enough for its customers' flows.
CREDITS_PER_CUSTOMER = 60


def customers(prefix: str, n: int) -> list[Customer]:
    """`n` customers whose flows connect an account and schedule one post."""
    return [
        Customer(
            external_id=f"{prefix}-{i:05d}",
            name=f"Customer {i:05d}",
            app_name=f"App {i}",
            app_description=DESC,
            media=(MediaItem("screenshot", f"https://cdn.example.com/{i}/home.png"),),
            connect="tiktok",
            schedule_in=timedelta(hours=2),
        )
        for i in range(n)
    ]


class Counters:
    """Attempts and retries the client reports, and the connections its pool opens."""

    def __init__(self) -> None:
        self.attempts = 0
        self.retries = 0
        self.connections = 0
        self.trace = aiohttp.TraceConfig()
        self.trace.on_connection_create_end.append(self._created)

    async def _created(self, *_: Any) -> None:
        self.connections += 1

    def attempt(self, _event: AttemptEvent) -> None:
        self.attempts += 1

    def retry(self, _event: AttemptEvent) -> None:
        self.retries += 1


async def measure(
    label: str,
    http: aiohttp.ClientSession,
    base: str,
    counters: Counters,
    items: list[Any],
    fn: Callable[[Any], Awaitable[Any]],
    concurrency: int,
) -> dict[str, Any]:
    """Run `fn` over `items` with `fan_out`; the figures of the run."""
    before = await sandbox_state(http, base)
    attempts, retries, conns = counters.attempts, counters.retries, counters.connections
    cpu, started = time.process_time(), time.perf_counter()
    results = await fan_out(items, fn, concurrency=concurrency)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = await sandbox_state(http, base)
    sent = counters.attempts - attempts

    def n429(state: dict[str, Any]) -> int:
        return int(state["responses"]["byStatus"].get("429", 0))

    errors = {f"{type(r.error).__name__}: {r.error}"[:160] for r in results if r.error}
    return {
        "label": label,
        "wall": wall,
        "failed": sum(not r.ok for r in results),
        "errors": sorted(errors),
        "requests": after["requests"]["total"] - before["requests"]["total"],
        "429s": n429(after) - n429(before),
        "retries": counters.retries - retries,
        "cpu_us_per_call": cpu / sent * 1e6 if sent else 0.0,
        "connections": counters.connections - conns,
    }


async def run(args: argparse.Namespace) -> int:
    port = free_port()
    n = args.children * args.per_child
    with tempfile.TemporaryDirectory(prefix="layers-children-") as tmp:
        cfg = Path(tmp) / "sandbox.json"
        cfg.write_text(json.dumps(CONFIG))
        cmd = [sys.executable, "-m", "layers_async.sandbox", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--speed", str(SPEED), "--config", str(cfg)]
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
            cmd, stdout=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        counters = Counters()
        try:
            async with aiohttp.ClientSession() as http:
                await wait_for_sandbox(http, base, proc)
                async with http.get(f"{base}/_sandbox/keys") as r:
                    key = (await r.json())["items"][0]["key"]

                async def authorize(attempt: OAuthUrl) -> None:
                    async with http.get(attempt.authorize_url, allow_redirects=False) as r:
                        if r.status != 302:
                            raise RuntimeError(f"consent page answered {r.status}")

                async def now() -> datetime:
                    return await sandbox_now(http, base)

                async with LayersClient(
                    api_key=key,
                    base_url=base,
                    poll_policy=DEFAULT_POLL.scaled(1 / SPEED),
                    poll_rate=args.poll_rate,
                    on_request=counters.attempt,
                    on_retry=counters.retry,
                    trace_configs=[counters.trace],
                ) as client:

                    async def one_key(c: Customer) -> None:
                        await onboard_customer(client, c, authorize=authorize, now=now)

                    single = await measure(
                        "one key", http, base, counters, customers("one", n), one_key,
                        args.concurrency,
                    )  # fmt: skip

                    async def provision(i: int) -> LayersClient:
                        child = await provision_customer(
                            client, f"child-{i:04d}", f"Child {i:04d}",
                            allocate=CREDITS_PER_CUSTOMER * args.per_child, now=now,
                        )  # fmt: skip
                        return client.with_options(api_key=child.secret)

                    started = time.perf_counter()
                    views = await asyncio.gather(*(provision(i) for i in range(args.children)))
                    provisioned = time.perf_counter() - started
                    work = [
                        (views[i // args.per_child], c)
                        for i, c in enumerate(customers("child", n))
                    ]

                    async def child_key(item: tuple[LayersClient, Customer]) -> None:
                        view, c = item
                        await onboard_customer(view, c, authorize=authorize, now=now)

                    children = await measure(
                        "child keys", http, base, counters, work, child_key, args.concurrency
                    )
                    shared = all(v.shares_pool_with(client) for v in views)
        finally:
            status = stop(proc)
    print(
        f"{n} customers' onboarding flows, concurrency {args.concurrency}, sandbox speed"
        f" {SPEED:g}, partner tier;\nchild keys: {args.children} children x {args.per_child}"
        f" customers (provisioned in {provisioned:.1f} s first, not counted below);"
        f" every view on the client's pool: {shared}\n"
    )
    rows = (
        ("wall time (s)", "wall", "{:.1f}"),
        ("failed flows", "failed", "{}"),
        ("requests", "requests", "{:,}"),
        ("requests per flow", None, "{:.1f}"),
        ("429s", "429s", "{}"),
        ("retries", "retries", "{}"),
        ("client CPU per call (µs)", "cpu_us_per_call", "{:.0f}"),
        ("connections opened", "connections", "{}"),
    )
    print(f"{'':<26}{'one key':>12}{'child keys':>12}")
    for title, field, fmt in rows:
        cells = [
            fmt.format(run[field] if field else run["requests"] / n) for run in (single, children)
        ]
        print(f"{title:<26}{cells[0]:>12}{cells[1]:>12}")
    for run_figures in (single, children):
        for e in run_figures["errors"][:5]:
            print(f"  {run_figures['label']}: {e}")
    print(f"\nsandbox exit status after SIGTERM: {status}")
    return 0 if status == 0 else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--children", type=int, default=200)
    p.add_argument("--per-child", type=int, default=5)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--poll-rate", type=float, default=2000.0)
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
