"""API keys: child keys (contract §3.11) and own keys (contract §3.13), as §4.9 moves them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import START, assert_error, assert_validation
from tests.sandbox._flows import GHOST_UUID, ok, shift, standard_key, two_organizations
from tests.sandbox._http import Api
from tests.sandbox._orgs import (
    CHILD_KEY_FIELDS,
    KEY_ID_RE,
    OWN_KEY_FIELDS,
    SECRET_RE,
    idem,
    make_child,
    mint,
)

pytestmark = pytest.mark.anyio

GHOST_KEY = f"key_{GHOST_UUID}"
WARNING = "Store this secret now; it cannot be shown again."


def keys_path(org: str) -> str:
    """The api-keys collection of child `org`."""
    return f"/v1/organizations/{org}/api-keys"


# ---------------------------------------------------------------------- mint
async def test_mint_shows_the_secret_once_and_a_replay_shows_it_again(api: Api) -> None:
    """201 `{apiKey, secret, warning}`; the same Idempotency-Key replays the same secret."""
    org = (await make_child(api))["id"]
    key = idem()
    body = {"name": "acme-integration", "scopes": ["content:read", "content:write"]}
    r = await api.post(keys_path(org), body, idem=key)
    out = ok(r, 201)
    assert list(out) == ["apiKey", "secret", "warning"]
    k = out["apiKey"]
    assert list(k) == CHILD_KEY_FIELDS
    assert KEY_ID_RE.match(k["id"])
    assert SECRET_RE.match(out["secret"])
    assert out["secret"].startswith(k["prefix"] + "_")
    assert len(k["prefix"]) == 24
    assert (k["organizationId"], k["env"], k["rateLimitTier"], k["status"]) == (
        org,
        "live",
        "standard",
        "active",
    )
    assert k["scopes"] == ["content:read", "content:write"]
    assert (k["createdAt"], k["lastUsedAt"], k["graceUntil"], k["supersededBy"]) == (
        START,
        None,
        None,
        None,
    )
    assert out["warning"] == WARNING
    again = await api.post(keys_path(org), body, idem=key)
    assert (again.status, again.body) == (201, r.body)
    assert again.headers["Idempotency-Replayed"] == "true"
    assert len(ok(await api.get(keys_path(org)))["items"]) == 1


async def test_a_test_child_key_gets_the_sandbox_tier(api: Api) -> None:
    """A child key with env test is on the sandbox tier and is a test key string."""
    org = (await make_child(api))["id"]
    k, secret = await mint(api, org, env="test")
    assert (k["env"], k["rateLimitTier"]) == ("test", "sandbox")
    assert secret.startswith("lp_test_")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"scopes": ["*"]}, "name"),
        ({"name": "", "scopes": ["*"]}, "name"),
        ({"name": "k" * 121, "scopes": ["*"]}, "name"),
        ({"name": "k"}, "scopes"),
        ({"name": "k", "scopes": []}, "scopes"),
        ({"name": "k", "scopes": ["projects:delete"]}, "scopes.0"),
        ({"name": "k", "scopes": ["*"] * 65}, "scopes"),
        ({"name": "k", "scopes": ["*"], "env": "prod"}, "env"),
        ({"name": "k", "scopes": ["*"], "tier": "pilot"}, "tier"),
    ],
)
async def test_mint_validation(api: Api, body: dict[str, Any], path: str) -> None:
    """Each invalid mint body is a 422 at exactly its path."""
    org = (await make_child(api))["id"]
    assert_validation(await api.post(keys_path(org), body), path)


@pytest.mark.parametrize(
    ("scopes", "refused"),
    [
        (["org:admin"], "org:admin"),
        (["content:read", "org:admin"], "org:admin"),
        (["content:write"], "content:write"),
        (["*"], "*"),
    ],
)
async def test_mint_refuses_scopes_the_caller_cannot_grant(
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
    session: aiohttp.ClientSession,
    scopes: list[str],
    refused: str,
) -> None:
    """org:admin never, and only scopes the caller holds: 403 naming the offending scope."""
    keys = [standard_key("narrow", "partner", ["org:admin", "content:read"])]
    async with make_sandbox(organizations=two_organizations()[:1], api_keys=keys) as sb:
        api = Api(session, sb.url, sb.api_key)
        org = (await make_child(api))["id"]
        r = await api.post(keys_path(org), {"name": "k", "scopes": scopes})
        err = assert_error(r, 403, "FORBIDDEN_SCOPE")
        assert err["details"] == {"requiredScope": refused}
        ok(await api.post(keys_path(org), {"name": "k", "scopes": ["content:read"]}), 201)


async def test_a_child_key_acts_only_in_its_organization(api: Api) -> None:
    """whoami names the child and its parent; the key's buckets are its own."""
    me = ok(await api.get("/v1/whoami"))
    org = (await make_child(api))["id"]
    k, secret = await mint(api, org, scopes=["projects:read"])
    child = api.with_key(secret)
    got = ok(await child.get("/v1/whoami"))
    assert (got["organizationId"], got["parentOrganizationId"]) == (org, me["organizationId"])
    assert (got["apiKeyId"], got["scopes"]) == (k["id"], ["projects:read"])
    for _ in range(3):
        await api.get("/v1/whoami")
    r = await child.get("/v1/whoami")
    assert r.headers["X-RateLimit-Remaining"] == "118"
    assert_error(await child.post("/v1/projects", {}), 403, "FORBIDDEN_SCOPE")
    listed = ok(await api.get(keys_path(org)))["items"][0]
    assert listed["lastUsedAt"] == START


# ---------------------------------------------------------------------- list
async def test_list_is_masked_newest_first_with_a_status_filter(api: Api) -> None:
    """GET …/api-keys: no secret, newest first, `status` narrows, pages by cursor."""
    org = (await make_child(api))["id"]
    ids = []
    for _ in range(3):
        ids.append((await mint(api, org))[0]["id"])
        await api.advance(1)
    ok(await api.delete(f"{keys_path(org)}/{ids[0]}"))
    page = ok(await api.get(keys_path(org), params={"limit": "2"}))
    assert [k["id"] for k in page["items"]] == [ids[2], ids[1]]
    assert all(list(k) == CHILD_KEY_FIELDS for k in page["items"])
    assert "secret" not in page["items"][0]
    rest = ok(await api.get(keys_path(org), params={"cursor": page["nextCursor"]}))
    assert [k["id"] for k in rest["items"]] == [ids[0]]
    revoked = ok(await api.get(keys_path(org), params={"status": "revoked"}))
    assert [k["id"] for k in revoked["items"]] == [ids[0]]
    for params, path in (({"status": "killed"}, "status"), ({"limit": "101"}, "limit")):
        assert_validation(await api.get(keys_path(org), params=params), path)


# ---------------------------------------------------------------------- rotate and revoke
async def test_rotate_keeps_the_old_key_for_24_hours_then_revokes_it(api: Api) -> None:
    """A new key; the old one works with graceUntil and supersededBy until it lapses."""
    org = (await make_child(api))["id"]
    old, old_secret = await mint(api, org, scopes=["content:read"], env="test")
    path = f"{keys_path(org)}/{old['id']}/rotate"
    key = idem()
    r = await api.post(path, idem=key)
    out = ok(r)
    assert list(out) == ["apiKey", "secret", "previousApiKey", "warning"]
    new, prev = out["apiKey"], out["previousApiKey"]
    assert new["id"] != old["id"]
    assert (new["name"], new["scopes"], new["env"], new["rateLimitTier"]) == (
        old["name"],
        old["scopes"],
        "test",
        "sandbox",
    )
    grace = shift(START, 86_400)
    assert (prev["status"], prev["graceUntil"], prev["supersededBy"]) == (
        "active",
        grace,
        new["id"],
    )
    assert prev["rotatedAt"] == START
    replay = await api.post(path, idem=key)
    assert replay.body == r.body
    err = assert_error(await api.post(path, idem=idem()), 409, "CONFLICT")
    assert err["details"] == {"keyId": old["id"], "status": "active", "supersededBy": new["id"]}
    ok(await api.with_key(old_secret).get("/v1/whoami"))
    await api.advance(86_400)
    assert_error(await api.with_key(old_secret).get("/v1/whoami"), 401, "UNAUTHENTICATED")
    ok(await api.with_key(out["secret"]).get("/v1/whoami"))
    items = {k["id"]: k for k in ok(await api.get(keys_path(org)))["items"]}
    assert (items[old["id"]]["status"], items[old["id"]]["revokedAt"]) == ("revoked", grace)
    assert items[new["id"]]["status"] == "active"


async def test_revoke_is_immediate_and_terminal(api: Api) -> None:
    """DELETE: `{apiKey, deleted: true}`, the key gets 401 at once; a repeat answers the same."""
    org = (await make_child(api))["id"]
    k, secret = await mint(api, org)
    path = f"{keys_path(org)}/{k['id']}"
    out = ok(await api.delete(path))
    assert (list(out), out["deleted"]) == (["apiKey", "deleted"], True)
    assert (out["apiKey"]["status"], out["apiKey"]["revokedAt"]) == ("revoked", START)
    assert_error(await api.with_key(secret).get("/v1/whoami"), 401, "UNAUTHENTICATED")
    await api.advance(5)
    assert ok(await api.delete(path, idem=idem())) == out
    err = assert_error(await api.post(path + "/rotate"), 409, "CONFLICT")
    assert err["details"]["status"] == "revoked"


async def test_a_key_of_another_child_is_404(api: Api) -> None:
    """A key id of a sibling child, or unknown, is 404 on rotate and revoke; malformed is 422."""
    a, b = (await make_child(api, "A"))["id"], (await make_child(api, "B"))["id"]
    k, _ = await mint(api, a)
    for key_id in (k["id"], GHOST_KEY):
        assert_error(await api.delete(f"{keys_path(b)}/{key_id}"), 404, "NOT_FOUND")
        assert_error(await api.post(f"{keys_path(b)}/{key_id}/rotate"), 404, "NOT_FOUND")
    assert_validation(await api.delete(f"{keys_path(a)}/{GHOST_UUID}"), "keyId")


# ---------------------------------------------------------------------- own keys
async def own_key_ids(api: Api) -> dict[str, str]:
    """The id of each key of the default sandbox by name."""
    items = ok(await api.get("/_sandbox/keys"))["items"]
    return {k["name"]: k["id"] for k in items}


async def test_kill_stops_a_key_at_once(sandbox: Sandbox, api: Api) -> None:
    """A key may kill itself: the answer shows it killed, every later request is 503 (scope key)."""
    ids = await own_key_ids(api)
    r = await api.post(f"/v1/api-keys/{ids['demo-live']}/kill")
    out = ok(r)
    assert list(out) == ["apiKey", "killed"]
    k = out["apiKey"]
    assert list(k) == OWN_KEY_FIELDS
    assert (k["killSwitch"], k["isActive"], k["revokedAt"], k["rotatedAt"]) == (
        True,
        False,
        START,
        None,
    )
    assert k["name"] == "demo-live"
    for path in ("/v1/whoami", "/v1/credits"):
        err = assert_error(await api.get(path), 503, "KILL_SWITCH")
        assert err["details"] == {"scope": "key"}
    other = api.with_key(sandbox.keys["demo-test"])
    await other.advance(5)
    assert ok(await other.post(f"/v1/api-keys/{ids['demo-live']}/kill")) == out


@pytest.mark.parametrize("killed", [True, False])
async def test_rotate_own_key_replaces_the_secret_and_unkills(
    sandbox: Sandbox, api: Api, killed: bool
) -> None:
    """Same id, new prefix and secret; the old string is 401; a killed key is active again."""
    ids = await own_key_ids(api)
    other = api.with_key(sandbox.keys["demo-test"])
    if killed:
        ok(await other.post(f"/v1/api-keys/{ids['demo-live']}/kill"))
    key = idem()
    r = await other.post(f"/v1/api-keys/{ids['demo-live']}/rotate", idem=key)
    out = ok(r)
    assert list(out) == ["apiKey", "secret", "warning"]
    k = out["apiKey"]
    assert (k["id"], k["killSwitch"], k["isActive"], k["revokedAt"], k["rotatedAt"]) == (
        ids["demo-live"],
        False,
        True,
        None,
        START,
    )
    assert SECRET_RE.match(out["secret"])
    assert out["secret"] != api.key
    assert k["prefix"] == out["secret"][:24]
    assert (await other.post(f"/v1/api-keys/{ids['demo-live']}/rotate", idem=key)).body == r.body
    assert_error(await api.get("/v1/whoami"), 401, "UNAUTHENTICATED")
    assert ok(await api.with_key(out["secret"]).get("/v1/whoami"))["apiKeyId"] == ids["demo-live"]
    listed = {k["id"]: k["key"] for k in ok(await api.get("/_sandbox/keys"))["items"]}
    assert listed[ids["demo-live"]] == out["secret"]


async def test_own_key_routes_see_only_the_organizations_keys(api: Api) -> None:
    """A key of a child is 404 to its parent's own-key routes, and killed it shows revoked."""
    org = (await make_child(api))["id"]
    k, secret = await mint(api, org)
    for action in ("kill", "rotate"):
        assert_error(await api.post(f"/v1/api-keys/{k['id']}/{action}"), 404, "NOT_FOUND")
    assert_validation(await api.post(f"/v1/api-keys/{GHOST_UUID}/kill"), "keyId")
    ok(await api.with_key(secret).post(f"/v1/api-keys/{k['id']}/kill"))
    listed = ok(await api.get(keys_path(org)))["items"][0]
    assert listed["status"] == "revoked"


async def test_minted_ids_and_secrets_repeat_with_the_seed(
    make_sandbox: Callable[..., AbstractAsyncContextManager[Sandbox]],
    session: aiohttp.ClientSession,
) -> None:
    """Two sandboxes with one seed mint the same organization, key ids and secrets."""
    outs = []
    for _ in range(2):
        async with make_sandbox(seed=7) as sb:
            api = Api(session, sb.url, sb.api_key)
            org = (await make_child(api))["id"]
            outs.append((org, await mint(api, org)))
    assert outs[0] == outs[1]


async def test_configured_ids_and_keys_are_those_of_earlier_releases(
    sandbox: Sandbox, api: Api
) -> None:
    """Seed 0 still gives the default organization and demo keys the ids and strings it gave
    before child organizations could be configured (each key string drawn before its id)."""
    me = ok(await api.get("/v1/whoami"))
    assert me["organizationId"] == "org_e3e70682-c209-4cac-a29f-6fbed82c07cd"
    assert me["apiKeyId"] == "key_9cdeb3e6-0870-415c-afcd-81b5d24bace4"
    assert sandbox.keys == {
        "demo-live": "lp_live_ZSKYPD8J86G9K64N_8Mt3oa94hHBLzA_qfpIYceS5LKo-NmlPqak4LxoelXY",
        "demo-test": "lp_test_GY458925SHFDTHWZ_tKpO-qYfCiOcvVq2HMScFJDPYPyLvOECYXP9aHC2MhI",
    }
