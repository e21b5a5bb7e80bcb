"""`client.webhooks`: feed webhook events to the client so that its waiters wake on them."""

from __future__ import annotations

from .._config import PollPolicy
from .._events import enable, feed, safety_net_for
from ..models.webhooks import WebhookEvent
from ._base import Resource

__all__ = ["Webhooks"]


class Webhooks(Resource):
    """Event-fed waiters: hand verified webhook events to the client (`feed`) and its job and
    OAuth waits end the moment their event arrives, polling only as a safety net."""

    __slots__ = ()

    def feed(self, event: WebhookEvent) -> int:
        """Show one verified, decoded event (`decode_event`) to this client's waits; returns
        how many waits it woke (0 for an event no wait is about).

        A ``job.completed``/``job.failed``/``job.canceled`` event ends the `wait_for_job` waits
        on its job (and the flows' job waits), a ``social_account.connected`` event the
        `wait_for_oauth` waits of its project, with what polling would have returned or raised
        (see `layers_async.wait_for_job`); other events are ignored. Events of an organization
        other than the one a wait acts in are ignored. A terminal job event that arrives
        before anyone waits on its job is kept (the last 4,096 subjects), so a wait that
        starts just after still ends at once. Duplicates are harmless.

        Synchronous and quick: call it from a webhook handler as each event arrives, on the
        event loop the client runs on (it never sends a request itself; a wait the event does
        not fully describe polls once, in its own task). Feed only verified events
        (`verify_webhook`, `WebhookReceiver`): an event ends waits as the server's word.
        The first call makes the client event-fed, as `enable()` does with the default safety
        net, if `enable()` was not called before.
        """
        hub = self._client._pool.hub
        return feed(hub, event, self._default_net)

    def _default_net(self) -> PollPolicy:
        """`SAFETY_NET_POLL` at the pace of this client's poll policy."""
        return safety_net_for(self._client._poll_policy)

    def enable(self, safety_net: PollPolicy | None = None, *, confirm: bool = False) -> None:
        """Make this client event-fed before any event arrives: from now on, new job and OAuth
        waits poll only on `safety_net` (default: `SAFETY_NET_POLL`, scaled like the client's
        poll policy), a slow schedule that still ends every wait when a delivery is lost.
        Other waits (ready influencer, keywords: no event announces them) poll as before.

        `confirm=True` polls once on each event instead of building the awaited state from
        the event's data (one request per wait, the state exactly as the server shows it).
        """
        if safety_net is None:
            safety_net = self._default_net()
        enable(self._client._pool.hub, safety_net, confirm=confirm)

    def disable(self) -> None:
        """Back to polling only: new waits poll on the client's poll policy again (events fed
        later still end the waits they describe, and make the client event-fed again)."""
        self._client._pool.hub.safety_net = None

    @property
    def is_event_fed(self) -> bool:
        """True once `enable()` or `feed()` made the client event-fed."""
        return self._client._pool.hub.safety_net is not None

    @property
    def safety_net(self) -> PollPolicy | None:
        """The poll policy of event-fed waits, or None while the client only polls."""
        return self._client._pool.hub.safety_net

    @property
    def answered_by_events(self) -> int:
        """How many waits ended on an event's data alone, without a poll (views share it)."""
        return self._client._pool.hub.answered_by_events
