"""`provision_customer`: the provision-and-fund flow as one idempotent, resumable coroutine,
against the sandbox: reruns, crashes between steps, adoption and key rotation past the
24-hour replay window, and recovery of the secret within it."""

from __future__ import annotations

from typing import Any

import pytest

from layers_async import (
    APIConnectionError,
    LayersClient,
    LayersValidationError,
    ProvisionResult,
    Sandbox,
    Secret,
    provision_customer,
)
from tests.client._orgs import ORG_RE, SECRET_RE, TXN_RE, WH_RE

DAY = 24 * 3600
ALLOCATE = 500
STEPS = ("organization", "api_key", "allocation", "credit_config", "webhook_endpoint", "wallet")
HOOK = "https://hooks.example.com/layers"

#: What one provisioned customer adds: one of each, and the allocation paid once.
ONE_OF_EACH = {
    "organizations": 1,
    "api_keys": 1,
    "webhook_endpoints": 1,
    "allocations": 1,
    "debited": ALLOCATE,
    "prepaid": -ALLOCATE,
}

pytestmark = pytest.mark.anyio


class Crash(Exception):
    """Stands for the process dying right after a step."""


async def provision(
    client: LayersClient, sandbox: Sandbox, crash_after: str | None = None, **extra: Any
) -> ProvisionResult:
    """Provision customer ``acme`` with every optional step; raise `Crash` after a step."""

    def on_step(ext: str, step: str) -> None:
        if step == crash_after:
            raise Crash(step)

    return await provision_customer(
        client,
        "acme",
        "Acme Coffee",
        allocate=ALLOCATE,
        monthly_credit_cap=5000,
        refill_threshold=100,
        refill_amount=200,
        webhook_url=HOOK,
        now=sandbox.now,
        on_step=on_step,
        **extra,
    )


async def counts(client: LayersClient, sandbox: Sandbox) -> dict[str, int]:
    """How many of each thing the flow makes exist, and what the parent has paid."""
    state = (await sandbox.state())["counts"]
    allocations = [e async for e in client.credits.events(event_type="allocation")]
    wallet = await client.credits.get()
    return {
        "organizations": state["organizations"]["total"],
        "api_keys": state["apiKeys"]["total"],
        "webhook_endpoints": state["webhookEndpoints"]["total"],
        "allocations": len(allocations),
        "debited": -sum(e.credits for e in allocations),
        "prepaid": wallet.prepaid_balance,
    }


async def whoami_org(client: LayersClient, secret: Secret) -> str:
    """The organization a key answers `whoami` as."""
    return (await client.with_options(api_key=secret).whoami()).organization_id


async def test_provision_makes_a_funded_keyed_child(client: LayersClient, sandbox: Sandbox) -> None:
    """One call: a child marked with the external id, a working key, the allocation, the
    credit config, a webhook endpoint inside the child, and the child's wallet."""
    before = await counts(client, sandbox)
    r = await provision(client, sandbox)
    after = await counts(client, sandbox)
    assert ORG_RE.match(r.organization_id)
    assert TXN_RE.match(r.allocation_txn or "")
    assert WH_RE.match(r.webhook_endpoint_id or "")
    assert SECRET_RE.match(r.secret.reveal())
    assert r.secret.reveal() not in repr(r)
    assert r.webhook_signing_secret is not None
    assert r.webhook_signing_secret.reveal().startswith("whsec_")
    assert (r.adopted, r.key_rotated, r.allocation_replayed) == (False, False, False)
    assert (r.balance, r.available) == (ALLOCATE, ALLOCATE)
    assert await whoami_org(client, r.secret) == r.organization_id
    org = await client.organizations.get(r.organization_id)
    assert org.metadata == {"externalId": "acme"}
    assert org.summary.credit_config.monthly_credit_cap == 5000
    endpoint = await client.for_organization(r.organization_id).webhook_endpoints.get(
        r.webhook_endpoint_id or ""
    )
    assert endpoint.url == HOOK
    assert {k: after[k] - before[k] for k in after} == ONE_OF_EACH


async def test_rerun_creates_nothing_and_replays_the_secrets(
    client: LayersClient, sandbox: Sandbox
) -> None:
    """A second run answers the same child, key, secret, transfer and endpoint, and moves
    no credit."""
    first = await provision(client, sandbox)
    before = await counts(client, sandbox)
    again = await provision(client, sandbox)
    assert await counts(client, sandbox) == before
    assert again.adopted
    assert not again.key_rotated
    assert again.allocation_replayed
    assert again.secret == first.secret
    assert again.webhook_signing_secret == first.webhook_signing_secret
    same = ("organization_id", "api_key_id", "allocation_txn", "webhook_endpoint_id")
    assert [getattr(again, f) for f in same] == [getattr(first, f) for f in same]


@pytest.mark.parametrize("step", STEPS)
async def test_crash_after_a_step_then_rerun_makes_one_of_each(
    client: LayersClient, sandbox: Sandbox, step: str
) -> None:
    """Killed right after any step, the rerun finishes with exactly one child, one key, one
    allocation and one endpoint, debits once, and its secret works."""
    before = await counts(client, sandbox)
    with pytest.raises(Crash):
        await provision(client, sandbox, crash_after=step)
    r = await provision(client, sandbox)
    after = await counts(client, sandbox)
    assert {k: after[k] - before[k] for k in after} == ONE_OF_EACH
    assert not r.key_rotated
    assert r.adopted
    assert await whoami_org(client, r.secret) == r.organization_id


@pytest.mark.parametrize(
    "route",
    [
        "POST /v1/organizations",
        "POST /v1/organizations/{orgId}/api-keys",
        "POST /v1/organizations/{orgId}/credits/allocate",
        "POST /v1/webhook-endpoints",
    ],
)
async def test_answer_lost_after_commit_then_rerun_makes_one_of_each(
    client: LayersClient, sandbox: Sandbox, route: str
) -> None:
    """The sandbox commits a write and drops its answer: the rerun replays it, and nothing
    exists twice."""
    before = await counts(client, sandbox)
    fault = {"route": route, "action": "drop_after_commit", "times": 1}
    await sandbox.configure(faults=[fault])
    with pytest.raises(APIConnectionError):
        await provision(client, sandbox)
    r = await provision(client, sandbox)
    after = await counts(client, sandbox)
    assert after["organizations"] - before["organizations"] == 1
    assert after["api_keys"] - before["api_keys"] == 1
    assert after["allocations"] - before["allocations"] == 1
    assert after["webhook_endpoints"] - before["webhook_endpoints"] == 1
    assert await whoami_org(client, r.secret) == r.organization_id


async def test_secret_recovered_within_the_window(client: LayersClient, sandbox: Sandbox) -> None:
    """Crashed after minting the key, rerun 23 hours later: the same key and secret, by
    replay, not a rotation."""
    with pytest.raises(Crash):
        await provision(client, sandbox, crash_after="api_key")
    keys = (await sandbox.state())["counts"]["apiKeys"]["total"]
    await sandbox.advance(23 * 3600)
    r = await provision(client, sandbox)
    assert not r.key_rotated
    assert r.previous_key_id is None
    assert (await sandbox.state())["counts"]["apiKeys"]["total"] == keys
    assert await whoami_org(client, r.secret) == r.organization_id


async def test_past_the_window_adopts_the_child_and_rotates_its_key(
    client: LayersClient, sandbox: Sandbox
) -> None:
    """Rerun 25 hours later: the child is adopted by its externalId, the allocation is not
    repeated, the key whose secret is gone is rotated (the result says so), and the
    endpoint's secret is reported gone."""
    first = await provision(client, sandbox)
    await sandbox.advance(DAY + 3600)
    before = await counts(client, sandbox)
    r = await provision(client, sandbox)
    after = await counts(client, sandbox)
    assert r.adopted
    assert r.key_rotated
    assert r.allocation_replayed
    assert r.organization_id == first.organization_id
    assert r.previous_key_id == first.api_key_id
    assert r.api_key_id != first.api_key_id
    assert r.secret != first.secret
    assert r.webhook_endpoint_id == first.webhook_endpoint_id
    assert r.webhook_signing_secret is None
    assert await whoami_org(client, r.secret) == r.organization_id
    assert await whoami_org(client, first.secret) == r.organization_id  # in its grace period
    assert {k: after[k] - before[k] for k in after} == {
        "organizations": 0,
        "api_keys": 1,  # the rotation's new key
        "webhook_endpoints": 0,
        "allocations": 0,
        "debited": 0,
        "prepaid": 0,
    }
    live = [
        k
        async for k in client.organizations.api_keys.list(r.organization_id)
        if k.superseded_by is None and k.status == "active"
    ]
    assert [k.id for k in live] == [r.api_key_id]


async def test_rotation_interrupted_then_rerun_replays_the_same_rotation(
    client: LayersClient, sandbox: Sandbox
) -> None:
    """Past the window, a run that crashes after rotating the key is rerun: the rotation is
    replayed (same new key and secret), not done twice."""
    await provision(client, sandbox)
    await sandbox.advance(DAY + 3600)
    with pytest.raises(Crash):
        await provision(client, sandbox, crash_after="api_key")
    keys = (await sandbox.state())["counts"]["apiKeys"]["total"]
    r = await provision(client, sandbox)
    assert r.key_rotated
    assert r.previous_key_id is not None
    assert (await sandbox.state())["counts"]["apiKeys"]["total"] == keys
    listed = [k async for k in client.organizations.api_keys.list(r.organization_id)]
    assert len(listed) == 2
    assert await whoami_org(client, r.secret) == r.organization_id


async def test_past_the_window_the_rotated_key_is_rotated_again(
    client: LayersClient, sandbox: Sandbox
) -> None:
    """Two days on, the key of the first rotation is itself past the window: it is rotated
    in its turn and the new secret works."""
    await provision(client, sandbox)
    await sandbox.advance(DAY + 3600)
    second = await provision(client, sandbox)
    await sandbox.advance(DAY + 3600)
    third = await provision(client, sandbox)
    assert third.key_rotated
    assert third.previous_key_id == second.api_key_id
    assert await whoami_org(client, third.secret) == third.organization_id


async def test_without_allocation_or_webhook_those_steps_are_skipped(
    client: LayersClient, sandbox: Sandbox
) -> None:
    """Only the child, its key and its wallet when no allocation, config or URL is given."""
    seen: list[str] = []
    r = await provision_customer(
        client, "plain", "Plain", now=sandbox.now, on_step=lambda _e, s: seen.append(s)
    )
    assert seen == ["organization", "api_key", "wallet"]
    assert r.allocation_txn is None
    assert r.webhook_endpoint_id is None
    assert r.webhook_signing_secret is None
    assert r.balance == 0


async def test_another_customer_is_another_child(client: LayersClient, sandbox: Sandbox) -> None:
    """Two external ids give two children, keys and secrets."""
    a = await provision_customer(client, "a", "A", now=sandbox.now)
    b = await provision_customer(client, "b", "B", now=sandbox.now)
    assert a.organization_id != b.organization_id
    assert a.secret != b.secret


@pytest.mark.parametrize("allocate", [True, 1.5, "10"])
async def test_a_bad_allocation_is_refused_before_sending(
    client: LayersClient, allocate: Any
) -> None:
    """`allocate` must be an int: anything else is a LayersValidationError, nothing sent."""
    with pytest.raises(LayersValidationError) as info:
        await provision_customer(client, "acme", "Acme", allocate=allocate)
    assert info.value.field == "allocate"
