"""Contract tests for app media (§3.3): upload from a URL, list, delete, and the served copy."""

from __future__ import annotations

from typing import Any

import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import (
    MED_ID,
    START,
    assert_error,
    assert_validation,
    create_project,
    new_uuid,
    query_validation_test,
)
from tests.sandbox._http import Api

MB = 1_048_576
MAX = {"logo": 5 * MB, "screenshot": 10 * MB, "demo-video": 200 * MB}
MEDIA_FIELDS = {"id", "kind", "url", "sourceUrl", "mimeType", "byteSize", "createdAt"}
EXT = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/svg+xml": "svg",
    "image/heic": "heic",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}


def _media_path(project_id: str) -> str:
    return f"/v1/projects/{project_id}/app-media"


async def _upload(api: Api, project_id: str, kind: str, url: str) -> dict[str, Any]:
    r = await api.post(_media_path(project_id), {"kind": kind, "url": url})
    assert r.status == 201, r
    media: dict[str, Any] = r.json
    return media


def _assert_media(m: dict[str, Any], sandbox: Sandbox, kind: str, source: str) -> None:
    assert set(m) == MEDIA_FIELDS, set(m) ^ MEDIA_FIELDS
    assert MED_ID.match(m["id"])
    assert m["kind"] == kind
    assert m["sourceUrl"] == source
    assert isinstance(m["byteSize"], int)
    assert m["createdAt"] == START
    prefix = f"{sandbox.url}/_sandbox/media/{m['id']}."
    assert m["url"].startswith(prefix), m["url"]


# --------------------------------------------------------------------------------------------
# upload: success
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "url", "mime"),
    [
        ("logo", "https://cdn.acmecoffee.com/brand/logo-512.png", "image/png"),
        ("screenshot", "https://cdn.acmecoffee.com/product/home.png", "image/png"),
        ("demo-video", "https://cdn.acmecoffee.com/marketing/30s-demo.mp4", "video/mp4"),
    ],
)
async def test_upload_each_kind(api: Api, sandbox: Sandbox, kind: str, url: str, mime: str) -> None:
    """Each kind uploads (201 AppMedia) with a served URL and a byteSize in the documented range."""
    p = await create_project(api)
    m = await _upload(api, p["id"], kind, url)
    _assert_media(m, sandbox, kind, url)
    assert m["mimeType"] == mime
    assert m["url"] == f"{sandbox.url}/_sandbox/media/{m['id']}.{EXT[mime]}"
    assert 10_000 <= m["byteSize"] <= MAX[kind] // 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "path", "mime"),
    [
        ("logo", "logo.png", "image/png"),
        ("logo", "LOGO.PNG", "image/png"),
        ("logo", "logo.jpg", "image/jpeg"),
        ("logo", "logo.JPEG", "image/jpeg"),
        ("logo", "logo.webp", "image/webp"),
        ("logo", "logo.svg", "image/svg+xml"),
        ("logo", "logo.Svg?v=3&size=large", "image/svg+xml"),
        ("logo", "dir.v2/logo.png?x=y.mp4", "image/png"),
        ("screenshot", "shot.png", "image/png"),
        ("screenshot", "shot.jpeg", "image/jpeg"),
        ("screenshot", "shot.webp", "image/webp"),
        ("screenshot", "shot.heic", "image/heic"),
        ("screenshot", "shot.HEIC", "image/heic"),
        ("demo-video", "demo.mp4", "video/mp4"),
        ("demo-video", "demo.MOV", "video/quicktime"),
        ("demo-video", "demo.mov?token=abc", "video/quicktime"),
        ("demo-video", "demo.webm", "video/webm"),
    ],
)
async def test_mime_type_from_extension(api: Api, kind: str, path: str, mime: str) -> None:
    """MIME type from the last segment's extension, case-insensitive, query ignored."""
    p = await create_project(api)
    m = await _upload(api, p["id"], kind, f"https://cdn.example.com/{path}")
    assert m["mimeType"] == mime
    assert m["url"].endswith(f".{EXT[mime]}")


@pytest.mark.anyio
async def test_byte_size_is_deterministic_per_url(api: Api) -> None:
    """byteSize is a deterministic function of the URL string."""
    a = await create_project(api)
    b = await create_project(api)
    url = "https://cdn.example.com/assets/screen-1.png"
    first = await _upload(api, a["id"], "screenshot", url)
    second = await _upload(api, b["id"], "screenshot", url)
    assert first["byteSize"] == second["byteSize"]


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["logo", "screenshot", "demo-video"])
async def test_sandbox_byte_size_at_limit_is_accepted(api: Api, kind: str) -> None:
    """sandboxByteSize overrides byteSize; exactly the kind's maximum is accepted."""
    ext = {"logo": "png", "screenshot": "png", "demo-video": "mp4"}[kind]
    p = await create_project(api)
    url = f"https://cdn.example.com/big.{ext}?sandboxByteSize={MAX[kind]}"
    m = await _upload(api, p["id"], kind, url)
    assert m["byteSize"] == MAX[kind]
    assert m["sourceUrl"] == url


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["logo", "screenshot", "demo-video"])
async def test_sandbox_byte_size_over_limit_is_422(api: Api, kind: str) -> None:
    """A size over the kind's maximum is 422 with path url."""
    ext = {"logo": "png", "screenshot": "png", "demo-video": "mp4"}[kind]
    p = await create_project(api)
    url = f"https://cdn.example.com/big.{ext}?sandboxByteSize={MAX[kind] + 1}"
    r = await api.post(_media_path(p["id"]), {"kind": kind, "url": url})
    assert_validation(r, "url")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/logo.png",
        "https://11.0.0.1/logo.png",
        "https://100.63.255.255/logo.png",
        "https://100.128.0.1/logo.png",
        "https://172.15.255.255/logo.png",
        "https://172.32.0.1/logo.png",
        "https://192.169.0.1/logo.png",
        "https://169.255.0.1/logo.png",
        "https://[2606:4700::1111]/logo.png",
        "https://localhost.example.com/logo.png",
        "https://cdn.example.com:8443/logo.png",
        "https://metadata.google.internal.example.com/logo.png",
    ],
)
async def test_public_hosts_are_accepted(api: Api, url: str) -> None:
    """Public IP literals and look-alike host names outside the blocked list are accepted."""
    p = await create_project(api)
    m = await _upload(api, p["id"], "logo", url)
    assert m["sourceUrl"] == url


# --------------------------------------------------------------------------------------------
# upload: URL rules (contract §3.3.1 table)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "url"),
    [
        # scheme
        ("logo", "http://cdn.example.com/logo.png"),
        ("logo", "ftp://cdn.example.com/logo.png"),
        ("logo", "file:///etc/logo.png"),
        ("logo", "gopher://cdn.example.com/logo.png"),
        ("logo", "data:image/png;base64,iVBORw0KGgo="),
        ("logo", "cdn.example.com/logo.png"),
        ("logo", "/relative/logo.png"),
        # user info
        ("logo", "https://user:pass@cdn.example.com/logo.png"),
        ("logo", "https://user@cdn.example.com/logo.png"),
        # blocked host names
        ("logo", "https://localhost/logo.png"),
        ("logo", "https://LOCALHOST/logo.png"),
        ("logo", "https://localhost:8443/logo.png"),
        ("logo", "https://app.localhost/logo.png"),
        ("logo", "https://a.b.localhost/logo.png"),
        ("logo", "https://metadata.google.internal/logo.png"),
        # private and reserved IPv4
        ("logo", "https://0.0.0.0/logo.png"),
        ("logo", "https://0.1.2.3/logo.png"),
        ("logo", "https://10.0.0.5/logo.png"),
        ("logo", "https://10.255.255.255/logo.png"),
        ("logo", "https://100.64.0.1/logo.png"),
        ("logo", "https://100.127.255.254/logo.png"),
        ("logo", "https://127.0.0.1/logo.png"),
        ("logo", "https://127.8.9.10:443/logo.png"),
        ("logo", "https://169.254.169.254/logo.png"),
        ("logo", "https://169.254.0.1/logo.png"),
        ("logo", "https://172.16.0.1/logo.png"),
        ("logo", "https://172.31.255.255/logo.png"),
        ("logo", "https://192.168.1.1/logo.png"),
        # IPv6
        ("logo", "https://[::]/logo.png"),
        ("logo", "https://[::1]/logo.png"),
        ("logo", "https://[0:0:0:0:0:0:0:1]/logo.png"),
        ("logo", "https://[fc00::1]/logo.png"),
        ("logo", "https://[fd00:ec2::254]/logo.png"),
        ("logo", "https://[FD12:3456::1]/logo.png"),
        ("logo", "https://[fe80::1]/logo.png"),
        ("logo", "https://[febf::1]/logo.png"),
        ("logo", "https://[::ffff:127.0.0.1]/logo.png"),
        ("logo", "https://[::ffff:10.0.0.1]/logo.png"),
        ("logo", "https://[::ffff:169.254.169.254]/logo.png"),
        ("logo", "https://[::ffff:a9fe:a9fe]/logo.png"),
        ("logo", "https://[::ffff:c0a8:101]/logo.png"),
        # media type cannot be determined
        ("logo", "https://cdn.example.com/logo.gif"),
        ("logo", "https://cdn.example.com/logo.txt"),
        ("logo", "https://cdn.example.com/logo"),
        ("logo", "https://cdn.example.com/"),
        ("logo", "https://cdn.example.com/download?file=logo.png"),
        ("logo", "https://cdn.example.com/logo.png/raw"),
        ("demo-video", "https://cdn.example.com/demo.avi"),
        # media type not allowed for kind
        ("logo", "https://cdn.example.com/logo.heic"),
        ("logo", "https://cdn.example.com/logo.mp4"),
        ("screenshot", "https://cdn.example.com/shot.svg"),
        ("screenshot", "https://cdn.example.com/shot.mov"),
        ("demo-video", "https://cdn.example.com/demo.png"),
        ("demo-video", "https://cdn.example.com/demo.jpg"),
        # length and type
        ("logo", "https://cdn.example.com/" + "a" * 2030 + ".png"),
        ("logo", 42),
        ("logo", None),
        ("logo", ""),
    ],
)
async def test_url_rules(api: Api, kind: str, url: Any) -> None:
    """Each §3.3.1 URL rule is 422 VALIDATION with issue path url; nothing is stored."""
    p = await create_project(api)
    r = await api.post(_media_path(p["id"]), {"kind": kind, "url": url})
    assert_validation(r, "url")
    assert (await api.state())["counts"]["appMedia"]["total"] == 0


@pytest.mark.anyio
async def test_url_length_bound_is_inclusive(api: Api) -> None:
    """A 2048-character https URL is accepted."""
    p = await create_project(api)
    base = "https://cdn.example.com/"
    url = base + "a" * (2048 - len(base) - 4) + ".png"
    assert len(url) == 2048
    m = await _upload(api, p["id"], "logo", url)
    assert m["sourceUrl"] == url


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"kind": "end-card", "url": "https://cdn.example.com/end.png"}, ["kind"]),
        ({"kind": "Logo", "url": "https://cdn.example.com/logo.png"}, ["kind"]),
        ({"kind": None, "url": "https://cdn.example.com/logo.png"}, ["kind"]),
        ({"url": "https://cdn.example.com/logo.png"}, ["kind"]),
        ({"kind": "logo"}, ["url"]),
        ({}, ["kind", "url"]),
        ({"kind": "logo", "url": "https://cdn.example.com/logo.png", "name": "x"}, ["name"]),
        ({"kind": "end-card", "url": "http://localhost/x"}, ["kind", "url"]),
    ],
)
async def test_body_rules(api: Api, body: dict[str, Any], paths: list[str]) -> None:
    """kind must be one of three, both fields are required, and the body is strict."""
    p = await create_project(api)
    r = await api.post(_media_path(p["id"]), body)
    assert_validation(r, *paths)


@pytest.mark.anyio
async def test_upload_to_unknown_project_is_404(api: Api) -> None:
    """Uploading to an unknown project is 404; a malformed project id is 422 projectId."""
    body = {"kind": "logo", "url": "https://cdn.example.com/logo.png"}
    assert_error(await api.post(_media_path(f"prj_{new_uuid()}"), body), 404, "NOT_FOUND")
    assert_validation(await api.post(_media_path("prj_nope"), body), "projectId")


# --------------------------------------------------------------------------------------------
# logo replacement and brandContext.logoUrl
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_logo_replacement(api: Api) -> None:
    """A new logo replaces the old one: list, DELETE of the old id (404) and logoUrl all follow."""
    p = await create_project(api)
    old = await _upload(api, p["id"], "logo", "https://cdn.example.com/logo-old.png")
    project = (await api.get(f"/v1/projects/{p['id']}")).json
    assert project["brandContext"]["logoUrl"] == old["url"]
    await api.advance(5)
    new = await _upload(api, p["id"], "logo", "https://cdn.example.com/logo-new.svg")
    listed = (await api.get(_media_path(p["id"]))).json["items"]
    assert [m["id"] for m in listed] == [new["id"]]
    project = (await api.get(f"/v1/projects/{p['id']}")).json
    assert project["brandContext"]["logoUrl"] == new["url"]
    assert_error(await api.delete(f"{_media_path(p['id'])}/{old['id']}"), 404, "NOT_FOUND")
    assert (await api.state())["counts"]["appMedia"]["total"] == 1


@pytest.mark.anyio
async def test_screenshots_and_videos_accumulate(api: Api) -> None:
    """Screenshots and demo videos append; the logo does not affect them."""
    p = await create_project(api)
    for i in range(3):
        await _upload(api, p["id"], "screenshot", f"https://cdn.example.com/s{i}.png")
    for i in range(2):
        await _upload(api, p["id"], "demo-video", f"https://cdn.example.com/v{i}.mp4")
    await _upload(api, p["id"], "logo", "https://cdn.example.com/l.png")
    await _upload(api, p["id"], "logo", "https://cdn.example.com/l2.png")
    items = (await api.get(_media_path(p["id"]))).json["items"]
    kinds = sorted(m["kind"] for m in items)
    assert kinds == ["demo-video"] * 2 + ["logo"] + ["screenshot"] * 3
    assert (await api.state())["counts"]["appMedia"]["total"] == 6


@pytest.mark.anyio
async def test_deleting_current_logo_clears_logo_url(api: Api) -> None:
    """Deleting the current logo sets brandContext.logoUrl to null."""
    p = await create_project(api)
    logo = await _upload(api, p["id"], "logo", "https://cdn.example.com/logo.png")
    r = await api.delete(f"{_media_path(p['id'])}/{logo['id']}")
    assert r.status == 200, r
    project = (await api.get(f"/v1/projects/{p['id']}")).json
    assert project["brandContext"]["logoUrl"] is None


# --------------------------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_list_newest_first_with_kind_filter(api: Api) -> None:
    """The list is newest first, excludes deleted items and filters by kind."""
    p = await create_project(api)
    created = []
    for i, (kind, url) in enumerate(
        [
            ("screenshot", "https://cdn.example.com/a.png"),
            ("demo-video", "https://cdn.example.com/b.mp4"),
            ("screenshot", "https://cdn.example.com/c.jpg"),
            ("logo", "https://cdn.example.com/d.webp"),
        ]
    ):
        await api.advance(1 + i)
        created.append(await _upload(api, p["id"], kind, url))
    r = await api.get(_media_path(p["id"]))
    assert r.status == 200, r
    assert set(r.json) == {"items", "nextCursor"}
    assert r.json["nextCursor"] is None
    assert [m["id"] for m in r.json["items"]] == [m["id"] for m in reversed(created)]
    assert r.json["items"][0] == created[-1]
    shots = (await api.get(_media_path(p["id"]), params={"kind": "screenshot"})).json["items"]
    assert [m["id"] for m in shots] == [created[2]["id"], created[0]["id"]]
    assert (await api.delete(f"{_media_path(p['id'])}/{created[2]['id']}")).status == 200
    shots = (await api.get(_media_path(p["id"]), params={"kind": "screenshot"})).json["items"]
    assert [m["id"] for m in shots] == [created[0]["id"]]


@pytest.mark.anyio
async def test_list_pagination(api: Api) -> None:
    """limit pages through the list with a cursor, each item once, default limit 25."""
    p = await create_project(api)
    ids = []
    for i in range(27):
        ids.append(
            (await _upload(api, p["id"], "screenshot", f"https://c.example.com/{i}.png"))["id"]
        )
    first = (await api.get(_media_path(p["id"]))).json
    assert len(first["items"]) == 25
    assert first["nextCursor"] is not None
    walked: list[str] = []
    cursor = None
    while True:
        params = {"limit": "4"}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get(_media_path(p["id"]), params=params)).json
        assert len(page["items"]) <= 4
        walked.extend(m["id"] for m in page["items"])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(walked) == sorted(ids)
    assert len(walked) == 27


test_list_query_validation = query_validation_test(
    "app-media",
    [
        "limit=0 limit=101 limit=x kind=end-card cursor=!!!",
    ],
    """limit outside 1-100, an unknown kind or a bad cursor is 422.""",
)


@pytest.mark.anyio
async def test_list_limit_100_and_empty(api: Api) -> None:
    """limit 100 is accepted and an empty list is {items: [], nextCursor: null}."""
    p = await create_project(api)
    r = await api.get(_media_path(p["id"]), params={"limit": "100"})
    assert r.json == {"items": [], "nextCursor": None}


@pytest.mark.anyio
async def test_list_unknown_project_is_404(api: Api) -> None:
    """Listing media of an unknown project is 404."""
    assert_error(await api.get(_media_path(f"prj_{new_uuid()}")), 404, "NOT_FOUND")


# --------------------------------------------------------------------------------------------
# delete
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_delete_and_second_delete(api: Api) -> None:
    """DELETE answers {id, deleted: true}; a second DELETE (new or no key) is 404."""
    p = await create_project(api)
    m = await _upload(api, p["id"], "screenshot", "https://cdn.example.com/s.png")
    path = f"{_media_path(p['id'])}/{m['id']}"
    r = await api.delete(path, idem="del-media")
    assert r.status == 200, r
    assert r.json == {"id": m["id"], "deleted": True}
    assert (await api.get(_media_path(p["id"]))).json["items"] == []
    assert (await api.state())["counts"]["appMedia"]["total"] == 0
    assert_error(await api.delete(path), 404, "NOT_FOUND")
    assert_error(await api.delete(path, idem="another-key"), 404, "NOT_FOUND")
    replay = await api.delete(path, idem="del-media")
    assert replay.status == 200
    assert replay.body == r.body
    assert replay.headers["Idempotency-Replayed"] == "true"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "media_id",
    [
        "med_123",
        "7a1c3e5f-2b4d-4e6f-8a0b-1c2d3e4f5a6b",
        "prj_7a1c3e5f-2b4d-4e6f-8a0b-1c2d3e4f5a6b",
        "med_7a1c3e5f-2b4d-4e6f-8a0b-1c2d3e4f5a6",
        "med_7a1c3e5f2b4d4e6f8a0b1c2d3e4f5a6b",
    ],
)
async def test_delete_malformed_media_id_is_422(api: Api, media_id: str) -> None:
    """A mediaId that is not med_<uuid> is 422 with path mediaId."""
    p = await create_project(api)
    assert_validation(await api.delete(f"{_media_path(p['id'])}/{media_id}"), "mediaId")


@pytest.mark.anyio
async def test_delete_unknown_or_other_projects_media_is_404(api: Api) -> None:
    """An unknown media id, or one of another project, is 404; the item survives."""
    a = await create_project(api)
    b = await create_project(api)
    m = await _upload(api, a["id"], "screenshot", "https://cdn.example.com/s.png")
    assert_error(await api.delete(f"{_media_path(a['id'])}/med_{new_uuid()}"), 404, "NOT_FOUND")
    assert_error(await api.delete(f"{_media_path(b['id'])}/{m['id']}"), 404, "NOT_FOUND")
    assert [x["id"] for x in (await api.get(_media_path(a["id"]))).json["items"]] == [m["id"]]


@pytest.mark.anyio
async def test_delete_media_accepts_bare_project_uuid(api: Api) -> None:
    """The project segment of the delete route accepts the bare UUID."""
    p = await create_project(api)
    m = await _upload(api, p["id"], "logo", "https://cdn.example.com/l.png")
    r = await api.delete(f"/v1/projects/{p['id'][4:]}/app-media/{m['id']}")
    assert r.status == 200, r


# --------------------------------------------------------------------------------------------
# served copy
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "url", "content_type", "magic"),
    [
        ("logo", "https://cdn.example.com/logo.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        ("screenshot", "https://cdn.example.com/shot.jpg", "image/", b"\x89PNG\r\n\x1a\n"),
        ("demo-video", "https://cdn.example.com/demo.mp4", "video/mp4", b""),
    ],
)
async def test_returned_url_is_served(
    api: Api, kind: str, url: str, content_type: str, magic: bytes
) -> None:
    """The media `url` is served by /_sandbox/media: PNG for images, a video/mp4 stub for videos."""
    p = await create_project(api)
    m = await _upload(api, p["id"], kind, url)
    r = await api.with_key(None).get(m["url"])
    assert r.status == 200, r
    assert r.headers["Content-Type"].split(";")[0].startswith(content_type)
    assert r.body
    assert r.body.startswith(magic)
