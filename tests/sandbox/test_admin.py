"""Contract tests for the /_sandbox/ admin API (§5.7): state, clock, config, reset, keys,
credits and the placeholder media."""

from __future__ import annotations

import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import (
    API_KEY,
    APP_DESCRIPTION,
    KEY_ID,
    ORG_ID,
    REQ_ID,
    START,
    assert_error,
    assert_validation,
    create_project,
    new_uuid,
)
from tests.sandbox._http import Api

# --------------------------------------------------------------------------------------------
# the /_sandbox/ admin routes (contract §5.7)
# --------------------------------------------------------------------------------------------

_RESOURCES = [
    "organizations",
    "approvals",
    "parkedSchedules",
    "apiKeys",
    "projects",
    "appMedia",
    "oauthAttempts",
    "socialAccounts",
    "influencers",
    "jobs",
    "containers",
    "scheduledPosts",
    "webhookEndpoints",
    "webhookDeliveries",
    "creditEvents",
    "idempotencyRecords",
]
_TOTAL_ONLY = {"appMedia", "creditEvents", "idempotencyRecords", "parkedSchedules"}


@pytest.mark.anyio
async def test_state_shape(api: Api) -> None:
    """GET /_sandbox/state returns now, speed and counts for every resource kind."""
    state = await api.state()
    assert set(state) >= {"now", "speed", "counts"}
    assert state["now"] == START
    assert state["speed"] == 0
    counts = state["counts"]
    assert set(counts) >= set(_RESOURCES)
    for name in _RESOURCES:
        entry = counts[name]
        assert isinstance(entry["total"], int)
        if name in _TOTAL_ONLY:
            assert "byStatus" not in entry, (name, entry)
        else:
            assert isinstance(entry["byStatus"], dict), (name, entry)
            assert sum(entry["byStatus"].values()) == entry["total"]
    assert counts["organizations"] == {"total": 1, "byStatus": {"active": 1}}
    assert counts["apiKeys"]["total"] == 2
    assert counts["projects"]["total"] == 0
    assert counts["creditEvents"]["total"] == 1
    await create_project(api)
    await create_project(api, appDescription=APP_DESCRIPTION)
    counts = (await api.state())["counts"]
    assert counts["projects"] == {"total": 2, "byStatus": {"active": 2}}
    assert counts["influencers"]["total"] == 1
    assert counts["influencers"]["byStatus"] == {"pending": 1}


@pytest.mark.anyio
async def test_state_organization_filter(two_org_apis: dict[str, Api]) -> None:
    """?organizationId= narrows the counts to one organization."""
    full = two_org_apis["full"]
    foreign = two_org_apis["foreign"]
    await create_project(full)
    await create_project(full)
    await create_project(foreign)
    org = (await foreign.get("/v1/whoami")).json["organizationId"]
    r = await full.get("/_sandbox/state", params={"organizationId": org})
    assert r.status == 200
    assert r.json["counts"]["projects"]["total"] == 1
    assert (await full.state())["counts"]["projects"]["total"] == 3


@pytest.mark.anyio
async def test_reset_wipes_state_and_clock(api: Api) -> None:
    """POST /_sandbox/reset wipes state, rewinds the clock and keeps seeded keys working."""
    await create_project(api)
    await api.advance(3600)
    r = await api.post("/_sandbox/reset")
    assert r.status == 200, r
    assert r.json == {"reset": True, "now": START}
    state = await api.state()
    assert state["counts"]["projects"]["total"] == 0
    assert state["now"] == START
    assert (await api.get("/v1/whoami")).status == 200


@pytest.mark.anyio
async def test_reset_merges_partial_configuration(api: Api) -> None:
    """A reset body is merged over the configuration (e.g. a new clockStart)."""
    r = await api.post("/_sandbox/reset", {"clockStart": "2026-01-31T23:59:00.000Z"})
    assert r.status == 200, r
    assert r.json["now"] == "2026-01-31T23:59:00.000Z"
    credits = await api.get("/v1/credits")
    assert credits.json["currentPeriod"]["start"] == "2026-01-01T00:00:00.000Z"


@pytest.mark.anyio
async def test_clock_routes(api: Api) -> None:
    """GET/PATCH /_sandbox/clock and POST /_sandbox/clock/advance report now and speed."""
    r = await api.get("/_sandbox/clock")
    assert r.status == 200
    assert r.json == {"now": START, "speed": 0}
    adv = await api.advance(90)
    assert adv["now"] == "2026-05-14T16:01:30.000Z"
    assert isinstance(adv["transitionsApplied"], int)
    assert adv["transitionsApplied"] >= 0
    assert await api.now() == "2026-05-14T16:01:30.000Z"
    set_ = await api.set_speed(0)
    assert set_ == {"now": "2026-05-14T16:01:30.000Z", "speed": 0}
    assert_validation(await api.patch("/_sandbox/clock", {"speed": -1}), "speed")
    assert_validation(await api.post("/_sandbox/clock/advance", {"seconds": 0}), "seconds")
    assert_validation(await api.post("/_sandbox/clock/advance", {"seconds": -5}), "seconds")


@pytest.mark.anyio
async def test_advance_counts_transitions(nominal_api: Api) -> None:
    """Advancing past due work applies it and reports transitionsApplied > 0."""
    await create_project(nominal_api, appDescription=APP_DESCRIPTION)
    adv = await nominal_api.advance(300)
    assert adv["transitionsApplied"] >= 3
    idle = await nominal_api.advance(10)
    assert idle["transitionsApplied"] == 0


@pytest.mark.anyio
async def test_config_get_and_patch(api: Api) -> None:
    """GET /_sandbox/config shows the effective configuration; PATCH merges and returns it."""
    r = await api.get("/_sandbox/config")
    assert r.status == 200
    cfg = r.json
    assert cfg["seed"] == 0
    assert cfg["speed"] == 0
    assert cfg["jitter"] == 0.2
    assert cfg["faults"] == []
    assert [o["name"] for o in cfg["organizations"]] == ["Sandbox Partner"]
    assert sorted(k["name"] for k in cfg["apiKeys"]) == ["demo-live", "demo-test"]
    patched = await api.configure(
        {"failureRates": {"content_generate": 0.5}, "oauthAutoCompleteSeconds": 5}
    )
    assert patched["failureRates"]["content_generate"] == 0.5
    assert patched["oauthAutoCompleteSeconds"] == 5
    again = (await api.get("/_sandbox/config")).json
    assert again["failureRates"]["content_generate"] == 0.5
    rule = {"route": "GET /v1/whoami", "action": "http_500"}
    assert (await api.configure({"faults": [rule]}))["faults"][0]["action"] == "http_500"
    assert (await api.configure({"faults": []}))["faults"] == []


@pytest.mark.anyio
async def test_keys_listing(api: Api, sandbox: Sandbox) -> None:
    """GET /_sandbox/keys lists both default keys with id, env, tier, scopes, key and status."""
    r = await api.get("/_sandbox/keys")
    assert r.status == 200
    items = {k["name"]: k for k in r.json["items"]}
    assert set(items) == {"demo-live", "demo-test"}
    who = (await api.get("/v1/whoami")).json
    for name, env in (("demo-live", "live"), ("demo-test", "test")):
        k = items[name]
        assert set(k) >= {
            "id",
            "name",
            "organizationId",
            "env",
            "rateLimitTier",
            "scopes",
            "key",
            "status",
        }
        assert KEY_ID.match(k["id"])
        assert ORG_ID.match(k["organizationId"])
        assert k["organizationId"] == who["organizationId"]
        assert k["env"] == env
        assert k["rateLimitTier"] == "standard"
        assert k["scopes"] == ["*", "org:admin"]
        assert k["key"] == sandbox.keys[name]
        assert API_KEY.match(k["key"])
    assert items["demo-live"]["id"] == who["apiKeyId"]


@pytest.mark.anyio
async def test_credits_adjustment(api: Api) -> None:
    """POST /_sandbox/credits changes prepaidBalance, writes an adjustment, returns the wallet."""
    org = (await api.get("/v1/whoami")).json["organizationId"]
    r = await api.post("/_sandbox/credits", {"organizationId": org, "credits": 500})
    assert r.status == 200, r
    assert r.json["prepaidBalance"] == 5500
    assert r.json["balance"] == 6500
    wallet = (await api.get("/v1/credits")).json
    assert wallet["prepaidBalance"] == 5500
    assert wallet["balance"] == 6500
    assert wallet["available"] == 6500
    assert (await api.get("/v1/whoami")).json["creditBalance"] == 6500
    r = await api.post("/_sandbox/credits", {"organizationId": org, "credits": -1500})
    assert r.json["prepaidBalance"] == 4000
    assert (await api.state())["counts"]["creditEvents"]["total"] == 3
    assert_validation(
        await api.post("/_sandbox/credits", {"organizationId": org, "credits": 0}), "credits"
    )
    r = await api.post("/_sandbox/credits", {"organizationId": f"org_{new_uuid()}", "credits": 5})
    assert_error(r, 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_media_route(api: Api) -> None:
    """/_sandbox/media serves issued names as PNG placeholders and 404s unknown names."""
    project = await create_project(api)
    media = await api.post(
        f"/v1/projects/{project['id']}/app-media",
        {"kind": "logo", "url": "https://cdn.example.com/logo.png"},
    )
    assert media.status == 201, media
    r = await api.get(media.json["url"])
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("image/png")
    assert r.body.startswith(b"\x89PNG\r\n\x1a\n")
    assert REQ_ID.match(r.headers["X-Request-Id"])
    again = await api.get(media.json["url"])
    assert again.body == r.body
    missing = await api.get(f"/_sandbox/media/med_{new_uuid()}.png")
    assert_error(missing, 404, "NOT_FOUND")
