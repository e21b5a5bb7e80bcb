"""Credits: the wallet and ledger of the effective organization (`client.credits`, contract
§3.1.2, §3.14), and a child's wallet, ledger, allocations and credit config
(`client.organizations.credits`, `client.organizations.credit_config`, contract §3.12)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from .._pagination import AsyncPaginator
from .._transport import NOT_GIVEN, NotGiven
from .._validation import (
    check_datetime,
    check_enum,
    check_id,
    check_int,
    check_str,
    check_string_map,
    fail,
)
from ..models import JSON
from ..models.credits import (
    CreditAllocation,
    CreditEvent,
    CreditEventType,
    OrganizationCreditConfig,
)
from ..models.identity import Wallet
from ._base import ListOptions, Params, RequestOptions, Resource, Unpack, call_options, list_options

__all__ = ["ChildCreditConfig", "ChildCredits", "Credits"]

#: The largest credit amount sent: the largest integer every JSON reader keeps exact.
MAX_CREDITS = 2**53 - 1


def _ledger_params(
    project_id: str | None,
    event_type: CreditEventType | None,
    since: datetime | None,
    until: datetime | None,
) -> Params:
    """The filters of a ledger listing (contract §3.14.1)."""
    params: Params = []
    if project_id is not None:
        params.append(("projectId", check_id("project_id", project_id, "prj")))
    if event_type is not None:
        params.append(("eventType", check_enum("event_type", event_type, CreditEventType)))
    if since is not None:
        params.append(("since", check_datetime("since", since)))
    if until is not None:
        params.append(("until", check_datetime("until", until)))
    return params


def child_path(org_id: str) -> str:
    """A child organization's path prefix (`org_<uuid>` or a bare UUID)."""
    return "/v1/organizations/" + check_id("org_id", org_id, "org")


class Credits(Resource):
    """Credit balances and the ledger of the organization. Gate generation on `available`."""

    __slots__ = ()

    async def get(self, **options: Unpack[RequestOptions]) -> Wallet:
        """The wallet (`GET /v1/credits`)."""
        opts = call_options(options)
        return await self._read(Wallet, "/v1/credits", opts)

    def events(
        self,
        *,
        project_id: str | None = None,
        event_type: CreditEventType | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[CreditEvent]:
        """The organization's credit ledger, newest first (`GET /v1/credits/events`).

        `project_id` keeps one project's events (organization-level ones are left out);
        `since`/`until` are timezone-aware datetimes bounding `created_at` (inclusive);
        `limit` 1-100 per page. Await for a page; `async for` for every event.
        """
        call = list_options(options)
        params = _ledger_params(project_id, event_type, since, until)
        return self._list(CreditEvent, "/v1/credits/events", params, call, hi=100)


def _credits(field: str, value: object, lo: int) -> int:
    return check_int(field, value, lo, MAX_CREDITS)


class ChildCredits(Resource):
    """A child organization's wallet: fund it from your prepaid balance, read it, read its
    ledger (`client.organizations.credits`; needs org:admin)."""

    __slots__ = ()

    async def allocate(
        self,
        org_id: str,
        *,
        credits: int,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> CreditAllocation:
        """Move `credits` (a positive integer) from your prepaid balance to the child's
        (`POST /v1/organizations/{org_id}/credits/allocate`).

        The API requires an Idempotency-Key here; the SDK always sends one (made per call and
        reused by its retries). Pass your own ``idempotency_key=`` derived from your records
        (e.g. ``f"fund-{customer_id}-{month}"``) so that rerunning the call after a crash
        moves the credits once: the repeat answers the same allocation with
        ``replayed=True``. Raises `PaymentRequiredError` when your balance cannot cover it,
        `ConflictError` for an archived child.
        """
        opts = call_options(options)
        path = child_path(org_id) + "/credits/allocate"
        body: dict[str, JSON] = {"credits": _credits("credits", credits, 1)}
        if description is not None:
            body["description"] = check_str("description", description, max_len=500)
        if metadata is not None:
            body["metadata"] = dict(check_string_map("metadata", metadata))
        return await self._write(CreditAllocation, "POST", path, opts, body=body)

    async def get(self, org_id: str, **options: Unpack[RequestOptions]) -> Wallet:
        """The child's wallet (`GET /v1/organizations/{org_id}/credits`)."""
        opts = call_options(options)
        return await self._read(Wallet, child_path(org_id) + "/credits", opts)

    def events(
        self,
        org_id: str,
        *,
        project_id: str | None = None,
        event_type: CreditEventType | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[CreditEvent]:
        """The child's credit ledger, newest first, filtered as `client.credits.events`
        (`GET /v1/organizations/{org_id}/credits/events`); allocations show as positive
        `allocation` events."""
        call = list_options(options)
        path = child_path(org_id) + "/credits/events"
        params = _ledger_params(project_id, event_type, since, until)
        return self._list(CreditEvent, path, params, call, hi=100)


class ChildCreditConfig(Resource):
    """A child's monthly credit cap and auto-refill rule (`client.organizations.credit_config`;
    needs org:admin)."""

    __slots__ = ()

    async def get(self, org_id: str, **options: Unpack[RequestOptions]) -> OrganizationCreditConfig:
        """The config with the child's balances (`GET /v1/organizations/{org_id}/credit-config`)."""
        opts = call_options(options)
        path = child_path(org_id) + "/credit-config"
        return await self._read(OrganizationCreditConfig, path, opts)

    async def update(
        self,
        org_id: str,
        *,
        monthly_credit_cap: int | NotGiven | None = NOT_GIVEN,
        refill_threshold: int | NotGiven | None = NOT_GIVEN,
        refill_amount: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> OrganizationCreditConfig:
        """Change the config (`PATCH`): a number sets, None clears, an omitted field stays.

        `monthly_credit_cap` (≥ 0) limits the child's usage per billing period. When the
        child's available credits drop below `refill_threshold` (≥ 0), `refill_amount` (> 0)
        moves from your prepaid balance; the two are set or cleared together (after the
        change both are set or both None, else the API answers 422).
        """
        opts = call_options(options)
        path = child_path(org_id) + "/credit-config"
        body: dict[str, JSON] = {}
        given = (
            ("monthly_credit_cap", "monthlyCreditCap", monthly_credit_cap, 0),
            ("refill_threshold", "refillThreshold", refill_threshold, 0),
            ("refill_amount", "refillAmount", refill_amount, 1),
        )
        for field, wire, value, lo in given:
            if not isinstance(value, NotGiven):
                body[wire] = None if value is None else _credits(field, value, lo)
        if not body:
            raise fail("update", "needs at least one field to change")
        pair = (body.get("refillThreshold", NOT_GIVEN), body.get("refillAmount", NOT_GIVEN))
        if NOT_GIVEN not in pair and (pair[0] is None) != (pair[1] is None):
            raise fail("refill_amount", "must be set or cleared together with refill_threshold")
        return await self._write(OrganizationCreditConfig, "PATCH", path, opts, body=body)
