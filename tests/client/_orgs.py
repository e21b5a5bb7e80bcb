"""Child organizations for the Tier 2 SDK tests: made through the SDK under test."""

from __future__ import annotations

import re
from typing import Any

from layers_async import LayersClient, Secret

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
ORG_RE, KEY_RE, TXN_RE, WH_RE = (
    re.compile(rf"^{prefix}_{UUID4}$") for prefix in ("org", "key", "txn", "wh")
)
#: A child key's secret and its log-safe prefix.
SECRET_RE = re.compile(r"^lp_(live|test)_[0-9A-HJKMNP-TV-Z]{16}_[A-Za-z0-9_-]{43}$")
PREFIX_RE = re.compile(r"^lp_(live|test)_[0-9A-HJKMNP-TV-Z]{16}$")
#: Well-formed ids that name nothing in any sandbox.
GHOST_ORG = "org_00000000-0000-4000-8000-000000000001"
GHOST_KEY = "key_00000000-0000-4000-8000-000000000002"
GHOST_WH = "wh_00000000-0000-4000-8000-000000000003"
#: make_sandbox options: the demo keys, and `bare` with org:admin but no data scope but one.
ADMIN_BUT_READ_ONLY = {
    "api_keys": [
        {"name": "demo-live", "organization": "partner", "scopes": ["*", "org:admin"]},
        {"name": "bare", "organization": "partner", "scopes": ["org:admin", "projects:read"]},
        {"name": "no-admin", "organization": "partner", "scopes": ["*"]},
    ]
}


async def new_child(client: LayersClient, name: str = "Acme Coffee", **fields: Any) -> str:
    """A new child organization of the client's organization; its id."""
    return (await client.organizations.create(name=name, **fields)).id


async def child_with_key(
    client: LayersClient, name: str = "Acme Coffee", scopes: tuple[str, ...] = ("*",)
) -> tuple[str, Secret]:
    """A new child and a freshly minted key of it: (org id, secret)."""
    org = await new_child(client, name)
    minted = await client.organizations.api_keys.create(
        org,
        name="integration",
        scopes=list(scopes),  # type: ignore[arg-type]  # tests pass plain strings
    )
    return org, minted.secret
