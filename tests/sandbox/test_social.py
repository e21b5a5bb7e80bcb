"""Contract tests for social accounts and OAuth (§3.4, §4.3, §4.7, §5.7 authorize page)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import query_validation_test
from tests.sandbox._flows import (
    GHOST_PRJ,
    GHOST_SA,
    GHOST_STATE,
    OAUTH_ATTEMPT_FIELDS,
    PRJ_RE,
    SA_RE,
    ST_RE,
    assert_ts,
    authorize,
    check_social_account,
    completed_container,
    connect_account,
    create_project,
    err,
    get_post,
    invalid,
    mint_state,
    oauth_status,
    ok,
    query_of,
    route_scope_test,
    schedule,
    shift,
    social_account,
    standard_key,
    ts_ms,
    ulid_ms,
)
from tests.sandbox._http import Api, MakeSandbox

CB = "http://localhost:3000/social/connect/callback"


def oauth_path(project_id: str) -> str:
    return f"/v1/projects/{project_id}/social/oauth-url"


# --- oauth-url (contract §3.4.1) ------------------------------------------------------------------
@pytest.mark.anyio
async def test_oauth_url_success_shape(api: Api, sandbox: Sandbox) -> None:
    """oauth-url returns authorizeUrl on the sandbox page, an st_<ULID> state and now + 600 s."""
    pid = (await create_project(api))["id"]
    now = await api.now()
    r = await api.post(oauth_path(pid), {"platform": "tiktok", "returnUrl": CB})
    body = ok(r)
    assert set(body) >= {"authorizeUrl", "state", "expiresAt"}
    assert ST_RE.match(body["state"]), body
    assert ulid_ms(body["state"][3:]) == ts_ms(now)
    assert body["authorizeUrl"] == f"{sandbox.url}/_sandbox/oauth/authorize?state={body['state']}"
    assert body["expiresAt"] == shift(now, 600)
    assert r.headers["X-RateLimit-Endpoint-Class"] == "write-light"


@pytest.mark.anyio
async def test_oauth_url_creates_pending_attempt(api: Api) -> None:
    """A freshly minted state polls as a pending OAuthAttempt with every field present."""
    pid = (await create_project(api))["id"]
    minted = await mint_state(api, pid, platform="instagram")
    att = ok(await oauth_status(api, pid, minted["state"]))
    assert set(att) >= OAUTH_ATTEMPT_FIELDS
    assert att == {
        **att,
        "state": minted["state"],
        "status": "pending",
        "projectId": pid,
        "platform": "instagram",
        "socialAccountId": None,
        "error": None,
        "expiresAt": minted["expiresAt"],
        "completedAt": None,
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    "return_url",
    [
        "https://localhost/cb",
        "http://localhost:3000/social/connect/callback",
        "http://127.0.0.1:8080/cb?x=1",
        "https://127.0.0.1/cb",
        "https://LOCALHOST:8443/cb",
        "http://LocalHost/cb",
    ],
)
async def test_oauth_url_accepted_return_urls(api: Api, return_url: str) -> None:
    """https on the allowlist, http only for localhost/127.0.0.1; case and port ignored."""
    pid = (await create_project(api))["id"]
    r = await api.post(oauth_path(pid), {"platform": "tiktok", "returnUrl": return_url})
    assert r.status == 200, r


@pytest.mark.anyio
@pytest.mark.parametrize(
    "return_url",
    [
        "http://example.com/cb",
        "http://evil.example:3000/cb",
        "ftp://localhost/cb",
        "javascript:alert(1)",
        "/relative/callback",
        "localhost:3000/cb",
        "",
        "https://localhost/" + "a" * 2040,
        123,
        None,
    ],
)
async def test_oauth_url_invalid_return_url(api: Api, return_url: Any) -> None:
    """A returnUrl not absolute, not https (bar local http), too long or not a string → 422."""
    pid = (await create_project(api))["id"]
    r = await api.post(oauth_path(pid), {"platform": "tiktok", "returnUrl": return_url})
    invalid(r, "returnUrl")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("return_url", "host"),
    [
        ("https://evil.example/cb", "evil.example"),
        ("https://Evil.Example:8443/cb", "evil.example"),
        ("https://sub.localhost/cb", "sub.localhost"),
        ("https://localhost.evil.example/cb", "localhost.evil.example"),
        ("https://127.0.0.2/cb", "127.0.0.2"),
    ],
)
async def test_oauth_url_host_not_allowed(api: Api, return_url: str, host: str) -> None:
    """A host not on the key's allowlist → 403 RETURN_URL_NOT_ALLOWED {host}."""
    pid = (await create_project(api))["id"]
    r = await api.post(oauth_path(pid), {"platform": "tiktok", "returnUrl": return_url})
    e = err(r, 403, "RETURN_URL_NOT_ALLOWED")
    assert e["details"]["host"] == host


@pytest.mark.anyio
async def test_oauth_url_allowlist_is_per_key_and_case_insensitive(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """The calling key's allowlist decides; case-insensitive, port ignored."""
    keys = [standard_key("app", "partner", ["*"], env="live", returnUrlAllowlist=["YourApp.COM"])]
    async with make_sandbox(api_keys=keys) as sb:
        api = Api(session, sb.url, sb.keys["app"])
        pid = (await create_project(api))["id"]
        ok_r = await api.post(
            oauth_path(pid), {"platform": "tiktok", "returnUrl": "https://yourapp.com:8443/cb"}
        )
        assert ok_r.status == 200, ok_r
        r = await api.post(oauth_path(pid), {"platform": "tiktok", "returnUrl": CB})
        assert err(r, 403, "RETURN_URL_NOT_ALLOWED")["details"]["host"] == "localhost"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"returnUrl": CB}, ["platform"]),
        ({"platform": "facebook", "returnUrl": CB}, ["platform"]),
        ({"platform": "TikTok", "returnUrl": CB}, ["platform"]),
        ({"platform": None, "returnUrl": CB}, ["platform"]),
        ({"platform": "tiktok"}, ["returnUrl"]),
        ({}, ["platform", "returnUrl"]),
        ({"platform": "tiktok", "returnUrl": CB, "scopes": "video.publish"}, ["scopes"]),
        ({"platform": "tiktok", "returnUrl": CB, "scopes": ["a"] * 33}, ["scopes"]),
        ({"platform": "tiktok", "returnUrl": CB, "scopes": [""]}, ["scopes.0"]),
        ({"platform": "tiktok", "returnUrl": CB, "scopes": ["ok", "x" * 65]}, ["scopes.1"]),
        ({"platform": "tiktok", "returnUrl": CB, "scopes": ["ok", 7]}, ["scopes.1"]),
        ({"platform": "tiktok", "returnUrl": CB, "usageNote": "n" * 501}, ["usageNote"]),
        ({"platform": "tiktok", "returnUrl": CB, "usageNote": 5}, ["usageNote"]),
        ({"platform": "tiktok", "returnUrl": CB, "redirectUri": CB}, ["redirectUri"]),
        ({"platform": "tiktok", "returnUrl": CB, "projectId": "x"}, ["projectId"]),
    ],
)
async def test_oauth_url_body_validation(api: Api, body: dict[str, Any], paths: list[str]) -> None:
    """Strict body: platform enum, returnUrl, scopes ≤ 32 of 1-64 chars, usageNote ≤ 500."""
    pid = (await create_project(api))["id"]
    invalid(await api.post(oauth_path(pid), body), *paths)


@pytest.mark.anyio
@pytest.mark.parametrize("raw", [b"[]", b"not json", b'"tiktok"'])
async def test_oauth_url_body_must_be_object(api: Api, raw: bytes) -> None:
    """A body that is not a JSON object → 422 with issue path ""."""
    pid = (await create_project(api))["id"]
    r = await api.call(
        "POST", oauth_path(pid), data=raw, headers={"Content-Type": "application/json"}
    )
    invalid(r, "")


@pytest.mark.anyio
async def test_oauth_url_accepts_bounded_optional_fields(api: Api) -> None:
    """scopes of 32 entries of 64 chars and a 500-char usageNote are accepted."""
    pid = (await create_project(api))["id"]
    body = {
        "platform": "instagram",
        "returnUrl": "https://localhost/cb",
        "scopes": ["s" * 64] * 32,
        "usageNote": "u" * 500,
    }
    r = await api.post(oauth_path(pid), body)
    assert r.status == 200, r


@pytest.mark.anyio
async def test_oauth_url_ignores_idempotency_key(api: Api) -> None:
    """Idempotency-Key is not honoured: the same key and body mint two different states."""
    pid = (await create_project(api))["id"]
    body = {"platform": "tiktok", "returnUrl": CB}
    r1 = await api.post(oauth_path(pid), body, idem="same-key-1")
    r2 = await api.post(oauth_path(pid), body, idem="same-key-1")
    assert r1.status == r2.status == 200
    assert r1.json["state"] != r2.json["state"]
    assert "Idempotency-Replayed" not in r2.headers
    for st in (r1.json["state"], r2.json["state"]):
        assert ok(await oauth_status(api, pid, st))["status"] == "pending"


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["has space", "x" * 256, "tab\tkey"])
async def test_oauth_url_validates_idempotency_key(api: Api, key: str) -> None:
    """The Idempotency-Key header is still validated on oauth-url (path Idempotency-Key)."""
    pid = (await create_project(api))["id"]
    r = await api.post(oauth_path(pid), {"platform": "tiktok", "returnUrl": CB}, idem=key)
    invalid(r, "Idempotency-Key")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("project", "status", "code"),
    [(GHOST_PRJ, 404, "NOT_FOUND"), ("prj_nope", 422, "VALIDATION")],
)
async def test_oauth_url_project_errors(api: Api, project: str, status: int, code: str) -> None:
    """Unknown project → 404; malformed projectId → 422 path projectId."""
    r = await api.post(oauth_path(project), {"platform": "tiktok", "returnUrl": CB})
    err(r, status, code)
    if status == 422:
        assert "projectId" in r.issue_paths


# --- oauth-status (contract §3.4.2, §3.4.3) -------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"state": ""},
        {"state": "st_123"},
        {"state": "01HXZ8K2M4P5QRS6TV7WXYZ9AB"},
        {"state": "xx_01HXZ8K2M4P5QRS6TV7WXYZ9AB"},
        {"state": "st_01hxz8k2m4p5qrs6tv7wxyz9ab"},
        {"state": "st_01HXZ8K2M4P5QRS6TV7WXYZ9AU"},
    ],
)
async def test_oauth_status_state_malformed(api: Api, params: dict[str, str]) -> None:
    """Missing or malformed state (a lowercase ULID included) → 422 path state."""
    pid = (await create_project(api))["id"]
    r = await api.get(f"/v1/projects/{pid}/social/oauth-status", params=params)
    invalid(r, "state")


@pytest.mark.anyio
async def test_oauth_status_lowercased_real_state_is_malformed(api: Api) -> None:
    """States are case-sensitive: the lowercased form of a real state is 422, not a match."""
    pid = (await create_project(api))["id"]
    st = (await mint_state(api, pid))["state"]
    invalid(await oauth_status(api, pid, "st_" + st[3:].lower()), "state")


@pytest.mark.anyio
async def test_oauth_status_unknown_state(api: Api) -> None:
    """A well-formed unknown state → 404 {resource: oauth_attempt, id}."""
    pid = (await create_project(api))["id"]
    e = err(await oauth_status(api, pid, GHOST_STATE), 404, "NOT_FOUND")
    assert e["details"] == {**e["details"], "resource": "oauth_attempt", "id": GHOST_STATE}


@pytest.mark.anyio
async def test_oauth_status_other_keys_state(api: Api, sandbox: Sandbox) -> None:
    """A state minted by another key of the same organization is invisible: 404 both ways."""
    pid = (await create_project(api))["id"]
    test_api = api.with_key(sandbox.keys["demo-test"])
    theirs = (await mint_state(test_api, pid))["state"]
    mine = (await mint_state(api, pid))["state"]
    for who, st in ((api, theirs), (test_api, mine)):
        e = err(await oauth_status(who, pid, st), 404, "NOT_FOUND")
        assert e["details"]["resource"] == "oauth_attempt"
        assert e["details"]["id"] == st
        e2 = err(await who.get(f"/v1/social/oauth-status/{st}"), 404, "NOT_FOUND")
        assert e2["details"]["resource"] == "oauth_attempt"
    assert ok(await oauth_status(test_api, pid, theirs))["status"] == "pending"


@pytest.mark.anyio
async def test_oauth_status_other_projects_state(api: Api) -> None:
    """A state polled under another project of the same organization → 404 with details."""
    pa = (await create_project(api, app=False, name="Project A"))["id"]
    pb = (await create_project(api, app=False, name="Project B"))["id"]
    st = (await mint_state(api, pa))["state"]
    e = err(await oauth_status(api, pb, st), 404, "NOT_FOUND")
    assert e["details"] == {**e["details"], "resource": "oauth_attempt", "id": st}


@pytest.mark.anyio
async def test_oauth_status_reference_path(api: Api) -> None:
    """GET /v1/social/oauth-status/{state} returns the same attempt, with no project check."""
    pid = (await create_project(api))["id"]
    st = (await mint_state(api, pid))["state"]
    via_project = ok(await oauth_status(api, pid, st))
    r = await api.get(f"/v1/social/oauth-status/{st}")
    assert ok(r) == via_project
    assert r.headers["X-RateLimit-Endpoint-Class"] == "read-light"
    await authorize(api, st)
    assert ok(await api.get(f"/v1/social/oauth-status/{st}")) == ok(
        await oauth_status(api, pid, st)
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("st_01hxz8k2m4p5qrs6tv7wxyz9ab", 422),
        ("st_short", 422),
        (GHOST_STATE, 404),
    ],
)
async def test_oauth_status_reference_path_errors(api: Api, state: str, status: int) -> None:
    """The reference path: malformed state → 422 path state; unknown → 404 oauth_attempt."""
    r = await api.get(f"/v1/social/oauth-status/{state}")
    if status == 422:
        invalid(r, "state")
    else:
        e = err(r, 404, "NOT_FOUND")
        assert e["details"]["resource"] == "oauth_attempt"
        assert e["details"]["id"] == state


# --- the consent page /_sandbox/oauth/authorize and the OAuth lifecycle (contract §4.3) -----------
@pytest.mark.anyio
async def test_authorize_allow_completes_attempt(api: Api) -> None:
    """allow → 302 to returnUrl?state=…&status=success; attempt completed; account connected."""
    pid = (await create_project(api))["id"]
    await api.advance(5)
    minted = await mint_state(api, pid, return_url=CB)
    await api.advance(3)
    now = await api.now()
    r = await authorize(api, minted["state"])
    assert r.status == 302, r
    assert r.headers["Location"] == f"{CB}?state={minted['state']}&status=success"
    assert "X-Request-Id" in r.headers
    att = ok(await oauth_status(api, pid, minted["state"]))
    assert att["status"] == "completed"
    assert SA_RE.match(att["socialAccountId"]), att
    assert att["error"] is None
    assert att["completedAt"] == now
    assert att["expiresAt"] == minted["expiresAt"]
    sa = await social_account(api, pid, att["socialAccountId"])
    check_social_account(sa, project_id=pid, platform="tiktok")
    assert sa["status"] == "connected"
    assert sa["connectedAt"] == now
    assert sa["disconnectedAt"] is None
    assert sa["disconnectedReason"] is None


@pytest.mark.anyio
async def test_authorize_explicit_allow_keeps_existing_query(api: Api) -> None:
    """decision=allow appends state and status to a returnUrl that already has a query string."""
    pid = (await create_project(api))["id"]
    ret = "http://localhost:3000/cb?foo=bar&x=1"
    minted = await mint_state(api, pid, platform="instagram", return_url=ret)
    r = await authorize(api, minted["state"], "allow")
    assert r.status == 302, r
    loc = r.headers["Location"]
    assert loc.startswith("http://localhost:3000/cb?foo=bar&x=1&"), loc
    assert query_of(loc) == {
        "foo": ["bar"],
        "x": ["1"],
        "state": [minted["state"]],
        "status": ["success"],
    }
    att = ok(await oauth_status(api, pid, minted["state"]))
    sa = await social_account(api, pid, att["socialAccountId"])
    check_social_account(sa, project_id=pid, platform="instagram")


@pytest.mark.anyio
async def test_authorize_deny_fails_attempt(api: Api, sandbox: Sandbox) -> None:
    """deny → 302 with status=error; attempt failed with OAUTH_DENIED; no account created."""
    pid = (await create_project(api))["id"]
    minted = await mint_state(api, pid)
    now = await api.now()
    r = await authorize(api, minted["state"], "deny")
    assert r.status == 302, r
    assert query_of(r.headers["Location"]) == {"state": [minted["state"]], "status": ["error"]}
    att = ok(await oauth_status(api, pid, minted["state"]))
    assert att["status"] == "failed"
    assert att["socialAccountId"] is None
    assert att["error"]["code"] == "OAUTH_DENIED"
    assert isinstance(att["error"]["message"], str)
    assert att["completedAt"] == now
    page = ok(await api.get(f"/v1/projects/{pid}/social-accounts"))
    assert page["items"] == []
    assert (await sandbox.state())["counts"]["socialAccounts"]["total"] == 0


@pytest.mark.anyio
@pytest.mark.parametrize("first", ["allow", "deny"])
async def test_authorize_finished_state_redirects_error(api: Api, first: str) -> None:
    """A state already completed or failed → 302 status=error and the attempt is unchanged."""
    pid = (await create_project(api))["id"]
    minted = await mint_state(api, pid)
    await authorize(api, minted["state"], first)
    before = ok(await oauth_status(api, pid, minted["state"]))
    await api.advance(2)
    r = await authorize(api, minted["state"], "allow")
    assert r.status == 302, r
    assert query_of(r.headers["Location"])["status"] == ["error"]
    assert query_of(r.headers["Location"])["state"] == [minted["state"]]
    assert ok(await oauth_status(api, pid, minted["state"])) == before
    page = ok(await api.get(f"/v1/projects/{pid}/social-accounts"))
    assert len(page["items"]) == (1 if first == "allow" else 0)


@pytest.mark.anyio
async def test_attempt_expires_after_ttl(api: Api) -> None:
    """A pending attempt stays pending before expiresAt and reads `expired` after it."""
    pid = (await create_project(api))["id"]
    st = (await mint_state(api, pid))["state"]
    await api.advance(599)
    assert ok(await oauth_status(api, pid, st))["status"] == "pending"
    await api.advance(2)
    att = ok(await oauth_status(api, pid, st))
    assert att["status"] == "expired"
    assert att["socialAccountId"] is None
    assert att["error"] is None
    assert att["completedAt"] is None


@pytest.mark.anyio
async def test_authorize_expired_state(api: Api) -> None:
    """Authorize on a state past expiresAt → 302 status=error, attempt expired, no account."""
    pid = (await create_project(api))["id"]
    st = (await mint_state(api, pid))["state"]
    await api.advance(601)
    r = await authorize(api, st)
    assert r.status == 302, r
    assert query_of(r.headers["Location"]) == {"state": [st], "status": ["error"]}
    assert ok(await oauth_status(api, pid, st))["status"] == "expired"
    assert ok(await api.get(f"/v1/projects/{pid}/social-accounts"))["items"] == []


@pytest.mark.anyio
async def test_authorize_unknown_state(api: Api) -> None:
    """An unknown state on the authorize page → 404 NOT_FOUND (no returnUrl to go to)."""
    r = await authorize(api, GHOST_STATE)
    err(r, 404, "NOT_FOUND")


@pytest.mark.anyio
@pytest.mark.sandbox_options(oauth_auto_complete_seconds=30)
async def test_oauth_auto_complete(custom_api: Api) -> None:
    """oauthAutoCompleteSeconds completes pending attempts that long after creation."""
    pid = (await create_project(custom_api))["id"]
    created = await custom_api.now()
    st = (await mint_state(custom_api, pid))["state"]
    await custom_api.advance(29)
    assert ok(await oauth_status(custom_api, pid, st))["status"] == "pending"
    await custom_api.advance(2)
    att = ok(await oauth_status(custom_api, pid, st))
    assert att["status"] == "completed"
    assert att["completedAt"] == shift(created, 30)
    sa = await social_account(custom_api, pid, att["socialAccountId"])
    assert sa["status"] == "connected"
    assert sa["connectedAt"] == shift(created, 30)


@pytest.mark.anyio
@pytest.mark.sandbox_options(failure_rates={"oauth": 1.0})
async def test_oauth_failure_rate(custom_api: Api) -> None:
    """With the `oauth` failure rate at 1.0, allow fails the attempt with OAUTH_FAILED."""
    pid = (await create_project(custom_api))["id"]
    st = (await mint_state(custom_api, pid))["state"]
    r = await authorize(custom_api, st)
    assert r.status == 302, r
    assert query_of(r.headers["Location"])["status"] == ["error"]
    att = ok(await oauth_status(custom_api, pid, st))
    assert att["status"] == "failed"
    assert att["error"]["code"] == "OAUTH_FAILED"
    assert att["socialAccountId"] is None
    assert_ts(att["completedAt"])
    assert ok(await custom_api.get(f"/v1/projects/{pid}/social-accounts"))["items"] == []


@pytest.mark.anyio
@pytest.mark.sandbox_options(failure_rates={"oauth": 1.0}, oauth_auto_complete_seconds=10)
async def test_oauth_failure_rate_applies_to_auto_complete(custom_api: Api) -> None:
    """The `oauth` failure rate also applies when an attempt auto-completes."""
    pid = (await create_project(custom_api))["id"]
    st = (await mint_state(custom_api, pid))["state"]
    await custom_api.advance(11)
    att = ok(await oauth_status(custom_api, pid, st))
    assert att["status"] == "failed"
    assert att["error"]["code"] == "OAUTH_FAILED"


# --- social-accounts list (contract §3.4.4) -------------------------------------------------------
@pytest.mark.anyio
async def test_social_accounts_list_and_filters(api: Api) -> None:
    """The list is newest connectedAt first and filters by platform, status and leased."""
    pid = (await create_project(api))["id"]
    other = (await create_project(api, app=False, name="Other Proj"))["id"]
    a = await connect_account(api, pid, platform="tiktok")
    await api.advance(10)
    b = await connect_account(api, pid, platform="instagram")
    await api.advance(10)
    c = await connect_account(api, pid, platform="tiktok")
    await connect_account(api, other)
    base = f"/v1/projects/{pid}/social-accounts"

    page = ok(await api.get(base))
    assert [i["socialAccountId"] for i in page["items"]] == [c, b, a]
    assert page["nextCursor"] is None
    for item in page["items"]:
        check_social_account(item, project_id=pid, platform=item["platform"])

    async def ids(params: dict[str, str]) -> list[str]:
        return [i["socialAccountId"] for i in ok(await api.get(base, params=params))["items"]]

    assert await ids({"platform": "tiktok"}) == [c, a]
    assert await ids({"platform": "instagram"}) == [b]
    assert await ids({"leased": "false"}) == [c, b, a]
    assert await ids({"leased": "true"}) == []
    assert await ids({"status": "connected"}) == [c, b, a]
    assert await ids({"status": "reauth_required"}) == []

    ok(await api.post(f"/_sandbox/social-accounts/{a}/needs-reauth"))
    ok(await api.delete(f"/v1/social-accounts/{b}"))
    assert await ids({"status": "reauth_required"}) == [a]
    assert await ids({"status": "disconnected"}) == [b]
    assert await ids({"status": "connected"}) == [c]
    assert await ids({"platform": "tiktok", "status": "connected"}) == [c]
    assert await ids({}) == [c, b, a]


@pytest.mark.anyio
async def test_social_accounts_pagination(api: Api) -> None:
    """limit=1 pages through the accounts with opaque cursors, ending in nextCursor null."""
    pid = (await create_project(api))["id"]
    made = []
    for _ in range(3):
        made.append(await connect_account(api, pid))
        await api.advance(5)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params = {"limit": "1"} if cursor is None else {"limit": "1", "cursor": cursor}
        page = ok(await api.get(f"/v1/projects/{pid}/social-accounts", params=params))
        assert len(page["items"]) <= 1
        seen += [i["socialAccountId"] for i in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
    assert seen == made[::-1]
    full = ok(await api.get(f"/v1/projects/{pid}/social-accounts", params={"limit": "200"}))
    assert len(full["items"]) == 3


test_social_accounts_list_validation = query_validation_test(
    "social-accounts",
    [
        "limit=0 limit=201 limit=ten platform=facebook status=pending leased=yes"
        " cursor=!!not-a-cursor!!",
    ],
    """Bad limit, filter values or cursor → 422 with the parameter as path.""",
)


# --- /_sandbox/social-accounts/{id}/needs-reauth --------------------------------------------------
@pytest.mark.anyio
async def test_needs_reauth_route(api: Api) -> None:
    """The sandbox needs-reauth route moves an account to reauth_required."""
    pid = (await create_project(api))["id"]
    sa = await connect_account(api, pid)
    r = await api.post(f"/_sandbox/social-accounts/{sa}/needs-reauth")
    body = ok(r)
    check_social_account(body, project_id=pid, platform="tiktok")
    assert body["socialAccountId"] == sa
    assert body["status"] == "reauth_required"
    assert (await social_account(api, pid, sa))["status"] == "reauth_required"


# --- disconnect (contract §3.4.5) -----------------------------------------------------------------
@pytest.mark.anyio
async def test_disconnect_shape_and_repeat(api: Api) -> None:
    """DELETE → 200 disconnect summary; account shows disconnected; a second DELETE → 404."""
    pid = (await create_project(api))["id"]
    sa = await connect_account(api, pid)
    await api.advance(7)
    now = await api.now()
    r = await api.delete(f"/v1/social-accounts/{sa}")
    assert ok(r) == {
        **r.json,
        "socialAccountId": sa,
        "status": "disconnected",
        "disconnectedReason": "revoked_by_partner",
        "canceledScheduledPosts": 0,
        "disconnectedAt": now,
    }
    assert r.headers["X-RateLimit-Endpoint-Class"] == "write-light"
    acct = await social_account(api, pid, sa)
    assert acct["status"] == "disconnected"
    assert acct["disconnectedAt"] == now
    assert acct["disconnectedReason"] == "revoked_by_partner"
    err(await api.delete(f"/v1/social-accounts/{sa}"), 404, "NOT_FOUND")
    err(await api.delete(f"/v1/social-accounts/{sa}", idem="another-key"), 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_disconnect_reauth_required_account(api: Api) -> None:
    """A reauth_required account can be disconnected too."""
    pid = (await create_project(api))["id"]
    sa = await connect_account(api, pid)
    ok(await api.post(f"/_sandbox/social-accounts/{sa}/needs-reauth"))
    assert ok(await api.delete(f"/v1/social-accounts/{sa}"))["status"] == "disconnected"


@pytest.mark.anyio
async def test_disconnect_cancels_queued_posts(api: Api) -> None:
    """canceledScheduledPosts counts queued posts, now canceled; published ones stay."""
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
    other_sa = await connect_account(api, pid)
    cid = await completed_container(api, pid)
    now = await api.now()
    published = ok(
        await schedule(api, cid, shift(now, 30), [{"socialAccountId": sa, "mode": "publish"}]),
        201,
    )["scheduledPostIds"][0]
    await api.advance(60)
    assert (await get_post(api, published))["status"] == "published"
    now = await api.now()
    queued = ok(
        await schedule(
            api,
            cid,
            shift(now, 3600),
            [
                {"socialAccountId": sa, "mode": "publish"},
                {"socialAccountId": sa, "mode": "draft"},
                {"socialAccountId": other_sa, "mode": "publish"},
            ],
        ),
        201,
    )["scheduledPostIds"]
    r = await api.delete(f"/v1/social-accounts/{sa}")
    assert ok(r)["canceledScheduledPosts"] == 2
    for pid_ in queued[:2]:
        post = await get_post(api, pid_)
        assert post["status"] == "canceled"
        assert post["canceledAt"] == now
    assert (await get_post(api, queued[2]))["status"] == "queued"
    assert (await get_post(api, published))["status"] == "published"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "bad",
    ["sa_123", "9c1e42a0-3d5f-4a7b-b9c1-d2e3f4a5b6c7", "inf_9c1e42a0-3d5f-4a7b-b9c1-d2e3f4a5b6c7"],
)
async def test_disconnect_malformed_id(api: Api, bad: str) -> None:
    """A socialAccountId that is not sa_<uuid> → 422 path socialAccountId."""
    invalid(await api.delete(f"/v1/social-accounts/{bad}"), "socialAccountId")


@pytest.mark.anyio
async def test_disconnect_unknown_account(api: Api) -> None:
    """A well-formed id that names no account → 404 NOT_FOUND."""
    err(await api.delete(f"/v1/social-accounts/{GHOST_SA}"), 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_disconnect_other_organization(two_live_org_apis: dict[str, Api]) -> None:
    """Another organization's account → 404 (never 403), and it stays connected."""
    mine = two_live_org_apis["demo-live"]
    theirs = two_live_org_apis["other-live"]
    pid = (await create_project(theirs))["id"]
    assert PRJ_RE.match(pid)
    sa = await connect_account(theirs, pid)
    err(await mine.delete(f"/v1/social-accounts/{sa}"), 404, "NOT_FOUND")
    err(await mine.get(f"/v1/projects/{pid}/social-accounts"), 404, "NOT_FOUND")
    assert (await social_account(theirs, pid, sa))["status"] == "connected"


# --- scopes (contract §1.3, §2.1 rows 11-15) ------------------------------------------------------
test_social_routes_require_scope = route_scope_test(
    [
        ("POST", f"/v1/projects/{GHOST_PRJ}/social/oauth-url", "social:write"),
        ("GET", f"/v1/projects/{GHOST_PRJ}/social/oauth-status?state={GHOST_STATE}", "social:read"),
        ("GET", f"/v1/social/oauth-status/{GHOST_STATE}", "social:read"),
        ("GET", f"/v1/projects/{GHOST_PRJ}/social-accounts", "social:read"),
        ("DELETE", f"/v1/social-accounts/{GHOST_SA}", "social:write"),
    ],
    """Each social route needs its scope: 403 FORBIDDEN_SCOPE {requiredScope} before 404/422.""",
)


@pytest.mark.anyio
async def test_disconnect_replay_with_same_key(api: Api) -> None:
    """DELETE is idempotent by key: the same Idempotency-Key replays the stored 200."""
    pid = (await create_project(api))["id"]
    sa = await connect_account(api, pid)
    first = await api.delete(f"/v1/social-accounts/{sa}", idem="disconnect-1")
    assert first.status == 200
    again = await api.delete(f"/v1/social-accounts/{sa}", idem="disconnect-1")
    assert again.status == 200
    assert again.body == first.body
    assert again.headers.get("Idempotency-Replayed") == "true"


@pytest.mark.anyio
async def test_disconnect_lets_publishing_post_finish(nominal_api: Api) -> None:
    """A post already publishing is not counted or canceled by disconnect; it finishes normally."""
    pid = (await create_project(nominal_api, app=False))["id"]
    sa = await connect_account(nominal_api, pid)
    cid = await completed_container(nominal_api, pid)
    when = shift(await nominal_api.now(), 30)
    post_id = ok(
        await schedule(nominal_api, cid, when, [{"socialAccountId": sa, "mode": "publish"}]), 201
    )["scheduledPostIds"][0]
    await nominal_api.advance(32)
    assert (await get_post(nominal_api, post_id))["status"] == "publishing"
    assert ok(await nominal_api.delete(f"/v1/social-accounts/{sa}"))["canceledScheduledPosts"] == 0
    await nominal_api.advance(10)
    assert (await get_post(nominal_api, post_id))["status"] == "published"


@pytest.mark.anyio
async def test_account_avatar_is_served(api: Api, sandbox: Sandbox) -> None:
    """An account's avatarUrl, when set, is a sandbox media URL the sandbox serves."""
    pid = (await create_project(api))["id"]
    sa = await connect_account(api, pid)
    acct = await social_account(api, pid, sa)
    if acct["avatarUrl"] is not None:
        assert acct["avatarUrl"].startswith(f"{sandbox.url}/_sandbox/media/")
        r = await api.get(acct["avatarUrl"])
        assert r.status == 200, r
