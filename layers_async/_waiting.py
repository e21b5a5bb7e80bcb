"""The SDK's one sleep, and the testing switch that removes real waits."""

from __future__ import annotations

import asyncio

__all__ = ["set_testing", "sleep", "testing_enabled"]

#: True while the no-wait testing mode is on (read directly on the hot path).
testing = False


def set_testing(enabled: bool) -> None:
    """Turn the no-wait testing mode on or off for the whole process."""
    global testing
    testing = bool(enabled)


def testing_enabled() -> bool:
    """True while the testing mode removes real waits."""
    return testing


async def sleep(seconds: float) -> None:
    """Wait `seconds` (backoff, Retry-After, the rate-limit gate); only yields in testing mode."""
    await asyncio.sleep(0 if testing else max(0.0, seconds))
