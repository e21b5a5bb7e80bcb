"""`client.scheduled_posts`: list, get, reschedule, cancel (contract §3.9)."""

from __future__ import annotations

from ._base import Resource

__all__ = ["ScheduledPosts"]


class ScheduledPosts(Resource):
    """Posts scheduled from containers, one per target account."""

    __slots__ = ()
