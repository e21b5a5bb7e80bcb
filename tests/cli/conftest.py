"""Fixtures of the CLI tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cli._remote import sandbox_process


@pytest.fixture
async def remote_sandbox(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """A speed-60 sandbox in its own process, with a partner-tier key: (base URL, key)."""
    async with sandbox_process(tmp_path) as served:
        yield served
