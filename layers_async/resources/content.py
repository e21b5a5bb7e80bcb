"""`client.content`: sources, the four generation formats, hooks, containers, schedule (§3.7)."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Content"]


class Content(Resource):
    """Content generation and containers."""

    __slots__ = ()
