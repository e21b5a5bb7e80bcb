"""Fixtures of the sandbox contract tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import aiohttp
import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import two_org_config
from tests.sandbox._flows import two_org_options
from tests.sandbox._hooks import Receiver, running_receiver
from tests.sandbox._http import Api


@pytest.fixture
async def nominal_api(
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
    session: aiohttp.ClientSession,
) -> AsyncIterator[Api]:
    """An `Api` on a paused sandbox without jitter: every duration is exactly its nominal value."""
    async with make_sandbox(jitter=0) as sb:
        yield Api(session, sb.url, sb.api_key)


@pytest.fixture
async def two_org_apis(
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
    session: aiohttp.ClientSession,
) -> AsyncIterator[dict[str, Api]]:
    """An `Api` per key of `two_org_config()`: full, star and ro in one organization, foreign
    in another."""
    async with make_sandbox(**two_org_config()) as sb:
        yield {name: Api(session, sb.url, key) for name, key in sb.keys.items()}


@pytest.fixture
async def two_live_org_apis(
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
    session: aiohttp.ClientSession,
) -> AsyncIterator[dict[str, Api]]:
    """An `Api` per key of `two_org_options()`: demo-live in one organization, other-live in
    another."""
    async with make_sandbox(**two_org_options()) as sb:
        yield {name: Api(session, sb.url, key) for name, key in sb.keys.items()}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A running webhook receiver on 127.0.0.1; its `url` is the hook path."""
    async with running_receiver() as rec:
        yield rec


@pytest.fixture
async def record_api(
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
    session: aiohttp.ClientSession,
) -> AsyncIterator[Api]:
    """An `Api` on a paused sandbox in `record` mode (attempts go to the outbox)."""
    async with make_sandbox(webhook_delivery="record", jitter=0) as sb:
        yield Api(session, sb.url, sb.api_key)


def pytest_configure(config: pytest.Config) -> None:
    """Register the mark that configures `custom_api`."""
    config.addinivalue_line(
        "markers", "sandbox_options(**options): the Sandbox options of the custom_api fixture"
    )


@pytest.fixture
async def custom_api(
    request: pytest.FixtureRequest,
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
    session: aiohttp.ClientSession,
) -> AsyncIterator[Api]:
    """An `Api` on a paused sandbox built with the options of the test's `sandbox_options` mark."""
    mark = request.node.get_closest_marker("sandbox_options")
    async with make_sandbox(**(mark.kwargs if mark is not None else {})) as sb:
        yield Api(session, sb.url, sb.api_key)
