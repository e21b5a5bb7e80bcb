"""Sandbox throughput: requests per second the embedded Layers sandbox serves.

Usage::

    python benchmarks/sandbox_throughput.py [--seconds N] [--concurrency C]

The sandbox runs in its own subprocess (``python -m layers_async.sandbox``) so that the
benchmark client and the server do not share an event loop or a core's worth of Python.
Its configuration gives the only API key the ``partner`` rate-limit tier, and the clock
runs at ``--speed 600``, so rate limits do not bind during the run.

Two routes are measured for N seconds each with C concurrent workers over one
``aiohttp.ClientSession`` (connection pool of size C):

- ``GET /v1/jobs/{jobId}`` for one slideshow-builder job created beforehand;
- ``POST /v1/projects`` with a fresh body per request (no ``appDescription``, so no
  background work), each with its own ``Idempotency-Key`` as the SDK would send.

The target is 2,000 requests/s for ``GET /v1/jobs/{jobId}``. The script exits 0 when the
benchmark ran and the sandbox stopped with status 0 on SIGTERM, and 1 otherwise; missing
the target is reported, not treated as a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_JOBS_RPS = 2_000.0
STARTUP_TIMEOUT_S = 30.0
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0

SANDBOX_CONFIG: dict[str, Any] = {
    # Keys listed here replace the sandbox's two default keys.
    "apiKeys": [
        {
            "name": "bench",
            "organization": "partner",
            "rateLimitTier": "partner",
            "scopes": ["*", "org:admin"],
            "returnUrlAllowlist": ["localhost"],
        }
    ]
}

# 120 characters: inside the 100-1000 range, so the project gets its first influencer.
APP_DESCRIPTION = (
    "Bench Co makes a small demo app, used only to measure how many requests per second "
    "the local Layers sandbox can process."
)
assert len(APP_DESCRIPTION) == 120, len(APP_DESCRIPTION)

Request = Callable[[aiohttp.ClientSession], Awaitable[int]]


class BenchError(RuntimeError):
    """The benchmark could not be set up (sandbox did not start, unexpected response)."""


@dataclass
class Result:
    """The outcome of hammering one route."""

    route: str
    requests: int
    seconds: float
    non_2xx: int

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    key: str | None = None,
    body: dict[str, Any] | None = None,
) -> tuple[int, Any]:
    """Send one request during set-up; return the status and the decoded JSON body (or None)."""
    headers: dict[str, str] = {}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if method != "GET":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    async with http.request(method, url, json=body, headers=headers) as resp:
        raw = await resp.read()
        return resp.status, (json.loads(raw) if raw else None)


async def wait_for_sandbox(
    http: aiohttp.ClientSession, base: str, proc: subprocess.Popen[bytes]
) -> None:
    """Poll ``GET /_sandbox/clock`` until it answers 200 (or the subprocess dies)."""
    deadline = time.perf_counter() + STARTUP_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise BenchError(f"the sandbox exited during start-up with status {proc.returncode}")
        try:
            status, _ = await call(http, "GET", f"{base}/_sandbox/clock")
            if status == 200:
                return
        except (aiohttp.ClientError, OSError):
            pass
        if time.perf_counter() > deadline:
            raise BenchError(f"the sandbox did not answer within {STARTUP_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.05)


async def bench_key(http: aiohttp.ClientSession, base: str) -> str:
    """The key string of the ``bench`` key, from ``GET /_sandbox/keys``."""
    status, body = await call(http, "GET", f"{base}/_sandbox/keys")
    if status != 200:
        raise BenchError(f"GET /_sandbox/keys answered {status}: {body}")
    for item in body["items"]:
        if item["name"] == "bench":
            return str(item["key"])
    raise BenchError(f"no key named 'bench' in GET /_sandbox/keys: {body}")


async def create_job(http: aiohttp.ClientSession, base: str, key: str) -> str:
    """Create a project, wait for its first influencer, start a slideshow-builder job."""
    project_body = {
        "name": "Bench Co",
        "timezone": "UTC",
        "appName": "Bench Co",
        "appDescription": APP_DESCRIPTION,
    }
    status, project = await call(http, "POST", f"{base}/v1/projects", key=key, body=project_body)
    if status != 201:
        raise BenchError(f"POST /v1/projects answered {status}: {project}")
    project_id = str(project["id"])

    deadline = time.perf_counter() + READY_TIMEOUT_S
    influencer_id: str | None = None
    while influencer_id is None:
        url = f"{base}/v1/projects/{project_id}/influencers"
        status, page = await call(http, "GET", url, key=key)
        if status != 200:
            raise BenchError(f"GET {url} answered {status}: {page}")
        ready = [item for item in page["items"] if item["status"] == "ready"]
        if ready:
            influencer_id = str(ready[0]["influencerId"])
        elif time.perf_counter() > deadline:
            raise BenchError(f"no ready influencer after {READY_TIMEOUT_S:.0f} s: {page}")
        else:
            await asyncio.sleep(0.02)

    url = f"{base}/v1/projects/{project_id}/content/slideshow-builder"
    body = {"hook": "hello", "influencerId": influencer_id}
    status, job = await call(http, "POST", url, key=key, body=body)
    if status != 202:
        raise BenchError(f"POST {url} answered {status}: {job}")
    return str(job["jobId"])


async def hammer(
    http: aiohttp.ClientSession,
    route: str,
    request: Request,
    *,
    seconds: float,
    concurrency: int,
) -> Result:
    """Run ``concurrency`` workers sending ``request`` back to back for ``seconds``."""
    counts = {"requests": 0, "non_2xx": 0}

    async def worker(deadline: float) -> None:
        while time.perf_counter() < deadline:
            try:
                status = await request(http)
            except (aiohttp.ClientError, OSError):
                status = 0  # no response at all; counted with the non-2xx answers
            counts["requests"] += 1
            if not 200 <= status < 300:
                counts["non_2xx"] += 1

    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(worker(deadline) for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return Result(route, counts["requests"], elapsed, counts["non_2xx"])


async def run(
    base: str, proc: subprocess.Popen[bytes], seconds: float, concurrency: int
) -> list[Result]:
    """Set up against the running sandbox, then measure both routes."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        await wait_for_sandbox(http, base, proc)
        key = await bench_key(http, base)
        status, whoami = await call(http, "GET", f"{base}/v1/whoami", key=key)
        if status != 200:
            raise BenchError(f"GET /v1/whoami answered {status}: {whoami}")
        job_id = await create_job(http, base, key)
        auth = {"Authorization": f"Bearer {key}"}
        job_url = f"{base}/v1/jobs/{job_id}"
        projects_url = f"{base}/v1/projects"
        numbers = itertools.count(1)

        async def get_job(session: aiohttp.ClientSession) -> int:
            async with session.get(job_url, headers=auth) as resp:
                await resp.read()
                return resp.status

        async def create_project(session: aiohttp.ClientSession) -> int:
            headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
            body = {"name": f"Bench {next(numbers)}", "timezone": "UTC"}
            async with session.post(projects_url, json=body, headers=headers) as resp:
                await resp.read()
                return resp.status

        print(f"measuring {seconds:g} s per route with {concurrency} concurrent workers ...")
        return [
            await hammer(
                http, "GET /v1/jobs/{jobId}", get_job, seconds=seconds, concurrency=concurrency
            ),
            await hammer(
                http, "POST /v1/projects", create_project, seconds=seconds, concurrency=concurrency
            ),
        ]


def print_table(results: list[Result]) -> None:
    """Print one row per measured route."""
    header = f"{'route':<24} {'requests':>9} {'seconds':>8} {'requests/s':>11} {'non-2xx':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.route:<24} {r.requests:>9} {r.seconds:>8.2f} {r.rate:>11.0f} {r.non_2xx:>8}")


def stop(proc: subprocess.Popen[bytes]) -> int | None:
    """Send SIGTERM and wait for the sandbox to exit; None if it had to be killed."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per route (5)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent workers (32)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1:
        parser.error("--seconds must be > 0 and --concurrency >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox subprocess, benchmark it, stop it; return the exit status."""
    args = parse_args(argv)
    seconds: float = args.seconds
    concurrency: int = args.concurrency
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    with tempfile.TemporaryDirectory(prefix="layers-bench-") as tmp:
        config_path = Path(tmp) / "sandbox.json"
        config_path.write_text(json.dumps(SANDBOX_CONFIG), encoding="utf-8")
        log_path = Path(tmp) / "sandbox.log"
        command = [
            sys.executable, "-m", "layers_async.sandbox",
            "--host", "127.0.0.1", "--port", str(port),
            "--speed", "600", "--seed", "0", "--config", str(config_path),
        ]  # fmt: skip
        # Run from the repository root so an uninstalled checkout works too.
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        print(f"starting sandbox: {' '.join(command)}")
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            results: list[Result] | None = None
            failure: str | None = None
            try:
                results = asyncio.run(run(base, proc, seconds, concurrency))
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

    if results is not None:
        print()
        print_table(results)
        print()
    if exit_status is None:
        print(f"sandbox did not stop within {STOP_TIMEOUT_S:.0f} s of SIGTERM and was killed")
    else:
        print(f"sandbox exit status after SIGTERM: {exit_status}")
    if results is None:
        return 1
    jobs_rate = results[0].rate
    verdict = "reached" if jobs_rate >= TARGET_JOBS_RPS else "did NOT reach"
    print(
        f"GET /v1/jobs/{{jobId}} {verdict} the {TARGET_JOBS_RPS:,.0f} req/s target "
        f"({jobs_rate:,.0f} req/s)"
    )
    return 0 if exit_status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
