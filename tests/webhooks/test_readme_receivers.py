"""The README's "Receiving events" examples work as written: the aiohttp.web and Starlette
apps (served for real on 127.0.0.1) dispatch a signed delivery to their handlers and close
their receiver on shutdown, and the fixture example passes under pytest."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from layers_async import LayersClient
from tests.test_readme import _section
from tests.webhooks._serve import PATH, _socket, uvicorn_serving
from tests.webhooks.conftest import Rig

pytestmark = pytest.mark.anyio
SECTION = _section("### Receiving events")
BLOCKS = [b.split("```")[0] for b in SECTION.split("```python\n")[1:]]


def _block(needle: str) -> dict[str, Any]:
    """Execute the section's Python block containing `needle`; return its globals."""
    [text] = [b for b in BLOCKS if needle in b]
    namespace: dict[str, Any] = {}
    exec(compile(text, "README Receiving events", "exec"), namespace)
    return namespace


def _job_event(type_: str, **data: Any) -> dict[str, Any]:
    return {
        "id": f"evt_readme_{type_}",
        "type": type_,
        "data": {"jobId": "job_readme", "organizationId": "org_1", **data},
    }


@pytest.mark.parametrize("rig", ["aiohttp"], indirect=True)
async def test_the_aiohttp_example_dispatches_and_closes(
    rig: Rig, client: LayersClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make_app` routes a delivery to `job_done` and the catch-all, and its cleanup closes
    the receiver after the handlers ran."""
    await rig.register()
    app = _block("def make_app")["make_app"](client, [rig.secret])
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = _socket()
    rig.url = f"http://127.0.0.1:{sock.getsockname()[1]}{PATH}"
    try:
        await web.SockSite(runner, sock).start()
        assert (await rig.deliver(_job_event("job.completed")))[0] == 200
        assert (await rig.deliver({"id": "evt_x", "type": "new.kind", "data": {}}))[0] == 200
    finally:
        await runner.cleanup()
        sock.close()
    assert capsys.readouterr().out.splitlines() == [
        "job done: job_readme",
        "unhandled: new.kind",
    ]


@pytest.mark.parametrize("rig", ["aiohttp"], indirect=True)
async def test_the_starlette_example_dispatches_under_uvicorn(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Starlette `app` under uvicorn routes a `job.failed` delivery to `job_failed`; its
    lifespan closes the receiver at shutdown."""
    await rig.register()
    namespace = _block("Starlette(")
    receiver = namespace["receiver"]
    receiver.set_secrets([rig.secret])
    sock = _socket()
    rig.url = f"http://127.0.0.1:{sock.getsockname()[1]}{PATH}"
    error = {"code": "GENERATION_FAILED", "message": "no"}
    async with uvicorn_serving(namespace["app"], sock):
        status, answer = await rig.deliver(_job_event("job.failed", error=error))
        assert (status, answer["reason"]) == (200, "accepted")
    sock.close()
    assert receiver.closed
    assert re.fullmatch(r"job failed: job_readme ErrorInfo\(.*\)\n", capsys.readouterr().out)


@pytest.mark.timeout(120)
def test_the_fixture_example_passes_under_pytest(tmp_path: Path) -> None:
    """The `layers_webhook_receiver` example is a passing test with the installed plugin."""
    [text] = [b for b in BLOCKS if "layers_webhook_receiver" in b]
    (tmp_path / "test_receiver_from_readme.py").write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
