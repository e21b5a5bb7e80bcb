"""Credits beyond the wallet: `client.credits.events` (the organization's ledger) and a child's
wallet, ledger, allocations and credit config (`client.organizations.credits`,
`client.organizations.credit_config`) against the sandbox."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from layers_async import (
    ConflictError,
    CreditAllocation,
    CreditEvent,
    LayersClient,
    NotFoundError,
    OrganizationCreditConfig,
    PaymentRequiredError,
    Sandbox,
    UnprocessableEntityError,
    Wallet,
)
from tests.client._decoded import assert_aware, assert_request_id
from tests.client._orgs import GHOST_ORG, TXN_RE, new_child
from tests.client._refusals import api_refusal, issue_paths, refused_field, refused_field_now
from tests.client._setup import T0, new_project, raw
from tests.client._tracing import SINGLE, traced_client


@pytest.mark.anyio
async def test_allocate_moves_credits_exactly(client: LayersClient) -> None:
    """allocate() decodes the transfer; the parent's prepaid balance drops by exactly that."""
    me = await client.whoami()
    org = await new_child(client)
    before = (await client.credits.get()).prepaid_balance
    moved = await client.organizations.credits.allocate(
        org, credits=1200, description="May budget", metadata={"invoice": "inv-7"}
    )
    assert isinstance(moved, CreditAllocation)
    assert TXN_RE.match(moved.id)
    assert (moved.organization_id, moved.allocated, moved.balance, moved.available) == (
        org,
        1200,
        1200,
        1200,
    )
    assert moved.description == "May budget"
    assert moved.metadata == {
        "invoice": "inv-7",
        "direction": "parent_to_child",
        "counterpartyOrgId": me.organization_id,
    }
    assert moved.replayed is False
    assert_aware(moved.created)
    assert_request_id(moved)
    assert (await client.credits.get()).prepaid_balance == before - 1200
    child_wallet = await client.organizations.credits.get(org)
    assert isinstance(child_wallet, Wallet)
    assert (child_wallet.organization_id, child_wallet.prepaid_balance) == (org, 1200)


@pytest.mark.anyio
async def test_allocate_replayed_moves_nothing_again(client: LayersClient) -> None:
    """The same idempotency_key allocates once: the repeat says replayed and debits nothing."""
    org = await new_child(client)
    before = (await client.credits.get()).prepaid_balance
    first = await client.organizations.credits.allocate(org, credits=500, idempotency_key="fund-1")
    again = await client.organizations.credits.allocate(org, credits=500, idempotency_key="fund-1")
    assert (again.id, again.replayed, first.replayed) == (first.id, True, False)
    assert again.meta is not None
    assert again.meta.idempotency_replayed
    assert (await client.credits.get()).prepaid_balance == before - 500


@pytest.mark.anyio
async def test_allocate_always_sends_an_idempotency_key(sandbox: Sandbox) -> None:
    """Every allocate() call carries an Idempotency-Key (the route refuses a call without one):
    a fresh one per call, the caller's when given."""
    sent: list[str | None] = []
    trace = aiohttp.TraceConfig()

    async def record(_s: Any, _c: Any, params: Any) -> None:
        if params.url.path.endswith("/allocate"):
            sent.append(params.headers.get("Idempotency-Key"))

    trace.on_request_start.append(record)
    async with traced_client(sandbox, trace, **SINGLE) as client:
        org = await new_child(client)
        await client.organizations.credits.allocate(org, credits=1)
        await client.organizations.credits.allocate(org, credits=1)
        await client.organizations.credits.allocate(org, credits=1, idempotency_key="mine")
    assert len(sent) == 3
    assert None not in sent
    assert sent[0] != sent[1]
    assert sent[2] == "mine"


@pytest.mark.anyio
async def test_allocate_refusals(client: LayersClient) -> None:
    """More than the parent holds is a PaymentRequiredError; an unknown child a NotFoundError;
    an archived child a ConflictError."""
    org = await new_child(client)
    prepaid = (await client.credits.get()).prepaid_balance
    too_much = client.organizations.credits.allocate(org, credits=prepaid + 1)
    refused = await api_refusal(PaymentRequiredError, too_much)
    assert refused.details["required"] == prepaid + 1
    await api_refusal(NotFoundError, client.organizations.credits.allocate(GHOST_ORG, credits=1))

    async def allocate(org_id: str) -> Any:
        return await client.organizations.credits.allocate(org_id, credits=1)

    await assert_archived_child_refuses(client, org, allocate)


async def assert_archived_child_refuses(client: LayersClient, org: str, call: Any) -> None:
    """Once the child is archived, `call(org)` is exactly ConflictError."""
    await client.organizations.archive(org)
    await api_refusal(ConflictError, call(org))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({"credits": 0}, "credits"),
        ({"credits": -5}, "credits"),
        ({"credits": 2.5}, "credits"),
        ({"credits": True}, "credits"),
        ({"credits": "100"}, "credits"),
        ({"credits": 2**53}, "credits"),
        ({"credits": 1, "description": "d" * 501}, "description"),
        ({"credits": 1, "metadata": {"direction": 1}}, "metadata['direction']"),
    ],
)
async def test_allocate_is_validated_before_sending(
    client: LayersClient, call: dict[str, Any], field: str
) -> None:
    """A positive integer of credits, a short description and string metadata are local checks."""
    assert await refused_field(client.organizations.credits.allocate, GHOST_ORG, **call) == field


@pytest.mark.anyio
async def test_own_ledger_lists_every_written_event_type(
    sandbox: Sandbox, client: LayersClient, session: aiohttp.ClientSession
) -> None:
    """credits.events() shows the start-up grant, allocations (negative on the parent) and the
    sandbox's adjustments, newest first, filtered by event type."""
    me = await client.whoami()
    org = await new_child(client)
    await sandbox.advance(1)
    await client.organizations.credits.allocate(org, credits=400)
    await sandbox.advance(1)
    adjustment = {"organizationId": me.organization_id, "credits": 250}
    await raw(session, sandbox, "POST", "/_sandbox/credits", json=adjustment)
    events = [e async for e in client.credits.events()]
    assert all(isinstance(e, CreditEvent) for e in events)
    assert [(e.event_type, e.credits) for e in events] == [
        ("adjustment", 250),
        ("allocation", -400),
        ("grant", 5000),
    ]
    assert all(e.project_id is None for e in events)
    assert events[0].balance_after_prepaid == 5000 - 400 + 250
    assert_aware(events[0].created_at)
    only = await client.credits.events(event_type="allocation")
    assert [e.credits for e in only.items] == [-400]


@pytest.mark.anyio
async def test_ledger_filters_by_time_and_project(sandbox: Sandbox, client: LayersClient) -> None:
    """since/until are inclusive bounds on created_at (any aware zone); a project filter leaves
    organization-level events out."""
    org = await new_child(client)
    await sandbox.advance(60)
    await client.organizations.credits.allocate(org, credits=10)
    pacific = timezone(timedelta(hours=-7))
    after_start = (T0 + timedelta(seconds=30)).astimezone(pacific)
    recent = await client.credits.events(since=after_start)
    assert [e.event_type for e in recent.items] == ["allocation"]
    early = await client.credits.events(until=T0)
    assert [e.event_type for e in early.items] == ["grant"]
    pid = await new_project(client)
    assert (await client.credits.events(project_id=pid)).items == ()


@pytest.mark.anyio
async def test_ledger_calls_are_validated_before_sending(client: LayersClient) -> None:
    """Naive datetimes, unknown event types, malformed project ids and limits are local."""
    events = client.credits.events
    naive = datetime(2026, 5, 14, 16, 0)
    assert refused_field_now(events, since=naive) == "since"
    assert refused_field_now(events, until=naive) == "until"
    assert refused_field_now(events, event_type="bonus") == "event_type"  # type: ignore[arg-type]
    assert refused_field_now(events, project_id="org_x") == "project_id"
    assert refused_field_now(events, limit=0) == "limit"
    child_events = client.organizations.credits.events
    assert refused_field_now(child_events, "nope") == "org_id"
    assert refused_field_now(child_events, GHOST_ORG, limit=101) == "limit"


@pytest.mark.anyio
async def test_child_ledger_shows_allocations_as_credits(client: LayersClient) -> None:
    """organizations.credits.events() is the child's ledger: allocations are positive; the same
    ledger is the child's own credits.events() when acting inside it."""
    org = await new_child(client)
    await client.organizations.credits.allocate(org, credits=300)
    page = await client.organizations.credits.events(org, event_type="allocation")
    assert [(e.event_type, e.credits) for e in page.items] == [("allocation", 300)]
    inside = await client.for_organization(org).credits.events()
    assert [e.event_id for e in inside.items] == [e.event_id for e in page.items]
    await api_refusal(NotFoundError, client.organizations.credits.events(GHOST_ORG))


@pytest.mark.anyio
async def test_credit_config_get_update_and_clear(client: LayersClient) -> None:
    """credit_config.get()/update(): numbers set, None clears, omitted fields stay."""
    org = await new_child(client)
    empty = await client.organizations.credit_config.get(org)
    assert isinstance(empty, OrganizationCreditConfig)
    assert (empty.organization_id, empty.balance, empty.available) == (org, 0, 0)
    assert empty.config.monthly_credit_cap is None
    assert empty.config.auto_refill_enabled is False
    capped = await client.organizations.credit_config.update(org, monthly_credit_cap=0)
    assert capped.config.monthly_credit_cap == 0
    refill = await client.organizations.credit_config.update(
        org, refill_threshold=100, refill_amount=250
    )
    assert refill.config.auto_refill_enabled
    assert refill.config.monthly_credit_cap == 0  # omitted: unchanged
    assert (refill.balance, refill.available) == (250, 250)  # below the threshold: refilled once
    cleared = await client.organizations.credit_config.update(
        org, monthly_credit_cap=None, refill_threshold=None, refill_amount=None
    )
    assert cleared.config == empty.config


@pytest.mark.anyio
async def test_credit_config_refusals(client: LayersClient) -> None:
    """Leaving refill half set is the server's 422 at the lone field; acting inside a child, the
    child's own config is a NotFoundError; an archived child is a ConflictError."""
    org = await new_child(client)
    config = client.organizations.credit_config
    refused = await api_refusal(UnprocessableEntityError, config.update(org, refill_amount=5))
    assert issue_paths(refused) == ["refillAmount"]
    inside = client.for_organization(org).organizations.credit_config.get(org)
    await api_refusal(NotFoundError, inside)

    async def cap(org_id: str) -> Any:
        return await config.update(org_id, monthly_credit_cap=1)

    await assert_archived_child_refuses(client, org, cap)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({}, "update"),
        ({"monthly_credit_cap": -1}, "monthly_credit_cap"),
        ({"refill_threshold": 1.5}, "refill_threshold"),
        ({"refill_amount": 0}, "refill_amount"),
        ({"refill_threshold": 100, "refill_amount": None}, "refill_amount"),
        ({"refill_threshold": None, "refill_amount": 100}, "refill_amount"),
    ],
)
async def test_credit_config_is_validated_before_sending(
    client: LayersClient, call: dict[str, Any], field: str
) -> None:
    """Bounds, at least one field, and a refill pair given half set are local checks."""
    update = client.organizations.credit_config.update
    assert await refused_field(update, GHOST_ORG, **call) == field
