"""`GET /v1/credits`: the organization's wallet (contract §3.1)."""

from __future__ import annotations

from .. import _render as render
from .._errors import Issues
from .._routing import READ, Ctx, Out, Route

__all__ = ["ROUTES", "credits"]


def credits(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/credits: the wallet, rolled over to the current billing period."""
    return Out(200, render.wallet(ctx.world, ctx.org))


ROUTES: list[Route] = [Route("GET", "/v1/credits", READ, None, credits)]
