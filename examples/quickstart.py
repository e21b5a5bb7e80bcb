"""The Getting started flow, step by step, with layers_async.

Run it against the real API (``LAYERS_API_KEY`` set, and ``LAYERS_BASE_URL`` if not production)
or, with no key set, against an embedded sandbox whose clock runs 60x faster::

    python examples/quickstart.py

Against the real API the customer must open the printed consent URL in a browser; in the
sandbox the script opens the sandbox's consent page itself.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta, timezone

import aiohttp

from layers_async import LayersClient, Sandbox, ScheduleTarget

APP_DESCRIPTION = (
    "Acme Coffee delivers freshly roasted beans on a schedule that fits runners, night-shift "
    "workers and everyone who hates running out of coffee before the morning alarm."
)


async def getting_started(
    client: LayersClient, *, sandbox_url: str | None = None
) -> dict[str, str]:
    """Create a project, connect TikTok, generate one slideshow and schedule it; returns ids."""
    project = await client.projects.create(
        name="Acme Coffee",
        timezone="America/Los_Angeles",
        customer_external_id="acme-coffee",
        app_name="Acme Coffee",
        app_description=APP_DESCRIPTION,
        tagline="Coffee that shows up before you run out.",
        brand_voice="warm",
    )
    print(f"project {project.id} ({project.request_id})")
    await client.app_media.upload(
        project.id, kind="logo", url="https://cdn.acmecoffee.com/brand/logo-512.png"
    )

    attempt = await client.social.oauth_url(
        project.id, platform="tiktok", return_url="http://localhost:3000/social/connect/callback"
    )
    if sandbox_url is not None:  # in the sandbox, "the customer" is this GET
        async with (
            aiohttp.ClientSession() as http,
            http.get(attempt.authorize_url, allow_redirects=False),
        ):
            pass
    else:
        print(f"ask the customer to open: {attempt.authorize_url}")
    connected = await client.wait_for_oauth(project.id, attempt.state, timeout=600)
    assert connected.social_account_id is not None
    print(f"connected {connected.social_account_id}")

    influencer = await client.wait_for_ready_influencer(project.id, timeout=300)
    print(f"influencer {influencer.name} is ready")
    sources = await client.content.source_recommendations(
        project.id, kind="slideshow", keyword="morning routine"
    )
    generation = await client.content.slideshow_remix(
        project.id,
        tiktok_video_id=sources.items[0].tiktok_id,
        influencer_id=influencer.influencer_id,
    )
    job = await client.wait_for_job(generation.job_id, timeout=600)
    print(f"job {job.job_id} {job.status} after {job.meta.attempts if job.meta else 1} attempt(s)")
    container = await client.content.get(generation.container_ids[0])
    print(f"preview: {container.preview.primary_url if container.preview else '-'}")

    when = datetime.now(timezone.utc) + timedelta(days=1)
    if sandbox_url is not None:  # the sandbox's clock is its own: schedule from its "now"
        async with aiohttp.ClientSession() as http, http.get(f"{sandbox_url}/_sandbox/clock") as r:
            now = datetime.fromisoformat((await r.json())["now"].replace("Z", "+00:00"))
        when = now + timedelta(days=1)
    scheduled = await client.content.schedule(
        container.id,
        scheduled_for=when,
        targets=[ScheduleTarget(social_account_id=connected.social_account_id, mode="publish")],
    )
    post_id = scheduled.scheduled_post_ids[0]
    print(f"scheduled {post_id} for {scheduled.scheduled_for:%Y-%m-%d %H:%M} UTC")
    return {
        "project_id": project.id,
        "container_id": container.id,
        "scheduled_post_id": scheduled.scheduled_post_ids[0],
    }


async def main() -> None:
    """Use LAYERS_API_KEY when set; otherwise an embedded sandbox at speed 60."""
    if os.environ.get("LAYERS_API_KEY"):
        async with LayersClient() as client:
            await getting_started(client)
        return
    # sandbox.client() polls at the pace of the sandbox's clock, which runs 60x faster
    async with Sandbox(speed=60) as sandbox, sandbox.client() as client:
        await getting_started(client, sandbox_url=sandbox.url)


if __name__ == "__main__":
    asyncio.run(main())
