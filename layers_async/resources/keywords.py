"""`client.keywords`: the keyword bank and its refresh (contract §3.6)."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Keywords"]


class Keywords(Resource):
    """The project's researched hashtags."""

    __slots__ = ()
