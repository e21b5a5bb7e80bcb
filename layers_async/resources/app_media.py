"""`client.app_media`: upload from a URL, list, delete (contract §3.3)."""

from __future__ import annotations

import warnings

from .._pagination import AsyncPaginator
from .._validation import check_enum, check_https_url, check_id
from ..models.app_media import AppMedia as Media  # the class below takes its name
from ..models.app_media import AppMediaDeleted, MediaKind
from ._base import ListOptions, Params, RequestOptions, Resource, Unpack, call_options, list_options

__all__ = ["AppMedia"]


class AppMedia(Resource):
    """Brand media of a project: logo (replaced), screenshots and demo videos (appended)."""

    __slots__ = ()

    async def upload(
        self, project_id: str, *, kind: MediaKind, url: str, **options: Unpack[RequestOptions]
    ) -> Media:
        """Have Layers fetch and store a media file from a public URL
        (`POST /v1/projects/{project_id}/app-media`).

        `url` must be an absolute https URL of at most 2048 characters, without credentials and
        not pointing at localhost or a private address (checked before sending). A new `logo`
        replaces the previous one; screenshots and demo videos accumulate. Raises
        `UnprocessableEntityError` (issue path `url`) when the media type cannot be determined,
        is not allowed for `kind`, or the file is over the kind's size limit, and
        `NotFoundError` for an unknown project.
        """
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        body = {
            "kind": check_enum("kind", kind, MediaKind),
            "url": check_https_url("url", url),
        }
        return await self._write(Media, "POST", f"/v1/projects/{pid}/app-media", opts, body=body)

    def list(
        self, project_id: str, *, kind: MediaKind | None = None, **options: Unpack[ListOptions]
    ) -> AsyncPaginator[Media]:
        """List a project's live media, newest first (`GET /v1/projects/{project_id}/app-media`,
        `limit` 1-100 per page); deleted and replaced items are left out. Await for a page;
        `async for` for every item. Raises `NotFoundError` for an unknown project."""
        call = list_options(options)
        pid = check_id("project_id", project_id, "prj")
        params: Params = []
        if kind is not None:
            params.append(("kind", check_enum("kind", kind, MediaKind)))
        return self._list(Media, f"/v1/projects/{pid}/app-media", params, call, hi=100)

    async def delete(
        self, project_id: str, media_id: str, **options: Unpack[RequestOptions]
    ) -> AppMediaDeleted:
        """Soft-delete a media item (`DELETE /v1/projects/{project_id}/app-media/{media_id}`);
        deleting the current logo clears `brand_context.logo_url`. Raises `NotFoundError` when
        the item is missing, already deleted, replaced, or in another project."""
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        mid = check_id("media_id", media_id, "med")
        return await self._write(
            AppMediaDeleted, "DELETE", f"/v1/projects/{pid}/app-media/{mid}", opts
        )


def __getattr__(name: str) -> type[AppMedia]:
    """`AppMediaResource`, the earlier name of `AppMedia`, still resolves (with a warning)."""
    if name == "AppMediaResource":
        warnings.warn(
            "layers_async.resources.app_media.AppMediaResource is deprecated: use AppMedia",
            DeprecationWarning,
            stacklevel=2,
        )
        return AppMedia
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
