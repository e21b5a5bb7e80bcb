"""Fixtures of the sandbox contract tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import aiohttp
import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._http import Api


@pytest.fixture
async def nominal_api(
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
    session: aiohttp.ClientSession,
) -> AsyncIterator[Api]:
    """An `Api` on a paused sandbox without jitter: every duration is exactly its nominal value."""
    async with make_sandbox(jitter=0) as sb:
        yield Api(session, sb.url, sb.api_key)
