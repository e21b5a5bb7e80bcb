"""The examples run against the sandbox, through the pytest fixtures users get."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from layers_async import DEFAULT_POLL, LayersClient, Sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DESC = (
    "Freshly roasted coffee delivered on a schedule for runners and night-shift workers who "
    "never want to run out of beans."
)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def layers_sandbox_options() -> dict[str, Any]:
    """The examples wait for real work: run the plugin's sandbox clock 60x faster."""
    return {"speed": 60}


def _client(sandbox: Sandbox) -> LayersClient:
    return LayersClient(
        api_key=sandbox.api_key, base_url=sandbox.url, poll_policy=DEFAULT_POLL.scaled(1 / 60)
    )


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_quickstart_runs_the_getting_started_flow(layers_sandbox: Sandbox) -> None:
    """examples/quickstart.py creates a project, a container and a scheduled post."""
    quickstart = _load("quickstart")
    async with _client(layers_sandbox) as client:
        ids = await quickstart.getting_started(client, sandbox_url=layers_sandbox.url)
    assert ids["project_id"].startswith("prj_")
    counts = (await layers_sandbox.state())["counts"]
    assert counts["containers"]["byStatus"] == {"completed": 1}
    assert counts["scheduledPosts"]["byStatus"] == {"queued": 1}


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_web_service_onboards_in_the_background(layers_sandbox: Sandbox) -> None:
    """examples/web_service.py answers 202 at once and finishes the onboarding later."""
    service = _load("web_service")
    app = service.create_app(lambda: _client(layers_sandbox))
    async with TestClient(TestServer(app)) as http:
        bad = await http.post("/customers", json={"name": "No Id"})
        assert bad.status == 422
        assert (await bad.json())["field"] == "external_id"
        body = {
            "external_id": "web-1",
            "name": "Web Coffee",
            "app_description": DESC,
            "logo_url": "https://cdn.example.com/web/logo.png",
        }
        started = await http.post("/customers", json=body)
        assert started.status == 202
        assert (await started.json())["status"] == "running"
        for _ in range(200):
            status = await (await http.get("/customers/web-1")).json()
            if status["status"] != "running":
                break
            await asyncio.sleep(0.05)
        assert status["status"] == "done", status
        assert status["container_id"].startswith("cnt_")
        assert (await http.get("/customers/nobody")).status == 404
    counts = (await layers_sandbox.state())["counts"]
    assert counts["projects"]["total"] == 1
    assert counts["containers"]["byStatus"] == {"completed": 1}


@pytest.mark.anyio
async def test_web_service_shutdown_cancels_onboarding_in_flight(layers_sandbox: Sandbox) -> None:
    """Stopping the service closes its client and cancels onboarding that is still running."""
    service = _load("web_service")
    app = service.create_app(lambda: _client(layers_sandbox))
    async with TestClient(TestServer(app)) as http:
        body = {"external_id": "web-2", "name": "Slow Coffee", "app_description": DESC}
        assert (await http.post("/customers", json=body)).status == 202
        tasks = set(app[service.TASKS])
        assert tasks
    assert all(t.done() for t in tasks)
    assert app[service.CLIENT].is_closed
