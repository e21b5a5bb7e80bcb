"""Fault soak: onboard many customers at once through a hostile network; then the gate.

Usage::

    python benchmarks/fault_soak.py [--customers 200] [--starts 100] [--no-waits]
                                    [--budget-burst N]

The sandbox runs in its own subprocess (``python -m layers_async.sandbox``), started the way
``benchmarks/sandbox_throughput.py`` starts it, with a configuration file holding two keys (a
``partner``-tier one for the soak, a ``standard``-tier one for the gate experiment), enough
prepaid credits for every remix, and the soak's fault mix on every ``/v1`` route
(``tests/reliability/_soak.py``: 2% latency of 3 s, beyond the 2 s per-attempt timeout;
about 3.4% each of ``http_500``/``http_502``/``http_503``; 5% ``http_429`` with
``Retry-After: 1``; 3% ``drop_before_commit``; 3% ``drop_after_commit``).

1. **Soak** (clock at speed 600): ``--customers`` flows run concurrently on one
   ``LayersClient`` with the hostile-network policy ``RetryPolicy(max_attempts=8,
   budget_ratio=0.5)`` (``--budget-burst`` overrides its burst of 10), the gate sized from the
   key's tier, and real backoff sleeps (``--no-waits`` uses ``layers_async.testing.no_waits``).
   Each flow creates a project, uploads a screenshot, connects a TikTok account, waits for a
   ready influencer, remixes a slideshow, waits for the job and schedules the result. The
   script prints flows ok/failed (and why), requests the server saw, attempts and retries the
   SDK's hooks counted, responses by status, 429s, and duplicates: per resource, the
   sandbox's count minus the number of customers (0 when nothing was duplicated or lost).
2. **Gate** (sandbox reset, faults off, clock at speed 60, influencer jobs of 0.05 virtual s):
   5 projects, then ``--starts`` concurrent influencer creates (long-running: 20 a minute on
   the ``standard`` tier), once with ``rate_limit_tier=False`` and once with
   ``rate_limit_tier=True``, each on a fresh sandbox (reset) and with a retry policy generous
   enough to finish. It prints the 429s the server sent for each and the reduction.

Exit status 0 when both parts ran and the sandbox stopped with status 0 on SIGTERM; failed
flows or a missed target are reported, not treated as a failure of the script.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import attrs

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # import layers_async and the soak from this checkout

from sandbox_throughput import (  # noqa: E402 - needs the path set above
    BenchError,
    call,
    free_port,
    stop,
    wait_for_sandbox,
)

from layers_async import Job, LayersClient, RetryPolicy  # noqa: E402
from layers_async.testing import no_waits  # noqa: E402
from tests.reliability._soak import (  # noqa: E402
    GATE_POLICY,
    GATE_SANDBOX,
    HOSTILE_POLICY,
    SOAK_FAULTS,
    SOAK_ORGANIZATIONS,
    SOAK_PARTNER_KEY,
    SOAK_TIMEOUTS,
    AttemptCounter,
    create_projects,
    run_soak,
    start_burst,
    summarize,
)

GATE_KEY: dict[str, Any] = {
    "name": "gate",
    "organization": "partner",
    "env": "live",
    "rateLimitTier": "standard",
    "scopes": ["*", "org:admin"],
    "returnUrlAllowlist": ["localhost", "127.0.0.1"],
}
SANDBOX_CONFIG: dict[str, Any] = {
    "apiKeys": [SOAK_PARTNER_KEY, GATE_KEY],
    "organizations": SOAK_ORGANIZATIONS,
    "faults": SOAK_FAULTS,
    "jitter": 0,
}
GATE_PROJECTS = 5
TARGET_REDUCTION = 90.0


@dataclass
class GateRun:
    """One side of the gate experiment."""

    gate: bool
    starts: int
    failed: int
    server_429s: int
    seconds: float


@dataclass
class Outcome:
    """Everything the script prints."""

    soak: dict[str, Any]
    soak_seconds: float
    policy: RetryPolicy
    waits: bool
    gate_runs: list[GateRun]


async def sandbox_get(http: aiohttp.ClientSession, base: str, path: str) -> Any:
    """GET a `/_sandbox/` route; its JSON body."""
    status, body = await call(http, "GET", f"{base}{path}")
    if status != 200:
        raise BenchError(f"GET {path} answered {status}: {body}")
    return body


async def key_named(http: aiohttp.ClientSession, base: str, name: str) -> str:
    """The current key string of the key called `name`."""
    body = await sandbox_get(http, base, "/_sandbox/keys")
    for item in body["items"]:
        if item["name"] == name:
            return str(item["key"])
    raise BenchError(f"no key named {name!r} in GET /_sandbox/keys")


@contextlib.contextmanager
def maybe_no_waits(enabled: bool) -> Iterator[None]:
    """`no_waits()` when asked for, else nothing."""
    if enabled:
        with no_waits():
            yield
    else:
        yield


async def soak(
    http: aiohttp.ClientSession, base: str, customers: int, policy: RetryPolicy, waits: bool
) -> tuple[dict[str, Any], float]:
    """The fault soak; its figures and wall seconds."""
    counter = AttemptCounter()
    key = await key_named(http, base, "soak")
    async with LayersClient(
        api_key=key,
        base_url=base,
        retry=policy,
        rate_limit_tier=True,
        timeout=SOAK_TIMEOUTS,
        **counter.hooks(),
    ) as client:
        started = time.perf_counter()
        with maybe_no_waits(not waits):
            results = await run_soak(client, base, http, customers)
        seconds = time.perf_counter() - started
    state = await sandbox_get(http, base, "/_sandbox/state")
    figures = summarize(results, state, counter)
    figures["429s_seen_by_client"] = counter.outcomes.get("429", 0)
    return figures, seconds


async def gate_run(http: aiohttp.ClientSession, base: str, gate: bool, starts: int) -> GateRun:
    """Reset the sandbox for the gate experiment and run one side of it."""
    status, body = await call(http, "POST", f"{base}/_sandbox/reset", body=GATE_SANDBOX)
    if status != 200:
        raise BenchError(f"POST /_sandbox/reset answered {status}: {body}")
    key = await key_named(http, base, "gate")
    # A 100 s deadline: with the default 60 s, the gate gives up on waiting calls at once
    # (it assumes a 60 s window until a response says otherwise), which is not what this
    # experiment measures.
    async with LayersClient(
        api_key=key, base_url=base, retry=GATE_POLICY, rate_limit_tier=gate, timeout=100.0
    ) as client:
        projects = await create_projects(client, GATE_PROJECTS, "Gate")
        before = (await sandbox_get(http, base, "/_sandbox/state"))["responses"]["byStatus"]
        started = time.perf_counter()
        outcomes = await start_burst(client, projects, starts)
        seconds = time.perf_counter() - started
    after = (await sandbox_get(http, base, "/_sandbox/state"))["responses"]["byStatus"]
    return GateRun(
        gate=gate,
        starts=starts,
        failed=sum(1 for o in outcomes if not isinstance(o, Job)),
        server_429s=int(after.get("429", 0)) - int(before.get("429", 0)),
        seconds=seconds,
    )


async def run(
    base: str,
    proc: subprocess.Popen[bytes],
    *,
    customers: int,
    starts: int,
    policy: RetryPolicy,
    waits: bool,
) -> Outcome:
    """Both parts of the benchmark against the running sandbox."""
    async with aiohttp.ClientSession() as http:
        await wait_for_sandbox(http, base, proc)
        print(f"soak: {customers} customers ...", flush=True)
        figures, seconds = await soak(http, base, customers, policy, waits)
        runs: list[GateRun] = []
        for gate in (False, True):
            print(f"gate {'on' if gate else 'off'}: {starts} long-running starts ...", flush=True)
            runs.append(await gate_run(http, base, gate, starts))
    return Outcome(figures, seconds, policy, waits, runs)


def report(out: Outcome) -> None:
    """Print the figures."""
    f = out.soak
    p = out.policy
    print(
        f"Fault soak: {f['flows']} customers, policy max_attempts={p.max_attempts} "
        f"budget_ratio={p.budget_ratio} budget_burst={p.budget_burst}, "
        f"{'real backoff sleeps' if out.waits else 'no_waits()'}, {out.soak_seconds:.1f} s"
    )
    print(f"  flows ok / failed:         {f['ok']} / {f['failed']}")
    for why, n in sorted(f["failures"].items(), key=lambda kv: -kv[1]):
        print(f"    {n:>4}  {why}")
    print(f"  requests sent (server):    {f['requests_server']}")
    print(f"  attempts (SDK hooks):      {f['attempts_client']}")
    print(f"  retries (on_retry hook):   {f['retries']}  {json.dumps(f['retry_reasons'])}")
    print(f"  responses by status:       {json.dumps(f['responses_by_status'])}")
    print(f"  429s received:             {f['429s_seen_by_client']} (server sent {f['429s']})")
    print(f"  resources in the sandbox:  {json.dumps(f['counts'])}")
    print(f"  count - customers:         {json.dumps(f['duplicates'])}")
    print(
        f"  duplicates found:          {f['duplicates_found']} "
        "(resources beyond the flows that issued the creating call)"
    )
    print(f"  OAuth attempts minted:     {f['oauth_attempts']}")
    print()
    print("Gate: standard key, speed 60, long-running influencer starts, all at once")
    for g in out.gate_runs:
        print(
            f"  gate {'on ' if g.gate else 'off'}: {g.starts} starts, {g.failed} failed, "
            f"{g.server_429s} 429s from the server, {g.seconds:.1f} s"
        )
    off = next(g for g in out.gate_runs if not g.gate)
    on = next(g for g in out.gate_runs if g.gate)
    if off.server_429s:
        reduction = 100.0 * (1 - on.server_429s / off.server_429s)
        verdict = "met" if reduction >= TARGET_REDUCTION else "NOT met"
        print(
            f"  429 reduction with the gate: {reduction:.1f}% "
            f"(target >= {TARGET_REDUCTION:.0f}%: {verdict})"
        )
    else:
        print("  no 429s without the gate: nothing to reduce")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=200, help="soak customers (200)")
    parser.add_argument("--starts", type=int, default=100, help="gate starts (100)")
    parser.add_argument("--no-waits", action="store_true", help="soak without real backoff sleeps")
    parser.add_argument(
        "--budget-burst", type=int, default=None, help="override the policy's budget_burst"
    )
    args = parser.parse_args(argv)
    if args.customers < 1 or args.starts < 1:
        parser.error("--customers and --starts must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox subprocess, run the soak and the gate experiment, stop it."""
    args = parse_args(argv)
    policy = HOSTILE_POLICY
    if args.budget_burst is not None:
        policy = attrs.evolve(policy, budget_burst=args.budget_burst)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    outcome: Outcome | None = None
    failure: str | None = None

    with tempfile.TemporaryDirectory(prefix="layers-soak-") as tmp:
        config_path = Path(tmp) / "sandbox.json"
        config_path.write_text(json.dumps(SANDBOX_CONFIG), encoding="utf-8")
        log_path = Path(tmp) / "sandbox.log"
        command = [
            sys.executable, "-m", "layers_async.sandbox",
            "--host", "127.0.0.1", "--port", str(port),
            "--speed", "600", "--seed", "0", "--config", str(config_path),
        ]  # fmt: skip
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        print(f"starting sandbox: {' '.join(command)}")
        print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                outcome = asyncio.run(
                    run(
                        base,
                        proc,
                        customers=args.customers,
                        starts=args.starts,
                        policy=policy,
                        waits=not args.no_waits,
                    )
                )
            except BenchError as exc:
                failure = str(exc)
            except (aiohttp.ClientError, OSError, KeyError, TypeError, ValueError) as exc:
                failure = f"unexpected {type(exc).__name__} during the run: {exc}"
            except KeyboardInterrupt:
                failure = "interrupted"
            finally:
                exit_status = stop(proc)

        if failure is not None:
            print(f"benchmark failed: {failure}", file=sys.stderr)
            sandbox_log = log_path.read_text(encoding="utf-8", errors="replace")
            if sandbox_log.strip():
                print("--- sandbox output ---", file=sys.stderr)
                print(sandbox_log.rstrip()[-4000:], file=sys.stderr)

    if outcome is not None:
        print()
        report(outcome)
        print()
    print(f"sandbox exit status after SIGTERM: {exit_status}")
    if outcome is None:
        return 1
    return 0 if exit_status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
