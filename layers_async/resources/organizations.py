"""`client.organizations`: child organizations (contract §3.10, §4.8) with their keys, wallets
and credit config as sub-namespaces (§3.11, §3.12). Every route needs org:admin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._pagination import AsyncPaginator
from .._transport import NOT_GIVEN, NotGiven
from .._validation import EMAIL, check_enum, check_str, check_string_map, fail
from ..models import JSON
from ..models.organizations import (
    Organization,
    OrganizationArchived,
    OrganizationDetail,
    OrganizationStatus,
)
from ._base import ListOptions, Params, RequestOptions, Resource, Unpack, call_options, list_options
from .api_keys import ChildApiKeys
from .credits import ChildCreditConfig, ChildCredits, child_path

if TYPE_CHECKING:
    from .._client import LayersClient

__all__ = ["Organizations"]


def _name(value: object) -> str:
    return check_str("name", value, min_len=1, max_len=128)


def _email(value: object) -> str:
    return check_str("billing_email", value, min_len=3, max_len=254, pattern=EMAIL, what="an email")


class Organizations(Resource):
    """Child organizations, one per customer: each with its own wallet, keys and projects.

    You act on a child in two ways: ``client.for_organization(org_id)`` sends your key with
    the child's id (your key's rate limits), or a child key minted with
    ``client.organizations.api_keys.create(...)`` and used through
    ``client.with_options(api_key=secret)`` (the child key's own limits). The child's keys,
    wallet and credit config are sub-namespaces:

    - ``client.organizations.api_keys``: `create`, `list`, `rotate`, `revoke` a child's keys;
    - ``client.organizations.credits``: `allocate` credits to a child, `get` its wallet, its
      ledger `events`;
    - ``client.organizations.credit_config``: `get` and `update` its monthly cap and refill.

    Each takes the child's `org_id` (``org_<uuid>`` or a bare UUID) first.
    """

    __slots__ = ("api_keys", "credit_config", "credits")

    api_keys: ChildApiKeys
    credits: ChildCredits
    credit_config: ChildCreditConfig

    def __init__(self, client: LayersClient) -> None:
        super().__init__(client)
        self.api_keys = ChildApiKeys(client)
        self.credits = ChildCredits(client)
        self.credit_config = ChildCreditConfig(client)

    async def create(
        self,
        *,
        name: str,
        metadata: Mapping[str, str] | None = None,
        billing_email: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Organization:
        """Create a child (`POST /v1/organizations`): active, with an empty wallet.

        `name` 1-128 characters; `metadata` maps strings to strings (keys ≤ 40 characters,
        values ≤ 500, ≤ 50 keys, ≤ 16 KB), e.g. ``{"externalId": "acme-coffee"}`` to find it
        again. Pass an ``idempotency_key`` derived from your own customer id so that a rerun
        after a crash does not create a second child. A child cannot have children (422).
        """
        opts = call_options(options)
        body: dict[str, JSON] = {"name": _name(name)}
        if metadata is not None:
            body["metadata"] = dict(check_string_map("metadata", metadata))
        if billing_email is not None:
            body["billingEmail"] = _email(billing_email)
        return await self._write(Organization, "POST", "/v1/organizations", opts, body=body)

    def list(
        self,
        *,
        status: OrganizationStatus | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[Organization]:
        """Your direct children, newest first, archived ones included unless `status` says
        otherwise (`GET /v1/organizations`; `limit` 1-200 per page). Await for a page;
        `async for` for every child."""
        call = list_options(options)
        params: Params = []
        if status is not None:
            params.append(("status", check_enum("status", status, OrganizationStatus)))
        return self._list(Organization, "/v1/organizations", params, call, hi=200)

    async def get(self, org_id: str, **options: Unpack[RequestOptions]) -> OrganizationDetail:
        """One child with its `summary`: project count, balance and credit config
        (`GET /v1/organizations/{org_id}`). Archived children stay readable."""
        opts = call_options(options)
        return await self._read(OrganizationDetail, child_path(org_id), opts)

    async def update(
        self,
        org_id: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        metadata: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        billing_email: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Organization:
        """Change a child (`PATCH /v1/organizations/{org_id}`); omitted fields stay.

        `metadata` is merged key by key: keys sent are set, a key sent as ``""`` is removed,
        others are kept; ``metadata=None`` clears it all. ``billing_email=None`` clears the
        email. Raises `ConflictError` for an archived child.
        """
        opts = call_options(options)
        path = child_path(org_id)
        body: dict[str, JSON] = {}
        if not isinstance(name, NotGiven):
            body["name"] = _name(name)
        if not isinstance(metadata, NotGiven):
            body["metadata"] = (
                None if metadata is None else dict(check_string_map("metadata", metadata))
            )
        if not isinstance(billing_email, NotGiven):
            body["billingEmail"] = None if billing_email is None else _email(billing_email)
        if not body:
            raise fail("update", "needs at least one field to change")
        return await self._write(Organization, "PATCH", path, opts, body=body)

    async def suspend(self, org_id: str, **options: Unpack[RequestOptions]) -> Organization:
        """The per-customer kill switch (`POST …/suspend`): the child's own keys get
        `KillSwitchError` (``scope == "organization"``), no new generation starts, queued posts
        hold. You can still read and manage the child. Suspending a suspended child answers
        the same; an archived one raises `ConflictError`."""
        opts = call_options(options)
        return await self._write(Organization, "POST", child_path(org_id) + "/suspend", opts)

    async def resume(self, org_id: str, **options: Unpack[RequestOptions]) -> Organization:
        """Back to active (`POST …/resume`): held posts whose time has passed publish at once.
        Resuming an active child answers the same; an archived one raises `ConflictError`."""
        opts = call_options(options)
        return await self._write(Organization, "POST", child_path(org_id) + "/resume", opts)

    async def archive(self, org_id: str, **options: Unpack[RequestOptions]) -> OrganizationArchived:
        """Offboard a child for good (`DELETE /v1/organizations/{org_id}`): its keys are
        revoked, its unspent credits swept back to you (`reclaimed_credits`), its queued posts
        canceled. Terminal: a repeat answers the values of the first."""
        opts = call_options(options)
        return await self._write(OrganizationArchived, "DELETE", child_path(org_id), opts)
