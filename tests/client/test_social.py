"""`client.social` against the sandbox: OAuth URL and status, accounts, disconnect (§3.4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from layers_async import (
    ErrorInfo,
    LayersClient,
    NotFoundError,
    PermissionDeniedError,
)
from layers_async.models.social import (
    OAuthAttempt,
    OAuthUrl,
    SocialAccount,
    SocialAccountDisconnected,
)
from layers_async.sandbox import Sandbox
from tests.client._shared import (
    BAD_CURSOR,
    GHOST_PRJ,
    GHOST_SA,
    SA_RE,
    ST_RE,
    T0,
    MakeSandbox,
    Route,
    api_error,
    assert_bad_cursor_is_422,
    assert_request_id,
    count,
    new_project,
    not_found_test,
    refused_field,
    refused_field_now,
    scope_and_auth_test,
)
from tests.sandbox._flows import completed_container, schedule
from tests.sandbox._http import Api

GHOST_STATE = "st_01HXZ8K2M4P5QRS6TV7WXYZ9AB"
CB = "http://localhost:3000/social/connect/callback"


async def consent(
    session: aiohttp.ClientSession, attempt: OAuthUrl, decision: str = "allow"
) -> str:
    """Open the attempt's authorize_url like a browser that does not follow redirects."""
    params = {"decision": decision} if decision != "allow" else None
    async with session.get(attempt.authorize_url, params=params, allow_redirects=False) as r:
        assert r.status == 302, await r.text()
        return r.headers["Location"]


async def connect(
    client: LayersClient, session: aiohttp.ClientSession, pid: str, platform: str = "tiktok"
) -> str:
    """Connect an account through the OAuth flow; return its social_account_id."""
    attempt = await client.social.oauth_url(pid, platform=platform, return_url=CB)  # type: ignore[arg-type]
    await consent(session, attempt)
    done = await client.social.oauth_status(pid, attempt.state)
    assert done.social_account_id is not None
    return done.social_account_id


# --- oauth_url ------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_oauth_url_decodes(client: LayersClient, sandbox: Sandbox) -> None:
    """oauth_url returns authorize_url on the sandbox page, an st_ state and now + 10 minutes."""
    pid = await new_project(client)
    attempt = await client.social.oauth_url(pid, platform="tiktok", return_url=CB)
    assert isinstance(attempt, OAuthUrl)
    assert ST_RE.match(attempt.state), attempt.state
    assert attempt.authorize_url == f"{sandbox.url}/_sandbox/oauth/authorize?state={attempt.state}"
    assert attempt.expires_at == T0 + timedelta(minutes=10)
    assert attempt.expires_at.tzinfo is not None
    assert attempt.meta is not None
    assert attempt.meta.status_code == 200
    assert_request_id(attempt)


@pytest.mark.anyio
async def test_oauth_url_sends_optional_fields(client: LayersClient) -> None:
    """scopes (32 of 64 chars) and a 500-char usage_note are accepted at their bounds."""
    pid = await new_project(client)
    attempt = await client.social.oauth_url(
        pid,
        platform="instagram",
        return_url="https://localhost/cb",
        scopes=("s" * 64,) * 32,
        usage_note="u" * 500,
    )
    status = await client.social.oauth_status(pid, attempt.state)
    assert status.platform == "instagram"


@pytest.mark.anyio
async def test_oauth_url_ignores_idempotency_key(client: LayersClient) -> None:
    """The server does not honour Idempotency-Key here: the same key mints two states."""
    pid = await new_project(client)
    a = await client.social.oauth_url(pid, platform="tiktok", return_url=CB, idempotency_key="k1")
    b = await client.social.oauth_url(pid, platform="tiktok", return_url=CB, idempotency_key="k1")
    assert a.state != b.state
    assert b.meta is not None
    assert b.meta.idempotency_replayed is False


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("return_url", "host"),
    [
        ("https://evil.example/cb", "evil.example"),
        ("https://Evil.Example:8443/cb", "evil.example"),
        ("https://127.0.0.2/cb", "127.0.0.2"),
    ],
)
async def test_oauth_url_host_not_allowed(
    client: LayersClient, sandbox: Sandbox, return_url: str, host: str
) -> None:
    """A return_url host off the key's allowlist → PermissionDeniedError RETURN_URL_NOT_ALLOWED."""
    pid = await new_project(client)
    with pytest.raises(PermissionDeniedError) as ei:
        await client.social.oauth_url(pid, platform="tiktok", return_url=return_url)
    assert api_error(ei.value, 403, "RETURN_URL_NOT_ALLOWED") == {"host": host}
    assert await count(sandbox, "oauthAttempts") == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"platform": "facebook"}, "platform"),
        ({"platform": "TikTok"}, "platform"),
        ({"platform": None}, "platform"),
        ({"return_url": "http://example.com/cb"}, "return_url"),
        ({"return_url": "ftp://localhost/cb"}, "return_url"),
        ({"return_url": "javascript:alert(1)"}, "return_url"),
        ({"return_url": "/relative/callback"}, "return_url"),
        ({"return_url": ""}, "return_url"),
        ({"return_url": "https://localhost/" + "a" * 2040}, "return_url"),
        ({"return_url": None}, "return_url"),
        ({"scopes": "video.publish"}, "scopes"),
        ({"scopes": ["a"] * 33}, "scopes"),
        ({"scopes": 7}, "scopes"),
        ({"scopes": [""]}, "scopes[0]"),
        ({"scopes": ["ok", "x" * 65]}, "scopes[1]"),
        ({"scopes": ["ok", "fine", 7]}, "scopes[2]"),
        ({"usage_note": "n" * 501}, "usage_note"),
        ({"usage_note": 5}, "usage_note"),
    ],
)
async def test_oauth_url_client_validation(
    client: LayersClient, sandbox: Sandbox, kwargs: dict[str, Any], field: str
) -> None:
    """Bad platform, return_url, scopes or usage_note fail before sending; no attempt is made."""
    pid = await new_project(client)
    args: dict[str, Any] = {"platform": "tiktok", "return_url": CB, **kwargs}
    assert await refused_field(client.social.oauth_url, pid, **args) == field
    assert await count(sandbox, "oauthAttempts") == 0


@pytest.mark.anyio
async def test_oauth_url_bad_project_id(client: LayersClient) -> None:
    """A malformed project id is refused client-side, naming project_id."""
    assert (
        await refused_field(client.social.oauth_url, "prj_nope", platform="tiktok", return_url=CB)
        == "project_id"
    )


# --- oauth_status ---------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_oauth_status_pending(client: LayersClient) -> None:
    """A fresh attempt decodes as pending with every optional field None."""
    pid = await new_project(client)
    minted = await client.social.oauth_url(pid, platform="instagram", return_url=CB)
    attempt = await client.social.oauth_status(pid, minted.state)
    assert isinstance(attempt, OAuthAttempt)
    assert attempt.state == minted.state
    assert attempt.status == "pending"
    assert attempt.project_id == pid
    assert attempt.platform == "instagram"
    assert attempt.social_account_id is None
    assert attempt.error is None
    assert attempt.completed_at is None
    assert attempt.expires_at == minted.expires_at
    assert attempt.is_terminal is False
    assert_request_id(attempt)


@pytest.mark.anyio
async def test_oauth_status_completed(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """After consent the attempt is completed with a social_account_id and completed_at."""
    pid = await new_project(client)
    minted = await client.social.oauth_url(pid, platform="tiktok", return_url=CB)
    await sandbox.advance(3)
    location = await consent(session, minted)
    assert location == f"{CB}?state={minted.state}&status=success"
    attempt = await client.social.oauth_status(pid, minted.state)
    assert attempt.status == "completed"
    assert attempt.social_account_id is not None
    assert SA_RE.match(attempt.social_account_id)
    assert attempt.completed_at == T0 + timedelta(seconds=3)
    assert attempt.error is None
    assert attempt.is_terminal is True


@pytest.mark.anyio
async def test_oauth_status_failed_decodes_error(
    client: LayersClient, session: aiohttp.ClientSession
) -> None:
    """A declined consent reads failed with error ErrorInfo(code=OAUTH_DENIED)."""
    pid = await new_project(client)
    minted = await client.social.oauth_url(pid, platform="tiktok", return_url=CB)
    location = await consent(session, minted, "deny")
    assert location.endswith("status=error")
    attempt = await client.social.oauth_status(pid, minted.state)
    assert attempt.status == "failed"
    assert isinstance(attempt.error, ErrorInfo)
    assert attempt.error.code == "OAUTH_DENIED"
    assert attempt.error.message
    assert attempt.social_account_id is None
    assert attempt.completed_at == T0
    assert attempt.is_terminal is True


@pytest.mark.anyio
async def test_oauth_status_failure_rate(make_sandbox: MakeSandbox) -> None:
    """With the oauth failure rate at 1 an auto-completed attempt fails with OAUTH_FAILED."""
    async with (
        make_sandbox(failure_rates={"oauth": 1.0}, oauth_auto_complete_seconds=10) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url) as client,
    ):
        pid = await new_project(client)
        minted = await client.social.oauth_url(pid, platform="tiktok", return_url=CB)
        await sb.advance(11)
        attempt = await client.social.oauth_status(pid, minted.state)
        assert attempt.status == "failed"
        assert attempt.error is not None
        assert attempt.error.code == "OAUTH_FAILED"


@pytest.mark.anyio
async def test_oauth_status_auto_complete(make_sandbox: MakeSandbox) -> None:
    """oauth_auto_complete_seconds completes a pending attempt without a browser."""
    async with (
        make_sandbox(oauth_auto_complete_seconds=30) as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url) as client,
    ):
        pid = await new_project(client)
        minted = await client.social.oauth_url(pid, platform="tiktok", return_url=CB)
        await sb.advance(29)
        assert (await client.social.oauth_status(pid, minted.state)).status == "pending"
        await sb.advance(2)
        attempt = await client.social.oauth_status(pid, minted.state)
        assert attempt.status == "completed"
        assert attempt.completed_at == T0 + timedelta(seconds=30)


@pytest.mark.anyio
async def test_oauth_status_expired(client: LayersClient, sandbox: Sandbox) -> None:
    """Past expires_at a pending attempt reads expired (terminal, no account, no error)."""
    pid = await new_project(client)
    minted = await client.social.oauth_url(pid, platform="tiktok", return_url=CB)
    await sandbox.advance(599)
    assert (await client.social.oauth_status(pid, minted.state)).status == "pending"
    await sandbox.advance(2)
    attempt = await client.social.oauth_status(pid, minted.state)
    assert attempt.status == "expired"
    assert attempt.is_terminal is True
    assert attempt.social_account_id is None
    assert attempt.error is None


@pytest.mark.anyio
async def test_oauth_status_unknown_state(client: LayersClient) -> None:
    """An unknown state raises NotFoundError with details {resource: oauth_attempt, id}."""
    pid = await new_project(client)
    with pytest.raises(NotFoundError) as ei:
        await client.social.oauth_status(pid, GHOST_STATE)
    details = api_error(ei.value, 404, "NOT_FOUND")
    assert details == {"resource": "oauth_attempt", "id": GHOST_STATE}


@pytest.mark.anyio
async def test_oauth_status_other_project(client: LayersClient) -> None:
    """A state polled under another project of the organization raises NotFoundError."""
    pa = await new_project(client, "Project A")
    pb = await new_project(client, "Project B")
    minted = await client.social.oauth_url(pa, platform="tiktok", return_url=CB)
    with pytest.raises(NotFoundError) as ei:
        await client.social.oauth_status(pb, minted.state)
    details = api_error(ei.value, 404, "NOT_FOUND")
    assert details == {"resource": "oauth_attempt", "id": minted.state}


@pytest.mark.anyio
async def test_oauth_status_other_key(client: LayersClient, sandbox: Sandbox) -> None:
    """A state minted by another key of the same organization is invisible (NotFoundError)."""
    pid = await new_project(client)
    async with LayersClient(api_key=sandbox.keys["demo-test"], base_url=sandbox.url) as other:
        minted = await other.social.oauth_url(pid, platform="tiktok", return_url=CB)
        assert (await other.social.oauth_status(pid, minted.state)).status == "pending"
    with pytest.raises(NotFoundError) as ei:
        await client.social.oauth_status(pid, minted.state)
    assert api_error(ei.value, 404, "NOT_FOUND")["resource"] == "oauth_attempt"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("project_id", "state", "field"),
    [
        ("prj_nope", GHOST_STATE, "project_id"),
        (GHOST_PRJ, "", "state"),
        (GHOST_PRJ, "st_123", "state"),
        (GHOST_PRJ, "01HXZ8K2M4P5QRS6TV7WXYZ9AB", "state"),
        (GHOST_PRJ, "xx_01HXZ8K2M4P5QRS6TV7WXYZ9AB", "state"),
        (GHOST_PRJ, "st_01hxz8k2m4p5qrs6tv7wxyz9ab", "state"),
        (GHOST_PRJ, "st_01HXZ8K2M4P5QRS6TV7WXYZ9AU", "state"),
        (GHOST_PRJ, None, "state"),
    ],
)
async def test_oauth_status_client_validation(
    client: LayersClient, project_id: str, state: Any, field: str
) -> None:
    """A malformed project id or state (ULIDs are case-sensitive) fails before sending."""
    assert await refused_field(client.social.oauth_status, project_id, state) == field


# --- accounts -------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_accounts_decodes_social_accounts(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """accounts lists connected accounts newest first, decoded with tz-aware datetimes."""
    pid = await new_project(client)
    first = await connect(client, session, pid, "tiktok")
    await sandbox.advance(10)
    second = await connect(client, session, pid, "instagram")
    page = await client.social.accounts(pid)
    assert [a.social_account_id for a in page.items] == [second, first]
    assert page.next_cursor is None
    acct = page.items[1]
    assert isinstance(acct, SocialAccount)
    assert acct.project_id == pid
    assert acct.platform == "tiktok"
    assert acct.status == "connected"
    assert acct.leased is False
    assert acct.handle
    assert not acct.handle.startswith("@")
    assert acct.display_name
    assert acct.connected_at == T0
    assert acct.token_expires_at is not None
    assert acct.token_expires_at.tzinfo is not None
    assert acct.token_expires_at > acct.connected_at
    assert acct.disconnected_at is None
    assert acct.disconnected_reason is None
    assert page.items[0].connected_at == T0 + timedelta(seconds=10)


@pytest.mark.anyio
async def test_accounts_filters(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """platform, status and leased filters are sent and narrow the list."""
    pid = await new_project(client)
    tt = await connect(client, session, pid, "tiktok")
    await sandbox.advance(5)
    ig = await connect(client, session, pid, "instagram")
    await client.social.disconnect(ig)

    async def ids(**kw: Any) -> list[str]:
        return [a.social_account_id for a in (await client.social.accounts(pid, **kw)).items]

    assert await ids(platform="tiktok") == [tt]
    assert await ids(platform="instagram") == [ig]
    assert await ids(status="connected") == [tt]
    assert await ids(status="disconnected") == [ig]
    assert await ids(status="reauth_required") == []
    assert await ids(leased=False) == [ig, tt]
    assert await ids(leased=True) == []
    assert await ids(platform="tiktok", status="disconnected") == []


@pytest.mark.anyio
async def test_accounts_pages(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """limit=1 pages through every account with opaque cursors."""
    pid = await new_project(client)
    made = []
    for _ in range(3):
        made.append(await connect(client, session, pid))
        await sandbox.advance(5)
    first = await client.social.accounts(pid, limit=1)
    assert len(first.items) == 1
    assert first.has_next
    seen = [a.social_account_id async for a in client.social.accounts(pid, limit=1)]
    assert seen == made[::-1]


@pytest.mark.anyio
async def test_accounts_bad_cursor(client: LayersClient) -> None:
    """A cursor the server cannot decode raises UnprocessableEntityError with path cursor."""
    pid = await new_project(client)
    await assert_bad_cursor_is_422(client.social.accounts(pid, cursor=BAD_CURSOR))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("project_id", "kwargs", "field"),
    [
        ("prj_nope", {}, "project_id"),
        (GHOST_PRJ, {"platform": "facebook"}, "platform"),
        (GHOST_PRJ, {"status": "pending"}, "status"),
        (GHOST_PRJ, {"leased": "yes"}, "leased"),
        (GHOST_PRJ, {"leased": 1}, "leased"),
        (GHOST_PRJ, {"limit": 0}, "limit"),
        (GHOST_PRJ, {"limit": 201}, "limit"),
    ],
)
async def test_accounts_client_validation(
    client: LayersClient, project_id: str, kwargs: dict[str, Any], field: str
) -> None:
    """A bad project id, filter or limit (1-200) fails when accounts() is called."""
    assert refused_field_now(client.social.accounts, project_id, **kwargs) == field


# --- disconnect -----------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_disconnect_decodes(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """disconnect returns the summary; the account lists disconnected; again → NotFoundError."""
    pid = await new_project(client)
    sa = await connect(client, session, pid)
    await sandbox.advance(7)
    result = await client.social.disconnect(sa)
    assert isinstance(result, SocialAccountDisconnected)
    assert result.social_account_id == sa
    assert result.status == "disconnected"
    assert result.disconnected_reason == "revoked_by_partner"
    assert result.canceled_scheduled_posts == 0
    assert result.disconnected_at == T0 + timedelta(seconds=7)
    assert_request_id(result)
    (acct,) = (await client.social.accounts(pid)).items
    assert acct.status == "disconnected"
    assert acct.disconnected_at == result.disconnected_at
    assert acct.disconnected_reason == "revoked_by_partner"
    with pytest.raises(NotFoundError) as ei:
        await client.social.disconnect(sa)
    api_error(ei.value, 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_disconnect_counts_canceled_posts(
    client: LayersClient, api: Api, session: aiohttp.ClientSession
) -> None:
    """canceled_scheduled_posts decodes the number of queued posts the disconnect canceled."""
    pid = await new_project(client)
    sa = await connect(client, session, pid)
    cid = await completed_container(api, pid)
    now = datetime.fromisoformat((await api.now()).replace("Z", "+00:00"))
    later = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    targets = [{"socialAccountId": sa, "mode": "publish"}, {"socialAccountId": sa, "mode": "draft"}]
    r = await schedule(api, cid, later, targets)
    assert r.status == 201, r
    result = await client.social.disconnect(sa)
    assert result.canceled_scheduled_posts == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    "social_account_id",
    ["sa_nope", "0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f", GHOST_PRJ, "", None],
)
async def test_disconnect_client_validation(client: LayersClient, social_account_id: Any) -> None:
    """A malformed social account id (bare UUIDs included) fails before sending."""
    assert await refused_field(client.social.disconnect, social_account_id) == "social_account_id"


# --- errors common to every route -----------------------------------------------------------------
ROUTES: list[Route] = [
    (
        "oauth_url",
        "social:write",
        lambda c, pid: c.social.oauth_url(pid, platform="tiktok", return_url=CB),
    ),
    ("oauth_status", "social:read", lambda c, pid: c.social.oauth_status(pid, GHOST_STATE)),
    ("accounts", "social:read", lambda c, pid: c.social.accounts(pid)),
    ("disconnect", "social:write", lambda c, pid: c.social.disconnect(GHOST_SA)),
]

test_scope_and_auth_errors = scope_and_auth_test(
    ROUTES,
    "Without the route's scope → PermissionDeniedError; an unknown key → AuthenticationError.",
)
test_unknown_project_or_account_is_not_found = not_found_test(
    ROUTES,
    "Every route on a project (or account) that does not exist raises NotFoundError.",
    project_id=GHOST_PRJ,
)
