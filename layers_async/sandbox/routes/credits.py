"""Credits: the organization's wallet and ledger (contract §3.1.2, §3.14), and its children's
wallets, ledgers, allocations and credit config (contract §3.12)."""

from __future__ import annotations

from collections.abc import Callable

from .. import _render as render
from .. import _tenancy as tenancy
from .._config import MAX_CREDITS
from .._errors import Issues, validation
from .._jsonio import dumps, loads
from .._models import CreditEvent, Organization
from .._routing import READ, WRITE, Ctx, Handler, Out, Route, paginate
from .._validate import Body
from ._common import query, require_a_field, since_until
from .organizations import ORG, ORG_PATH, child

__all__ = ["EVENT_TYPES", "ROUTES", "credits"]

#: Every ledger event type (contract §3.0.13); the sandbox never writes refund or purchase.
EVENT_TYPES = ("usage", "refund", "grant", "purchase", "adjustment", "allocation")
_CONFIG_FIELDS = ("monthlyCreditCap", "refillThreshold", "refillAmount")


def credits(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/credits: the wallet, rolled over to the current billing period."""
    return Out(200, render.wallet(ctx.world, ctx.org))


def _own(ctx: Ctx) -> Organization:
    return ctx.org


def _events(org_of: Callable[[Ctx], Organization], doc: str) -> Handler:
    """A ledger listing of the organization `org_of` finds, newest first (contract §3.14.1)."""

    def handler(ctx: Ctx, issues: Issues) -> Out:
        q = query(ctx, issues)
        by_project, project = q.prefixed_id("projectId", "prj", bare_ok=True)
        kind = q.choice("eventType", EVENT_TYPES)
        since, until = since_until(q, issues)
        limit = q.limit(25, 1, 100)
        cursor = q.cursor()
        issues.raise_if_any()
        org_id = org_of(ctx).id

        def keep(e: CreditEvent) -> bool:
            return (
                e.org_id == org_id
                and (not by_project or e.project_id == project)
                and (kind is None or e.event_type == kind)
                and (since is None or e.created_at >= since)
                and (until is None or e.created_at <= until)
            )

        rows = [e for e in ctx.world.credit_events if keep(e)]
        return Out(200, paginate(rows, _created, _event_id, limit, cursor, render.credit_event))

    handler.__doc__ = doc
    return handler


def _created(e: CreditEvent) -> int:
    return e.created_at


def _event_id(e: CreditEvent) -> str:
    return e.event_id


def allocate(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/organizations/{orgId}/credits/allocate: move prepaid credits to the child.

    Needs an Idempotency-Key; a replay answers `replayed: true` and debits nothing again.
    """
    b = Body(ctx.json_body(issues), ("credits", "description", "metadata"), issues)
    amount = b.integer("credits", least=1, most=MAX_CREDITS, required=True)
    description = b.string("description", max_len=500)
    metadata = b.metadata()
    issues.raise_if_any()
    assert amount is not None
    org = child(ctx)
    w = ctx.world
    tenancy.allocate(w, ctx.org, org, amount)
    cw = w.wallet(org)
    meta = {**(metadata or {}), "direction": "parent_to_child", "counterpartyOrgId": ctx.org.id}
    return Out(
        201,
        {
            "id": w.ids.prefixed("txn"),
            "organizationId": org.id,
            "allocated": amount,
            "created": render.ts(ctx.now),
            "description": description,
            "metadata": meta,
            "balance": cw.balance,
            "available": cw.available,
            "replayed": False,
        },
    )


def _replayed(body: bytes) -> bytes:
    """An allocation's stored answer as replayed: the same, with `replayed: true`."""
    data = loads(body)
    data["replayed"] = True
    return dumps(data)


def child_wallet(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/organizations/{orgId}/credits: the child's wallet."""
    issues.raise_if_any()
    return Out(200, render.wallet(ctx.world, child(ctx)))


def get_config(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/organizations/{orgId}/credit-config: the cap, the refill rule and balances."""
    issues.raise_if_any()
    return Out(200, tenancy.credit_config(ctx.world, child(ctx)))


def patch_config(ctx: Ctx, issues: Issues) -> Out:
    """PATCH /v1/organizations/{orgId}/credit-config: a number sets, null clears.

    After the patch the refill threshold and amount are both set or both null (else a 422 at
    the one left set); an archived child is a 409. Auto-refill is checked at once.
    """
    data = ctx.json_body(issues)
    b = Body(data, _CONFIG_FIELDS, issues)
    require_a_field(data, issues)
    values = {
        name: b.integer(name, least=least, most=MAX_CREDITS, nullable=True)
        for name, least in zip(_CONFIG_FIELDS, (0, 0, 1), strict=True)
    }
    issues.raise_if_any()
    org = child(ctx)
    tenancy.ensure_not_archived(org)
    cw = org.wallet
    now_set = (cw.monthly_cap, cw.refill_threshold, cw.refill_amount)
    current = dict(zip(_CONFIG_FIELDS, now_set, strict=True))
    after = {k: (values[k] if b.has(k) else current[k]) for k in _CONFIG_FIELDS}
    threshold, amount = after["refillThreshold"], after["refillAmount"]
    if (threshold is None) != (amount is None):
        lone = "refillThreshold" if threshold is not None else "refillAmount"
        raise validation([{"path": lone, "message": "Set refillThreshold and refillAmount both."}])
    cw.monthly_cap, cw.refill_threshold, cw.refill_amount = (
        after["monthlyCreditCap"],
        threshold,
        amount,
    )
    tenancy.auto_refill(ctx.world, org, ctx.now)
    return Out(200, tenancy.credit_config(ctx.world, org))


_ADMIN = "org:admin"
_ID = {"orgId": ORG}
ROUTES: list[Route] = [
    Route("GET", "/v1/credits", READ, None, credits),
    Route(
        "GET",
        "/v1/credits/events",
        READ,
        None,
        _events(_own, "GET /v1/credits/events: the organization's ledger, newest first."),
    ),
    Route(
        "POST",
        ORG_PATH + "/credits/allocate",
        WRITE,
        _ADMIN,
        allocate,
        _ID,
        requires_idempotency=True,
        replay=_replayed,
    ),
    Route("GET", ORG_PATH + "/credits", READ, _ADMIN, child_wallet, _ID),
    Route(
        "GET",
        ORG_PATH + "/credits/events",
        READ,
        _ADMIN,
        _events(child, "GET /v1/organizations/{orgId}/credits/events: the child's ledger."),
        _ID,
    ),
    Route("GET", ORG_PATH + "/credit-config", READ, _ADMIN, get_config, _ID),
    Route("PATCH", ORG_PATH + "/credit-config", WRITE, _ADMIN, patch_config, _ID),
]
