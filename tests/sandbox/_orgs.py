"""Steps and shapes of the sub-organization contract tests: children, their keys and wallets.

Everything talks to the sandbox over plain HTTP through `tests.sandbox._http.Api`.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.sandbox._flows import UUID4, ok
from tests.sandbox._http import Api

KEY_ID_RE = re.compile(rf"^key_{UUID4}$")
TXN_RE = re.compile(rf"^txn_{UUID4}$")
WH_RE = re.compile(rf"^wh_{UUID4}$")
SECRET_RE = re.compile(r"^lp_(live|test)_[0-9A-HJKMNP-TV-Z]{16}_[A-Za-z0-9_-]{43}$")
#: The wire fields of each Tier 2 object, in order (contract §3.0.13-§3.0.16).
ORG_FIELDS = [
    "id", "parentOrganizationId", "name", "status", "metadata", "billingEmail", "archivedAt",
    "createdAt", "updatedAt",
]  # fmt: skip
CHILD_KEY_FIELDS = [
    "id", "organizationId", "name", "prefix", "env", "scopes", "rateLimitTier", "status",
    "createdAt", "lastUsedAt", "rotatedAt", "revokedAt", "graceUntil", "supersededBy",
]  # fmt: skip
OWN_KEY_FIELDS = [
    "id", "organizationId", "name", "prefix", "killSwitch", "isActive", "rotatedAt", "revokedAt",
]  # fmt: skip
EVENT_FIELDS = [
    "eventId", "projectId", "credits", "eventType", "format", "containerId", "workflowId",
    "balanceAfterPrepaid", "usageAfterPeriod", "createdAt",
]  # fmt: skip
ENDPOINT_FIELDS = [
    "id", "organizationId", "projectId", "url", "description", "status", "events", "scope",
    "metadata", "apiVersion", "createdAt", "updatedAt", "lastSuccessAt", "lastFailureAt",
    "consecutiveFailureCount",
]  # fmt: skip

_idem = itertools.count()


def idem() -> str:
    """A fresh Idempotency-Key."""
    return f"test-{next(_idem)}"


def acting(org: str) -> dict[str, str]:
    """The header that acts inside child organization `org`."""
    return {"X-Layers-Organization": org}


async def make_child(api: Api, name: str = "Acme Coffee", **body: Any) -> dict[str, Any]:
    """POST /v1/organizations; assert 201; return the Organization."""
    org: dict[str, Any] = ok(await api.post("/v1/organizations", {"name": name, **body}), 201)
    return org


async def mint(
    api: Api, org: str, scopes: list[str] | None = None, **body: Any
) -> tuple[dict[str, Any], str]:
    """Mint a key of child `org`; assert 201; return (ChildApiKey, secret)."""
    payload = {"name": "integration", "scopes": scopes or ["*"], **body}
    out = ok(await api.post(f"/v1/organizations/{org}/api-keys", payload), 201)
    return out["apiKey"], str(out["secret"])


async def allocate(api: Api, org: str, credits: int) -> dict[str, Any]:
    """Allocate `credits` to child `org` with a fresh Idempotency-Key; assert 201."""
    r = await api.post(
        f"/v1/organizations/{org}/credits/allocate", {"credits": credits}, idem=idem()
    )
    out: dict[str, Any] = ok(r, 201)
    return out


async def events(api: Api, path: str = "/v1/credits/events", **params: Any) -> list[Any]:
    """The items of one ledger page (limit 100)."""
    page = ok(await api.get(path, params={"limit": "100", **params}))
    items: list[Any] = page["items"]
    return items


async def prepaid(api: Api, path: str = "/v1/credits") -> int:
    """The `prepaidBalance` of a wallet."""
    return int(ok(await api.get(path))["prepaidBalance"])
