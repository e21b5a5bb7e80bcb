"""SDK overhead: client CPU per call of ``LayersClient.jobs.get`` against raw aiohttp.

Usage::

    python benchmarks/overhead.py [--calls 20000] [--concurrency 64] [--round 2000]

The sandbox runs in its own subprocess (``python -m layers_async.sandbox``), started the way
``benchmarks/sandbox_throughput.py`` starts it: one API key on the ``partner`` rate-limit tier
and the clock at ``--speed 600``, so the 60-virtual-second rate-limit window lasts 0.1 real
seconds and the partner read-light budget (6,000 per window) is never reached. One project, its
first influencer and one slideshow-builder job are created over raw HTTP beforehand.

Two variants then fetch ``GET /v1/jobs/{jobId}`` for that job, each with ``--concurrency``
workers sharing one connection pool:

- ``layers_async``: ``await client.jobs.get(job_id)`` through one ``LayersClient``
  (validation, headers, error mapping, JSON decoding into the frozen ``Job`` model);
- ``raw aiohttp``: one ``aiohttp.ClientSession`` sending the same headers,
  ``async with session.get(url) as r: data = orjson.loads(await r.read())``.

The variants run interleaved, in alternating rounds of ``--round`` calls, until each has made
``--calls`` calls, so that drift in machine load hits both alike. Around every round the script
reads ``time.process_time()`` (the CPU time of this process: the sandbox is another process,
so this is the client's CPU alone) and ``time.perf_counter()``. It prints, per variant, the
calls, CPU microseconds per call and wall calls per second, then the ratio of CPU per call
(layers_async / raw) and whether it meets the target of at most 1.3x.

Exit status 0 when the benchmark ran, every call succeeded and the sandbox stopped with status
0 on SIGTERM; 1 otherwise. Missing the target is reported, not treated as a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # import layers_async from this checkout

from sandbox_throughput import (  # noqa: E402 - needs the path set above
    SANDBOX_CONFIG,
    BenchError,
    bench_key,
    call,
    create_job,
    free_port,
    stop,
    wait_for_sandbox,
)

from layers_async import LayersClient  # noqa: E402 - needs the path set above
from layers_async._client import USER_AGENT  # noqa: E402 - the exact header the SDK sends

try:
    import orjson

    def loads(data: bytes) -> Any:
        """Decode JSON bytes (orjson)."""
        return orjson.loads(data)

    JSON_LIB = "orjson"
except ImportError:  # pragma: no cover - orjson is in the `bench` extra

    def loads(data: bytes) -> Any:
        """Decode JSON bytes (stdlib json)."""
        return json.loads(data)

    JSON_LIB = "json"

TARGET_RATIO = 1.3
WARMUP_CALLS = 500
VARIANTS = ("layers_async", "raw aiohttp")

Call = Callable[[], Awaitable[None]]


@dataclass
class Tally:
    """What one variant accumulated over its rounds."""

    name: str
    calls: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    failures: int = 0

    @property
    def cpu_us_per_call(self) -> float:
        """Client CPU microseconds per call."""
        return self.cpu / self.calls * 1e6 if self.calls else 0.0

    @property
    def calls_per_second(self) -> float:
        """Wall-clock calls per second."""
        return self.calls / self.wall if self.wall > 0 else 0.0


async def run_round(one_call: Call, calls: int, concurrency: int) -> tuple[float, float, int]:
    """Make ``calls`` calls with ``concurrency`` workers; return (cpu s, wall s, failures)."""
    remaining = calls
    failures = 0

    async def worker() -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            try:
                await one_call()
            except Exception:  # counted; the run is reported as failed
                failures += 1

    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, calls))))
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    return cpu, wall, failures


async def measure(
    base: str,
    proc: subprocess.Popen[bytes],
    *,
    calls: int,
    concurrency: int,
    round_size: int,
) -> dict[str, Tally]:
    """Set up a job over raw HTTP, then run both variants in alternating rounds."""
    async with aiohttp.ClientSession() as setup:
        await wait_for_sandbox(setup, base, proc)
        key = await bench_key(setup, base)
        status, whoami = await call(setup, "GET", f"{base}/v1/whoami", key=key)
        if status != 200:
            raise BenchError(f"GET /v1/whoami answered {status}: {whoami}")
        job_id = await create_job(setup, base, key)

    job_url = f"{base}/v1/jobs/{job_id}"
    headers = {
        "Authorization": f"Bearer {key}",
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
    }
    async with (
        LayersClient(api_key=key, base_url=base) as client,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100)  # the SDK's default pool size
        ) as raw,
    ):

        async def sdk_call() -> None:
            job = await client.jobs.get(job_id)
            if job.job_id != job_id:
                raise BenchError(f"unexpected job {job.job_id}")

        async def raw_call() -> None:
            async with raw.get(job_url, headers=headers) as r:
                data = loads(await r.read())
                if r.status != 200 or data["jobId"] != job_id:
                    raise BenchError(f"GET {job_url} answered {r.status}")

        variants: dict[str, Call] = {"layers_async": sdk_call, "raw aiohttp": raw_call}
        for one_call in variants.values():  # warm up connections, caches and code paths
            _, _, failed = await run_round(one_call, WARMUP_CALLS, concurrency)
            if failed:
                raise BenchError(f"{failed} warm-up calls failed")

        tallies = {name: Tally(name) for name in VARIANTS}
        rounds = 0
        while any(t.calls < calls for t in tallies.values()):
            # Alternate which variant goes first so neither always follows the other.
            order = VARIANTS if rounds % 2 == 0 else VARIANTS[::-1]
            for name in order:
                tally = tallies[name]
                n = min(round_size, calls - tally.calls)
                if n <= 0:
                    continue
                cpu, wall, failed = await run_round(variants[name], n, concurrency)
                tally.calls += n
                tally.cpu += cpu
                tally.wall += wall
                tally.failures += failed
            rounds += 1
        return tallies


def report(tallies: dict[str, Tally], concurrency: int) -> float:
    """Print the table and the ratio; return the ratio."""
    print(
        f"GET /v1/jobs/{{jobId}}, concurrency {concurrency}, JSON: {JSON_LIB}, "
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, "
        f"{os.cpu_count()} CPUs"
    )
    header = f"{'variant':<14} {'calls':>7} {'CPU us/call':>12} {'wall calls/s':>13} {'failed':>7}"
    print(header)
    print("-" * len(header))
    for t in tallies.values():
        print(
            f"{t.name:<14} {t.calls:>7} {t.cpu_us_per_call:>12.1f} "
            f"{t.calls_per_second:>13.0f} {t.failures:>7}"
        )
    sdk, raw = tallies["layers_async"], tallies["raw aiohttp"]
    ratio = sdk.cpu_us_per_call / raw.cpu_us_per_call if raw.cpu_us_per_call else float("inf")
    verdict = "meets" if ratio <= TARGET_RATIO else "does NOT meet"
    print()
    print(
        f"CPU per call, layers_async / raw aiohttp: {ratio:.2f}x "
        f"({sdk.cpu_us_per_call:.1f} us vs {raw.cpu_us_per_call:.1f} us; "
        f"SDK overhead {sdk.cpu_us_per_call - raw.cpu_us_per_call:+.1f} us/call) — "
        f"{verdict} the <= {TARGET_RATIO}x target"
    )
    return ratio


class SandboxProcess:
    """The sandbox in its own subprocess on a free port, as the benchmarks start it: one
    ``partner``-tier key (``SANDBOX_CONFIG``), seed 0, its output in a log file under `tmp`."""

    def __init__(self, tmp: Path, speed: float = 600) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        config_path = tmp / "sandbox.json"
        config_path.write_text(json.dumps(SANDBOX_CONFIG), encoding="utf-8")
        self.log_path = tmp / "sandbox.log"
        command = [
            sys.executable, "-m", "layers_async.sandbox",
            "--host", "127.0.0.1", "--port", str(port),
            "--speed", f"{speed:g}", "--seed", "0", "--config", str(config_path),
        ]  # fmt: skip
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        print(f"starting sandbox: {' '.join(command)}")
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def stop(self) -> int | None:
        """SIGTERM, then its exit status (None when it had to be killed)."""
        return stop(self.proc)

    def print_log(self) -> None:
        """The end of its output, on stderr (after a failure)."""
        sandbox_log = self.log_path.read_text(encoding="utf-8", errors="replace")
        if sandbox_log.strip():
            print("--- sandbox output ---", file=sys.stderr)
            print(sandbox_log.rstrip()[-4000:], file=sys.stderr)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=20_000, help="calls per variant (20000)")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent workers (64)")
    parser.add_argument("--round", type=int, default=2_000, help="calls per round (2000)")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.concurrency < 1 or args.round < 1:
        parser.error("--calls, --concurrency and --round must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox subprocess, measure both variants, stop it; return the exit status."""
    args = parse_args(argv)
    tallies: dict[str, Tally] | None = None
    failure: str | None = None

    with tempfile.TemporaryDirectory(prefix="layers-overhead-") as tmp:
        sandbox = SandboxProcess(Path(tmp))
        try:
            print(
                f"measuring {args.calls} calls per variant in rounds of {args.round}, "
                f"concurrency {args.concurrency} ..."
            )
            tallies = asyncio.run(
                measure(
                    sandbox.base,
                    sandbox.proc,
                    calls=args.calls,
                    concurrency=args.concurrency,
                    round_size=args.round,
                )
            )
        except BenchError as exc:
            failure = str(exc)
        except (aiohttp.ClientError, OSError, KeyError, TypeError, ValueError) as exc:
            failure = f"unexpected {type(exc).__name__} during the run: {exc}"
        except KeyboardInterrupt:
            failure = "interrupted"
        finally:
            exit_status = sandbox.stop()

        if failure is not None:
            print(f"benchmark failed: {failure}", file=sys.stderr)
            sandbox.print_log()

    if tallies is not None:
        print()
        report(tallies, args.concurrency)
        print()
    print(f"sandbox exit status after SIGTERM: {exit_status}")
    if tallies is None or any(t.failures for t in tallies.values()):
        return 1
    return 0 if exit_status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
