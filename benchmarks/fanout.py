"""Waiters and fan-out: poll economy against a naive poller, and 1,000 customers' flows.

Usage::

    python benchmarks/fanout.py [--customers 1000] [--jobs 20] [--concurrency 200]

The sandbox runs in its own subprocess at speed 60 with a ``partner``-tier key. Two parts:

1. **Economy.** ``--jobs`` slideshow-remix jobs (120 virtual s = 2 real s each) are awaited with
   ``wait_for_job`` (default ``PollPolicy`` scaled to speed 60); then as many more with a naive
   fixed-interval poller whose interval is set so that its median detection lag matches the
   waiter's. Printed per variant: polls per job, median and p95 lag (job finished → waiter
   returned) as a share of the job's duration, and the request ratio naive / waiter.
2. **Flows.** ``fan_out`` of ``--customers`` ``onboard_customer`` flows (project, screenshot,
   TikTok account through the sandbox's consent page, ready influencer, source, remix, job,
   container, schedule), then the same customers again. Printed: wall time, failures, requests
   per flow, polls per wait, and the counts of projects, containers and scheduled posts after
   each run (the second run must create nothing).
3. **Client CPU per request.** Around each run of flows, ``time.process_time()`` (this
   process's CPU alone; the sandbox is another process) divided by the HTTP requests this
   process sent meanwhile: the SDK's attempts (counted by an ``on_request`` hook) plus the
   benchmark's own consent-page and clock calls. Before and after each run, and between them,
   rounds of ``client.jobs.get`` (``--get-calls`` calls at concurrency 64, the concurrency of
   ``benchmarks/overhead.py``, same client and hook) give the CPU of one ``jobs.get``, and
   rounds of a fifth as many at concurrency 1 that of one ``jobs.get`` sent alone (a reference:
   a lone request shares its event-loop wakeups with no other). Printed: µs per request of
   each run, the median µs per ``jobs.get`` with its range, and their ratio against the
   target of at most 1.6x.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox_throughput import free_port, stop, wait_for_sandbox

from layers_async import (
    DEFAULT_POLL,
    AttemptEvent,
    Customer,
    Job,
    LayersClient,
    MediaItem,
    OAuthUrl,
    OnboardingResult,
    fan_out,
    onboard_customer,
    wait_for_job,
    wait_for_ready_influencer,
)

SPEED = 60.0
TARGET_FLOW_RATIO = 1.6
JOB_SECONDS = 120.0 / SPEED  # a slideshow-remix, in real seconds
DESC = (
    "Freshly roasted coffee delivered on a schedule for runners and night-shift workers who "
    "never want to run out of beans."
)
CONFIG: dict[str, Any] = {
    "jitter": 0,
    "organizations": [
        {
            "ref": "partner",
            "name": "Bench Partner",
            "includedThisPeriod": 1000,
            "prepaidBalance": 10_000_000,
            "subscriptionTier": "pro",
        }
    ],
    "apiKeys": [
        {
            "name": "bench",
            "organization": "partner",
            "rateLimitTier": "partner",
            "scopes": ["*", "org:admin"],
            "returnUrlAllowlist": ["localhost"],
        }
    ],
}


async def sandbox_state(http: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    """GET /_sandbox/state."""
    async with http.get(f"{base}/_sandbox/state") as r:
        data: dict[str, Any] = await r.json()
        return data


async def sandbox_now(http: aiohttp.ClientSession, base: str) -> datetime:
    """The sandbox's virtual now."""
    async with http.get(f"{base}/_sandbox/clock") as r:
        text = (await r.json())["now"]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def lag_of(job: Job, now: datetime) -> float:
    """Real seconds between the job's end and `now` (both virtual, at SPEED)."""
    assert job.finished_at is not None
    return max(0.0, (now - job.finished_at).total_seconds() / SPEED)


async def start_jobs(client: LayersClient, n: int) -> list[str]:
    """A project with a ready influencer, then `n` slideshow-remix jobs."""
    project = await client.projects.create(name="Economy", timezone="UTC", app_description=DESC)
    influencer = await wait_for_ready_influencer(client, project.id, timeout=60)
    recs = await client.content.source_recommendations(project.id, kind="slideshow", keyword="tea")
    jobs = []
    for i in range(n):
        job = await client.content.slideshow_remix(
            project.id,
            tiktok_video_id=recs.items[i % len(recs.items)].tiktok_id,
            influencer_id=influencer.influencer_id,
        )
        jobs.append(job.job_id)
    return jobs


async def economy(
    client: LayersClient, http: aiohttp.ClientSession, base: str, n: int, polls: dict[str, int]
) -> dict[str, Any]:
    """Waiter vs naive poller on n jobs each; returns the figures."""

    async def waited(job_id: str) -> float:
        job = await wait_for_job(client, job_id, timeout=60)
        return lag_of(job, await sandbox_now(http, base))

    job_ids = await start_jobs(client, n)
    polls.clear()
    lags = await asyncio.gather(*[waited(j) for j in job_ids])
    waiter_polls = sum(polls.get(j, 0) for j in job_ids) / n
    median = statistics.median(lags)
    interval = max(0.005, 2 * median)  # a fixed poller's median lag is about half its interval

    async def naive(job_id: str) -> tuple[float, int]:
        count = 0
        while True:
            job = await client.jobs.get(job_id)
            count += 1
            if job.is_terminal:
                return lag_of(job, await sandbox_now(http, base)), count
            await asyncio.sleep(interval)

    naive_ids = await start_jobs(client, n)
    naive_runs = await asyncio.gather(*[naive(j) for j in naive_ids])
    naive_lags = [lag for lag, _ in naive_runs]
    naive_polls = sum(c for _, c in naive_runs) / n

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, int(len(values) * 0.95) - 1)]

    return {
        "waiter_polls": waiter_polls,
        "waiter_median": median / JOB_SECONDS,
        "waiter_p95": p95(list(lags)) / JOB_SECONDS,
        "naive_interval": interval,
        "naive_polls": naive_polls,
        "naive_median": statistics.median(naive_lags) / JOB_SECONDS,
        "naive_p95": p95(naive_lags) / JOB_SECONDS,
        "ratio": naive_polls / waiter_polls if waiter_polls else float("inf"),
    }


async def jobs_get_cpu(
    client: LayersClient, job_id: str, calls: int, concurrency: int = 64
) -> float:
    """Client CPU µs per `jobs.get` over `calls` calls at `concurrency`."""
    left = calls

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await client.jobs.get(job_id)

    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - cpu) / calls * 1e6


async def flows(
    client: LayersClient,
    http: aiohttp.ClientSession,
    base: str,
    n: int,
    concurrency: int,
    attempts: list[int],
    get_calls: int,
) -> tuple[list[dict[str, Any]], list[float], list[float]]:
    """n onboarding flows, twice; returns the figures of each run and the jobs.get rounds'
    CPU µs per call at concurrency 64 and at 1. `attempts[0]` counts the SDK's attempts (an
    `on_request` hook)."""
    own_calls = [0]  # the benchmark's consent-page and clock requests

    async def authorize(attempt: OAuthUrl) -> None:
        own_calls[0] += 1
        async with http.get(attempt.authorize_url, allow_redirects=False) as r:
            if r.status != 302:
                raise RuntimeError(f"consent page answered {r.status}")

    async def now() -> datetime:
        own_calls[0] += 1
        return await sandbox_now(http, base)

    customers = [
        Customer(
            external_id=f"bench-{i:05d}",
            name=f"Customer {i:05d}",
            app_name=f"App {i}",
            app_description=DESC,
            media=(MediaItem("screenshot", f"https://cdn.example.com/{i}/home.png"),),
            connect="tiktok",
            schedule_in=timedelta(hours=2),
        )
        for i in range(n)
    ]

    async def one(customer: Customer) -> OnboardingResult:
        return await onboard_customer(client, customer, authorize=authorize, now=now)

    job_id = (await start_jobs(client, 1))[0]
    gets = [await jobs_get_cpu(client, job_id, get_calls)]
    singles = [await jobs_get_cpu(client, job_id, get_calls // 5, 1)]

    runs = []
    for label in ("first run", "second run"):
        before = await sandbox_state(http, base)
        hub_before = client.polls_sent
        sent_before = attempts[0] + own_calls[0]
        started = time.perf_counter()
        cpu = time.process_time()
        results = await fan_out(customers, one, concurrency=concurrency)
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - started
        sent = attempts[0] + own_calls[0] - sent_before
        after = await sandbox_state(http, base)
        gets.append(await jobs_get_cpu(client, job_id, get_calls))
        singles.append(await jobs_get_cpu(client, job_id, get_calls // 5, 1))
        requests = after["requests"]["total"] - before["requests"]["total"]
        waits = n * 2  # one influencer wait and one job wait per flow (+ OAuth on first run)
        runs.append(
            {
                "label": label,
                "wall": wall,
                "failures": sum(not r.ok for r in results),
                "errors": sorted({type(r.error).__name__ for r in results if not r.ok}),
                "requests_per_flow": requests / n,
                "polls_per_wait": (client.polls_sent - hub_before) / waits,
                "projects": after["counts"]["projects"]["total"],
                "containers": after["counts"]["containers"]["total"],
                "scheduled_posts": after["counts"]["scheduledPosts"]["total"],
                "cpu_us_per_request": cpu / sent * 1e6 if sent else 0.0,
            }
        )
    return runs, gets, singles


def report_cpu(runs: list[dict[str, Any]], gets: list[float], singles: list[float]) -> None:
    """Print client CPU per request in flows against a `jobs.get`'s."""
    get_us = statistics.median(gets)
    print(
        f"\nClient CPU per jobs.get (c=64, {len(gets)} rounds): {get_us:.0f} us "
        f"(range {min(gets):.0f}-{max(gets):.0f}); one at a time (c=1), for reference: "
        f"{statistics.median(singles):.0f} us (range {min(singles):.0f}-{max(singles):.0f})"
    )
    for row in runs:
        ratio = row["cpu_us_per_request"] / get_us
        verdict = "meets" if ratio <= TARGET_FLOW_RATIO else "MISSES"
        print(
            f"client CPU per request in flows ({row['label']}): {row['cpu_us_per_request']:.0f} us"
            f" = {ratio:.2f}x per jobs.get — {verdict} the <= {TARGET_FLOW_RATIO}x target"
        )
    print(f"load average (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


async def run(args: argparse.Namespace) -> int:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="layers-fanout-") as tmp:
        cfg = Path(tmp) / "sandbox.json"
        cfg.write_text(json.dumps(CONFIG))
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
            [
                sys.executable,
                "-m",
                "layers_async.sandbox",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--speed",
                str(SPEED),
                "--config",
                str(cfg),
            ],
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        polls: dict[str, int] = {}
        attempts = [0]

        def count(event: AttemptEvent) -> None:
            attempts[0] += 1
            if event.path.startswith("/v1/jobs/"):
                job_id = event.path.rsplit("/", 1)[-1]
                polls[job_id] = polls.get(job_id, 0) + 1

        try:
            async with aiohttp.ClientSession() as http:
                await wait_for_sandbox(http, base, proc)
                async with http.get(f"{base}/_sandbox/keys") as r:
                    key = (await r.json())["items"][0]["key"]
                async with LayersClient(
                    api_key=key,
                    base_url=base,
                    poll_policy=DEFAULT_POLL.scaled(1 / SPEED),
                    poll_rate=args.poll_rate,
                    on_request=count,
                ) as client:
                    eco = await economy(client, http, base, args.jobs, polls)
                    print(
                        f"Economy: {args.jobs} slideshow-remix jobs, {JOB_SECONDS:.1f} real s each"
                    )
                    print(f"{'poller':<24}{'polls/job':>10}{'median lag':>12}{'p95 lag':>10}")
                    print(
                        f"{'wait_for_job':<24}{eco['waiter_polls']:>10.1f}"
                        f"{eco['waiter_median']:>11.1%}{eco['waiter_p95']:>10.1%}"
                    )
                    naive_label = f"fixed {eco['naive_interval'] * 1000:.0f} ms"
                    print(
                        f"{naive_label:<24}{eco['naive_polls']:>10.1f}"
                        f"{eco['naive_median']:>11.1%}{eco['naive_p95']:>10.1%}"
                    )
                    print(f"naive / waiter requests: {eco['ratio']:.1f}x\n")
                    runs, gets, singles = await flows(
                        client,
                        http,
                        base,
                        args.customers,
                        args.concurrency,
                        attempts,
                        args.get_calls,
                    )
                    print(f"Flows: {args.customers} customers, concurrency {args.concurrency}")
                    head = (
                        f"{'run':<12}{'wall s':>8}{'failed':>8}{'req/flow':>10}{'polls/wait':>12}"
                    )
                    print(head + f"{'projects':>10}{'containers':>12}{'posts':>8}")
                    for row in runs:
                        print(
                            f"{row['label']:<12}{row['wall']:>8.1f}{row['failures']:>8}"
                            f"{row['requests_per_flow']:>10.1f}{row['polls_per_wait']:>12.1f}"
                            f"{row['projects']:>10}{row['containers']:>12}{row['scheduled_posts']:>8}"
                        )
                        if row["errors"]:
                            print("   errors:", ", ".join(row["errors"]))
                    report_cpu(runs, gets, singles)
        finally:
            status = stop(proc)
    print(f"\nsandbox exit status after SIGTERM: {status}")
    return 0 if status == 0 else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=20)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--poll-rate", type=float, default=2000.0)
    p.add_argument("--get-calls", type=int, default=5000, help="calls per jobs.get round")
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
