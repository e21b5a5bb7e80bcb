"""The pytest plugin's `layers_webhook_receiver`: a receiver on 127.0.0.1 registered with the
plugin's sandbox, recording events and feeding the plugin's client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from layers_async import JobCompletedEvent, LayersClient, Secret, TestPingEvent, WebhookEvent
from layers_async.testing import RunningReceiver

pytestmark = pytest.mark.anyio


async def test_the_fixture_is_a_registered_receiver_that_records_events(
    layers_client: LayersClient, layers_webhook_receiver: RunningReceiver
) -> None:
    """The endpoint it made points at its URL and lists every event type; a test ping is
    recorded, waited for by name or class, and reaches handlers registered on it."""
    hook = layers_webhook_receiver
    endpoint = await layers_client.webhook_endpoints.get(hook.endpoint_id)
    assert endpoint.url == hook.url
    assert hook.url.startswith("http://127.0.0.1:")
    assert "job.completed" in endpoint.events
    assert isinstance(hook.secret, Secret)
    seen: list[WebhookEvent] = []

    @hook.receiver.on(TestPingEvent)
    async def record(event: TestPingEvent) -> None:
        seen.append(event)

    sent = await layers_client.webhook_endpoints.test(hook.endpoint_id)
    by_name = await hook.wait_for("test.ping")
    assert by_name.id == sent.event_id
    assert await hook.wait_for(TestPingEvent) is by_name
    assert hook.events == [by_name]
    await hook.receiver.drain()
    assert seen == [by_name]


async def test_the_fixture_feeds_the_plugin_client(
    layers_client: LayersClient,
    layers_advance: Any,
    layers_webhook_receiver: RunningReceiver,
) -> None:
    """A job's `job.completed` delivery is recorded and fed to the plugin client: a
    `wait_for_job` started after it ends on the event alone, without a poll."""
    project = await layers_client.projects.create(name="Acme", timezone="UTC")
    job = await layers_client.content.slideshow_builder(project.id, hook="Hello")
    await layers_advance(600)
    event = await layers_webhook_receiver.wait_for(JobCompletedEvent)
    assert event.data.job_id == job.job_id
    polls = layers_client.polls_sent
    assert (await layers_client.wait_for_job(job, timeout=10)).status == "completed"
    assert layers_client.webhooks.answered_by_events == 1
    assert layers_client.polls_sent == polls


async def test_waiting_for_an_event_that_never_comes_times_out(
    layers_webhook_receiver: RunningReceiver,
) -> None:
    """`wait_for` ends with asyncio.TimeoutError when no such event arrives in time."""
    with pytest.raises(asyncio.TimeoutError):
        await layers_webhook_receiver.wait_for("post.published", timeout=0.05)
    assert layers_webhook_receiver.events == []
