"""App media (contract §3.3): logos, screenshots and demo videos of a project."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from .. import _fake
from .. import _render as render
from .._errors import Issues, not_found
from .._models import AppMedia
from .._routing import READ, WRITE, Ctx, Out, Param, Route
from .._validate import Body, check_https_url
from ._common import PRJ, PROJECT, expect_empty_body, project_listing, project_of, query

__all__ = ["MEDIA_KINDS", "ROUTES", "delete_media", "list_media", "upload_media"]

MEDIA_KINDS = ("logo", "screenshot", "demo-video")
#: Per kind: the media types it accepts and its size limit in MB.
_MEDIA_RULES: dict[str, tuple[tuple[str, ...], int]] = {
    "logo": (("image/png", "image/jpeg", "image/webp", "image/svg+xml"), 5),
    "screenshot": (("image/png", "image/jpeg", "image/webp", "image/heic"), 10),
    "demo-video": (("video/mp4", "video/quicktime", "video/webm"), 200),
}
_MIME_BY_EXT = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "svg": "image/svg+xml",
    "heic": "image/heic",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
}
_EXT_BY_MIME = {mime: ext for ext, mime in _MIME_BY_EXT.items() if ext != "jpeg"}
_MB = 1_048_576
#: A test may fix a file's size with `?sandboxByteSize=<bytes>` on its URL (up to 15 digits).
_BYTE_SIZE_OVERRIDE = re.compile(r"[0-9]{1,15}")
#: Otherwise the size is drawn, seeded by the URL, from 10 kB to half the kind's limit.
_MIN_DRAWN_BYTES = 10_000

MED = Param("med")


def _mime_for(url: str) -> str | None:
    """The media type the URL's file extension names, or None."""
    path = urlsplit(url).path
    last = path.rsplit("/", 1)[-1]
    if "." not in last:
        return None
    return _MIME_BY_EXT.get(last.rsplit(".", 1)[-1].lower())


def _byte_size(url: str, max_mb: int) -> int:
    override = [v for k, v in parse_qsl(urlsplit(url).query) if k == "sandboxByteSize"]
    if override and _BYTE_SIZE_OVERRIDE.fullmatch(override[-1]):
        return int(override[-1])
    return _fake.rng_for("bytesize", url).randint(_MIN_DRAWN_BYTES, max_mb * _MB // 2)


def _url_problem(url: str, kind: str | None) -> tuple[str | None, str | None, int]:
    """(problem with the source URL or None, its media type, its size in bytes)."""
    msg = check_https_url(url)
    mime = None
    size = 0
    if msg is None:
        mime = _mime_for(url)
        if mime is None:
            msg = "Cannot determine the media type of this URL."
    if msg is None and kind is not None:
        allowed, max_mb = _MEDIA_RULES[kind]
        if mime not in allowed:
            msg = f"{mime} is not allowed for {kind}."
        else:
            size = _byte_size(url, max_mb)
            if size > max_mb * _MB:
                msg = f"File exceeds the {max_mb} MB limit for {kind}."
    return msg, mime, size


def upload_media(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/projects/{projectId}/app-media: a new logo replaces the project's logo."""
    b = Body(ctx.json_body(issues), ("kind", "url"), issues)
    kind = b.string("kind", required=True, choices=MEDIA_KINDS)
    url = b.string("url", required=True, min_len=1, max_len=2048)
    mime = None
    size = 0
    if url is not None:
        msg, mime, size = _url_problem(url, kind)
        if msg is not None:
            issues.add("url", msg)
    issues.raise_if_any()
    assert kind is not None
    assert url is not None
    assert mime is not None
    w = ctx.world
    p = project_of(ctx)
    mid = w.ids.prefixed("med")
    m = AppMedia(
        id=mid,
        project_id=p.id,
        kind=kind,
        url=w.media_url(f"{mid}.{_EXT_BY_MIME[mime]}"),
        source_url=url,
        mime_type=mime,
        byte_size=size,
        created_at=ctx.now,
    )
    w.media[mid] = m
    if kind == "logo":
        if p.logo_id and p.logo_id in w.media:
            w.media[p.logo_id].live = False
        p.logo_id = mid
    return Out(201, render.media(m))


def list_media(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/app-media: live media, newest first."""
    q = query(ctx, issues)
    kind = q.choice("kind", MEDIA_KINDS)
    return project_listing(ctx, q, issues, 25, 100).page(
        ctx.world.media,
        lambda m: m.live and (kind is None or m.kind == kind),
        lambda m: m.created_at,
        render.media,
    )


def delete_media(ctx: Ctx, issues: Issues) -> Out:
    """DELETE /v1/projects/{projectId}/app-media/{mediaId}: a soft delete."""
    expect_empty_body(ctx, issues)
    p = project_of(ctx)
    m = ctx.world.media.get(ctx.params["mediaId"])
    if m is None or m.project_id != p.id or not m.live:
        raise not_found("App media not found.")
    m.live = False
    if p.logo_id == m.id:
        p.logo_id = None
    return Out(200, {"id": m.id, "deleted": True})


_MEDIA = PROJECT + "/app-media"

ROUTES: list[Route] = [
    Route("POST", _MEDIA, WRITE, "projects:write", upload_media, {"projectId": PRJ}),
    Route("GET", _MEDIA, READ, "projects:read", list_media, {"projectId": PRJ}),
    Route(
        "DELETE",
        _MEDIA + "/{mediaId}",
        WRITE,
        "projects:write",
        delete_media,
        {"projectId": PRJ, "mediaId": MED},
    ),
]
