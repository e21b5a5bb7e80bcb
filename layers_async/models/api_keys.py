"""API keys (contract §3.0.15, §3.11, §3.13, §4.9): the keys of child organizations, and the
organization's own keys (kill, rotate). A minted secret is a `Secret`: shown only on purpose."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from .._secret import Secret
from ._base import LayersModel

__all__ = [
    "ApiKeyEnv",
    "ApiKeyKilled",
    "ApiKeyRotated",
    "ApiKeyScope",
    "ChildApiKey",
    "ChildApiKeyCreated",
    "ChildApiKeyRevoked",
    "ChildApiKeyRotated",
    "ChildApiKeyStatus",
    "OwnApiKey",
]

#: `live` keys spend credits; `test` keys get fake results and spend none.
ApiKeyEnv = Literal["live", "test"]
#: A child key is `active` or `revoked` (revoked, killed and deleted keys all show `revoked`).
ChildApiKeyStatus = Literal["active", "revoked"]
#: The scopes a child key may be given (contract §1.3). `org:admin` is never one of them;
#: `*` grants every scope except `org:admin`. Tier 3 scopes of the form ``ads:write:<name>``
#: are accepted too (type-check them with a cast).
ApiKeyScope = Literal[
    "*",
    "projects:read", "projects:write", "social:read", "social:write", "influencers:write",
    "content:read", "content:write", "jobs:read", "jobs:cancel", "publish:read", "publish:write",
    # Tier 3 scopes: granted and held, checked by no Tier 1 or Tier 2 route.
    "ingest:write", "leased:write", "metrics:read", "ads:read", "content:approve",
    "github:admin", "layer:write",
]  # fmt: skip


@attrs.frozen
class ChildApiKey(LayersModel):
    """A key of a child organization, masked: it never holds the secret."""

    id: str
    """The key id, `key_<uuid>`."""
    organization_id: str
    """The child organization the key belongs to, `org_<uuid>`."""
    name: str
    """The key's name, 1-120 characters."""
    prefix: str
    """The log-safe public part of the key, `lp_<env>_<keyId16>`."""
    env: str
    """`live` or `test` (`ApiKeyEnv`): test keys spend no credits."""
    scopes: tuple[str, ...]
    """The scopes granted (`ApiKeyScope`), never `org:admin`."""
    rate_limit_tier: str
    """The calling key's tier for a live key, `sandbox` for a test key."""
    status: str
    """`active` or `revoked` (revoked, killed and deleted keys all show `revoked`)."""
    created_at: datetime
    """When the key was minted."""
    last_used_at: datetime | None = None
    """When the key last made an authenticated request; None if it never did."""
    rotated_at: datetime | None = None
    """When the key was last rotated; None if it never was."""
    revoked_at: datetime | None = None
    """When the key stopped working; None while `active`."""
    grace_until: datetime | None = None
    """During a rotation's grace period: when this (old) key stops working; else None."""
    superseded_by: str | None = None
    """During a rotation's grace period: the id of the key that replaces it; else None."""


@attrs.frozen
class ChildApiKeyCreated(LayersModel):
    """A minted child key and its `secret`, shown this once (a repeat of the same call, same
    Idempotency-Key, answers the same secret within 24 hours)."""

    api_key: ChildApiKey
    """The new key, masked."""
    secret: Secret
    """The full key, shown only here: store it now."""
    warning: str = ""
    """The server's reminder to store the secret; empty if it sent none."""


@attrs.frozen
class ChildApiKeyRotated(LayersModel):
    """A rotation: the new key with its `secret`, and the previous key, which keeps working
    until its `grace_until` (24 hours)."""

    api_key: ChildApiKey
    """The new key, masked."""
    secret: Secret
    """The new key's full secret, shown only here: store it now."""
    previous_api_key: ChildApiKey
    """The old key, which works until its `grace_until` (24 hours)."""
    warning: str = ""
    """The server's reminder to store the secret; empty if it sent none."""


@attrs.frozen
class ChildApiKeyRevoked(LayersModel):
    """A revoked child key (immediate, no grace)."""

    api_key: ChildApiKey
    """The key, now `revoked` with `revoked_at` set."""
    deleted: bool = True
    """Always True."""


@attrs.frozen
class OwnApiKey(LayersModel):
    """A key of your own organization, as kill and rotate answer it."""

    id: str
    """The key id, `key_<uuid>`; a rotation keeps it."""
    organization_id: str
    """Your organization, `org_<uuid>`."""
    name: str
    """The key's name."""
    prefix: str
    """The log-safe public part of the key; rotation replaces it."""
    kill_switch: bool
    """True once the key was killed (until it is rotated)."""
    is_active: bool
    """False while the key is killed."""
    rotated_at: datetime | None = None
    """When the key was last rotated; None if it never was."""
    revoked_at: datetime | None = None
    """When the key was killed; None when it is not (again None after a rotation)."""


@attrs.frozen
class ApiKeyKilled(LayersModel):
    """An emergency stop: every later request with the key gets `KillSwitchError`
    (scope ``"key"``) until the key is rotated."""

    api_key: OwnApiKey
    """The killed key."""
    killed: bool = True
    """Always True (killing a killed key answers the same)."""


@attrs.frozen
class ApiKeyRotated(LayersModel):
    """An own key rotated in place: same id, new prefix and `secret`; the old secret is refused
    from now on. Rotation also re-activates a killed key."""

    api_key: OwnApiKey
    """The key with its new prefix and `rotated_at`."""
    secret: Secret
    """The new full key, shown only here: store it now."""
    warning: str = ""
    """The server's reminder to store the secret; empty if it sent none."""
