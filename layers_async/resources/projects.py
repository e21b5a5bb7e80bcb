"""`client.projects`: create, get, list, update, archive (contract §3.2), and a project's
content review policy (contract §3.16.3, §3.16.4)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import NamedTuple

from .._pagination import AsyncPaginator
from .._transport import NOT_GIVEN, NotGiven
from .._validation import (
    BCP47,
    EMAIL,
    check_enum,
    check_id,
    check_int,
    check_metadata,
    check_str,
    fail,
)
from ..models import JSON
from ..models.approvals import ReviewPolicy, ReviewPolicyName
from ..models.projects import (
    BrandVoice,
    Project,
    ProjectArchived,
    ProjectStatus,
    ProjectSummary,
    TargetGender,
)
from ._base import ListOptions, Params, RequestOptions, Resource, Unpack, call_options, list_options

__all__ = ["Projects", "validate_project_fields"]


#: A project field's check: its keyword and the value given, to the JSON sent.
_Check = Callable[[str, object], JSON]


def _text(
    min_len: int, max_len: int, pattern: re.Pattern[str] | None = None, what: str = ""
) -> _Check:
    """A string of `min_len` to `max_len` characters, matching `pattern` (`what`) if given."""
    return partial(check_str, min_len=min_len, max_len=max_len, pattern=pattern, what=what)


def _choice(literal: object) -> _Check:
    """One of the values of the `Literal` type `literal`."""
    return partial(check_enum, choices=literal)


def _tz(field: str, value: object) -> str:
    """An IANA time zone name this Python knows."""
    tz = check_str(field, value, min_len=1, max_len=64)
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(tz)
    except (ValueError, KeyError, OSError):
        raise fail(field, f"must be an IANA time zone name such as 'UTC' (got {tz!r})") from None
    return tz


class _Rule(NamedTuple):
    wire: str
    check: _Check
    clearable: bool = False


#: Every project field, by keyword, in the order its checks run and its body is sent: the
#: wire name, the check, and whether `update` may clear it with None.
_RULES: dict[str, _Rule] = {
    "name": _Rule("name", _text(3, 30)),
    "timezone": _Rule("timezone", _tz),
    "customer_external_id": _Rule("customerExternalId", _text(1, 128), clearable=True),
    "owner_email": _Rule("ownerEmail", _text(3, 254, EMAIL, "an email address"), clearable=True),
    "primary_language": _Rule("primaryLanguage", _text(2, 35, BCP47, "a BCP 47 tag")),
    "app_name": _Rule("appName", _text(3, 30), clearable=True),
    "app_description": _Rule("appDescription", _text(100, 1000), clearable=True),
    "tagline": _Rule("tagline", _text(1, 80), clearable=True),
    "brand_voice": _Rule("brandVoice", _choice(BrandVoice)),
    "target_gender": _Rule("targetGender", _choice(TargetGender)),
    "metadata": _Rule("metadata", check_metadata),
}


def _fields(*, patch: bool, **given: object) -> dict[str, JSON]:
    """Validate project fields; NOT_GIVEN means omitted, None clears (PATCH, where allowed)."""
    body: dict[str, JSON] = {}
    for field, (wire, check, clearable) in _RULES.items():
        value = given.get(field, NOT_GIVEN)
        if isinstance(value, NotGiven):
            continue
        if value is None:
            if patch and not clearable:
                raise fail(field, "cannot be cleared (None is not allowed)")
            if patch:
                body[wire] = None
            continue  # on create, None means omitted
        body[wire] = check(field, value)
    return body


def _field_arguments(arguments: Mapping[str, object]) -> dict[str, object]:
    """The project fields among a method's arguments (its `locals()`): every keyword of
    `_RULES`, so that `create` and `update` send each field they take, by one table."""
    return {field: arguments[field] for field in _RULES if field in arguments}


def validate_project_fields(**fields: object) -> dict[str, JSON]:
    """Check project fields with the rules `Projects.create` applies, sending nothing.

    Keywords are `create`'s fields (``name``, ``timezone``, ``app_description``,
    ``brand_voice``, ...); the ones not given, or given as None, are not checked. Returns the
    JSON body they become; raises `LayersValidationError` naming the first bad field, and
    `TypeError` for a keyword that is not a project field. For tools that check a batch of
    input before sending any of it (``layers-async onboard`` does, row by row).
    """
    unknown = sorted(fields.keys() - _RULES.keys())
    if unknown:
        raise TypeError(f"not project fields: {', '.join(unknown)}")
    return _fields(patch=False, **fields)


def _policy_path(project_id: str) -> str:
    """The review policy of a project, its id checked."""
    return f"/v1/projects/{check_id('project_id', project_id, 'prj')}/content-review-policy"


class Projects(Resource):
    """Customer projects: one per customer; `customer_external_id` binds it to your own id."""

    __slots__ = ()

    async def create(
        self,
        *,
        name: str,
        timezone: str,
        customer_external_id: str | None = None,
        owner_email: str | None = None,
        primary_language: str | None = None,
        app_name: str | None = None,
        app_description: str | None = None,
        tagline: str | None = None,
        brand_voice: BrandVoice | None = None,
        target_gender: TargetGender | None = None,
        metadata: Mapping[str, JSON] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Project:
        """Create a project (`POST /v1/projects`); with `app_description`, research and a first
        influencer start in the background. Raises `ConflictError` when `customer_external_id`
        is taken (`details["projectId"]` names the existing project)."""
        opts = call_options(options)
        if isinstance(name, NotGiven) or name is None:
            raise fail("name", "is required")
        if timezone is None:
            raise fail("timezone", "is required (use 'UTC' if there is no preference)")
        body = _fields(patch=False, **_field_arguments(locals()))
        return await self._write(Project, "POST", "/v1/projects", opts, body=body)

    async def get(self, project_id: str, **options: Unpack[RequestOptions]) -> Project:
        """Fetch one project (`prj_<uuid>` or a bare UUID)."""
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        return await self._read(Project, f"/v1/projects/{pid}", opts)

    def list(
        self,
        *,
        status: ProjectStatus | None = None,
        search: str | None = None,
        customer_external_id: str | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[ProjectSummary]:
        """List projects, newest first (`limit` 1-200 per page). `customer_external_id` finds
        the one project bound to your id. Await for a page; `async for` for every project."""
        call = list_options(options)
        params: Params = []
        if status is not None:
            params.append(("status", check_enum("status", status, ProjectStatus)))
        if search is not None:
            params.append(("search", check_str("search", search, min_len=1, max_len=200)))
        if customer_external_id is not None:
            params.append(
                (
                    "customerExternalId",
                    check_str("customer_external_id", customer_external_id, min_len=1, max_len=128),
                )
            )
        return self._list(ProjectSummary, "/v1/projects", params, call, hi=200)

    async def update(
        self,
        project_id: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        status: ProjectStatus | NotGiven = NOT_GIVEN,
        timezone: str | NotGiven = NOT_GIVEN,
        customer_external_id: str | NotGiven | None = NOT_GIVEN,
        owner_email: str | NotGiven | None = NOT_GIVEN,
        primary_language: str | NotGiven = NOT_GIVEN,
        app_name: str | NotGiven | None = NOT_GIVEN,
        app_description: str | NotGiven | None = NOT_GIVEN,
        tagline: str | NotGiven | None = NOT_GIVEN,
        brand_voice: BrandVoice | NotGiven = NOT_GIVEN,
        target_gender: TargetGender | NotGiven = NOT_GIVEN,
        metadata: Mapping[str, JSON] | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Project:
        """Change fields (`PATCH`); omitted ones stay, None clears the clearable ones
        (`customer_external_id`, `owner_email`, `app_name`, `app_description`, `tagline`).
        `status="archived"` archives like `archive()`; `"active"` un-archives."""
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        body = _fields(patch=True, **_field_arguments(locals()))
        if not isinstance(status, NotGiven):
            body["status"] = check_enum("status", status, ProjectStatus)
        if not body:
            raise fail("update", "needs at least one field to change")
        return await self._write(Project, "PATCH", f"/v1/projects/{pid}", opts, body=body)

    async def archive(self, project_id: str, **options: Unpack[RequestOptions]) -> ProjectArchived:
        """Archive (`DELETE`): cancels queued posts and running jobs; reversible with
        `update(project_id, status="active")`."""
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        return await self._write(ProjectArchived, "DELETE", f"/v1/projects/{pid}", opts)

    async def get_review_policy(
        self, project_id: str, **options: Unpack[RequestOptions]
    ) -> ReviewPolicy:
        """The project's content review policy and its count of containers awaiting approval
        (`GET /v1/projects/{project_id}/content-review-policy`; any key, no scope)."""
        return await self._read(ReviewPolicy, _policy_path(project_id), call_options(options))

    async def update_review_policy(
        self,
        project_id: str,
        *,
        policy: ReviewPolicyName,
        first_n: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> ReviewPolicy:
        """Set the project's content review policy (`PATCH …/content-review-policy`).

        `policy` is `auto_approve` (no review), `review_all`, or `review_first_n` with
        `first_n` (1-50, required with it and refused otherwise): content is held for approval
        until the project has `first_n` approved containers. The policy applies to content that
        completes afterwards, and the project's `requires_approval` follows it.
        """
        opts = call_options(options)
        path = _policy_path(project_id)
        body: dict[str, JSON] = {"policy": check_enum("policy", policy, ReviewPolicyName)}
        if policy == "review_first_n":
            if first_n is None:
                raise fail("first_n", "is required with policy='review_first_n'")
            body["firstN"] = check_int("first_n", first_n, 1, 50)
        elif first_n is not None:
            raise fail("first_n", "is allowed only with policy='review_first_n'")
        return await self._write(ReviewPolicy, "PATCH", path, opts, body=body)
