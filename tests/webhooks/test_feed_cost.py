"""`client.webhooks.feed` works out the default safety net only when an event first makes the
client event-fed, not again for every event fed after (it was most of a feed's cost)."""

from __future__ import annotations

import pytest

from layers_async import (
    DEFAULT_POLL,
    SAFETY_NET_POLL,
    LayersClient,
    PollPolicy,
    Sandbox,
    decode_event,
)
from layers_async._events import safety_net_for
from layers_async.resources import webhooks as webhooks_resource

pytestmark = pytest.mark.anyio


async def test_the_default_safety_net_is_built_once_not_per_event(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three events fed to a client at the sandbox's pace build its scaled safety net once
    (the first event enables it), and none when `enable()` set a net before."""
    built: list[object] = []

    def counting(policy: PollPolicy) -> PollPolicy:
        built.append(policy)
        return safety_net_for(policy)

    monkeypatch.setattr(webhooks_resource, "safety_net_for", counting)
    event = decode_event({"id": "evt_1", "type": "test.ping", "data": {"message": "hi"}})
    policy = DEFAULT_POLL.scaled(1 / 60)
    async with sandbox.client(poll_policy=policy) as client:
        assert isinstance(client, LayersClient)
        for _ in range(3):
            client.webhooks.feed(event)
        assert len(built) == 1
        assert client.webhooks.safety_net == SAFETY_NET_POLL.scaled(1 / 60)
        async with sandbox.client(poll_policy=policy) as enabled:
            enabled.webhooks.enable(SAFETY_NET_POLL)
            for _ in range(3):
                enabled.webhooks.feed(event)
        assert len(built) == 1
