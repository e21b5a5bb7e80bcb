"""The tenancy rules of the sandbox: organizations and their children, API keys, credit moves.

A parent organization provisions, funds, suspends and archives its direct children (one level
deep); each child has its own wallet and keys. Credits move between a parent and a child only
as `allocation` ledger events, one on each side (contract §3.0.13, §3.10-§3.13, §4.8, §4.9).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from . import _webhooks
from ._errors import ApiError, conflict, not_found
from ._models import ApiKey, Organization, Wallet

if TYPE_CHECKING:
    from ._world import World

__all__ = [
    "GRACE_MS",
    "allocate",
    "archive",
    "auto_refill",
    "bootstrap",
    "child_of",
    "create_child",
    "ensure_not_archived",
    "key_status",
    "kill_key",
    "mint_key",
    "resume",
    "revoke_key",
    "rotate_child_key",
    "rotate_own_key",
    "suspend",
]

#: How long the old key of a rotated child key keeps working: 24 hours.
GRACE_MS = 86_400_000


# ---------------------------------------------------------------------- configuration
def bootstrap(w: World, now: int, period: tuple[int, int]) -> None:
    """Create the configured organizations (top-level ones first, then children) and keys.

    A child (an organization with a `parent` ref) starts with its configured credits granted
    to it, its status and its credit config; ids come from the seed in configuration order.
    """
    orgs = w.config["organizations"]
    for o in [o for o in orgs if not o.get("parent")] + [o for o in orgs if o.get("parent")]:
        parent = w.orgs[w.org_refs[o["parent"]]] if o.get("parent") else None
        tier = parent.wallet.subscription_tier if parent is not None else "pro"
        wallet = Wallet(
            included_this_period=int(o.get("includedThisPeriod", 0)),
            prepaid=int(o.get("prepaidBalance", 0)),
            subscription_tier=str(o.get("subscriptionTier", tier)),
            period_start=period[0],
            period_end=period[1],
            monthly_cap=o.get("monthlyCreditCap"),
            refill_threshold=o.get("refillThreshold"),
            refill_amount=o.get("refillAmount"),
        )
        org = Organization(
            id=o.get("id") or w.ids.prefixed("org"),
            name=str(o.get("name", o["ref"])),
            wallet=wallet,
            created_at=now,
            updated_at=now,
            max_running_jobs=o.get("maxRunningJobs"),
            parent_id=parent.id if parent is not None else None,
            status=str(o.get("status", "active")),
            metadata=dict(o.get("metadata") or {}),
            billing_email=o.get("billingEmail"),
        )
        w.orgs[org.id] = org
        w.org_refs[o["ref"]] = org.id
        if wallet.prepaid:
            w._ledger(org, None, wallet.prepaid, "grant", now)
    for k in w.config["apiKeys"]:
        key_string = k.get("key")
        env = key_string[3:7] if key_string else k.get("env", "live")
        key_string = key_string or w.ids.api_key(env)  # drawn before the id, as ever
        _add_key(
            w,
            ApiKey(
                id=k.get("id") or w.ids.prefixed("key"),
                name=str(k.get("name", "key")),
                org_id=w.org_refs[k["organization"]],
                env=env,
                tier=k.get("rateLimitTier", "standard"),
                scopes=list(k.get("scopes", ["*"])),
                allowlist=frozenset(h.lower() for h in k.get("returnUrlAllowlist", [])),
                key=key_string,
                created_at=now,
            ),
        )


def _add_key(w: World, key: ApiKey) -> ApiKey:
    w.keys[key.id] = key
    w.key_by_string[key.key] = key
    return key


# ---------------------------------------------------------------------- organizations
def child_of(w: World, parent: Organization, org_id: str) -> Organization:
    """A direct child of `parent` (archived ones included), else 404 NOT_FOUND."""
    child = w.orgs.get(org_id)
    if child is None or child.parent_id != parent.id:
        raise not_found("Organization not found.")
    return child


def ensure_not_archived(org: Organization) -> None:
    """Archiving is terminal: 409 CONFLICT with the organization's id and status."""
    if org.status == "archived":
        raise conflict(
            "Organization is archived.", {"organizationId": org.id, "status": "archived"}
        )


def create_child(
    w: World, parent: Organization, name: str, metadata: dict[str, str], email: str | None
) -> Organization:
    """A new active child with an empty wallet on the parent's subscription tier."""
    now = w.now()
    pw = w.wallet(parent)
    org = Organization(
        id=w.ids.prefixed("org"),
        name=name,
        wallet=Wallet(0, 0, pw.subscription_tier, pw.period_start, pw.period_end),
        created_at=now,
        updated_at=now,
        parent_id=parent.id,
        metadata=metadata,
        billing_email=email,
    )
    w.orgs[org.id] = org
    return org


def suspend(w: World, org: Organization) -> None:
    """Active → suspended (a suspended child stays so): its keys get 503, its posts hold."""
    ensure_not_archived(org)
    if org.status != "suspended":
        org.status = "suspended"
        org.updated_at = w.now()


def resume(w: World, org: Organization) -> None:
    """Suspended → active; held posts whose time has passed start publishing at once."""
    ensure_not_archived(org)
    if org.status == "suspended":
        now = w.now()
        org.status = "active"
        org.updated_at = now
        for post in w.posts.values():
            if post.org_id == org.id and post.status == "queued" and post.scheduled_for <= now:
                w.at(now, functools.partial(w._start_publish, post, post.generation))
        _webhooks.release_held(w, org.id, now)


def archive(w: World, parent: Organization, org: Organization) -> None:
    """Offboard a child once: revoke its keys, cancel its queued posts, and sweep its unspent,
    unreserved prepaid credits back to the parent (repeating it changes nothing)."""
    if org.status == "archived":
        return
    now = w.now()
    revoked = 0
    for key in w.keys.values():
        if key.org_id == org.id and key.status != "revoked":
            _revoke(key, now)
            revoked += 1
    for post in w.posts.values():
        if post.org_id == org.id and post.status == "queued":
            w.cancel_post(post)
    cw = w.wallet(org)
    reclaimed = max(0, cw.prepaid - cw.reserved)
    if reclaimed:
        _transfer(w, org, parent, reclaimed, now)
    org.status = "archived"
    org.archived_at = now
    org.updated_at = now
    org.reclaimed_credits = reclaimed
    org.revoked_api_keys = revoked


# ---------------------------------------------------------------------- keys
def mint_key(
    w: World, org: Organization, caller: ApiKey, name: str, scopes: list[str], env: str
) -> ApiKey:
    """A new active key of `org`: a live key gets the caller's tier, a test key `sandbox`;
    the caller's return-URL allowlist is copied."""
    return _add_key(
        w,
        ApiKey(
            id=w.ids.prefixed("key"),
            name=name,
            org_id=org.id,
            env=env,
            tier=caller.tier if env == "live" else "sandbox",
            scopes=list(scopes),
            allowlist=caller.allowlist,
            key=w.ids.api_key(env),
            created_at=w.now(),
        ),
    )


def rotate_child_key(w: World, old: ApiKey) -> ApiKey:
    """A new key like `old`; `old` keeps working for 24 hours, then is revoked.

    A key is rotated once: a superseded or revoked key is a 409 CONFLICT.
    """
    if old.superseded_by is not None or old.status == "revoked" or old.kill_switch:
        raise conflict(
            "This key was already rotated or revoked.",
            {"keyId": old.id, "status": key_status(old), "supersededBy": old.superseded_by},
        )
    now = w.now()
    new = _add_key(
        w,
        ApiKey(
            id=w.ids.prefixed("key"),
            name=old.name,
            org_id=old.org_id,
            env=old.env,
            tier=old.tier,
            scopes=list(old.scopes),
            allowlist=old.allowlist,
            key=w.ids.api_key(old.env),
            created_at=now,
        ),
    )
    old.rotated_at = now
    old.grace_until = now + GRACE_MS
    old.superseded_by = new.id
    w.at(old.grace_until, functools.partial(_end_grace, old))
    return new


def _end_grace(key: ApiKey, when: int) -> bool:
    if key.status == "revoked":
        return False
    _revoke(key, when)
    return True


def _revoke(key: ApiKey, when: int) -> None:
    key.status = "revoked"
    key.revoked_at = when


def revoke_key(w: World, key: ApiKey) -> None:
    """Revoke now, with no grace; a revoked key stays as it was."""
    if key.status != "revoked":
        _revoke(key, w.now())


def key_status(key: ApiKey) -> str:
    """The child-key view of a key's status: killed and revoked keys both show `revoked`."""
    return "revoked" if key.kill_switch or key.status == "revoked" else "active"


def kill_key(w: World, key: ApiKey) -> None:
    """The emergency stop: every later request with the key gets 503 KILL_SWITCH."""
    if not key.kill_switch:
        key.kill_switch = True
        key.revoked_at = w.now()


def rotate_own_key(w: World, key: ApiKey) -> None:
    """A new prefix and secret under the same id (the old string gets 401); re-activates a
    killed key. A revoked key cannot be rotated (409)."""
    if key.status == "revoked":
        raise conflict("This key is revoked.", {"keyId": key.id, "status": "revoked"})
    del w.key_by_string[key.key]
    key.key = w.ids.api_key(key.env)
    w.key_by_string[key.key] = key
    key.kill_switch = False
    key.revoked_at = None
    key.rotated_at = w.now()


# ---------------------------------------------------------------------- credits
def _transfer(w: World, src: Organization, dst: Organization, credits: int, when: int) -> None:
    """Move prepaid credits, with an `allocation` event on each ledger (-N, then +N)."""
    w.wallet(src, when).prepaid -= credits
    w._ledger(src, None, -credits, "allocation", when)
    w.wallet(dst, when).prepaid += credits
    w._ledger(dst, None, credits, "allocation", when)


def allocate(w: World, parent: Organization, child: Organization, credits: int) -> None:
    """Move `credits` from the parent's prepaid balance to the child's (402 when short)."""
    ensure_not_archived(child)
    pw = w.wallet(parent)
    have = min(pw.prepaid, pw.available)
    if have < credits:
        raise ApiError(
            402,
            "BILLING_EXHAUSTED",
            "The parent organization cannot cover this allocation.",
            {"required": credits, "available": have, "reason": "insufficient_credits"},
        )
    _transfer(w, parent, child, credits, w.now())


def auto_refill(w: World, org: Organization, when: int) -> None:
    """When a child's `available` is below its refill threshold, move the refill amount from
    the parent once (skipped when the parent cannot cover it)."""
    cw = org.wallet
    if (
        org.parent_id is None
        or org.status == "archived"
        or cw.refill_threshold is None
        or cw.refill_amount is None
        or w.wallet(org, when).available >= cw.refill_threshold
    ):
        return
    parent = w.orgs[org.parent_id]
    pw = w.wallet(parent, when)
    if min(pw.prepaid, pw.available) >= cw.refill_amount:
        _transfer(w, parent, org, cw.refill_amount, when)


def credit_config(w: World, org: Organization) -> dict[str, Any]:
    """The credit-config answer: the config and the child's balances (contract §3.12.4)."""
    cw = w.wallet(org)
    return {
        "organizationId": org.id,
        "config": config_summary(org),
        "balance": cw.balance,
        "available": cw.available,
    }


def config_summary(org: Organization) -> dict[str, Any]:
    """`{monthlyCreditCap, refillThreshold, refillAmount, autoRefillEnabled}`."""
    cw = org.wallet
    return {
        "monthlyCreditCap": cw.monthly_cap,
        "refillThreshold": cw.refill_threshold,
        "refillAmount": cw.refill_amount,
        "autoRefillEnabled": cw.refill_threshold is not None and cw.refill_amount is not None,
    }
