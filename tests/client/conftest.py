"""Fixtures of the `tests/client` resource tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest

from layers_async import LayersClient, Sandbox
from tests.client._setup import (
    MakeSandbox,
    OpenSandbox,
    Persona,
    Remix,
    Scheduled,
    connect_account,
    new_project,
    ready_influencer,
    scheduling_setup,
    upload_demo_video,
)


@pytest.fixture
async def open_sandbox(make_sandbox: MakeSandbox) -> AsyncIterator[OpenSandbox]:
    """Factory: `await open_sandbox(**options)` is (paused sandbox, default client)."""
    async with AsyncExitStack() as stack:

        async def open_one(**options: Any) -> tuple[Sandbox, LayersClient]:
            sb = await stack.enter_async_context(make_sandbox(**options))
            client = LayersClient(api_key=sb.api_key, base_url=sb.url)
            return sb, await stack.enter_async_context(client)

        yield open_one


@pytest.fixture
async def persona(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> Persona:
    """A project with brand fields (research started) and its first influencer, ready."""
    pid = await new_project(client, app=True)
    return Persona(pid, await ready_influencer(session, sandbox, pid))


@pytest.fixture
async def remix(client: LayersClient, sandbox: Sandbox, persona: Persona) -> Remix:
    """A completed slideshow-remix container of `persona`'s project and influencer."""
    pid, iid = persona
    recs = await client.content.source_recommendations(pid, kind="slideshow", keyword="coffee")
    source = recs.items[0].tiktok_id
    job = await client.content.slideshow_remix(pid, tiktok_video_id=source, influencer_id=iid)
    await sandbox.advance(200)
    cid = job.container_ids[0]
    assert (await client.content.get(cid)).status == "completed"
    return Remix(pid, iid, cid)


@pytest.fixture
async def demo_persona(
    sandbox: Sandbox, session: aiohttp.ClientSession, persona: Persona
) -> Persona:
    """`persona` whose project also holds a demo video (what ugc-remix needs)."""
    await upload_demo_video(session, sandbox, persona.project_id)
    return persona


@pytest.fixture
async def scheduled(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> Scheduled:
    """A project with a completed no-actor container and a connected TikTok account."""
    return await scheduling_setup(client, sandbox, session)


@pytest.fixture
async def project(client: LayersClient) -> str:
    """A fresh project of the demo-live key, without brand fields; its id."""
    return await new_project(client)


@pytest.fixture
async def second_account(
    sandbox: Sandbox, session: aiohttp.ClientSession, scheduled: Scheduled
) -> str:
    """Another TikTok account connected to the `scheduled` project; its id."""
    return await connect_account(session, sandbox, scheduled.project_id)
