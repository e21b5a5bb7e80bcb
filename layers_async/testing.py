"""Helpers for testing code that uses layers_async.

``set_testing(True)`` (or ``with no_waits():``) removes every real wait the SDK makes on its
own — retry backoff, `Retry-After` pauses and the rate-limit gate — so a test suite exercising
retries against the sandbox does not sleep. Retries still happen; they just happen at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ._waiting import set_testing, testing_enabled

__all__ = ["no_waits", "set_testing", "testing_enabled"]


@contextmanager
def no_waits() -> Iterator[None]:
    """Within the block the SDK retries without sleeping; the previous mode is restored after."""
    before = testing_enabled()
    set_testing(True)
    try:
        yield
    finally:
        set_testing(before)
