"""Constants, builders and assertions shared by the `tests/client` resource tests.

Setup steps that belong to other namespaces (influencers, social accounts, app media) go through
raw HTTP so the tests of one resource do not depend on another resource's SDK code.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from layers_async import (
    APIStatusError,
    AuthenticationError,
    Job,
    LayersClient,
    LayersValidationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from layers_async._serde import parse_datetime
from layers_async.sandbox import Sandbox

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]

REQ_ID = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")
ULID = r"[0-9A-HJKMNP-TV-Z]{26}"
UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
CNT_RE = re.compile(rf"^cnt_{UUID4}$")
SP_RE = re.compile(rf"^sp_{UUID4}$")
MED_RE = re.compile(rf"^med_{UUID4}$")
SA_RE = re.compile(rf"^sa_{UUID4}$")
INF_RE = re.compile(rf"^inf_{UUID4}$")
JOB_RE = re.compile(rf"^job_{ULID}$")
ST_RE = re.compile(rf"^st_{ULID}$")
#: The sandbox's virtual clock at start.
T0 = datetime(2026, 5, 14, 16, 0, tzinfo=timezone.utc)

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


#: `details` of the 429 answered to the 11th running job of a standard organization.
CONCURRENT_JOBS_DETAILS = {
    "limitType": "concurrent_jobs",
    "endpointClass": "long-running",
    "running": 10,
    "max": 10,
}


def api_error(
    exc: APIStatusError, status: int, code: str, cls: type[APIStatusError] | None = None
) -> dict[str, Any]:
    """Status, code and a well-formed request id (with `cls`, exactly that type); `details`."""
    if cls is not None:
        assert type(exc) is cls, repr(exc)
        assert isinstance(exc, APIStatusError)
    assert exc.status_code == status
    assert exc.code == code
    assert_request_id(exc)
    return exc.details


def assert_request_id(value: Any) -> None:
    """`value` (a decoded response or an API error) carries a well-formed req_ request id."""
    assert value.request_id is not None
    assert REQ_ID.match(value.request_id), value.request_id


def assert_job_envelope(job: Job, kind: str, project_id: str) -> None:
    """`job` is the 202 envelope of a just-started `kind` job of the project."""
    assert isinstance(job, Job)
    assert JOB_RE.match(job.job_id), job.job_id
    assert job.kind == kind
    assert job.status == "running"
    assert job.stage is None
    assert job.progress == 0
    assert job.project_id == project_id
    assert job.location_url == f"/v1/jobs/{job.job_id}"
    assert job.meta is not None
    assert job.meta.status_code == 202


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


async def assert_running_jobs_capped(
    fill: Callable[[], Awaitable[Any]],
    start: Callable[[], Awaitable[Any]] | None = None,
    *,
    cls: type[APIStatusError] | None = None,
) -> None:
    """After ten `fill()` jobs the next `start()` (default: `fill()`) is the 429 concurrent_jobs
    refusal with a Retry-After of at least one second (with `cls`, exactly that type)."""
    for _ in range(10):
        await fill()
    with pytest.raises(RateLimitError) as ei:
        await (start or fill)()
    assert api_error(ei.value, 429, "RATE_LIMITED", cls) == CONCURRENT_JOBS_DETAILS
    assert ei.value.retry_after is not None
    assert ei.value.retry_after >= 1


async def refused_field(call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
    """The `field` of the LayersValidationError raised by `await call(*args, **kwargs)`."""
    with pytest.raises(LayersValidationError) as ei:
        await call(*args, **kwargs)
    return ei.value.field


def refused_field_now(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The `field` of the LayersValidationError raised by the bare call (nothing awaited)."""
    with pytest.raises(LayersValidationError) as ei:
        call(*args, **kwargs)
    return ei.value.field


#: A list cursor the server cannot decode.
BAD_CURSOR = "!!not-a-cursor!!"


async def assert_bad_cursor_is_422(page: Awaitable[Any]) -> None:
    """Awaiting `page`, a list call sent with BAD_CURSOR, is a 422 whose only issue is `cursor`."""
    with pytest.raises(UnprocessableEntityError) as ei:
        await page
    api_error(ei.value, 422, "VALIDATION")
    assert [i.path for i in ei.value.issues] == ["cursor"]


def traced_client(sandbox: Sandbox, trace: aiohttp.TraceConfig) -> LayersClient:
    """A client of the sandbox's demo-live key whose requests `trace` observes."""
    return LayersClient(api_key=sandbox.api_key, base_url=sandbox.url, trace_configs=[trace])


def assert_aware(*values: datetime | None) -> None:
    """Every given datetime is set and timezone-aware."""
    for v in values:
        assert v is not None
        assert v.tzinfo is not None


async def now(sandbox: Sandbox) -> datetime:
    """The sandbox's virtual now."""
    return parse_datetime((await sandbox.state())["now"])


async def count(sandbox: Sandbox, resource: str) -> int:
    """Total of one resource (`appMedia`, `jobs`, `scheduledPosts`, ...) in the sandbox."""
    return int((await sandbox.state())["counts"][resource]["total"])


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
    pid = project_id or await new_project(client, app=True)
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


def scoped_sandbox_options(bare_scopes: Sequence[str] = ("ads:read",)) -> dict[str, Any]:
    """make_sandbox options: `demo-live` with every scope and `bare` with only `bare_scopes`."""
    base = {
        "organization": "partner",
        "env": "live",
        "rateLimitTier": "standard",
        "returnUrlAllowlist": ["localhost"],
    }
    return {
        "api_keys": [
            {**base, "name": "demo-live", "scopes": ["*", "org:admin"]},
            {**base, "name": "bare", "scopes": list(bare_scopes)},
        ]
    }


async def assert_scope_and_auth(
    make_sandbox: MakeSandbox,
    call: Callable[[LayersClient, str], Awaitable[Any]],
    scope: str,
    *,
    bare_scopes: Sequence[str] = ("ads:read",),
    make_project: Callable[[LayersClient], Awaitable[str]] = new_project,
) -> None:
    """`call` on a fresh project: a key lacking `scope` gets 403 naming it; an unknown key 401."""
    async with (
        make_sandbox(**scoped_sandbox_options(bare_scopes)) as sb,
        LayersClient(api_key=sb.keys["demo-live"], base_url=sb.url) as full,
        LayersClient(api_key=sb.keys["bare"], base_url=sb.url) as bare,
        LayersClient(api_key="lp_live_unknown", base_url=sb.url) as stranger,
    ):
        pid = await make_project(full)
        with pytest.raises(PermissionDeniedError) as denied:
            await call(bare, pid)
        assert api_error(denied.value, 403, "FORBIDDEN_SCOPE")["requiredScope"] == scope
        with pytest.raises(AuthenticationError) as unauth:
            await call(stranger, pid)
        api_error(unauth.value, 401, "UNAUTHENTICATED")


async def assert_needs_scope(
    make_sandbox: MakeSandbox, call: Callable[[LayersClient], Awaitable[Any]], scope: str
) -> None:
    """`call` with a key lacking `scope` is exactly PermissionDeniedError {requiredScope}."""
    async with (
        make_sandbox(**scoped_sandbox_options()) as sb,
        LayersClient(api_key=sb.keys["bare"], base_url=sb.url) as client,
    ):
        with pytest.raises(PermissionDeniedError) as ei:
            await call(client)
        details = api_error(ei.value, 403, "FORBIDDEN_SCOPE", PermissionDeniedError)
        assert details == {"requiredScope": scope}


async def assert_not_found(
    call: Callable[[LayersClient], Awaitable[Any]],
    client: LayersClient,
    *,
    strict: bool = False,
) -> dict[str, Any]:
    """`call(client)` raises NotFoundError (with `strict`, exactly that type); its `details`."""
    with pytest.raises(NotFoundError) as ei:
        await call(client)
    return api_error(ei.value, 404, "NOT_FOUND", NotFoundError if strict else None)


#: One route of a resource as a table row: (name, required scope, call). The call takes the
#: client and, for the routes of `scope_and_auth_test`, a project id.
Route = tuple[str, str, Callable[..., Awaitable[Any]]]
TestFunction = Callable[..., Awaitable[None]]


def _routes_test(routes: Sequence[Route], doc: str, body: TestFunction) -> TestFunction:
    """`body` as an anyio test over `routes` (ids: the route names), with docstring `doc`."""
    body.__doc__ = doc
    names = [name for name, _, _ in routes]
    return pytest.mark.anyio(
        pytest.mark.parametrize(("name", "scope", "call"), routes, ids=names)(body)
    )


def scope_and_auth_test(
    routes: Sequence[Route],
    doc: str,
    *,
    bare_scopes: Sequence[str] = ("ads:read",),
    make_project: Callable[[LayersClient], Awaitable[str]] = new_project,
) -> TestFunction:
    """A test running `assert_scope_and_auth` for every (name, scope, call(client, pid)) route."""

    async def test(
        make_sandbox: MakeSandbox, name: str, scope: str, call: Callable[..., Awaitable[Any]]
    ) -> None:
        await assert_scope_and_auth(
            make_sandbox, call, scope, bare_scopes=bare_scopes, make_project=make_project
        )

    return _routes_test(routes, doc, test)


def needs_scope_test(routes: Sequence[Route], doc: str) -> TestFunction:
    """A test running `assert_needs_scope` for every (name, scope, call(client)) route."""

    async def test(
        make_sandbox: MakeSandbox, name: str, scope: str, call: Callable[..., Awaitable[Any]]
    ) -> None:
        await assert_needs_scope(make_sandbox, call, scope)

    return _routes_test(routes, doc, test)


def not_found_test(
    routes: Sequence[Route], doc: str, *, project_id: str | None = None, strict: bool = False
) -> TestFunction:
    """A test running `assert_not_found` on call(client), or call(client, project_id), per route."""

    async def test(
        client: LayersClient, name: str, scope: str, call: Callable[..., Awaitable[Any]]
    ) -> None:
        args = () if project_id is None else (project_id,)
        await assert_not_found(lambda c: call(c, *args), client, strict=strict)

    return _routes_test(routes, doc, test)


def url_recorder() -> tuple[aiohttp.TraceConfig, list[str]]:
    """A trace config recording the URL of every request the client sends."""
    urls: list[str] = []
    trace = aiohttp.TraceConfig()

    async def on_start(
        _s: aiohttp.ClientSession, _c: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        urls.append(str(params.url))

    trace.on_request_start.append(on_start)
    return trace, urls


def body_recorder() -> tuple[aiohttp.TraceConfig, list[tuple[str, bytes]]]:
    """A trace config recording (method, chunk) for every request body chunk the client sends."""
    chunks: list[tuple[str, bytes]] = []
    trace = aiohttp.TraceConfig()

    async def on_chunk(
        _s: aiohttp.ClientSession,
        _c: SimpleNamespace,
        params: aiohttp.TraceRequestChunkSentParams,
    ) -> None:
        chunks.append((params.method, params.chunk))

    trace.on_request_chunk_sent.append(on_chunk)
    return trace, chunks


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
