"""`client.app_media`: upload from a URL, list, delete (contract §3.3)."""

from __future__ import annotations

from ._base import Resource

__all__ = ["AppMediaResource"]


class AppMediaResource(Resource):
    """Brand media of a project: logo (replaced), screenshots and demo videos (appended)."""

    __slots__ = ()
