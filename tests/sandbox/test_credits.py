"""Contract tests for credits (§3.1): the wallet and its billing period."""

from __future__ import annotations

import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._http import Api

EXPECTED_WALLET = {
    "balance": 6000,
    "available": 6000,
    "includedRemaining": 1000,
    "prepaidBalance": 5000,
    "reservedCredits": 0,
    "includedThisPeriod": 1000,
    "usedThisPeriod": 0,
    "currentPeriod": {
        "start": "2026-05-01T00:00:00.000Z",
        "end": "2026-06-01T00:00:00.000Z",
        "usedCredits": 0,
    },
    "subscriptionTier": "pro",
    "billingStatus": "active",
    "estimatedCreditsPerFormat": {
        "slideshow_builder": 50,
        "slideshow_remix": 50,
        "video_remix": 120,
        "ugc_remix": 120,
        "auto": 120,
    },
    "ingestCostsBilled": {"github": False, "website": False, "appstore": False},
}


@pytest.mark.anyio
async def test_credits_default_wallet(api: Api) -> None:
    """GET /v1/credits returns the full default wallet for the key's organization."""
    r = await api.get("/v1/credits")
    assert r.status == 200, r
    wallet = r.json
    org = (await api.get("/v1/whoami")).json["organizationId"]
    assert wallet == {"organizationId": org, **EXPECTED_WALLET}


@pytest.mark.anyio
async def test_credits_period_follows_virtual_clock(api: Api) -> None:
    """currentPeriod is the calendar month (UTC) of the virtual clock."""
    await api.advance(18 * 86_400)
    wallet = (await api.get("/v1/credits")).json
    assert wallet["currentPeriod"]["start"] == "2026-06-01T00:00:00.000Z"
    assert wallet["currentPeriod"]["end"] == "2026-07-01T00:00:00.000Z"
    assert wallet["includedRemaining"] == 1000
    assert wallet["balance"] == 6000


@pytest.mark.anyio
async def test_credits_same_wallet_for_test_key(api: Api, sandbox: Sandbox) -> None:
    """Both keys of an organization see the same wallet."""
    live = (await api.get("/v1/credits")).json
    test = (await api.with_key(sandbox.keys["demo-test"]).get("/v1/credits")).json
    assert live == test
