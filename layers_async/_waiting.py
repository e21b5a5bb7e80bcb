"""The SDK's one sleep, and the testing switch that removes real waits."""

from __future__ import annotations

import asyncio

__all__ = ["set_testing", "sleep", "testing_enabled"]

_testing = False


def set_testing(enabled: bool) -> None:
    """Turn the no-wait testing mode on or off for the whole process."""
    global _testing
    _testing = bool(enabled)


def testing_enabled() -> bool:
    """True while the testing mode removes real waits."""
    return _testing


async def sleep(seconds: float) -> None:
    """Wait `seconds` (backoff, Retry-After, the rate-limit gate); only yields in testing mode."""
    await asyncio.sleep(0 if _testing else max(0.0, seconds))
