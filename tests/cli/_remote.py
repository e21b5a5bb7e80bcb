"""A sandbox in another process for the CLI's crash tests, and what they read of it."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

ORGS = [
    {
        "ref": "partner",
        "name": "Partner",
        "includedThisPeriod": 1000,
        "prepaidBalance": 10_000_000,
        "subscriptionTier": "pro",
    }
]
KEYS = [
    {
        "name": "partner",
        "organization": "partner",
        "rateLimitTier": "partner",
        "scopes": ["*", "org:admin"],
        "returnUrlAllowlist": ["localhost"],
    }
]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@asynccontextmanager
async def sandbox_process(tmp_path: Path, speed: float = 60) -> AsyncIterator[tuple[str, str]]:
    """A sandbox in its own process with the partner-tier key of `KEYS`: (base URL, key)."""
    config = tmp_path / "sandbox.json"
    config.write_text(json.dumps({"organizations": ORGS, "apiKeys": KEYS}))
    port = free_port()
    cmd = [sys.executable, "-m", "layers_async.sandbox", "--port", str(port)]
    cmd += ["--speed", str(speed), "--config", str(config)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)  # noqa: ASYNC220 - started once
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"{base}/_sandbox/keys") as r:
                        if r.status == 200:
                            key: str = (await r.json())["items"][0]["key"]
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the sandbox process did not start")
        yield base, key
    finally:
        proc.terminate()
        proc.wait(10)


async def sandbox_state(base: str) -> dict[str, Any]:
    """``GET /_sandbox/state`` of the sandbox at `base`."""
    async with aiohttp.ClientSession() as http, http.get(f"{base}/_sandbox/state") as r:
        state: dict[str, Any] = await r.json()
        return state
