"""Setup shared by the content, scheduled-post and job client tests.

Setup steps that belong to other namespaces (influencers, social accounts, app media) go through
raw HTTP so these tests do not depend on those resources' SDK code.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from layers_async import APIStatusError, LayersClient
from layers_async._serde import parse_datetime
from layers_async.sandbox import Sandbox

REQ_ID = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")
UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
CNT_RE = re.compile(rf"^cnt_{UUID4}$")
SP_RE = re.compile(rf"^sp_{UUID4}$")
JOB_RE = re.compile(r"^job_[0-9A-HJKMNP-TV-Z]{26}$")

DESCRIPTION = (
    "Daily ritual coffee subscriptions for runners and night-shift workers. Fresh beans roasted "
    "weekly, shipped on your schedule, never stale, never late."
)
GHOST_UUID = "0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
GHOST_PRJ = f"prj_{GHOST_UUID}"
GHOST_INF = f"inf_{GHOST_UUID}"
GHOST_SA = f"sa_{GHOST_UUID}"
GHOST_CNT = f"cnt_{GHOST_UUID}"
GHOST_SP = f"sp_{GHOST_UUID}"
GHOST_MED = f"med_{GHOST_UUID}"
GHOST_JOB = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"
TIKTOK_ID = "7301234567890123456"


def assert_api_error(
    exc: BaseException, cls: type[APIStatusError], status: int, code: str
) -> dict[str, Any]:
    """`exc` is `cls` with the status, code and a well-formed request id; returns `details`."""
    assert type(exc) is cls, repr(exc)
    assert isinstance(exc, APIStatusError)
    assert exc.status_code == status
    assert exc.code == code
    assert exc.request_id is not None
    assert REQ_ID.match(exc.request_id), exc.request_id
    return exc.details


async def raw(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: Any = None,
) -> tuple[int, Any]:
    """One raw /v1 (or /_sandbox) call with the sandbox's demo-live key: (status, JSON body)."""
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    async with session.request(
        method, sandbox.url + path, json=json, params=params, headers=headers
    ) as resp:
        body = await resp.json() if resp.content_length != 0 else None
        return resp.status, body


async def now(sandbox: Sandbox) -> datetime:
    """The sandbox's virtual now."""
    return parse_datetime((await sandbox.state())["now"])


async def new_project(client: LayersClient, *, app: bool = True, name: str = "Acme Coffee") -> str:
    """A project id; with `app` the brand fields start research and a first influencer."""
    if app:
        p = await client.projects.create(
            name=name,
            timezone="UTC",
            app_name="Acme Coffee",
            app_description=DESCRIPTION,
            brand_voice="warm",
        )
    else:
        p = await client.projects.create(name=name, timezone="UTC")
    return p.id


async def ready_influencer(
    session: aiohttp.ClientSession, sandbox: Sandbox, project_id: str, *, wait: float = 80
) -> str:
    """Advance `wait` virtual seconds and return a `ready` influencer of the project."""
    if wait:
        await sandbox.advance(wait)
    status, page = await raw(
        session,
        sandbox,
        "GET",
        f"/v1/projects/{project_id}/influencers",
        params={"status": "ready"},
    )
    assert status == 200, page
    assert page["items"], page
    return str(page["items"][0]["influencerId"])


async def pending_influencer(
    session: aiohttp.ClientSession, sandbox: Sandbox, project_id: str
) -> str:
    """The project's first influencer while it is still being created."""
    status, page = await raw(session, sandbox, "GET", f"/v1/projects/{project_id}/influencers")
    assert status == 200, page
    return str(page["items"][0]["influencerId"])


async def connect_account(session: aiohttp.ClientSession, sandbox: Sandbox, project_id: str) -> str:
    """Run the OAuth flow through the sandbox's authorize page; return the socialAccountId."""
    status, attempt = await raw(
        session,
        sandbox,
        "POST",
        f"/v1/projects/{project_id}/social/oauth-url",
        json={"platform": "tiktok", "returnUrl": "http://localhost:3000/cb"},
    )
    assert status == 200, attempt
    async with session.get(attempt["authorizeUrl"], allow_redirects=False) as resp:
        assert resp.status == 302
    status, done = await raw(
        session,
        sandbox,
        "GET",
        f"/v1/projects/{project_id}/social/oauth-status",
        params={"state": attempt["state"]},
    )
    assert status == 200, done
    assert done["status"] == "completed", done
    return str(done["socialAccountId"])


async def upload_demo_video(
    session: aiohttp.ClientSession, sandbox: Sandbox, project_id: str
) -> str:
    """A demo-video app-media item of the project; returns its id."""
    status, media = await raw(
        session,
        sandbox,
        "POST",
        f"/v1/projects/{project_id}/app-media",
        json={"kind": "demo-video", "url": "https://cdn.acmecoffee.com/marketing/demo.mp4"},
    )
    assert status == 201, media
    return str(media["id"])


async def completed_container(
    client: LayersClient,
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    *,
    project_id: str | None = None,
) -> tuple[str, str, str]:
    """A completed slideshow-remix container: (project_id, influencer_id, container_id)."""
    pid = project_id or await new_project(client)
    iid = await ready_influencer(session, sandbox, pid)
    recs = await client.content.source_recommendations(pid, kind="slideshow", keyword="coffee")
    job = await client.content.slideshow_remix(
        pid, tiktok_video_id=recs.items[0].tiktok_id, influencer_id=iid
    )
    await sandbox.advance(200)
    cid = job.container_ids[0]
    assert (await client.content.get(cid)).status == "completed"
    return pid, iid, cid


class Scheduled:
    """A project with a completed container and a connected TikTok account."""

    def __init__(self, project_id: str, container_id: str, account_id: str) -> None:
        self.project_id = project_id
        self.container_id = container_id
        self.account_id = account_id


async def scheduling_setup(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> Scheduled:
    """A completed no-actor slideshow-builder container plus a connected account."""
    pid = await new_project(client, app=False)
    sa = await connect_account(session, sandbox, pid)
    job = await client.content.slideshow_builder(pid, hook="Mornings are hard\\nCoffee helps")
    await sandbox.advance(80)
    return Scheduled(pid, job.container_ids[0], sa)


def later(base: datetime, seconds: float) -> datetime:
    """`base` plus `seconds`."""
    return base + timedelta(seconds=seconds)


def scoped_sandbox_options() -> dict[str, Any]:
    """make_sandbox options: `demo-live` with every scope and `bare` with an unrelated one."""
    base = {
        "organization": "partner",
        "env": "live",
        "rateLimitTier": "standard",
        "returnUrlAllowlist": ["localhost"],
    }
    return {
        "api_keys": [
            {**base, "name": "demo-live", "scopes": ["*", "org:admin"]},
            {**base, "name": "bare", "scopes": ["ads:read"]},
        ]
    }


def low_credit_options(prepaid: int) -> dict[str, Any]:
    """make_sandbox options: one organization with no included credits and `prepaid` credits."""
    return {
        "organizations": [
            {
                "ref": "partner",
                "name": "Sandbox Partner",
                "includedThisPeriod": 0,
                "prepaidBalance": prepaid,
                "subscriptionTier": "pro",
            }
        ]
    }
