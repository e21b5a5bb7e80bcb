"""Fixtures shared by every test: the anyio backend and a paused sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar

import aiohttp
import pytest

from layers_async import NO_RETRY, LayersClient, Sandbox, _client
from layers_async._ratelimit import RateGate
from tests.sandbox._http import Api

#: Virtual time every paused test sandbox starts at (a Thursday, mid-month).
CLOCK_START = "2026-05-14T16:00:00.000Z"


class _TrackedGate(RateGate):
    """A rate-limit gate that registers itself, so a test's teardown can check it.

    The gate is internal (no public name reaches it from a client): a token taken and never
    released would lower the client's rate for good, and nothing a user sees reports it until
    calls stall, so the suite checks it through the gate's read-only `in_flight()`.
    """

    made: ClassVar[list[RateGate]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _TrackedGate.made.append(self)


@pytest.fixture(autouse=True)
def gate_holds_nothing_after_the_test(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After every test, each rate-limit gate a client made in it holds no token in flight:
    every attempt that took one (answered, failed, cut by its deadline or cancelled) gave it
    back."""
    _TrackedGate.made = []
    monkeypatch.setattr(_client, "RateGate", _TrackedGate)
    yield
    held = [g.in_flight() for g in _TrackedGate.made]
    _TrackedGate.made = []
    assert not any(held), f"a rate-limit gate still holds tokens after the test: {held}"


@pytest.fixture
def anyio_backend() -> str:
    """Run every async test on asyncio: the SDK is asyncio-native."""
    return "asyncio"


def _paused(**options: Any) -> Sandbox:
    options.setdefault("speed", 0)
    options.setdefault("clock_start", CLOCK_START)
    return Sandbox(**options)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox with the default configuration, its clock paused at CLOCK_START."""
    async with _paused() as sb:
        yield sb


@pytest.fixture
def make_sandbox() -> Callable[..., AbstractAsyncContextManager[Sandbox]]:
    """Factory for a sandbox with custom options (paused at CLOCK_START unless told otherwise)."""
    return _paused


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session (no SDK code) for contract tests."""
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def api(sandbox: Sandbox, session: aiohttp.ClientSession) -> Api:
    """A raw HTTP helper bound to the paused sandbox and its demo-live key."""
    return Api(session, sandbox.url, sandbox.api_key)


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[LayersClient]:
    """An SDK client bound to the paused sandbox with its demo-live key.

    It makes exactly one attempt per call and has no rate-limit gate, so each test pins one
    exchange with the API; tests of retries and the gate (tests/reliability/) build their own.
    """
    async with LayersClient(
        api_key=sandbox.api_key, base_url=sandbox.url, retry=NO_RETRY, rate_limit_tier=False
    ) as c:
        yield c
