"""Contract tests for whoami (§3.1): who the calling key is and what it may do."""

from __future__ import annotations

import aiohttp
import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import (
    KEY_ID,
    ORG_ID,
)
from tests.sandbox._http import Api, MakeSandbox

# --------------------------------------------------------------------------------------------
# whoami (contract §3.1)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_whoami_default_shape(api: Api) -> None:
    """whoami returns exactly the documented fields with the default configuration."""
    r = await api.get("/v1/whoami")
    assert r.status == 200, r
    who = r.json
    assert set(who) == {
        "organizationId",
        "workspaceId",
        "organizationName",
        "parentOrganizationId",
        "scopes",
        "rateLimitTier",
        "apiKeyId",
        "creditBalance",
    }
    assert ORG_ID.match(who["organizationId"])
    assert who["workspaceId"] == who["organizationId"]
    assert who["organizationName"] == "Sandbox Partner"
    assert who["parentOrganizationId"] is None
    assert who["scopes"] == ["*", "org:admin"]
    assert who["rateLimitTier"] == "standard"
    assert KEY_ID.match(who["apiKeyId"])
    assert who["creditBalance"] == 6000


@pytest.mark.anyio
async def test_whoami_describes_the_calling_key(api: Api, sandbox: Sandbox) -> None:
    """demo-live and demo-test share the organization but have different apiKeyIds."""
    live = (await api.get("/v1/whoami")).json
    test = (await api.with_key(sandbox.keys["demo-test"]).get("/v1/whoami")).json
    assert test["organizationId"] == live["organizationId"]
    assert KEY_ID.match(test["apiKeyId"])
    assert test["apiKeyId"] != live["apiKeyId"]
    keys = {k["name"]: k["id"] for k in (await api.get("/_sandbox/keys")).json["items"]}
    assert live["apiKeyId"] == keys["demo-live"]
    assert test["apiKeyId"] == keys["demo-test"]


@pytest.mark.anyio
async def test_whoami_reflects_configured_key(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """scopes and rateLimitTier come from the key's configuration."""
    keys = [
        {
            "name": "pilot",
            "organization": "partner",
            "rateLimitTier": "pilot",
            "scopes": ["projects:read", "content:read"],
            "returnUrlAllowlist": ["localhost"],
        }
    ]
    async with make_sandbox(api_keys=keys) as sb:
        who = (await Api(session, sb.url, sb.keys["pilot"]).get("/v1/whoami")).json
        assert who["scopes"] == ["projects:read", "content:read"]
        assert who["rateLimitTier"] == "pilot"
        assert who["organizationName"] == "Sandbox Partner"
