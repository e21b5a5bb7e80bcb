"""`client.social`: OAuth URL and status, connected accounts, disconnect (contract §3.4)."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Social"]


class Social(Resource):
    """Connect TikTok and Instagram accounts through OAuth and manage them."""

    __slots__ = ()
