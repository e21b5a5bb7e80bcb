"""The sandbox's routes, one module per API namespace (as in `models/` and `resources/`).

Each namespace module declares its `/v1` routes (`ROUTES`) next to its handlers; `admin`
holds the `/_sandbox/*` routes, the OAuth consent page and the placeholder media.
"""

from __future__ import annotations

from .._routing import Route
from . import (
    app_media,
    content,
    credits,
    identity,
    influencers,
    jobs,
    keywords,
    projects,
    scheduled_posts,
    social,
)

__all__ = ["ROUTES"]

#: Every Tier 1 `/v1` route.
ROUTES: tuple[Route, ...] = (
    *identity.ROUTES,
    *credits.ROUTES,
    *projects.ROUTES,
    *app_media.ROUTES,
    *social.ROUTES,
    *influencers.ROUTES,
    *keywords.ROUTES,
    *content.ROUTES,
    *jobs.ROUTES,
    *scheduled_posts.ROUTES,
)
