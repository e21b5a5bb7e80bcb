"""10,000 waiters on 10,000 distinct jobs: one client, one poll budget, bounded memory."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from layers_async import LayersClient, wait_for_job

JOBS = 10_000
POLL_RATE = 2_500.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_kib() -> tuple[int, int]:
    """(current RSS, peak RSS) of this process in KiB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


@pytest.fixture
async def remote_sandbox(tmp_path: Path) -> AsyncIterator[str]:
    """A sandbox in its own process (so only the client's memory is measured here)."""
    config = {
        "organizations": [
            {
                "ref": "partner",
                "name": "Scale",
                "includedThisPeriod": 0,
                "prepaidBalance": 0,
                "maxRunningJobs": JOBS * 2,
            },
        ],
        "apiKeys": [
            {
                "name": "scale",
                "organization": "partner",
                "env": "test",
                "rateLimitTier": "partner",
                "scopes": ["*"],
                "returnUrlAllowlist": ["localhost"],
            },
        ],
        "durations": {"slideshowBuilder": 10_000_000},  # running until the clock jumps
    }
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps(config))
    port = _free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before the measured part
        [
            sys.executable,
            "-m",
            "layers_async.sandbox",
            "--port",
            str(port),
            "--speed",
            "600",
            "--config",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"{base}/_sandbox/clock") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.anyio
@pytest.mark.timeout(180)
async def test_ten_thousand_waiters_on_distinct_jobs(remote_sandbox: str) -> None:
    """All 10,000 waiters return once the clock jumps, each polled; RSS grows < 150 MB."""
    base = remote_sandbox
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/_sandbox/keys") as r:
            key = (await r.json())["items"][0]["key"]
        async with LayersClient(api_key=key, base_url=base, poll_rate=POLL_RATE) as client:
            project = await client.projects.create(name="Scale Co", timezone="UTC")
            sem = asyncio.Semaphore(64)

            async def start(i: int) -> str:
                async with sem:
                    job = await client.content.slideshow_builder(project.id, hook=f"hook {i}")
                    return job.job_id

            job_ids = await asyncio.gather(*[start(i) for i in range(JOBS)])
            assert len(set(job_ids)) == JOBS

            rss_before, _ = _rss_kib()
            polls_before = client._waiting.hub.polls
            waiters = [asyncio.create_task(wait_for_job(client, j, timeout=150)) for j in job_ids]
            for _ in range(100):  # every waiter opens its stream within its first steps
                if client._waiting.hub.active_streams == JOBS:
                    break
                await asyncio.sleep(0)
            assert client._waiting.hub.active_streams == JOBS
            assert not any(w.done() for w in waiters)
            async with http.post(
                f"{base}/_sandbox/clock/advance", json={"seconds": 20_000_000}
            ) as r:
                assert r.status == 200
            done = await asyncio.gather(*waiters)
            polls = client._waiting.hub.polls - polls_before
            _, peak = _rss_kib()

    growth_mb = (peak - rss_before) / 1024
    print(f"\n{JOBS} waiters: {polls} polls, peak RSS +{growth_mb:.0f} MB")
    assert all(job.status == "completed" for job in done)
    assert client._waiting.hub.active_streams == 0
    # Every job was polled at least once. (That the polls keep to the poll budget's rate is
    # pinned on a virtual clock in test_poll_hub_units.py, not by timing this run.)
    assert polls >= JOBS
    assert growth_mb < 150, f"peak RSS grew {growth_mb:.0f} MB"
