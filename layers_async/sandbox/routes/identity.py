"""`GET /v1/whoami`: who the key is and what it may do (contract §3.1)."""

from __future__ import annotations

from .._errors import Issues
from .._routing import READ, Ctx, Out, Route

__all__ = ["ROUTES", "whoami"]


def whoami(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/whoami: the acting organization, the key's scopes, tier and credit balance."""
    org = ctx.org
    return Out(
        200,
        {
            "organizationId": org.id,
            "workspaceId": org.id,
            "organizationName": org.name,
            "parentOrganizationId": org.parent_id,
            "scopes": list(ctx.key.scopes),
            "rateLimitTier": ctx.key.tier,
            "apiKeyId": ctx.key.id,
            "creditBalance": ctx.world.wallet(org).balance,
        },
    )


ROUTES: list[Route] = [Route("GET", "/v1/whoami", READ, None, whoami)]
