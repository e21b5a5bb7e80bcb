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
    kind: str
    url: str
    mime_type: str
    byte_size: int
    created_at: datetime
    source_url: str | None = None


@attrs.frozen
class AppMediaDeleted(LayersModel):
    """The answer to deleting a media item."""

    id: str
    deleted: bool = True
