"""Testing helpers for code that uses layers_async: a no-wait switch and pytest fixtures.

``set_testing(True)`` (or ``with no_waits():``) removes every real wait the SDK makes on its
own — retry backoff, `Retry-After` pauses and the rate-limit gate — so a test suite exercising
retries against the sandbox does not sleep. Retries still happen; they just happen at once.
Waiters keep the pace of their `PollPolicy` (it is not a wait the SDK makes on its own: it is
how often the waiter looks), so a waiter polls as it would in production and ends with
`WaitTimeoutError` at its deadline.

The pytest plugin (installed with the package: pytest finds it through its ``pytest11`` entry
point, so there is nothing to enable; it imports the sandbox only when a test uses a fixture)
provides:

- ``layers_sandbox``: a running `Sandbox` on 127.0.0.1 with its clock **paused** (speed 0), so
  time moves only when the test says so; options come from the ``layers_sandbox_options``
  fixture, which a test module may override.
- ``layers_client``: a `LayersClient` bound to that sandbox's ``demo-live`` key, with quick
  polling for waiters (``QUICK_POLL``: every 10 ms) and no real retry sleeps.
- ``layers_advance``: ``await layers_advance(seconds)`` moves the sandbox clock forward.

Fixtures are async: run them with the anyio pytest plugin (``@pytest.mark.anyio``).

**The clock is paused: advance it.** Nothing that takes time in the API happens by itself — a
new project's first influencer (about a minute), a job, a scheduled post. A test moves the
clock past it, then waits; or starts the wait as a task, advances, and awaits the task::

    @pytest.mark.anyio
    async def test_a_job_ends(layers_client, layers_advance):
        project = await layers_client.projects.create(
            name="Acme", timezone="UTC", app_description=DESCRIPTION
        )
        await layers_advance(61)                       # the first influencer gets ready
        await layers_client.wait_for_ready_influencer(project.id, timeout=5)

        job = await layers_client.content.slideshow_builder(project.id, hook="Hello")
        waiting = asyncio.create_task(layers_client.wait_for_job(job.job_id, timeout=5))
        await layers_advance(600)                      # the job runs to its end
        assert (await waiting).status == "completed"

A waiter on a clock that nobody advances ends, as with any client, with `WaitTimeoutError`
when its timeout passes (pass a short ``timeout=``). Its polls also use up the key's per-minute
read budget, which a paused clock never refills: once the sandbox answers `429`, the waiter
polls less and less often until its deadline — advancing the clock by a minute refills it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._config import PollPolicy
from ._waiting import set_testing, testing_enabled

if TYPE_CHECKING:
    from ._client import LayersClient
    from .sandbox import Sandbox

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


#: A poll policy for tests against a paused sandbox: every 10 ms, no jitter.
QUICK_POLL = PollPolicy(initial=0.01, multiplier=1.0, max_interval=0.01, jitter=0.0, margin=0.0)

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
    async def layers_sandbox(layers_sandbox_options: dict[str, Any]) -> AsyncIterator[Sandbox]:
        """A running sandbox with a paused clock (see ``layers_sandbox_options``)."""
        from .sandbox import Sandbox

        async with Sandbox(**layers_sandbox_options) as sandbox:
            yield sandbox

    @pytest.fixture
    async def layers_client(layers_sandbox: Sandbox) -> AsyncIterator[LayersClient]:
        """A LayersClient bound to ``layers_sandbox``: waiters poll every 10 ms, retries do not
        sleep while it is open. The clock is paused: ``await layers_advance(seconds)`` to let
        jobs and influencers progress; an un-advanced wait ends with WaitTimeoutError."""
        with no_waits():
            async with layers_sandbox.client(poll_policy=QUICK_POLL, poll_rate=None) as client:
                yield client

    @pytest.fixture
    def layers_advance(layers_sandbox: Sandbox) -> Callable[[float], Awaitable[dict[str, Any]]]:
        """``await layers_advance(seconds)``: move the sandbox's virtual clock forward."""
        return layers_sandbox.advance
