"""`client.influencers`: list, create, get, update (contract §3.5)."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Influencers"]


class Influencers(Resource):
    """Generated personas of a project."""

    __slots__ = ()
