"""`layers-async worker`, `enqueue`, `status` and `results`: onboarding on arq workers over Redis.

::

    layers-async worker [--concurrency 200] [--lease 15]      # as many as you like, anywhere
    layers-async enqueue customers.csv [--schedule-in 1d]     # one durable job per customer
    layers-async status [--wait]                              # live counts, failures
    layers-async results --out results.jsonl

Every command finds Redis at ``LAYERS_REDIS_URL`` (default ``redis://localhost:6379``); the
workers find the API as ``onboard`` does (``LAYERS_API_KEY``, ``LAYERS_BASE_URL``; a sandbox on
this machine consents for its customers). Rows are validated exactly as ``onboard`` validates
them. These commands need the ``distributed`` extra (arq and redis).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from . import arguments
from .arguments import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, rich_available
from .onboard import connect, wait_timeouts, write_results
from .rows import read_customers

if TYPE_CHECKING:
    from arq import ArqRedis

    from ..distributed._steps import FlowStatus

__all__ = [
    "COMMANDS",
    "DEFAULT_REDIS_URL",
    "DISTRIBUTED_MISSING",
    "NO_WORKER_KEY",
    "add_arguments",
    "plain_status",
    "redis_url",
    "run",
]

T = TypeVar("T")
#: Where Redis is when ``LAYERS_REDIS_URL`` is not set.
DEFAULT_REDIS_URL = "redis://localhost:6379"
#: What every command here prints when arq or redis is not installed.
DISTRIBUTED_MISSING = (
    "error: this needs arq and redis, which come with the distributed extra:"
    " pip install 'layers-async[distributed]'"
)
#: What ``worker`` says when it has no API key.
NO_WORKER_KEY = (
    "error: no API key: set LAYERS_API_KEY (and LAYERS_BASE_URL for a sandbox of your own)"
)
#: How often ``status --wait`` reads the counts (seconds).
_WAIT_EVERY = 0.5

#: Each command: (name, one-line help, description).
COMMANDS = (
    (
        "worker",
        "run an arq worker that onboards the customers enqueued in Redis",
        "Run an arq worker of onboarding jobs against LAYERS_REDIS_URL, with the API key and base"
        " URL of LAYERS_API_KEY and LAYERS_BASE_URL. Start as many as you like, on any machine:"
        " each customer's flow is checkpointed step by step in Redis, and a job whose worker died"
        " is taken by another within --lease seconds and resumes at its step.",
    ),
    (
        "enqueue",
        "validate a customer list and enqueue one durable onboarding job per customer",
        "Validate every row of a CSV or JSONL customer list exactly as `onboard` does (bad rows"
        " are reported as 'line N: field: message' and skipped) and enqueue one job per customer"
        " (job id onboard:<external_id>) in LAYERS_REDIS_URL. Enqueuing again does nothing for"
        " customers queued, running or done, and retries the failed ones from their step.",
    ),
    (
        "status",
        "show the onboarding jobs' live counts by step and their failures",
        "Counts of the flows enqueued in LAYERS_REDIS_URL: queued, running (by the last step"
        " each finished), done and failed (with the reason). A table on a terminal (rich), plain"
        " lines otherwise.",
    ),
    (
        "results",
        "write every finished customer's ids (and every failure) to a JSONL file",
        "Write one JSON line per customer done (its ids) or failed (its error), from Redis.",
    ),
)


def add_arguments(name: str, p: argparse.ArgumentParser) -> None:
    """Add the arguments of command `name` (one of `COMMANDS`) to `p`."""
    if name == "worker":
        p.add_argument(
            "--concurrency",
            type=arguments.positive_int,
            default=200,
            help="flows this worker runs at once (default 200: most of a flow is waiting)",
        )
        p.add_argument(
            "--burst", action="store_true", help="stop once the queue is empty (default: never)"
        )
        p.add_argument(
            "--gate",
            choices=("redis", "local"),
            default="redis",
            help="redis (default): one rate-limit budget per key shared by every worker, in"
            " LAYERS_REDIS_URL; local: this process's own gate, as if it were alone on the key",
        )
        seconds = (
            ("--lease", 15.0, "a job of a worker that died is taken by another after this long"),
            ("--oauth-timeout", 900.0, "how long each consent may take against the real API"),
        )
        for flag, default, text in seconds:
            p.add_argument(
                flag,
                type=arguments.positive_float,
                default=default,
                metavar="SECONDS",
                help=f"{text} (default {default:g})",
            )
    elif name == "enqueue":
        p.add_argument("customers", type=Path, help="the customer list: a .csv or .jsonl file")
        p.add_argument(
            "--schedule-in",
            type=arguments.parse_duration,
            default=None,
            metavar="DURATION",
            help="schedule each post this long after it is ready (rows with connect only)",
        )
    elif name == "status":
        p.add_argument(
            "--wait",
            action="store_true",
            help="keep showing the counts until nothing is queued or running",
        )
    elif name == "results":
        p.add_argument("--out", type=Path, required=True, metavar="FILE.jsonl")


def redis_url() -> str:
    """``LAYERS_REDIS_URL``, or the local default."""
    return os.environ.get("LAYERS_REDIS_URL") or DEFAULT_REDIS_URL


def _shown(url: str) -> str:
    """`url` without its password (it never appears in a message)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def run(args: argparse.Namespace) -> int:
    """Run the command `args.command` (one of `COMMANDS`); returns the exit status."""
    try:
        import arq  # noqa: F401
        import redis  # noqa: F401
    except ImportError:
        print(DISTRIBUTED_MISSING, file=sys.stderr)
        return EXIT_USAGE
    handlers: dict[str, Callable[[argparse.Namespace, ArqRedis], Awaitable[int]]] = {
        "worker": _worker,
        "enqueue": _enqueue,
        "status": _status,
        "results": _results,
    }
    return asyncio.run(_with_redis(args, handlers[args.command]))


async def _with_redis(
    args: argparse.Namespace, work: Callable[[argparse.Namespace, ArqRedis], Awaitable[int]]
) -> int:
    from redis.exceptions import RedisError

    from ..distributed._worker import connect_redis

    url = redis_url()
    try:
        redis = await connect_redis(url)
    except (OSError, RedisError) as exc:
        print(
            f"error: cannot reach Redis at {_shown(url)} (LAYERS_REDIS_URL): {exc}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        return await work(args, redis)
    finally:
        await redis.aclose()


async def _worker(args: argparse.Namespace, redis: ArqRedis) -> int:
    from redis.exceptions import RedisError

    from ..distributed._worker import FlowOptions, run_worker

    if not os.environ.get("LAYERS_API_KEY"):
        print(NO_WORKER_KEY, file=sys.stderr)
        return EXIT_USAGE
    args.sandbox = False
    async with contextlib.AsyncExitStack() as stack:
        gates = None
        if args.gate == "redis":
            from ..distributed import RedisGates

            gates = await stack.enter_async_context(RedisGates(redis_url()))
        client, target = await connect(stack, args, gate=gates)
        influencer, job, oauth = wait_timeouts(target, args.oauth_timeout)
        options = FlowOptions(
            authorize=target.authorize,
            now=target.now,
            influencer_timeout=influencer,
            job_timeout=job,
            oauth_timeout=oauth,
        )
        print(
            f"worker: {args.concurrency} flows at once, lease {args.lease:g} s, {args.gate}"
            f" rate-limit gate, Redis {_shown(redis_url())}",
            flush=True,
        )
        try:
            await run_worker(
                client,
                redis_url(),
                options=options,
                concurrency=args.concurrency,
                lease=args.lease,
                burst=args.burst,
            )
        except (OSError, RedisError) as exc:
            print(
                f"error: lost Redis at {_shown(redis_url())}: {exc}\n  the flows this worker"
                " ran stay queued and resume from their checkpoints once Redis answers again",
                file=sys.stderr,
            )
            return EXIT_PROBLEMS
    return EXIT_OK


async def _enqueue(args: argparse.Namespace, redis: ArqRedis) -> int:
    from ..distributed._worker import enqueue_onboarding

    try:
        rows, bad = read_customers(Path(args.customers), schedule_in=args.schedule_in)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.customers}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for b in bad:
        for field, message in b.problems:
            print(f"line {b.line}: {field}: {message}", flush=True)
    done = await enqueue_onboarding(redis, [r.customer for r in rows])
    print(
        f"enqueue: {len(rows) + len(bad)} rows in {args.customers}: {done.enqueued} enqueued"
        f" ({done.retried} failed earlier, retried), {done.pending} already queued or running,"
        f" {done.done} already done, {len(bad)} bad",
        flush=True,
    )
    return EXIT_PROBLEMS if bad else EXIT_OK


async def _status(args: argparse.Namespace, redis: ArqRedis) -> int:
    from ..distributed._steps import FlowStore

    store = FlowStore(redis)
    rich_ok = sys.stdout.isatty() and rich_available()
    shown = ""
    while True:
        status = await store.status()
        if rich_ok:
            _rich_status(status)
        else:
            text = plain_status(status)
            if text != shown:
                print(text, flush=True)
                shown = text
        if not args.wait or not (status.count("queued") or status.count("running")):
            return EXIT_PROBLEMS if status.count("failed") else EXIT_OK
        await asyncio.sleep(_WAIT_EVERY)


def plain_status(status: FlowStatus) -> str:
    """The counts as plain lines: totals, running flows by step, one line per failure."""
    counts = " | ".join(
        f"{name} {status.count(name)}" for name in ("queued", "running", "done", "failed")
    )
    lines = [f"flows: {status.total} enqueued | {counts}"]
    if status.running_by_step:
        steps = ", ".join(f"{s} {n}" for s, n in sorted(status.running_by_step.items()))
        lines.append(f"running, by the last step finished: {steps}")
    for ext, error in sorted(status.failures.items()):
        lines.append(f"failed: {ext}: {error.get('type')}: {error.get('message')}")
    return "\n".join(lines)


def _rich_status(status: FlowStatus) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{status.total} flows")
    table.add_column("status")
    table.add_column("flows", justify="right")
    for name in ("queued", "running", "done", "failed"):
        table.add_row(name, str(status.count(name)))
    for step, n in sorted(status.running_by_step.items()):
        table.add_row(f"  running, after {step}", str(n))
    console = Console()
    console.print(table)
    for ext, error in sorted(status.failures.items()):
        console.print(f"[red]failed[/red] {ext}: {error.get('type')}: {error.get('message')}")


async def _results(args: argparse.Namespace, redis: ArqRedis) -> int:
    from ..distributed._steps import FlowStore

    store = FlowStore(redis)
    started = time.monotonic()
    finished = await store.results()
    status = await store.status()
    lines: list[dict[str, Any]] = [
        {"external_id": ext, "ok": True} | line for ext, line in finished.items()
    ]
    lines += [
        {"external_id": ext, "ok": False, "error": dict(error)}
        for ext, error in status.failures.items()
    ]
    lines.sort(key=lambda rec: str(rec["external_id"]))
    try:
        write_results(Path(args.out), lines)
    except OSError as exc:
        print(f"error: cannot write --out {args.out}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    unfinished = status.count("queued") + status.count("running")
    print(
        f"results: {len(finished)} done, {len(status.failures)} failed, {unfinished} not finished"
        f" → {args.out} ({time.monotonic() - started:.1f} s)",
        flush=True,
    )
    return EXIT_PROBLEMS if status.failures else EXIT_OK
