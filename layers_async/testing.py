"""Testing helpers for code that uses layers_async: a no-wait switch and pytest fixtures.

``set_testing(True)`` (or ``with no_waits():``) removes every real wait the SDK makes on its
own — retry backoff, `Retry-After` pauses and the rate-limit gate — so a test suite exercising
retries against the sandbox does not sleep. Retries still happen; they just happen at once.

The pytest plugin (enable it with ``pytest -p layers_async.testing`` or
``pytest_plugins = ["layers_async.testing"]`` in a ``conftest.py``) provides:

- ``layers_sandbox``: a running `Sandbox` on 127.0.0.1 with its clock **paused** (speed 0), so
  time moves only when the test says so; options come from the ``layers_sandbox_options``
  fixture, which a test module may override.
- ``layers_client``: a `LayersClient` bound to that sandbox's ``demo-live`` key, with quick
  polling for waiters and no real retry sleeps.
- ``layers_advance``: ``await layers_advance(seconds)`` moves the sandbox clock forward.

Fixtures are async: run them with the anyio pytest plugin (``@pytest.mark.anyio``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ._waiting import set_testing, testing_enabled

__all__ = [
    "QUICK_POLL",
    "layers_advance",
    "layers_client",
    "layers_sandbox",
    "layers_sandbox_options",
    "no_waits",
    "set_testing",
    "testing_enabled",
]


@contextmanager
def no_waits() -> Iterator[None]:
    """Within the block the SDK retries without sleeping; the previous mode is restored after."""
    before = testing_enabled()
    set_testing(True)
    try:
        yield
    finally:
        set_testing(before)


def _quick_poll() -> Any:
    from ._config import PollPolicy

    return PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0, margin=0.0)


#: A poll policy for tests against a paused sandbox: every 10 ms, no jitter.
QUICK_POLL = _quick_poll()

try:
    import pytest
except ImportError:  # pragma: no cover - the fixtures need pytest; the helpers above do not
    pass
else:

    @pytest.fixture
    def layers_sandbox_options() -> dict[str, Any]:
        """Options for ``layers_sandbox`` (override this fixture to configure the sandbox)."""
        return {"speed": 0, "seed": 0}

    @pytest.fixture
    async def layers_sandbox(layers_sandbox_options: dict[str, Any]) -> AsyncIterator[Any]:
        """A running sandbox with a paused clock (see ``layers_sandbox_options``)."""
        from .sandbox import Sandbox

        async with Sandbox(**layers_sandbox_options) as sandbox:
            yield sandbox

    @pytest.fixture
    async def layers_client(layers_sandbox: Any) -> AsyncIterator[Any]:
        """A LayersClient bound to ``layers_sandbox``; retries do not sleep while it is open."""
        from ._client import LayersClient

        with no_waits():
            async with LayersClient(
                api_key=layers_sandbox.api_key,
                base_url=layers_sandbox.url,
                poll_policy=QUICK_POLL,
                poll_rate=None,
            ) as client:
                yield client

    @pytest.fixture
    def layers_advance(layers_sandbox: Any) -> Callable[[float], Awaitable[dict[str, Any]]]:
        """``await layers_advance(seconds)``: move the sandbox's virtual clock forward."""

        async def advance(seconds: float) -> dict[str, Any]:
            result: dict[str, Any] = await layers_sandbox.advance(seconds)
            return result

        return advance
