"""Real processes for the distributed tests: a sandbox, `layers-async` workers, the CLI."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import pytest
import redis.asyncio

from layers_async import Customer
from layers_async.distributed import FlowStatus, FlowStore
from tests.cli._remote import sandbox_process

__all__ = [
    "Workers",
    "cli",
    "env_for",
    "sandbox_json",
    "sandbox_process",
    "store_at",
    "until_status",
    "write_csv",
]


def env_for(base: str, key: str, redis_url: str) -> dict[str, str]:
    """The environment of a `layers-async` process against `base` and `redis_url`."""
    env = dict(os.environ)
    env.update(LAYERS_BASE_URL=base, LAYERS_API_KEY=key, LAYERS_REDIS_URL=redis_url)
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``layers-async ARGS`` to its end in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "layers_async", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def write_csv(path: Path, customers: Iterable[Customer]) -> Path:
    """The customers as an `enqueue`/`onboard` CSV (their media, connect and names)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["external_id", "name", "app_name", "app_description", "logo_url", "connect"])
        for c in customers:
            logo = c.media[0].url if c.media else ""
            out.writerow([c.external_id, c.name, c.app_name, c.app_description, logo, c.connect])
    return path


class Workers:
    """`layers-async worker` processes, each logging to its own file under `directory`."""

    def __init__(self, env: dict[str, str], directory: Path, *args: str) -> None:
        self.env, self.directory, self.args = env, directory, args
        self.procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    def start(self) -> int:
        """Start one more worker; its index."""
        log = (self.directory / f"worker-{len(self.procs)}.log").open("wb")
        self._logs.append(log)
        cmd = [sys.executable, "-m", "layers_async", "worker", *self.args]
        self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log))
        return len(self.procs) - 1

    def logs(self) -> str:
        """Every worker's output so far (for a failing test's message)."""
        return "\n".join(
            p.read_text(errors="replace")[-2000:] for p in sorted(self.directory.glob("worker-*"))
        )

    def stop_all(self) -> None:
        """SIGTERM every live worker and wait for each; close the logs."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self._logs:
            log.close()


@asynccontextmanager
async def store_at(url: str) -> AsyncIterator[FlowStore]:
    """The flows' store in the Redis at `url`."""
    conn = redis.asyncio.Redis.from_url(url)
    try:
        yield FlowStore(conn)
    finally:
        await conn.aclose()


async def until_status(
    store: FlowStore, ok: Callable[[FlowStatus], bool], what: str, timeout: float = 240
) -> FlowStatus:
    """Read the flows' counts until `ok(status)`; fail the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        status = await store.status()
        if ok(status):
            return status
        if loop.time() > deadline:
            pytest.fail(f"never reached: {what}; last counts {status}")
        await asyncio.sleep(0.05)


async def sandbox_json(base: str, path: str) -> Any:
    """A ``GET`` of the sandbox at `base` (its ``/_sandbox/`` routes), decoded."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{base}{path}") as r:
        return json.loads(await r.text())
