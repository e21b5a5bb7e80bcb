"""`client.app_media` against the sandbox: upload, list, delete (contract §3.3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from layers_async import (
    AppMedia,
    AppMediaDeleted,
    LayersClient,
    NotFoundError,
    Sandbox,
    UnprocessableEntityError,
)
from tests.client._decoded import assert_request_id
from tests.client._ids import GHOST_MED, GHOST_PRJ, MED_RE
from tests.client._refusals import api_refusal, issue_paths, refused_field
from tests.client._route_tables import Route, not_found_test, scope_and_auth_test
from tests.client._setup import T0, count, new_project

LOGO = "https://cdn.acmecoffee.com/brand/logo-512.png"
SHOT = "https://cdn.acmecoffee.com/product/home.png"
VIDEO = "https://cdn.acmecoffee.com/marketing/30s-demo.mp4"
MB = 1_048_576


# --- upload ---------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_upload_decodes_app_media(
    client: LayersClient, project: str, sandbox: Sandbox
) -> None:
    """upload returns an AppMedia with a med_ id, the stored url, the source url and a tz time."""
    media = await client.app_media.upload(project, kind="logo", url=LOGO)
    assert isinstance(media, AppMedia)
    assert MED_RE.match(media.id), media.id
    assert media.kind == "logo"
    assert media.source_url == LOGO
    assert media.mime_type == "image/png"
    assert media.url == f"{sandbox.url}/_sandbox/media/{media.id}.png"
    assert 10_000 <= media.byte_size <= 5 * MB // 2
    assert media.created_at == T0
    assert media.created_at.tzinfo is not None
    assert media.meta is not None
    assert media.meta.status_code == 201
    assert_request_id(media)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "url", "mime"),
    [
        ("screenshot", SHOT, "image/png"),
        ("demo-video", VIDEO, "video/mp4"),
        ("logo", "https://cdn.example.com/a/Logo.SVG?v=3", "image/svg+xml"),
        ("screenshot", "https://cdn.example.com/shot.heic", "image/heic"),
        ("demo-video", "https://cdn.example.com/clip.mov", "video/quicktime"),
    ],
)
async def test_upload_kinds_and_mime_types(
    client: LayersClient, project: str, kind: str, url: str, mime: str
) -> None:
    """Each kind accepts its media types; kind and mime_type are decoded as sent back."""
    media = await client.app_media.upload(project, kind=kind, url=url)  # type: ignore[arg-type]
    assert (media.kind, media.mime_type, media.source_url) == (kind, mime, url)


@pytest.mark.anyio
async def test_upload_logo_replaces_previous(client: LayersClient, project: str) -> None:
    """A second logo replaces the first: the list and brand_context show only the new one."""
    first = await client.app_media.upload(project, kind="logo", url=LOGO)
    shot = await client.app_media.upload(project, kind="screenshot", url=SHOT)
    second = await client.app_media.upload(
        project, kind="logo", url="https://cdn.example.com/l2.png"
    )
    page = await client.app_media.list(project)
    assert {m.id for m in page.items} == {second.id, shot.id}
    fetched = await client.projects.get(project)
    assert fetched.brand_context is not None
    assert fetched.brand_context.logo_url == second.url
    await api_refusal(NotFoundError, client.app_media.delete(project, first.id))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("logo", "https://cdn.example.com/brand/logo"),
        ("logo", "https://cdn.example.com/brand/logo.gif"),
        ("logo", "https://cdn.example.com/brand/logo.heic"),
        ("screenshot", "https://cdn.example.com/clip.mp4"),
        ("demo-video", "https://cdn.example.com/still.png"),
        ("logo", f"https://cdn.example.com/logo.png?sandboxByteSize={5 * MB + 1}"),
        ("screenshot", f"https://cdn.example.com/s.png?sandboxByteSize={10 * MB + 1}"),
        ("demo-video", f"https://cdn.example.com/v.mp4?sandboxByteSize={200 * MB + 1}"),
    ],
)
async def test_upload_server_rejection_is_422(
    client: LayersClient, project: str, sandbox: Sandbox, kind: str, url: str
) -> None:
    """Unknown media type, a type not allowed for the kind, or an oversize file → 422 url."""
    upload = client.app_media.upload(project, kind=kind, url=url)  # type: ignore[arg-type]
    assert issue_paths(await api_refusal(UnprocessableEntityError, upload)) == ["url"]
    assert await count(sandbox, "appMedia") == 0


@pytest.mark.anyio
async def test_upload_size_at_limit_is_accepted(client: LayersClient, project: str) -> None:
    """A file of exactly the kind's maximum size is accepted and its byte_size decoded."""
    url = f"https://cdn.example.com/logo.png?sandboxByteSize={5 * MB}"
    media = await client.app_media.upload(project, kind="logo", url=url)
    assert media.byte_size == 5 * MB


@pytest.mark.anyio
async def test_upload_accepts_bare_project_uuid(client: LayersClient, project: str) -> None:
    """A bare project UUID is accepted; the response is decoded as usual."""
    media = await client.app_media.upload(project.removeprefix("prj_"), kind="logo", url=LOGO)
    assert MED_RE.match(media.id)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "end-card", "url": LOGO}, "kind"),
        ({"kind": "LOGO", "url": LOGO}, "kind"),
        ({"kind": None, "url": LOGO}, "kind"),
        ({"kind": "logo", "url": "http://cdn.example.com/logo.png"}, "url"),
        ({"kind": "logo", "url": "ftp://cdn.example.com/logo.png"}, "url"),
        ({"kind": "logo", "url": "/relative/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://user:pw@cdn.example.com/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://localhost/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://img.localhost/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://metadata.google.internal/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://10.0.0.5/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://169.254.169.254/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://[::1]/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://[fd00:ec2::254]/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://[::ffff:192.168.1.1]/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://2130706433/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://0x7f.1/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://10.1/logo.png"}, "url"),
        ({"kind": "logo", "url": "https://cdn.example.com/" + "a" * 2030 + ".png"}, "url"),
        ({"kind": "logo", "url": ""}, "url"),
        ({"kind": "logo", "url": 42}, "url"),
    ],
)
async def test_upload_client_validation(
    client: LayersClient, project: str, sandbox: Sandbox, kwargs: dict[str, Any], field: str
) -> None:
    """Bad kind or URL (scheme, credentials, local host, private IP, length) fails client-side."""
    assert await refused_field(client.app_media.upload, project, **kwargs) == field
    assert await count(sandbox, "appMedia") == 0


@pytest.mark.anyio
@pytest.mark.parametrize("project_id", ["prj_nope", "med_0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f", ""])
async def test_upload_bad_project_id(client: LayersClient, project_id: str) -> None:
    """A malformed project id is refused client-side, naming project_id."""
    assert (
        await refused_field(client.app_media.upload, project_id, kind="logo", url=LOGO)
        == "project_id"
    )


# --- list -----------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_list_newest_first_with_kind_filter(
    client: LayersClient, project: str, sandbox: Sandbox
) -> None:
    """list returns live media newest first, filters by kind, and decodes every item."""
    logo = await client.app_media.upload(project, kind="logo", url=LOGO)
    await sandbox.advance(5)
    shot = await client.app_media.upload(project, kind="screenshot", url=SHOT)
    await sandbox.advance(5)
    video = await client.app_media.upload(project, kind="demo-video", url=VIDEO)
    page = await client.app_media.list(project)
    assert [m.id for m in page.items] == [video.id, shot.id, logo.id]
    assert page.items[0] == video
    assert page.items[2].created_at == T0
    assert page.items[0].created_at == T0 + timedelta(seconds=10)
    assert page.next_cursor is None
    assert page.meta is not None
    assert page.meta.request_id is not None
    shots = await client.app_media.list(project, kind="screenshot")
    assert [m.id for m in shots.items] == [shot.id]
    assert [m.id for m in (await client.app_media.list(project, kind="logo")).items] == [logo.id]


@pytest.mark.anyio
async def test_list_pages_with_limit(client: LayersClient, project: str, sandbox: Sandbox) -> None:
    """limit=1 yields one item per page; `async for` walks every page in order."""
    made = []
    for i in range(3):
        made.append(await client.app_media.upload(project, kind="screenshot", url=f"{SHOT}?n={i}"))
        await sandbox.advance(1)
    first = await client.app_media.list(project, limit=1)
    assert [m.id for m in first.items] == [made[2].id]
    assert first.has_next
    seen = [m.id async for m in client.app_media.list(project, limit=1)]
    assert seen == [m.id for m in reversed(made)]
    rest = await client.app_media.list(project, limit=100, cursor=first.next_cursor)
    assert [m.id for m in rest.items] == [made[1].id, made[0].id]


# --- delete ---------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_delete_decodes_and_removes(
    client: LayersClient, project: str, sandbox: Sandbox
) -> None:
    """delete returns {id, deleted: true}; the item leaves the list; a second delete is 404."""
    shot = await client.app_media.upload(project, kind="screenshot", url=SHOT)
    gone = await client.app_media.delete(project, shot.id)
    assert isinstance(gone, AppMediaDeleted)
    assert gone.id == shot.id
    assert gone.deleted is True
    assert_request_id(gone)
    assert (await client.app_media.list(project)).items == ()
    assert await count(sandbox, "appMedia") == 0
    await api_refusal(NotFoundError, client.app_media.delete(project, shot.id))


@pytest.mark.anyio
async def test_delete_logo_clears_logo_url(client: LayersClient, project: str) -> None:
    """Deleting the current logo sets the project's brand_context.logo_url to None."""
    logo = await client.app_media.upload(project, kind="logo", url=LOGO)
    before = await client.projects.get(project)
    assert before.brand_context is not None
    assert before.brand_context.logo_url == logo.url
    await client.app_media.delete(project, logo.id)
    after = await client.projects.get(project)
    assert after.brand_context is not None
    assert after.brand_context.logo_url is None


@pytest.mark.anyio
@pytest.mark.parametrize("where", ["unknown", "other_project"])
async def test_delete_not_found(client: LayersClient, project: str, where: str) -> None:
    """An unknown media id, or one of another project, raises NotFoundError."""
    media_id = GHOST_MED
    if where == "other_project":
        other = await new_project(client, "Other Co")
        media_id = (await client.app_media.upload(other, kind="logo", url=LOGO)).id
    await api_refusal(NotFoundError, client.app_media.delete(project, media_id))


# --- errors common to every route -----------------------------------------------------------------
ROUTES: list[Route] = [
    ("upload", "projects:write", lambda c, pid: c.app_media.upload(pid, kind="logo", url=LOGO)),
    ("list", "projects:read", lambda c, pid: c.app_media.list(pid)),
    ("delete", "projects:write", lambda c, pid: c.app_media.delete(pid, GHOST_MED)),
]

test_scope_and_auth_errors = scope_and_auth_test(
    ROUTES,
    "Without the route's scope → PermissionDeniedError; an unknown key → AuthenticationError.",
)
test_unknown_project_is_not_found = not_found_test(
    ROUTES[:2],
    "Uploading into or listing the media of a project that does not exist is NotFoundError.",
    project_id=GHOST_PRJ,
)
