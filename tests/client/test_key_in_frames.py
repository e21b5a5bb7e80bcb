"""No frame of the SDK holds the API key where a repr shows it: a traceback printed with its
locals (`traceback` with `capture_locals`, `pytest --showlocals`, rich's `show_locals`), or a
reporter that collects the frames of a call in flight, never shows the secret."""

from __future__ import annotations

import asyncio
import io
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType, SimpleNamespace
from typing import Any

import aiohttp
import pytest
from rich.console import Console
from rich.traceback import Traceback

import layers_async
from layers_async import (
    APIConnectionError,
    InternalServerError,
    LayersClient,
    LayersError,
    LayersValidationError,
    NotFoundError,
    Sandbox,
)
from layers_async.testing import no_waits
from tests.client._setup import MakeSandbox
from tests.client._tracing import SINGLE

SDK_DIR = layers_async.__path__[0]
MISSING_PROJECT = "prj_00000000-0000-4000-8000-000000000000"
#: A key of the documented shape (the constructor needs no server to refuse its arguments).
KEY = "lp_live_01HXA1NHKJZXPV8R_q3Jx9vT2mB7nK4pL8wR1sY6zC0dF5gH2jN7aE3uVb9k"


def _printed(err: BaseException) -> Iterator[str]:
    """`err`'s traceback as three tools print it with every frame's locals."""
    te = traceback.TracebackException(type(err), err, err.__traceback__, capture_locals=True)
    yield "".join(te.format())
    yield str(pytest.ExceptionInfo.from_exception(err).getrepr(showlocals=True, style="long"))
    console = Console(file=io.StringIO(), width=200)
    console.print(Traceback.from_exception(type(err), err, err.__traceback__, show_locals=True))
    assert isinstance(console.file, io.StringIO)
    yield console.file.getvalue()


def assert_not_shown(err: BaseException, key: str) -> None:
    """Neither the key nor its secret part appear in any printout of `err`'s frames."""
    printouts = list(_printed(err))
    assert any("layers_async" in text for text in printouts)  # the SDK's frames are there
    for text in printouts:
        assert key not in text
        assert key[25:] not in text


async def _raised(call: Callable[[], Awaitable[Any]]) -> BaseException:
    """The exception `call` ends with (its traceback starts in this frame, which holds no key)."""
    try:
        await call()
    except BaseException as exc:
        return exc
    raise AssertionError("the call did not fail")


def _sdk_frames(frame: FrameType | None) -> Iterator[FrameType]:
    while frame is not None:
        if frame.f_code.co_filename.startswith(SDK_DIR):
            yield frame
        frame = frame.f_back


def _shown(value: object) -> Iterator[str]:
    """The repr of a value and of each of its attributes (what a frame reporter prints)."""
    yield repr(value)
    names = list(getattr(value, "__dict__", {}))
    for cls in type(value).__mro__:
        names.extend(getattr(cls, "__slots__", ()))
    for name in names:
        if isinstance(name, str) and hasattr(value, name):
            yield f"{name}={getattr(value, name)!r}"


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ["http_500", "http_503", "drop_before_commit"])
async def test_a_failed_calls_traceback_with_locals_never_shows_the_key(
    make_sandbox: MakeSandbox, fault: str
) -> None:
    """A 500, a 503 after retries and a dropped connection print no key with their locals."""
    faults = [{"route": "GET /v1/credits", "action": fault}]
    async with make_sandbox(faults=faults) as sb, sb.client(rate_limit_tier="standard") as client:
        with no_waits():  # retried, without the backoff sleeps
            err = await _raised(lambda: client.credits.get(timeout=5))
        assert isinstance(err, (InternalServerError, APIConnectionError))
        assert_not_shown(err, sb.api_key)


@pytest.mark.anyio
async def test_refused_connections_and_404s_print_no_key_with_their_locals(
    sandbox: Sandbox,
) -> None:
    """Connection refused (closed port) and a 404 print no key with their locals."""
    async with LayersClient(**SINGLE, api_key=sandbox.api_key, base_url=sandbox.url) as client:
        not_found = await _raised(lambda: client.projects.get(MISSING_PROJECT))
        assert isinstance(not_found, NotFoundError)
        assert_not_shown(not_found, sandbox.api_key)
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
    async with LayersClient(**SINGLE, api_key=sandbox.api_key, base_url=closed) as client:
        refused = await _raised(client.whoami)
        assert isinstance(refused, APIConnectionError)
        assert_not_shown(refused, sandbox.api_key)


@pytest.mark.anyio
async def test_a_cancelled_calls_frames_print_no_key(make_sandbox: MakeSandbox) -> None:
    """A call cancelled while in flight prints no key with its locals, aiohttp's frames too."""
    faults = [{"route": "GET /v1/whoami", "action": "latency", "latencyMs": 1000}]
    sent = asyncio.Event()
    async with (
        make_sandbox(faults=faults) as sb,
        sb.client(**SINGLE, on_request=lambda _: sent.set()) as client,
    ):
        task = asyncio.ensure_future(_raised(client.whoami))
        await sent.wait()
        await asyncio.sleep(0.05)  # into aiohttp, waiting for the answer
        task.cancel()
        err = await task
        assert isinstance(err, asyncio.CancelledError)
        assert_not_shown(err, sb.api_key)


@pytest.mark.anyio
async def test_no_frame_of_a_call_in_flight_shows_the_key(sandbox: Sandbox) -> None:
    """Seen from a hook and from an aiohttp trace callback (mid-request), no SDK frame holds the
    key in a local or in an attribute of a local whose repr shows it; the key still reaches
    the server (the call succeeds) while aiohttp's own header map prints it masked."""
    key = sandbox.api_key
    shown: list[str] = []
    headers_seen: list[str] = []

    def look(frame: FrameType | None) -> None:
        for f in _sdk_frames(frame):
            for value in f.f_locals.values():
                shown.extend(_shown(value))

    async def on_request_start(
        _s: aiohttp.ClientSession, _c: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        headers_seen.append(repr(params.headers))
        look(sys._getframe())

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    async with LayersClient(
        api_key=key,
        base_url=sandbox.url,
        trace_configs=[trace],
        on_request=lambda _: look(sys._getframe()),
        on_response=lambda _: look(sys._getframe()),
    ) as client:
        await client.whoami()
        await client.projects.create(name="Acme Coffee", timezone="UTC")
        await client.projects.list()
    assert len(headers_seen) >= 3
    assert any("Transport" in text for text in shown)  # the transport's frames were seen
    for text in shown + headers_seen:
        assert key[25:] not in text, text
    assert all("Bearer <redacted>" in text for text in headers_seen)


@pytest.mark.parametrize(
    ("env_key", "base_url"),
    [
        ("{key}\n", "http://127.0.0.1:9"),  # a key read from a file with its newline
        ("{key}", "ftp://127.0.0.1:9"),  # a good key, a bad base URL
    ],
    ids=["key-with-newline", "bad-base-url"],
)
def test_a_rejected_construction_prints_no_key_with_its_locals(
    monkeypatch: pytest.MonkeyPatch, env_key: str, base_url: str
) -> None:
    """When the constructor refuses its arguments, its frames print no key with their locals."""
    monkeypatch.setenv("LAYERS_API_KEY", env_key.format(key=KEY))
    assert_not_shown(_refused(base_url), KEY)


def _refused(base_url: str) -> LayersError:
    """The error of a client made from `LAYERS_API_KEY` (its traceback starts here: no key)."""
    try:
        LayersClient(base_url=base_url)
    except LayersValidationError as exc:
        return exc
    raise AssertionError("the client was made")
