"""`client.projects`: create, get, list, update, archive (contract §3.2)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from .._pagination import AsyncPaginator
from .._transport import NOT_GIVEN, NotGiven
from .._validation import (
    BCP47,
    EMAIL,
    check_enum,
    check_id,
    check_metadata,
    check_str,
    fail,
)
from ..models import JSON
from ..models.projects import (
    BrandVoice,
    Project,
    ProjectArchived,
    ProjectStatus,
    ProjectSummary,
    TargetGender,
)
from ._base import ListOptions, Params, RequestOptions, Resource, call_options, list_options

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Projects", "validate_project_fields"]


def _fields(
    *,
    name: object,
    timezone: object,
    customer_external_id: object,
    owner_email: object,
    primary_language: object,
    app_name: object,
    app_description: object,
    tagline: object,
    brand_voice: object,
    target_gender: object,
    metadata: object,
    patch: bool,
) -> dict[str, JSON]:
    """Validate project fields; NOT_GIVEN means omitted, None clears (PATCH, where allowed)."""
    body: dict[str, JSON] = {}

    def put(wire: str, value: object, check: Callable[[object], JSON], *, clearable: bool) -> None:
        if isinstance(value, NotGiven):
            return
        if value is None:
            if patch and clearable:
                body[wire] = None
                return
            if patch:
                raise fail(_SNAKE[wire], "cannot be cleared (None is not allowed)")
            return  # on create, None means omitted
        body[wire] = check(value)

    put("name", name, lambda v: check_str("name", v, min_len=3, max_len=30), clearable=False)
    put("timezone", timezone, lambda v: _tz(v), clearable=False)
    put(
        "customerExternalId",
        customer_external_id,
        lambda v: check_str("customer_external_id", v, min_len=1, max_len=128),
        clearable=True,
    )
    put(
        "ownerEmail",
        owner_email,
        lambda v: check_str(
            "owner_email", v, min_len=3, max_len=254, pattern=EMAIL, what="an email address"
        ),
        clearable=True,
    )
    put(
        "primaryLanguage",
        primary_language,
        lambda v: check_str(
            "primary_language", v, min_len=2, max_len=35, pattern=BCP47, what="a BCP 47 tag"
        ),
        clearable=False,
    )
    put(
        "appName",
        app_name,
        lambda v: check_str("app_name", v, min_len=3, max_len=30),
        clearable=True,
    )
    put(
        "appDescription",
        app_description,
        lambda v: check_str("app_description", v, min_len=100, max_len=1000),
        clearable=True,
    )
    put(
        "tagline", tagline, lambda v: check_str("tagline", v, min_len=1, max_len=80), clearable=True
    )
    put(
        "brandVoice",
        brand_voice,
        lambda v: check_enum("brand_voice", v, BrandVoice),
        clearable=False,
    )
    put(
        "targetGender",
        target_gender,
        lambda v: check_enum("target_gender", v, TargetGender),
        clearable=False,
    )
    put("metadata", metadata, lambda v: check_metadata("metadata", v), clearable=False)
    return body


_SNAKE = {
    "name": "name",
    "timezone": "timezone",
    "primaryLanguage": "primary_language",
    "brandVoice": "brand_voice",
    "targetGender": "target_gender",
    "metadata": "metadata",
}


def _tz(value: object) -> str:
    tz = check_str("timezone", value, min_len=1, max_len=64)
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(tz)
    except (ValueError, KeyError, OSError):
        raise fail(
            "timezone", f"must be an IANA time zone name such as 'UTC' (got {tz!r})"
        ) from None
    return tz


#: Every project field `validate_project_fields` knows, each omitted unless given.
_OMITTED: dict[str, object] = dict.fromkeys(
    (
        "name",
        "timezone",
        "customer_external_id",
        "owner_email",
        "primary_language",
        "app_name",
        "app_description",
        "tagline",
        "brand_voice",
        "target_gender",
        "metadata",
    ),
    NOT_GIVEN,
)


def validate_project_fields(**fields: object) -> dict[str, JSON]:
    """Check project fields with the rules `Projects.create` applies, sending nothing.

    Keywords are `create`'s fields (``name``, ``timezone``, ``app_description``,
    ``brand_voice``, ...); the ones not given, or given as None, are not checked. Returns the
    JSON body they become; raises `LayersValidationError` naming the first bad field, and
    `TypeError` for a keyword that is not a project field. For tools that check a batch of
    input before sending any of it (``layers-async onboard`` does, row by row).
    """
    unknown = sorted(fields.keys() - _OMITTED.keys())
    if unknown:
        raise TypeError(f"not project fields: {', '.join(unknown)}")
    return _fields(**{**_OMITTED, **fields}, patch=False)


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
        body = _fields(
            name=name,
            timezone=timezone,
            customer_external_id=customer_external_id,
            owner_email=owner_email,
            primary_language=primary_language,
            app_name=app_name,
            app_description=app_description,
            tagline=tagline,
            brand_voice=brand_voice,
            target_gender=target_gender,
            metadata=metadata,
            patch=False,
        )
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
        body = _fields(
            name=name,
            timezone=timezone,
            customer_external_id=customer_external_id,
            owner_email=owner_email,
            primary_language=primary_language,
            app_name=app_name,
            app_description=app_description,
            tagline=tagline,
            brand_voice=brand_voice,
            target_gender=target_gender,
            metadata=metadata,
            patch=True,
        )
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
