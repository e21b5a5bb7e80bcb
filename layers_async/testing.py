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
- ``layers_webhook_receiver``: a `WebhookReceiver` served on 127.0.0.1, registered as a
  webhook endpoint of that sandbox for every event type and feeding ``layers_client`` (a
  `RunningReceiver`: its ``receiver``, ``url``, ``endpoint_id``, ``secret``, the ``events``
  received so far and ``await wait_for(type)``).

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

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, get_args, overload

from ._config import PollPolicy
from ._secret import Secret
from ._waiting import set_testing, testing_enabled
from .models.webhooks import WebhookEvent
from .webhooks import WebhookReceiver

if TYPE_CHECKING:
    from ._client import LayersClient
    from .sandbox import Sandbox

__all__ = [
    "QUICK_POLL",
    "RunningReceiver",
    "layers_advance",
    "layers_client",
    "layers_sandbox",
    "layers_sandbox_options",
    "layers_webhook_receiver",
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

E = TypeVar("E", bound=WebhookEvent)


class RunningReceiver:
    """What the ``layers_webhook_receiver`` fixture yields: a `WebhookReceiver` served on
    127.0.0.1 and registered with the test's sandbox.

    `receiver` (register handlers on it), `url` (where the sandbox delivers), `endpoint_id`
    and `secret` (the endpoint's ``wh_…`` id and signing secret), `events` (every accepted
    event so far, in arrival order, duplicates left out) and `wait_for`.
    """

    def __init__(
        self, receiver: WebhookReceiver, url: str, endpoint_id: str, secret: Secret
    ) -> None:
        self.receiver = receiver
        self.url = url
        self.endpoint_id = endpoint_id
        self.secret = secret
        self.events: list[WebhookEvent] = []
        self._waiters: list[tuple[str | type[WebhookEvent], asyncio.Future[WebhookEvent]]] = []
        receiver._taps.append(self._arrived)

    def _arrived(self, event: WebhookEvent) -> None:
        self.events.append(event)
        for kind, future in self._waiters:
            if _matches(event, kind) and not future.done():
                future.set_result(event)

    @overload
    async def wait_for(self, kind: type[E], *, timeout: float = 10) -> E: ...

    @overload
    async def wait_for(self, kind: str, *, timeout: float = 10) -> WebhookEvent: ...

    async def wait_for(
        self, kind: str | type[WebhookEvent], *, timeout: float = 10
    ) -> WebhookEvent:
        """The first received event of `kind` (a type name or an event class), at once if it
        already arrived, else when it does; ``asyncio.TimeoutError`` after `timeout` real
        seconds.

        The sandbox delivers on its own background tick (about every 0.1 s), but its clock is
        paused: advance it past what emits the event (``await layers_advance(600)`` for a
        job) first."""
        for event in self.events:
            if _matches(event, kind):
                return event
        waiter = (kind, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter[1], timeout)
        finally:
            self._waiters.remove(waiter)

    def __repr__(self) -> str:
        return f"RunningReceiver({self.url!r}, {self.endpoint_id!r}, {len(self.events)} events)"


def _matches(event: WebhookEvent, kind: str | type[WebhookEvent]) -> bool:
    return event.type == kind if isinstance(kind, str) else isinstance(event, kind)


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

    @pytest.fixture
    async def layers_webhook_receiver(
        layers_sandbox: Sandbox, layers_client: LayersClient
    ) -> AsyncIterator[RunningReceiver]:
        """A `WebhookReceiver` served by ``aiohttp.web`` on a free port of 127.0.0.1 and
        registered (through ``layers_client``) as an endpoint of ``layers_sandbox`` for every
        event type; yields a `RunningReceiver`. It feeds ``layers_client``, made event-fed
        (``client.webhooks.enable()``): its job and OAuth waits end on their events, polling
        only as a safety net. Register handlers with ``layers_webhook_receiver.receiver.on(...)``,
        or wait for an event::

            @pytest.mark.anyio
            async def test_a_job_sends_its_event(layers_client, layers_advance,
                                                 layers_webhook_receiver):
                ...                                         # start a job
                await layers_advance(600)
                event = await layers_webhook_receiver.wait_for(JobCompletedEvent)

        At teardown the receiver waits for its running handlers, then the server stops.
        """
        from .cli.webhook_demo import local_receiver
        from .models.webhook_endpoints import WebhookEventType

        events = get_args(WebhookEventType)
        async with local_receiver(layers_client, events=events) as (receiver, created):
            endpoint = created.endpoint
            running = RunningReceiver(receiver, endpoint.url, endpoint.id, created.signing_secret)
            layers_client.webhooks.enable()
            yield running
