"""What the `/v1` handlers of several namespaces share: endpoint classes, path parameters,
lookups scoped to the caller's organization, pagination and the running-jobs cap."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import attrs

from .._clock import parse_client_ts, real_seconds
from .._errors import ApiError, Issues, not_found
from .._models import Project
from .._routing import LONG, Ctx, Handler, Out, Param, Query, paginate
from .._validate import Body

__all__ = [
    "BRAND_VOICES",
    "CNT",
    "PRJ",
    "PROJECT",
    "Listing",
    "default_gender",
    "expect_empty_body",
    "fetch_one",
    "find",
    "jobs_cap",
    "page",
    "project_listing",
    "project_of",
    "query",
    "require_a_field",
    "scheduled_for",
    "since_until",
]

T = TypeVar("T")

#: The path of one project; most routes hang below it.
PROJECT = "/v1/projects/{projectId}"
#: Project and content ids may be given as a bare UUID as well as `prj_`/`cnt_` prefixed.
PRJ = Param("prj", bare_ok=True)
CNT = Param("cnt", bare_ok=True)

BRAND_VOICES = ("authentic", "witty", "professional", "warm", "casual", "educational")

#: A post may be scheduled no sooner than 30 seconds from now.
_MIN_LEAD_MS = 30_000
#: When no running job gives a better hint, a refused job start is retried after one second.
_DEFAULT_JOB_WAIT_MS = 1000


def query(ctx: Ctx, issues: Issues) -> Query:
    """The request's query string, recording its problems in `issues`."""
    return Query(ctx.query, issues)


def expect_empty_body(ctx: Ctx, issues: Issues) -> None:
    """Routes without a body accept none, `{}` or an empty object; anything else is a 422."""
    Body(ctx.json_body(issues), (), issues)
    issues.raise_if_any()


def require_a_field(data: dict[str, Any] | None, issues: Issues) -> None:
    """A PATCH must change something: an empty object is a 422 at path ""."""
    if data == {}:
        issues.add("", "At least one field is required.")


def project_of(ctx: Ctx) -> Project:
    """The `{projectId}` of the path, in the caller's organization (else 404)."""
    return ctx.world.project_for(ctx.org.id, ctx.params["projectId"])


def find(ctx: Ctx, table: Mapping[str, T], param: str, message: str) -> T:
    """The record the path parameter `param` names, when the caller's organization owns it.

    A record of another organization is as absent as a missing one: 404 with `message`.
    """
    record = table.get(ctx.params[param])
    if record is None or _org_of(ctx, record) != ctx.org.id:
        raise not_found(message)
    return record


def _org_of(ctx: Ctx, record: Any) -> str:
    org_id = getattr(record, "org_id", None)
    if org_id is None:  # owned through its project
        org_id = ctx.world.projects[record.project_id].org_id
    return str(org_id)


def _record_id(record: Any) -> str:
    return str(record.id)


def page(
    rows: Iterable[T],
    sort_key: Callable[[T], Any],
    limit: int,
    cursor: list[Any] | None,
    render: Callable[[T], Any],
) -> Out:
    """A 200 page of `rows`, newest `sort_key` first, ties broken by id (contract §1.9)."""
    return Out(200, paginate(rows, sort_key, _record_id, limit, cursor, render))


@attrs.frozen
class Listing:
    """A validated list request under one project: the project and the page wanted."""

    project: Project
    limit: int
    cursor: list[Any] | None

    def page(
        self,
        table: Mapping[str, T],
        keep: Callable[[T], bool],
        sort_key: Callable[[T], Any],
        render: Callable[[T], Any],
    ) -> Out:
        """A 200 page of the project's records in `table` that `keep` accepts."""
        rows = [r for r in table.values() if _project_id(r) == self.project.id and keep(r)]
        return page(rows, sort_key, self.limit, self.cursor, render)


def project_listing(ctx: Ctx, q: Query, issues: Issues, default: int, most: int) -> Listing:
    """Read `limit` (1 to `most`) and `cursor` after the route's own filters, raise the 422
    if any parameter is wrong, then find the project (404)."""
    limit = q.limit(default, 1, most)
    cursor = q.cursor()
    issues.raise_if_any()
    return Listing(project_of(ctx), limit, cursor)


def _project_id(record: Any) -> str:
    return str(record.project_id)


def fetch_one(lookup: Callable[[Ctx], T], render: Callable[[T], Any], doc: str) -> Handler:
    """A GET handler answering 200 with the record `lookup` finds, rendered; `doc` is its
    docstring."""

    def handler(ctx: Ctx, issues: Issues) -> Out:
        issues.raise_if_any()
        return Out(200, render(lookup(ctx)))

    handler.__doc__ = doc
    return handler


def since_until(q: Query, issues: Issues) -> tuple[int | None, int | None]:
    """The optional `since` and `until` filters, as epoch milliseconds."""
    out: list[int | None] = []
    for name in ("since", "until"):
        raw = q.one(name)
        if raw is None:
            out.append(None)
            continue
        v = parse_client_ts(raw)
        if v is None:
            issues.add(name, "Must be an ISO 8601 UTC timestamp ending in Z.")
        out.append(v)
    return out[0], out[1]


def scheduled_for(b: Body, now: int) -> int | None:
    """The required `scheduledFor`, at least 30 seconds in the future."""
    v = b.timestamp("scheduledFor", required=True)
    if v is not None and v < now + _MIN_LEAD_MS:
        b.issues.add("scheduledFor", "Must be at least 30 seconds in the future.")
        return None
    return v


def default_gender(p: Project) -> str:
    """An influencer's gender when none is asked for: the project's target, else female."""
    return p.target_gender if p.target_gender in ("female", "male") else "female"


def jobs_cap(ctx: Ctx) -> None:
    """Refuse a job start with 429 while the organization runs as many jobs as it may.

    `Retry-After` says when the earliest running job is due to finish (contract §1.11).
    """
    w = ctx.world
    running = w.running_count(ctx.org.id)
    cap = w.jobs_cap(ctx.key, ctx.org)
    if running >= cap:
        end = w.earliest_running_end(ctx.org.id)
        wait = (end - ctx.now) if end is not None else _DEFAULT_JOB_WAIT_MS
        ra = real_seconds(wait, w.clock.speed, minimum=1)
        raise ApiError(
            429,
            "RATE_LIMITED",
            "Too many jobs running in this organization.",
            {
                "limitType": "concurrent_jobs",
                "endpointClass": LONG,
                "running": running,
                "max": cap,
            },
            {"Retry-After": str(ra)},
        )
