"""API keys: your organization's own keys (`client.api_keys`: kill, rotate; contract §3.13) and
the keys of child organizations (`client.organizations.api_keys`; contract §3.11)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import get_args

from .._pagination import AsyncPaginator
from .._validation import check_enum, check_id, check_str, fail
from ..models import JSON
from ..models.api_keys import (
    ApiKeyEnv,
    ApiKeyKilled,
    ApiKeyRotated,
    ApiKeyScope,
    ChildApiKey,
    ChildApiKeyCreated,
    ChildApiKeyRevoked,
    ChildApiKeyRotated,
    ChildApiKeyStatus,
)
from ._base import ListOptions, Params, RequestOptions, Resource, Unpack, call_options, list_options
from .credits import child_path

__all__ = ["ApiKeys", "ChildApiKeys"]

_SCOPES = frozenset(get_args(ApiKeyScope))
#: Tier 3 ads scopes: ``ads:write:<name>``.
_ADS_WRITE = re.compile(r"ads:write:[a-z_]+")


def _scopes(value: object) -> list[str]:
    """1 to 64 scopes a child key may hold: never `org:admin`, which no child key can have."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not 1 <= len(value) <= 64:
        raise fail("scopes", "must be a sequence of 1 to 64 scope strings")
    for scope in value:
        if scope == "org:admin":
            raise fail("scopes", "org:admin cannot be given to a child key")
        if not isinstance(scope, str) or not (scope in _SCOPES or _ADS_WRITE.fullmatch(scope)):
            check_enum("scopes", scope, ApiKeyScope)  # raises, naming the known scopes
    return list(value)


def _key(key_id: str) -> str:
    return check_id("key_id", key_id, "key")


class ApiKeys(Resource):
    """Your organization's own keys: the emergency stop and rotation (no scope needed; any key
    of the organization may act on any other)."""

    __slots__ = ()

    async def kill(self, key_id: str, **options: Unpack[RequestOptions]) -> ApiKeyKilled:
        """Stop a key at once (`POST /v1/api-keys/{key_id}/kill`): every later request with it
        raises `KillSwitchError` with ``scope == "key"``. Only `rotate` brings it back. A key
        may kill itself; killing a killed key answers the same."""
        opts = call_options(options)
        return await self._write(ApiKeyKilled, "POST", f"/v1/api-keys/{_key(key_id)}/kill", opts)

    async def rotate(self, key_id: str, **options: Unpack[RequestOptions]) -> ApiKeyRotated:
        """New prefix and secret for a key, same id (`POST /v1/api-keys/{key_id}/rotate`); the
        old secret is refused from now on, and a killed key is active again.

        The new `secret` is shown once. A repeat with the same ``idempotency_key`` answers the
        same secret, but only when sent with another key of the organization: a key that
        rotates itself cannot repeat the call (its old secret is refused first).
        """
        opts = call_options(options)
        path = f"/v1/api-keys/{_key(key_id)}/rotate"
        return await self._write(ApiKeyRotated, "POST", path, opts)


class ChildApiKeys(Resource):
    """The keys of a child organization (`client.organizations.api_keys`; needs org:admin). A
    child key sees only its organization, never holds org:admin, and has its own rate limits."""

    __slots__ = ()

    async def create(
        self,
        org_id: str,
        *,
        name: str,
        scopes: Sequence[ApiKeyScope],
        env: ApiKeyEnv | None = None,
        **options: Unpack[RequestOptions],
    ) -> ChildApiKeyCreated:
        """Mint a key of the child (`POST /v1/organizations/{org_id}/api-keys`).

        `scopes` (1-64) must be scopes your key holds (`*` grants every scope but
        org:admin); `env` is ``"live"`` (default) or ``"test"``. The answer's `secret` is a
        `Secret`, shown once: ``secret.reveal()`` gives it to your secrets store. A repeat with
        the same ``idempotency_key`` within 24 hours answers the same key and secret. Raises
        `PermissionDeniedError` for a scope you cannot grant, `ConflictError` for an
        archived child.
        """
        opts = call_options(options)
        path = child_path(org_id) + "/api-keys"
        body: dict[str, JSON] = {
            "name": check_str("name", name, min_len=1, max_len=120),
            "scopes": list(_scopes(scopes)),
        }
        if env is not None:
            body["env"] = check_enum("env", env, ApiKeyEnv)
        return await self._write(ChildApiKeyCreated, "POST", path, opts, body=body)

    def list(
        self,
        org_id: str,
        *,
        status: ChildApiKeyStatus | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[ChildApiKey]:
        """The child's keys, masked, newest first (`GET /v1/organizations/{org_id}/api-keys`;
        `limit` 1-100 per page). Await for a page; `async for` for every key."""
        call = list_options(options)
        path = child_path(org_id) + "/api-keys"
        params: Params = []
        if status is not None:
            params.append(("status", check_enum("status", status, ChildApiKeyStatus)))
        return self._list(ChildApiKey, path, params, call, hi=100)

    async def rotate(
        self, org_id: str, key_id: str, **options: Unpack[RequestOptions]
    ) -> ChildApiKeyRotated:
        """Replace a child key (`POST …/api-keys/{key_id}/rotate`): a new key (new id and
        `secret`); the old one works for 24 hours more (`previous_api_key.grace_until`). A key
        is rotated once: rotating it again raises `ConflictError`."""
        opts = call_options(options)
        path = f"{child_path(org_id)}/api-keys/{_key(key_id)}/rotate"
        return await self._write(ChildApiKeyRotated, "POST", path, opts)

    async def revoke(
        self, org_id: str, key_id: str, **options: Unpack[RequestOptions]
    ) -> ChildApiKeyRevoked:
        """Revoke a child key at once, no grace (`DELETE …/api-keys/{key_id}`); its next request
        raises `AuthenticationError`. Revoking a revoked key answers the same."""
        opts = call_options(options)
        path = f"{child_path(org_id)}/api-keys/{_key(key_id)}"
        return await self._write(ChildApiKeyRevoked, "DELETE", path, opts)
