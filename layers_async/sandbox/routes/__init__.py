"""The sandbox's routes, one module per API namespace (as in `models/` and `resources/`).

Each namespace module declares its `/v1` routes (`ROUTES`) next to its handlers; `admin`
holds the `/_sandbox/*` routes, the OAuth consent page and the placeholder media.
"""

from __future__ import annotations

from .._routing import Route
from . import (
    api_keys,
    app_media,
    content,
    credits,
    identity,
    influencers,
    jobs,
    keywords,
    organizations,
    projects,
    scheduled_posts,
    social,
    webhook_endpoints,
)

__all__ = ["ROUTES"]

#: Every `/v1` route served: Tier 1, and Tier 2 as it lands.
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
    *organizations.ROUTES,
    *api_keys.ROUTES,
    *webhook_endpoints.ROUTES,
)
