"""Building sandbox state for a test: projects, personas, accounts, media, containers, posts.

Setup steps that belong to other namespaces (influencers, social accounts, app media) go through
raw HTTP so the tests of one resource do not depend on another resource's SDK code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

import aiohttp

from layers_async import LayersClient, Sandbox

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
#: The `open_sandbox` fixture: `await open_sandbox(**options)` is (sandbox, client).
OpenSandbox = Callable[..., Awaitable[tuple[Sandbox, LayersClient]]]

#: A fixed UTC-7 zone: times given in it must reach the API as the same instant in UTC.
PACIFIC = timezone(timedelta(hours=-7))
#: The sandbox's virtual clock at start.
T0 = datetime(2026, 5, 14, 16, 0, tzinfo=timezone.utc)
DESCRIPTION = (
    "Daily ritual coffee subscriptions for runners and night-shift workers. Fresh beans roasted "
    "weekly, shipped on your schedule, never stale, never late."
)
#: The organization the demo keys belong to, as a `make_sandbox(organizations=...)` entry.
PARTNER_ORG = {"ref": "partner", "name": "Sandbox Partner", "subscriptionTier": "pro"}


def low_credit_options(prepaid: int) -> dict[str, Any]:
    """make_sandbox options: the partner organization with no included and `prepaid` credits."""
    return {"organizations": [{**PARTNER_ORG, "includedThisPeriod": 0, "prepaidBalance": prepaid}]}


async def raw(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    method: str,
    path: str,
    *,
    expect: int = 200,
    json: Any = None,
    params: Any = None,
) -> Any:
    """One raw /v1 (or /_sandbox) call with the sandbox's demo-live key that must answer the
    status `expect`; the JSON body."""
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    async with session.request(
        method, sandbox.url + path, json=json, params=params, headers=headers
    ) as resp:
        body = await resp.json() if resp.content_length != 0 else None
        assert resp.status == expect, (resp.status, body)
        return body


async def now(sandbox: Sandbox) -> datetime:
    """The sandbox's virtual now."""
    return datetime.fromisoformat((await sandbox.state())["now"].replace("Z", "+00:00"))


async def count(sandbox: Sandbox, resource: str) -> int:
    """Total of one resource (`appMedia`, `jobs`, `scheduledPosts`, ...) in the sandbox."""
    return int((await sandbox.state())["counts"][resource]["total"])


def later(base: datetime, seconds: float) -> datetime:
    """`base` plus `seconds`."""
    return base + timedelta(seconds=seconds)


async def new_project(
    client: LayersClient, name: str = "Acme Coffee", *, app: bool = False, **fields: Any
) -> str:
    """A project id; with `app` the brand fields start research and a first influencer."""
    if app:
        fields = {
            "app_name": "Acme Coffee",
            "app_description": DESCRIPTION,
            "brand_voice": "warm",
            **fields,
        }
    return (await client.projects.create(name=name, timezone="UTC", **fields)).id


async def first_influencer(
    session: aiohttp.ClientSession, sandbox: Sandbox, project_id: str, **params: str
) -> str:
    """The newest influencer of the project (among those matching `params`)."""
    page = await raw(
        session, sandbox, "GET", f"/v1/projects/{project_id}/influencers", params=params
    )
    assert page["items"], page
    return str(page["items"][0]["influencerId"])


async def ready_influencer(
    session: aiohttp.ClientSession, sandbox: Sandbox, project_id: str, *, wait: float = 80
) -> str:
    """Advance `wait` virtual seconds and return a `ready` influencer of the project."""
    if wait:
        await sandbox.advance(wait)
    return await first_influencer(session, sandbox, project_id, status="ready")


async def pending_influencer(
    session: aiohttp.ClientSession, sandbox: Sandbox, project_id: str
) -> str:
    """The project's first influencer while it is still being created."""
    return await first_influencer(session, sandbox, project_id)


async def connect_account(session: aiohttp.ClientSession, sandbox: Sandbox, project_id: str) -> str:
    """Run the OAuth flow through the sandbox's authorize page; return the socialAccountId."""
    social = f"/v1/projects/{project_id}/social"
    callback = {"platform": "tiktok", "returnUrl": "http://localhost:3000/cb"}
    attempt = await raw(session, sandbox, "POST", f"{social}/oauth-url", json=callback)
    async with session.get(attempt["authorizeUrl"], allow_redirects=False) as resp:
        assert resp.status == 302
    state = {"state": attempt["state"]}
    done = await raw(session, sandbox, "GET", f"{social}/oauth-status", params=state)
    assert done["status"] == "completed", done
    return str(done["socialAccountId"])


async def upload_demo_video(
    session: aiohttp.ClientSession, sandbox: Sandbox, project_id: str
) -> str:
    """A demo-video app-media item of the project; returns its id."""
    video = {"kind": "demo-video", "url": "https://cdn.acmecoffee.com/marketing/demo.mp4"}
    path = f"/v1/projects/{project_id}/app-media"
    media = await raw(session, sandbox, "POST", path, json=video, expect=201)
    return str(media["id"])


async def builder_container(
    session: aiohttp.ClientSession, sandbox: Sandbox, project_id: str
) -> str:
    """A completed no-actor slideshow-builder container of the project, made over raw HTTP."""
    path = f"/v1/projects/{project_id}/content/slideshow-builder"
    hook = {"hook": "I kept running out of coffee\\nso I fixed it"}
    job = await raw(session, sandbox, "POST", path, json=hook, expect=202)
    await sandbox.advance(80)
    cid = str(job["containerIds"][0])
    container = await raw(session, sandbox, "GET", f"/v1/content/{cid}")
    assert container["status"] == "completed", container
    return cid


def wire_time(when: datetime) -> str:
    """`when` as the API writes instants: UTC with milliseconds and a Z."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class World(NamedTuple):
    """What a scenario builds on: the test's client, its sandbox and a raw HTTP session."""

    client: LayersClient
    sandbox: Sandbox
    session: aiohttp.ClientSession


class Persona(NamedTuple):
    """A project with brand fields and its ready influencer."""

    project_id: str
    influencer_id: str


class Remix(NamedTuple):
    """A completed slideshow-remix container of a Persona's project and influencer."""

    project_id: str
    influencer_id: str
    container_id: str


class Scheduled(NamedTuple):
    """A project with a completed container and a connected TikTok account."""

    project_id: str
    container_id: str
    account_id: str


async def scheduling_setup(
    client: LayersClient,
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    *,
    project_id: str | None = None,
) -> Scheduled:
    """A completed no-actor slideshow-builder container plus a connected account, in
    `project_id` (default: a new project)."""
    pid = project_id or await new_project(client, app=False)
    sa = await connect_account(session, sandbox, pid)
    job = await client.content.slideshow_builder(pid, hook="Mornings are hard\\nCoffee helps")
    await sandbox.advance(80)
    return Scheduled(pid, job.container_ids[0], sa)
