"""Client CPU per call: layers_async against raw aiohttp + orjson and an httpx + pydantic client.

Usage::

    python benchmarks/peers.py [--rounds 9] [--scale 1.0]

The sandbox runs in its own subprocess, started and prepared as ``benchmarks/overhead.py`` does
it (one ``partner``-tier key, ``--speed 600``, one project, its first influencer and one
slideshow-builder job), plus 60 more projects so that a 50-row list page is full. Three
operations, each through three stacks:

- ``jobs.get``: ``GET /v1/jobs/{jobId}`` decoded into a job;
- ``list page``: ``GET /v1/projects?limit=50``, its 50 rows decoded;
- ``create``: ``POST /v1/projects`` with a fresh name and ``Idempotency-Key``, decoded.

Stacks:

- ``ours``: ``client.jobs.get(job_id)``, ``await client.projects.list(limit=50)`` and
  ``client.projects.create(name=..., timezone="UTC")`` through one ``LayersClient``;
- ``raw``: one ``aiohttp.ClientSession`` sending the same headers, the body read whole and
  parsed with ``orjson.loads`` (no models);
- ``httpx``: an openai-python-style client: one ``httpx.AsyncClient`` (with ``sniffio``, as
  openai-python installs it) and pydantic v2 models with the same fields as ours (the ones of
  ``benchmarks/decode.py``), built with ``model_validate_json`` on the body (pydantic's fastest
  path, so the comparison is generous to it).

Cases: ``jobs.get`` at concurrency 64, the list page at 16 and ``create`` at 16 (ours / raw,
targets 1.10x, 1.30x and 1.10x), then ``jobs.get`` and the list page at concurrency 1 through
all three stacks (ours / httpx, target 0.30x on the worse of the two). Every round runs every
case with every stack, the order of the stacks flipping each round, after a warm-up of each.
Each run is timed with ``time.process_time()``: this process's CPU alone, since the sandbox is
another process. The script prints, per case, the median CPU µs per call of each stack with its
range over the rounds, and the median of the per-round ratios with their range, then the load
average. Exit status 0 when every call succeeded and the sandbox exited 0 on SIGTERM; missing a
target is reported, not a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
import orjson

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # import layers_async from this checkout

from decode import PJob, PPage, PProject  # noqa: E402 - the same pydantic models
from overhead import SandboxProcess, run_round  # noqa: E402
from sandbox_throughput import BenchError, bench_key, call, create_job, wait_for_sandbox  # noqa: E402

from layers_async import LayersClient  # noqa: E402 - needs the path set above
from layers_async._client import USER_AGENT  # noqa: E402 - the exact header the SDK sends

Call = Callable[[], Awaitable[None]]
PAGE_ROWS = 50
WARMUP_CALLS = 200


@dataclass(frozen=True)
class Case:
    """One operation at one concurrency, the stacks it compares and its target."""

    op: str
    concurrency: int
    calls: int  # per stack per round, before --scale
    stacks: tuple[str, ...]
    target: float  # of ours / stacks[1]


CASES = (
    Case("jobs.get", 64, 1500, ("ours", "raw"), 1.10),
    Case("list page", 16, 300, ("ours", "raw"), 1.30),
    Case("create", 16, 400, ("ours", "raw"), 1.10),
    Case("jobs.get", 1, 400, ("ours", "httpx", "raw"), 0.30),
    Case("list page", 1, 150, ("ours", "httpx", "raw"), 0.30),
)


@dataclass
class Samples:
    """CPU µs per call of each stack, one value per round."""

    us: dict[str, list[float]] = field(default_factory=dict)
    failures: int = 0


def _read_headers(key: str) -> dict[str, str]:
    """The headers the SDK sends with a GET."""
    auth = f"Bearer {key}"
    return {"Authorization": auth, "User-Agent": USER_AGENT, "Accept": "application/json"}


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise BenchError(what)


async def _setup(base: str, proc: subprocess.Popen[bytes]) -> tuple[str, str]:
    """A key, a job, and enough projects for a full list page."""
    async with aiohttp.ClientSession() as setup:
        await wait_for_sandbox(setup, base, proc)
        key = await bench_key(setup, base)
        job_id = await create_job(setup, base, key)
        for i in range(PAGE_ROWS + 10):
            body = {"name": f"Peer {i}", "timezone": "UTC"}
            status, _ = await call(setup, "POST", f"{base}/v1/projects", key=key, body=body)
            _check(status == 201, f"POST /v1/projects answered {status}")
    return key, job_id


def _variants(
    client: LayersClient, raw: aiohttp.ClientSession, hx: httpx.AsyncClient, base: str, key: str,
    job_id: str,
) -> dict[tuple[str, str], Call]:  # fmt: skip
    """Every (operation, stack) pair as a no-argument coroutine function."""
    numbers = itertools.count()
    headers = _read_headers(key)
    job_url = f"{base}/v1/jobs/{job_id}"
    list_url = f"{base}/v1/projects"
    list_params = {"limit": str(PAGE_ROWS)}

    def new_name() -> str:
        return f"Peer bench {next(numbers)}"

    def write_headers() -> dict[str, str]:
        fresh = {"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
        return {**headers, **fresh}

    async def ours_get() -> None:
        _check((await client.jobs.get(job_id)).job_id == job_id, "wrong job")

    async def ours_list() -> None:
        _check(len(await client.projects.list(limit=PAGE_ROWS)) == PAGE_ROWS, "short page")

    async def ours_create() -> None:
        name = new_name()
        _check((await client.projects.create(name=name, timezone="UTC")).name == name, "create")

    async def raw_get() -> None:
        async with raw.get(job_url, headers=headers) as r:
            data = orjson.loads(await r.read())
            _check(r.status == 200 and data["jobId"] == job_id, f"GET job answered {r.status}")

    async def raw_list() -> None:
        async with raw.get(list_url, params=list_params, headers=headers) as r:
            data = orjson.loads(await r.read())
            _check(r.status == 200 and len(data["items"]) == PAGE_ROWS, f"list {r.status}")

    async def raw_create() -> None:
        name = new_name()
        body = orjson.dumps({"name": name, "timezone": "UTC"})
        async with raw.post(list_url, data=body, headers=write_headers()) as r:
            data = orjson.loads(await r.read())
            _check(r.status == 201 and data["name"] == name, f"create answered {r.status}")

    async def hx_get() -> None:
        r = await hx.get(job_url)
        _check(r.status_code == 200, f"GET job answered {r.status_code}")
        _check(PJob.model_validate_json(r.content).job_id == job_id, "wrong job")

    async def hx_list() -> None:
        r = await hx.get(list_url, params=list_params)
        _check(r.status_code == 200, f"list answered {r.status_code}")
        _check(len(PPage.model_validate_json(r.content).items) == PAGE_ROWS, "short page")

    async def hx_create() -> None:
        name = new_name()
        body = {"name": name, "timezone": "UTC"}
        r = await hx.post(list_url, json=body, headers=write_headers())
        _check(r.status_code == 201, f"create answered {r.status_code}")
        _check(PProject.model_validate_json(r.content).name == name, "create")

    return {
        ("jobs.get", "ours"): ours_get, ("jobs.get", "raw"): raw_get, ("jobs.get", "httpx"): hx_get,
        ("list page", "ours"): ours_list, ("list page", "raw"): raw_list,
        ("list page", "httpx"): hx_list,
        ("create", "ours"): ours_create, ("create", "raw"): raw_create,
        ("create", "httpx"): hx_create,
    }  # fmt: skip


async def measure(
    base: str, proc: subprocess.Popen[bytes], rounds: int, scale: float
) -> dict[Case, Samples]:
    """Set up, warm up, then run every case with every stack in interleaved rounds."""
    key, job_id = await _setup(base, proc)
    headers = _read_headers(key)
    async with (
        LayersClient(api_key=key, base_url=base) as client,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as raw,
        httpx.AsyncClient(headers=headers, limits=httpx.Limits(max_connections=100)) as hx,
    ):
        variants = _variants(client, raw, hx, base, key, job_id)
        for (op, stack), one_call in variants.items():
            _, _, failed = await run_round(one_call, WARMUP_CALLS, 16)
            _check(failed == 0, f"{failed} warm-up calls of {op} through {stack} failed")
        results = {case: Samples({s: [] for s in case.stacks}) for case in CASES}
        for r in range(rounds):
            for case in CASES:
                n = max(1, int(case.calls * scale))
                order = case.stacks if r % 2 == 0 else case.stacks[::-1]
                for stack in order:
                    cpu, _, failed = await run_round(
                        variants[(case.op, stack)], n, case.concurrency
                    )
                    results[case].us[stack].append(cpu / n * 1e6)
                    results[case].failures += failed
        return results


def _span(values: list[float], fmt: str) -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def report(results: dict[Case, Samples]) -> None:
    """Print each case's medians and ranges, ratios and verdicts."""
    print(
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, "
        f"httpx {httpx.__version__}, {os.cpu_count()} CPUs; CPU µs per call, median (range)"
    )
    for case, s in results.items():
        ours = s.us["ours"]
        peer = case.stacks[1]
        ratios = [o / p for o, p in zip(ours, s.us[peer], strict=True)]
        median = statistics.median(ratios)
        cells = ", ".join(f"{stack} {_span(s.us[stack], '.1f')}" for stack in case.stacks)
        verdict = "meets" if median <= case.target else "MISSES"
        print(f"{case.op:<10} c={case.concurrency:<3} {cells}")
        print(
            f"{'':<16} ours / {peer}: {_span(ratios, '.2f')}x — {verdict} the "
            f"<= {case.target:.2f}x target; failed calls: {s.failures}"
        )
    print(f"load average (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox subprocess, measure, stop it; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (9)")
    parser.add_argument("--scale", type=float, default=1.0, help="scale the calls per round")
    args = parser.parse_args(argv)
    results: dict[Case, Samples] | None = None
    with tempfile.TemporaryDirectory(prefix="layers-peers-") as tmp:
        sandbox = SandboxProcess(Path(tmp))
        try:
            started = time.perf_counter()
            results = asyncio.run(measure(sandbox.base, sandbox.proc, args.rounds, args.scale))
            print(f"{args.rounds} rounds in {time.perf_counter() - started:.0f} s")
        except (BenchError, aiohttp.ClientError, httpx.HTTPError, OSError) as exc:
            print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            sandbox.print_log()
        finally:
            exit_status = sandbox.stop()
    if results is not None:
        report(results)
    print(f"sandbox exit status after SIGTERM: {exit_status}")
    if results is None or any(s.failures for s in results.values()):
        return 1
    return 0 if exit_status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
