"""API keys: the keys of child organizations (contract §3.11) and the organization's own keys
(contract §3.13), with the transitions of contract §4.9."""

from __future__ import annotations

from typing import Any

from .. import _render as render
from .. import _tenancy as tenancy
from .._config import known_scope
from .._errors import ApiError, Issues, not_found
from .._models import ApiKey, Organization
from .._routing import READ, WRITE, Ctx, Out, Param, Route
from .._validate import Body
from ._common import expect_empty_body, page, query
from .organizations import ORG, ORG_PATH, child

__all__ = ["ROUTES"]

KEY = Param("key")
_WARNING = "Store this secret now; it cannot be shown again."
_ADMIN = "org:admin"


def _key_of(ctx: Ctx, org: Organization) -> ApiKey:
    """The `{keyId}` of the path when it is a key of `org`, else 404."""
    key = ctx.world.keys.get(ctx.params["keyId"])
    if key is None or key.org_id != org.id:
        raise not_found("API key not found.")
    return key


def _scope_refused(caller: ApiKey, scope: str) -> bool:
    """Whether the caller may not grant `scope`: never org:admin, `*` only from a `*` key."""
    if scope == _ADMIN:
        return True
    return "*" not in caller.scopes if scope == "*" else not caller.has_scope(scope)


def mint(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/organizations/{orgId}/api-keys: a 201 new key with its secret, shown once.

    After the body: the child (404), not archived (409), then each scope the caller may grant
    (403 naming the first it may not).
    """
    b = Body(ctx.json_body(issues), ("name", "scopes", "env"), issues)
    name = b.string("name", required=True, min_len=1, max_len=120)
    env = b.string("env", choices=("live", "test")) or "live"
    scopes = b.data.get("scopes")
    if not isinstance(scopes, list) or not 1 <= len(scopes) <= 64:
        issues.add("scopes", "Must be an array of 1 to 64 scope strings.")
    else:
        for i, s in enumerate(scopes):
            if not isinstance(s, str) or not known_scope(s):
                issues.add(f"scopes.{i}", "Unknown scope.")
    issues.raise_if_any()
    assert name is not None
    assert isinstance(scopes, list)
    org = child(ctx)
    tenancy.ensure_not_archived(org)
    for s in scopes:
        if _scope_refused(ctx.key, s):
            raise ApiError(
                403, "FORBIDDEN_SCOPE", f"This key cannot grant {s}.", {"requiredScope": s}
            )
    key = tenancy.mint_key(ctx.world, org, ctx.key, name, list(dict.fromkeys(scopes)), env)
    return Out(201, {"apiKey": render.child_key(key), "secret": key.key, "warning": _WARNING})


def list_keys(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/organizations/{orgId}/api-keys: masked, newest first."""
    q = query(ctx, issues)
    status = q.choice("status", ("active", "revoked"))
    limit = q.limit(25, 1, 100)
    cursor = q.cursor()
    issues.raise_if_any()
    org = child(ctx)
    rows = [
        k
        for k in ctx.world.keys.values()
        if k.org_id == org.id and (status is None or tenancy.key_status(k) == status)
    ]
    return page(rows, _created, limit, cursor, render.child_key)


def _created(k: ApiKey) -> int:
    return k.created_at


def rotate_child(ctx: Ctx, issues: Issues) -> Out:
    """POST …/api-keys/{keyId}/rotate: a new key; the old one works for 24 hours more."""
    expect_empty_body(ctx, issues)
    old = _key_of(ctx, child(ctx))
    new = tenancy.rotate_child_key(ctx.world, old)
    return Out(
        200,
        {
            "apiKey": render.child_key(new),
            "secret": new.key,
            "previousApiKey": render.child_key(old),
            "warning": _WARNING,
        },
    )


def revoke(ctx: Ctx, issues: Issues) -> Out:
    """DELETE …/api-keys/{keyId}: revoked at once, no grace; a revoked key answers the same."""
    expect_empty_body(ctx, issues)
    key = _key_of(ctx, child(ctx))
    tenancy.revoke_key(ctx.world, key)
    return Out(200, {"apiKey": render.child_key(key), "deleted": True})


def kill(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/api-keys/{keyId}/kill: any key of the organization stops one (itself too)."""
    expect_empty_body(ctx, issues)
    key = _key_of(ctx, ctx.org)
    tenancy.kill_key(ctx.world, key)
    return Out(200, {"apiKey": render.own_key(key), "killed": True})


def rotate_own(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/api-keys/{keyId}/rotate: a new secret under the same id; un-kills the key."""
    expect_empty_body(ctx, issues)
    key = _key_of(ctx, ctx.org)
    tenancy.rotate_own_key(ctx.world, key)
    body: dict[str, Any] = {"apiKey": render.own_key(key), "secret": key.key, "warning": _WARNING}
    return Out(200, body)


_KEYS = ORG_PATH + "/api-keys"
_IDS = {"orgId": ORG, "keyId": KEY}
ROUTES: list[Route] = [
    Route("POST", _KEYS, WRITE, _ADMIN, mint, {"orgId": ORG}),
    Route("GET", _KEYS, READ, _ADMIN, list_keys, {"orgId": ORG}),
    Route("POST", _KEYS + "/{keyId}/rotate", WRITE, _ADMIN, rotate_child, _IDS),
    Route("DELETE", _KEYS + "/{keyId}", WRITE, _ADMIN, revoke, _IDS),
    Route("POST", "/v1/api-keys/{keyId}/kill", WRITE, None, kill, {"keyId": KEY}),
    Route("POST", "/v1/api-keys/{keyId}/rotate", WRITE, None, rotate_own, {"keyId": KEY}),
]
