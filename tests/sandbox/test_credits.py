"""Contract tests for credits: the wallet and its billing period (§3.1.2), the ledger
(§3.14), and the wallets, allocations and credit config of children (§3.12)."""

from __future__ import annotations

from typing import Any

import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import START, assert_error, assert_validation
from tests.sandbox._flows import (
    FORMAT_SECONDS,
    GHOST_PRJ,
    builder_job,
    create_project,
    ok,
    shift,
)
from tests.sandbox._http import Api
from tests.sandbox._orgs import (
    EVENT_FIELDS,
    TXN_RE,
    acting,
    allocate,
    events,
    idem,
    make_child,
    mint,
    prepaid,
)

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


# ---------------------------------------------------------------------- the ledger (§3.14)
@pytest.mark.anyio
async def test_the_ledger_shows_every_event_type_the_sandbox_writes(api: Api) -> None:
    """grant at start-up, usage of a live generation, allocation and the /_sandbox adjustment."""
    me = ok(await api.get("/v1/whoami"))["organizationId"]
    pid = (await create_project(api, app=False))["id"]
    job = await builder_job(api, pid)
    await api.advance(FORMAT_SECONDS["slideshow-builder"] * 1.25)
    child = (await make_child(api))["id"]
    await api.advance(1)
    await allocate(api, child, 100)
    await api.advance(1)
    r = await api.post("/_sandbox/credits", {"organizationId": me, "credits": -30})
    assert r.status == 200, r
    items = await events(api)
    assert all(list(e) == EVENT_FIELDS for e in items)
    assert [(e["eventType"], e["credits"]) for e in items] == [
        ("adjustment", -30),
        ("allocation", -100),
        ("usage", -50),
        ("grant", 5000),
    ]
    adjustment, allocation, usage, grant = items
    assert (adjustment["balanceAfterPrepaid"], adjustment["projectId"]) == (4870, None)
    assert (allocation["balanceAfterPrepaid"], allocation["createdAt"]) == (4900, shift(START, 76))
    assert (usage["projectId"], usage["format"], usage["workflowId"]) == (
        pid,
        "slideshow_builder",
        job["jobId"],
    )
    assert (usage["containerId"], usage["usageAfterPeriod"]) == (job["containerIds"][0], 50)
    assert (grant["balanceAfterPrepaid"], grant["createdAt"]) == (5000, START)


@pytest.mark.anyio
async def test_the_ledger_filters(api: Api) -> None:
    """eventType, projectId (no organization-level rows) and an inclusive since/until."""
    pid = (await create_project(api, app=False))["id"]
    await builder_job(api, pid)
    await api.advance(100)
    child = (await make_child(api))["id"]
    await allocate(api, child, 10)
    assert [e["eventType"] for e in await events(api, eventType="allocation")] == ["allocation"]
    assert [e["eventType"] for e in await events(api, projectId=pid)] == ["usage"]
    assert await events(api, projectId=GHOST_PRJ) == []
    at = shift(START, 100)
    assert [e["eventType"] for e in await events(api, since=at)] == ["allocation"]
    assert [e["eventType"] for e in await events(api, until=START)] == ["grant"]
    page = ok(await api.get("/v1/credits/events", params={"limit": "1"}))
    rest = ok(await api.get("/v1/credits/events", params={"cursor": page["nextCursor"]}))
    assert len(page["items"]) + len(rest["items"]) == 3


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("params", "path"),
    [({"eventType": "bonus"}, "eventType"), ({"since": "2026-05-14T16:00:00+00:00"}, "since"),
     ({"until": "yesterday"}, "until"), ({"projectId": "cnt_" + GHOST_PRJ[4:]}, "projectId"),
     ({"limit": "101"}, "limit"), ({"limit": "0"}, "limit")],
)  # fmt: skip
async def test_the_ledger_query_validation(api: Api, params: dict[str, str], path: str) -> None:
    """A bad ledger query is a 422 at the parameter."""
    assert_validation(await api.get("/v1/credits/events", params=params), path)


# ---------------------------------------------------------------------- allocation (§3.12.1)
def allocate_path(org: str) -> str:
    """The allocation route of child `org`."""
    return f"/v1/organizations/{org}/credits/allocate"


@pytest.mark.anyio
async def test_allocate_moves_the_parents_credits_to_the_child_exactly(api: Api) -> None:
    """201 transfer; parent prepaid -N, child +N, an allocation event on each ledger."""
    me = ok(await api.get("/v1/whoami"))["organizationId"]
    child = (await make_child(api))["id"]
    body = {"credits": 1200, "description": "May", "metadata": {"direction": "x", "po": "7"}}
    key = idem()
    r = await api.post(allocate_path(child), body, idem=key)
    out = ok(r, 201)
    assert TXN_RE.match(out["id"])
    assert {k: v for k, v in out.items() if k != "id"} == {
        "organizationId": child,
        "allocated": 1200,
        "created": START,
        "description": "May",
        "metadata": {"direction": "parent_to_child", "po": "7", "counterpartyOrgId": me},
        "balance": 1200,
        "available": 1200,
        "replayed": False,
    }
    assert await prepaid(api) == 3800
    assert await prepaid(api, f"/v1/organizations/{child}/credits") == 1200
    theirs = await events(api, f"/v1/organizations/{child}/credits/events")
    assert [(e["eventType"], e["credits"], e["projectId"]) for e in theirs] == [
        ("allocation", 1200, None)
    ]
    again = await api.post(allocate_path(child), body, idem=key)
    assert again.status == 201
    assert again.json == {**out, "replayed": True}
    assert again.headers["Idempotency-Replayed"] == "true"
    assert await prepaid(api) == 3800
    other = await api.post(allocate_path(child), {"credits": 1}, idem=key)
    assert_error(other, 409, "IDEMPOTENCY_CONFLICT")


@pytest.mark.anyio
async def test_allocate_requires_an_idempotency_key_after_scope_before_validation(
    two_org_apis: dict[str, Api],
) -> None:
    """No key: 400 IDEMPOTENCY_REQUIRED, even for an invalid body; a key without org:admin is
    403 first; a malformed key is a 422 at Idempotency-Key."""
    full, star = two_org_apis["full"], two_org_apis["star"]
    child = (await make_child(full))["id"]
    assert_error(await star.post(allocate_path(child), {"credits": 0}), 403, "FORBIDDEN_SCOPE")
    r = await full.post(allocate_path(child), {"credits": 0})
    assert_error(r, 400, "IDEMPOTENCY_REQUIRED")
    r = await full.post(allocate_path(child), {"credits": 5}, headers={"Idempotency-Key": "a b"})
    assert_validation(r, "Idempotency-Key")
    assert await prepaid(full) == 5000


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "credits"),
        ({"credits": 0}, "credits"),
        ({"credits": -5}, "credits"),
        ({"credits": "5"}, "credits"),
        ({"credits": 1.5}, "credits"),
        ({"credits": 5, "description": "d" * 501}, "description"),
        ({"credits": 5, "note": "x"}, "note"),
    ],
)
async def test_allocate_validation(api: Api, body: dict[str, Any], path: str) -> None:
    """Each invalid allocation body is a 422 at its path."""
    child = (await make_child(api))["id"]
    assert_validation(await api.post(allocate_path(child), body, idem=idem()), path)


@pytest.mark.anyio
async def test_allocate_more_than_the_parent_has_is_402(api: Api) -> None:
    """Above the parent's prepaid balance: 402 BILLING_EXHAUSTED, nothing moves."""
    child = (await make_child(api))["id"]
    r = await api.post(allocate_path(child), {"credits": 5001}, idem=idem())
    err = assert_error(r, 402, "BILLING_EXHAUSTED")
    assert err["details"] == {"required": 5001, "available": 5000, "reason": "insufficient_credits"}
    assert await prepaid(api) == 5000


# ---------------------------------------------------------------------- credit config (§3.12.4-5)
def config_path(org: str) -> str:
    """The credit-config route of child `org`."""
    return f"/v1/organizations/{org}/credit-config"


@pytest.mark.anyio
async def test_credit_config_sets_clears_and_refills(api: Api) -> None:
    """Unset by default; a patch sets, null clears, omitted stays; a low balance refills at once."""
    child = (await make_child(api))["id"]
    got = ok(await api.get(config_path(child)))
    assert got == {
        "organizationId": child,
        "config": {
            "monthlyCreditCap": None,
            "refillThreshold": None,
            "refillAmount": None,
            "autoRefillEnabled": False,
        },
        "balance": 0,
        "available": 0,
    }
    body = {"monthlyCreditCap": 5000, "refillThreshold": 1000, "refillAmount": 2000}
    got = ok(await api.patch(config_path(child), body))
    assert got["config"] == {**body, "autoRefillEnabled": True}
    assert (got["balance"], got["available"]) == (2000, 2000)
    assert await prepaid(api) == 3000
    got = ok(await api.patch(config_path(child), {"refillThreshold": None, "refillAmount": None}))
    assert got["config"] == {
        "monthlyCreditCap": 5000,
        "refillThreshold": None,
        "refillAmount": None,
        "autoRefillEnabled": False,
    }
    assert ok(await api.get(config_path(child))) == got


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, ""),
        ({"monthlyCreditCap": -1}, "monthlyCreditCap"),
        ({"refillAmount": 0}, "refillAmount"),
        ({"refillThreshold": "1"}, "refillThreshold"),
        ({"cap": 1}, "cap"),
        ({"refillThreshold": 10}, "refillThreshold"),
        ({"refillAmount": 10}, "refillAmount"),
    ],
)
async def test_credit_config_validation(api: Api, body: dict[str, Any], path: str) -> None:
    """Bad values are 422 at their field; a refill field left unpaired is a 422 at it."""
    child = (await make_child(api))["id"]
    assert_validation(await api.patch(config_path(child), body), path)


@pytest.mark.anyio
async def test_generation_refills_a_child_below_its_threshold(api: Api) -> None:
    """A reservation that takes the child below the threshold moves the refill amount."""
    child = (await make_child(api))["id"]
    _, secret = await mint(api, child)
    await allocate(api, child, 100)
    body = {"refillThreshold": 60, "refillAmount": 500}
    ok(await api.patch(config_path(child), body))
    own = api.with_key(secret)
    pid = (await create_project(own, app=False))["id"]
    await builder_job(own, pid)
    wallet = ok(await own.get("/v1/credits"))
    assert (wallet["prepaidBalance"], wallet["reservedCredits"], wallet["available"]) == (
        600,
        50,
        550,
    )
    assert await prepaid(api) == 4400


@pytest.mark.anyio
async def test_a_monthly_cap_refuses_generation_in_the_child(api: Api) -> None:
    """With a cap below the estimate, a live generation in the child is 402 monthly_cap."""
    child = (await make_child(api))["id"]
    await allocate(api, child, 1000)
    ok(await api.patch(config_path(child), {"monthlyCreditCap": 40}))
    pid = ok(
        await api.post("/v1/projects", {"name": "Proj", "timezone": "UTC"}, headers=acting(child)),
        201,
    )["id"]
    r = await api.post(
        f"/v1/projects/{pid}/content/slideshow-builder", {"hook": "h"}, headers=acting(child)
    )
    assert assert_error(r, 402, "BILLING_EXHAUSTED")["details"]["reason"] == "monthly_cap"


@pytest.mark.anyio
async def test_a_credit_config_replay_does_not_reapply(api: Api) -> None:
    """Replaying a PATCH answers its stored body and leaves a later change in place."""
    child = (await make_child(api))["id"]
    key = idem()
    first = await api.patch(config_path(child), {"monthlyCreditCap": 100}, idem=key)
    ok(await api.patch(config_path(child), {"monthlyCreditCap": 300}))
    again = await api.patch(config_path(child), {"monthlyCreditCap": 100}, idem=key)
    assert (again.body, again.headers["Idempotency-Replayed"]) == (first.body, "true")
    assert ok(await api.get(config_path(child)))["config"]["monthlyCreditCap"] == 300


@pytest.mark.anyio
async def test_acting_in_a_child_reads_its_wallet_and_ledger(api: Api) -> None:
    """GET /v1/credits and /v1/credits/events inside a child are the child's."""
    child = (await make_child(api))["id"]
    await allocate(api, child, 25)
    wallet = ok(await api.get("/v1/credits", headers=acting(child)))
    assert (wallet["organizationId"], wallet["balance"]) == (child, 25)
    inside = ok(await api.get("/v1/credits/events", headers=acting(child)))["items"]
    assert [(e["eventType"], e["credits"]) for e in inside] == [("allocation", 25)]
