"""App media: the logo, screenshots and demo videos of a project (contract §3.0.3, §3.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from ._base import LayersModel

__all__ = ["AppMedia", "AppMediaDeleted", "MediaKind"]

#: Kinds of app media the API accepts (responses may carry newer values as plain strings).
MediaKind = Literal["logo", "screenshot", "demo-video"]


@attrs.frozen
class AppMedia(LayersModel):
    """One stored media item: `url` is the copy Layers serves, `source_url` what you sent."""

    id: str
    """The media id, `med_<uuid>`."""
    kind: str
    """`logo`, `screenshot` or `demo-video` (`MediaKind`)."""
    url: str
    """The stored copy Layers serves (a `/_sandbox/media/…` URL in the sandbox)."""
    mime_type: str
    """The media type, e.g. `image/png`."""
    byte_size: int
    """Size of the stored file in bytes."""
    created_at: datetime
    """When the item was stored."""
    source_url: str | None = None
    """The URL you sent, to match uploads; None if the server omits it."""


@attrs.frozen
class AppMediaDeleted(LayersModel):
    """The answer to deleting a media item."""

    id: str
    """The media item deleted, `med_<uuid>`."""
    deleted: bool = True
    """Always True."""
