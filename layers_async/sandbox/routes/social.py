"""Social accounts and their OAuth attempts (contract §3.4)."""

from __future__ import annotations

from urllib.parse import urlsplit

from .. import _render as render
from .. import _webhooks
from .._errors import ApiError, Issues, conflict, not_found
from .._models import OAuthAttempt
from .._routing import READ, WRITE, Ctx, Out, Param, Route
from .._validate import Body
from ._common import PRJ, PROJECT, expect_empty_body, find, project_listing, project_of, query

__all__ = [
    "PLATFORMS",
    "ROUTES",
    "disconnect_account",
    "list_accounts",
    "oauth_status",
    "oauth_status_ref",
    "oauth_url",
]

PLATFORMS = ("tiktok", "instagram")
ACCOUNT_STATUSES = ("connected", "reauth_required", "disconnected")
#: A return URL may use plain http only on the local machine.
_LOCAL_HOSTS = ("localhost", "127.0.0.1")
#: `scopes`: at most 32 strings of 1 to 64 characters.
_MAX_SCOPES = 32
_MAX_SCOPE_LEN = 64

SA = Param("sa")
ST = Param("st", form="ulid")


def _return_host(return_url: str, issues: Issues) -> str | None:
    """The host of an absolute https (or local http) return URL; None after an issue."""
    try:
        parts = urlsplit(return_url)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts = None
        host = ""
    if parts is None or not host:
        issues.add("returnUrl", "Must be an absolute URL.")
        return None
    if parts.scheme == "https" or (parts.scheme == "http" and host in _LOCAL_HOSTS):
        return host
    issues.add("returnUrl", "Must use https (http only for localhost or 127.0.0.1).")
    return None


def _scopes(b: Body) -> list[str] | None:
    if not b.has("scopes") or b.data["scopes"] is None:
        return None
    sv = b.data["scopes"]
    if not isinstance(sv, list) or len(sv) > _MAX_SCOPES:
        b.issues.add("scopes", "Must be an array of at most 32 strings.")
        return None
    for i, s in enumerate(sv):
        if not isinstance(s, str) or not 1 <= len(s) <= _MAX_SCOPE_LEN:
            b.issues.add(f"scopes.{i}", "Must be a string of 1 to 64 characters.")
    return [s for s in sv if isinstance(s, str)]


def oauth_url(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/projects/{projectId}/social/oauth-url: start an attempt on the consent page.

    The return URL's host must be on the key's allowlist (403 otherwise).
    """
    b = Body(ctx.json_body(issues), ("platform", "returnUrl", "scopes", "usageNote"), issues)
    platform = b.string("platform", required=True, choices=PLATFORMS)
    return_url = b.string("returnUrl", required=True, min_len=1, max_len=2048)
    host = _return_host(return_url, issues) if return_url is not None else None
    scopes = _scopes(b)
    note = b.string("usageNote", max_len=500, nullable=True)
    issues.raise_if_any()
    assert platform is not None
    assert return_url is not None
    assert host is not None
    w = ctx.world
    p = project_of(ctx)
    if host not in ctx.key.allowlist:
        raise ApiError(
            403,
            "RETURN_URL_NOT_ALLOWED",
            "returnUrl host is not on the key's allowlist.",
            {"host": host},
        )
    now = ctx.now
    ttl = int(w.duration("oauthTtl") * 1000)
    att = OAuthAttempt(
        state="st_" + w.ids.ulid(now),
        project_id=p.id,
        org_id=p.org_id,
        key_id=ctx.key.id,
        platform=platform,
        return_url=return_url,
        expires_at=now + ttl,
        created_at=now,
        scopes=scopes,
        usage_note=note,
    )
    w.oauth[att.state] = att
    w.schedule_oauth(att)
    return Out(
        200,
        {
            "authorizeUrl": f"{w.base_url}/_sandbox/oauth/authorize?state={att.state}",
            "state": att.state,
            "expiresAt": render.ts(att.expires_at),
        },
    )


def _attempt(ctx: Ctx, state: str, project_id: str | None) -> OAuthAttempt:
    """An attempt is visible only to the key (and organization) that started it."""
    att = ctx.world.oauth.get(state)
    if (
        att is None
        or att.key_id != ctx.key.id
        or att.org_id != ctx.org.id
        or (project_id is not None and att.project_id != project_id)
    ):
        raise not_found("OAuth attempt not found.", {"resource": "oauth_attempt", "id": state})
    return att


def oauth_status(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/social/oauth-status?state=…"""
    q = query(ctx, issues)
    state = q.one("state")
    if state is None and "state" not in [i["path"] for i in issues.items]:
        issues.add("state", "Required.")
    elif state is not None and ST.normalize(state) is None:
        issues.add("state", "Must be a st_<ULID> state.")
    issues.raise_if_any()
    assert state is not None
    p = project_of(ctx)
    return Out(200, render.oauth_attempt(_attempt(ctx, state, p.id)))


def oauth_status_ref(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/social/oauth-status/{state}."""
    issues.raise_if_any()
    return Out(200, render.oauth_attempt(_attempt(ctx, ctx.params["state"], None)))


def list_accounts(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/projects/{projectId}/social-accounts: newest connection first."""
    q = query(ctx, issues)
    platform = q.choice("platform", PLATFORMS)
    status = q.choice("status", ACCOUNT_STATUSES)
    leased = q.boolean("leased")
    return project_listing(ctx, q, issues, 50, 200).page(
        ctx.world.accounts,
        lambda a: (
            (platform is None or a.platform == platform)
            and (status is None or a.status == status)
            and (leased is None or a.leased == leased)
        ),
        lambda a: a.connected_at,
        render.account,
    )


def disconnect_account(ctx: Ctx, issues: Issues) -> Out:
    """DELETE /v1/social-accounts/{socialAccountId}: cancels the account's queued posts.

    Leased accounts are refused with 409: they are released through their own route.
    """
    expect_empty_body(ctx, issues)
    w = ctx.world
    a = find(ctx, w.accounts, "socialAccountId", "Social account not found.")
    if a.status == "disconnected":
        raise not_found("Social account not found.")
    if a.leased:
        raise conflict(
            "Leased accounts are released through their own route.", {"socialAccountId": a.id}
        )
    now = ctx.now
    a.status = "disconnected"
    a.disconnected_at = now
    a.disconnected_reason = "revoked_by_partner"
    # `social_account.revoked` first, then `post.canceled` for each queued post it cancels.
    _webhooks.account_revoked(w, a)
    canceled = 0
    for post in w.posts.values():
        if post.social_account_id == a.id and post.status == "queued":
            w.cancel_post(post)
            canceled += 1
    return Out(
        200,
        {
            "socialAccountId": a.id,
            "status": "disconnected",
            "disconnectedReason": "revoked_by_partner",
            "canceledScheduledPosts": canceled,
            "disconnectedAt": render.ts(now),
        },
    )


ROUTES: list[Route] = [
    Route(
        "POST",
        PROJECT + "/social/oauth-url",
        WRITE,
        "social:write",
        oauth_url,
        {"projectId": PRJ},
        # Each call mints a fresh state, so Idempotency-Key is not honoured (contract §3.4.1).
        honours_idempotency=False,
    ),
    Route(
        "GET",
        PROJECT + "/social/oauth-status",
        READ,
        "social:read",
        oauth_status,
        {"projectId": PRJ},
    ),
    Route(
        "GET",
        "/v1/social/oauth-status/{state}",
        READ,
        "social:read",
        oauth_status_ref,
        {"state": ST},
    ),
    Route(
        "GET", PROJECT + "/social-accounts", READ, "social:read", list_accounts, {"projectId": PRJ}
    ),
    Route(
        "DELETE",
        "/v1/social-accounts/{socialAccountId}",
        WRITE,
        "social:write",
        disconnect_account,
        {"socialAccountId": SA},
    ),
]
