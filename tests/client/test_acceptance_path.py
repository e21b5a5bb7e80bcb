"""The contract's §6 acceptance path, step by step, through the SDK's public API only."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import aiohttp
import pytest

from layers_async import (
    ConflictError,
    LayersClient,
    LayersValidationError,
    Sandbox,
    ScheduleTarget,
    UnprocessableEntityError,
)

REQ = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")
APP_DESCRIPTION = (
    "Acme Coffee delivers freshly roasted beans on a schedule that fits runners, night-shift "
    "workers and everyone who hates running out of coffee before the morning alarm."
)
GUIDE_PROJECT = {
    "name": "Acme Coffee",
    "customer_external_id": "acme-coffee",
    "timezone": "America/Los_Angeles",
    "primary_language": "en",
    "app_name": "Acme Coffee",
    "app_description": APP_DESCRIPTION,
    "tagline": "Coffee that shows up before you run out.",
    "brand_voice": "warm",
    "target_gender": "all",
}


async def _sandbox_now(session: aiohttp.ClientSession, sandbox: Sandbox) -> datetime:
    """The sandbox's virtual now (the real API has no clock route to read it from)."""
    async with session.get(f"{sandbox.url}/_sandbox/clock") as r:
        text = (await r.json())["now"]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.anyio
async def test_getting_started_flow_through_the_sdk(
    sandbox: Sandbox, client: LayersClient, session: aiohttp.ClientSession
) -> None:
    """Steps 1-15 of the acceptance path hold when every /v1 call goes through LayersClient."""
    # 1-2. identity and wallet
    me = await client.whoami()
    assert me.organization_name == "Sandbox Partner"
    assert me.rate_limit_tier == "standard"
    assert me.parent_organization_id is None
    assert me.credit_balance == 6000
    assert me.request_id is not None
    assert REQ.match(me.request_id)
    wallet = await client.credits.get()
    assert (wallet.balance, wallet.available, wallet.reserved_credits) == (6000, 6000, 0)
    assert (wallet.included_remaining, wallet.prepaid_balance) == (1000, 5000)
    assert wallet.estimated_credits_per_format["slideshow_remix"] == 50

    # 3. create, replay with the same key, conflict with a new key
    project = await client.projects.create(**GUIDE_PROJECT, idempotency_key="acme-create-1")
    assert project.id.startswith("prj_")
    assert project.status == "active"
    assert project.meta is not None
    assert project.meta.status_code == 201
    again = await client.projects.create(**GUIDE_PROJECT, idempotency_key="acme-create-1")
    assert again == project
    assert again.meta is not None
    assert again.meta.idempotency_replayed
    with pytest.raises(ConflictError) as conflict:
        await client.projects.create(**GUIDE_PROJECT)
    assert conflict.value.code == "CONFLICT"
    assert conflict.value.details["projectId"] == project.id
    assert conflict.value.request_id is not None
    assert REQ.match(conflict.value.request_id)

    # 3a-3b. the first influencer is pending at once; the keyword bank is empty
    first = await client.influencers.list(project.id)
    assert [i.status for i in first.items] == ["pending"]
    bank = await client.keywords.get(project.id)
    assert bank.hashtags == ()
    assert bank.refreshed_at is None

    # 4. look the project up by the customer's id
    found = await client.projects.list(customer_external_id="acme-coffee")
    assert [p.id for p in found.items] == [project.id]

    # 5. brand media
    logo = await client.app_media.upload(
        project.id, kind="logo", url="https://cdn.acmecoffee.com/brand/logo-512.png"
    )
    shot = await client.app_media.upload(
        project.id, kind="screenshot", url="https://cdn.acmecoffee.com/product/home.png"
    )
    demo = await client.app_media.upload(
        project.id, kind="demo-video", url="https://cdn.acmecoffee.com/marketing/30s-demo.mp4"
    )
    assert [m.mime_type for m in (logo, shot, demo)] == ["image/png", "image/png", "video/mp4"]
    assert all(m.id.startswith("med_") for m in (logo, shot, demo))
    assert logo.byte_size <= 5 * 1024 * 1024
    assert demo.byte_size <= 200 * 1024 * 1024
    assert len((await client.app_media.list(project.id)).items) == 3
    refreshed = await client.projects.get(project.id)
    assert refreshed.brand_context is not None
    assert refreshed.brand_context.logo_url == logo.url

    # 5a. a private address never leaves the machine
    before = (await sandbox.state())["counts"]["appMedia"]["total"]
    with pytest.raises(LayersValidationError) as bad_url:
        await client.app_media.upload(project.id, kind="logo", url="https://10.0.0.5/logo.png")
    assert bad_url.value.field == "url"
    assert (await sandbox.state())["counts"]["appMedia"]["total"] == before

    # 6. OAuth: URL, pending, consent in the "browser", completed
    now = await _sandbox_now(session, sandbox)
    attempt = await client.social.oauth_url(
        project.id, platform="tiktok", return_url="http://localhost:3000/social/connect/callback"
    )
    assert "/_sandbox/oauth/authorize" in attempt.authorize_url
    assert attempt.state.startswith("st_")
    assert attempt.expires_at == now + timedelta(minutes=10)
    assert (await client.social.oauth_status(project.id, attempt.state)).status == "pending"
    async with session.get(attempt.authorize_url, allow_redirects=False) as consent:
        assert consent.status == 302
        assert consent.headers["Location"] == (
            f"http://localhost:3000/social/connect/callback?state={attempt.state}&status=success"
        )
    done = await client.social.oauth_status(project.id, attempt.state)
    assert done.status == "completed"
    assert done.social_account_id is not None
    assert done.social_account_id.startswith("sa_")
    account_id = done.social_account_id
    accounts = await client.social.accounts(project.id)
    assert [(a.social_account_id, a.status) for a in accounts.items] == [(account_id, "connected")]

    # 7. the first influencer is ready after about 60 s
    await sandbox.advance(75)
    ready = [i for i in (await client.influencers.list(project.id)).items if i.status == "ready"]
    assert len(ready) == 1
    influencer_id = ready[0].influencer_id

    # 8-8a. portfolio is empty before research ends; live search always answers
    portfolio = await client.content.source_recommendations(project.id, kind="slideshow", limit=20)
    assert portfolio.source == "portfolio"
    assert portfolio.items == ()
    live = await client.content.source_recommendations(
        project.id, kind="slideshow", keyword="morning routine"
    )
    assert live.source == "live_search"
    assert len(live.items) == 20
    assert all(i.kind == "slideshow" for i in live.items)
    assert all(i.image_count is not None and 3 <= i.image_count <= 10 for i in live.items)

    # 9. remix: the envelope, and 50 credits reserved
    generation = await client.content.slideshow_remix(
        project.id, tiktok_video_id=live.items[0].tiktok_id, influencer_id=influencer_id
    )
    assert generation.kind == "content_generate"
    assert generation.status == "running"
    assert generation.stage is None
    assert len(generation.container_ids) == 1
    assert generation.location_url == f"/v1/jobs/{generation.job_id}"
    wallet = await client.credits.get()
    assert (wallet.reserved_credits, wallet.available) == (50, 5950)

    # 9a. a persona that is not ready yet cannot be used (the clock is paused)
    persona = await client.influencers.create(project.id)
    assert persona.influencer_id is not None
    with pytest.raises(ConflictError) as not_ready:
        await client.content.slideshow_remix(
            project.id, tiktok_video_id=live.items[0].tiktok_id, influencer_id=persona.influencer_id
        )
    assert not_ready.value.details == {"influencerId": persona.influencer_id, "status": "pending"}

    # 10. poll with If-None-Match until completed; a terminal job answers 304
    job = await client.jobs.get(generation.job_id)
    assert job.stage == "queued"
    unchanged = await client.jobs.get(generation.job_id, if_none_match=job)
    assert unchanged.meta is not None
    assert unchanged.meta.status_code == 304
    await sandbox.advance(150)
    job = await client.jobs.get(generation.job_id, if_none_match=job)
    assert job.meta is not None
    assert job.meta.status_code == 200
    assert (job.status, job.stage, job.progress) == ("completed", "finalizing", 1)
    assert job.result is not None
    assert job.result.container_id == generation.container_ids[0]
    terminal = await client.jobs.get(generation.job_id, if_none_match=job)
    assert terminal == job
    assert terminal.meta is not None
    assert terminal.meta.status_code == 304

    # 11. the container, and credits charged
    container = await client.content.get(generation.container_ids[0])
    assert container.status == "completed"
    assert container.format == "slideshow-remix"
    assert container.preview is not None
    assert container.preview.kind == "slideshow"
    assert container.preview.image_urls
    assert container.preview.primary_url == container.preview.image_urls[0]
    assert container.approval_status == "not_required"
    wallet = await client.credits.get()
    assert (wallet.reserved_credits, wallet.used_this_period) == (0, 50)
    assert (wallet.included_remaining, wallet.balance) == (950, 5950)

    # 12. schedule a minute ahead
    now = await _sandbox_now(session, sandbox)
    target = ScheduleTarget(social_account_id=account_id, mode="publish")
    scheduled = await client.content.schedule(
        container.id, scheduled_for=now + timedelta(seconds=60), targets=[target]
    )
    assert len(scheduled.scheduled_post_ids) == 1
    assert scheduled.gate_status == "queued"
    assert scheduled.scheduled_for == now + timedelta(seconds=60)

    # 12a. a naive datetime is refused before sending; ten seconds ahead is refused by the API
    with pytest.raises(LayersValidationError) as naive:
        await client.content.schedule(
            container.id, scheduled_for=datetime(2026, 5, 15, 9, 0), targets=[target]
        )
    assert naive.value.field == "scheduled_for"
    with pytest.raises(UnprocessableEntityError) as too_soon:
        await client.content.schedule(
            container.id, scheduled_for=now + timedelta(seconds=10), targets=[target]
        )
    assert [i.path for i in too_soon.value.issues] == ["scheduledFor"]

    # 13. queued → publishing → published
    post_id = scheduled.scheduled_post_ids[0]
    assert (await client.scheduled_posts.get(post_id)).status == "queued"
    await sandbox.advance(61)
    assert (await client.scheduled_posts.get(post_id)).status == "publishing"
    await sandbox.advance(15)
    post = await client.scheduled_posts.get(post_id)
    assert post.status == "published"
    assert post.external_id
    assert post.external_url
    assert post.published_at is not None

    # 14. a second post: reschedule, cancel, cancel again, replay the first cancel
    now = await _sandbox_now(session, sandbox)
    second = await client.content.schedule(
        container.id, scheduled_for=now + timedelta(seconds=60), targets=[target]
    )
    second_id = second.scheduled_post_ids[0]
    moved = await client.scheduled_posts.reschedule(
        second_id, scheduled_for=now + timedelta(seconds=120)
    )
    assert moved.status == "queued"
    canceled = await client.scheduled_posts.cancel(second_id, idempotency_key="cancel-second-1")
    assert canceled.status == "canceled"
    assert canceled.canceled_at is not None
    with pytest.raises(ConflictError):
        await client.scheduled_posts.cancel(second_id)
    replay = await client.scheduled_posts.cancel(second_id, idempotency_key="cancel-second-1")
    assert replay == canceled
    assert replay.meta is not None
    assert replay.meta.idempotency_replayed

    # 15. the sandbox's own account of what happened
    counts = (await sandbox.state())["counts"]
    assert counts["projects"] == {"total": 1, "byStatus": {"active": 1}}
    assert counts["appMedia"] == {"total": 3}
    assert counts["socialAccounts"] == {"total": 1, "byStatus": {"connected": 1}}
    assert counts["influencers"] == {"total": 2, "byStatus": {"ready": 2}}
    assert counts["jobs"] == {"total": 2, "byStatus": {"completed": 2}}
    assert counts["containers"] == {"total": 1, "byStatus": {"completed": 1}}
    assert counts["scheduledPosts"]["byStatus"] == {"published": 1, "canceled": 1}


@pytest.mark.anyio
async def test_test_key_never_moves_credits(sandbox: Sandbox) -> None:
    """With the demo-test key the same remix reserves and charges nothing (contract §6)."""
    async with LayersClient(api_key=sandbox.keys["demo-test"], base_url=sandbox.url) as client:
        project = await client.projects.create(**GUIDE_PROJECT)
        await sandbox.advance(75)
        influencer = (await client.influencers.list(project.id, status="ready")).items[0]
        live = await client.content.source_recommendations(
            project.id, kind="slideshow", keyword="morning routine"
        )
        generation = await client.content.slideshow_remix(
            project.id,
            tiktok_video_id=live.items[0].tiktok_id,
            influencer_id=influencer.influencer_id,
        )
        wallet = await client.credits.get()
        assert (wallet.reserved_credits, wallet.available) == (0, 6000)
        await sandbox.advance(150)
        assert (await client.jobs.get(generation.job_id)).status == "completed"
        wallet = await client.credits.get()
        assert (wallet.used_this_period, wallet.included_remaining, wallet.balance) == (
            0,
            1000,
            6000,
        )
