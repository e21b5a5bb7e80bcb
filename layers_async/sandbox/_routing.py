"""Exact routing (contract §1.1), the per-request context and the handler result type.

Paths match templates segment by segment; a trailing slash never matches (contract §1.1).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from multidict import MultiDictProxy

from ._errors import Issues
from ._ids import ULID_RE
from ._jsonio import dumps, loads
from ._validate import normalize_prefixed

if TYPE_CHECKING:
    from ._models import ApiKey, Organization
    from ._world import World

__all__ = [
    "LONG",
    "MAX_BODY_BYTES",
    "READ",
    "WRITE",
    "Ctx",
    "Handler",
    "Out",
    "Param",
    "Query",
    "Route",
    "Router",
    "paginate",
]

_DIGITS = re.compile(r"[0-9]{1,9}")

#: A request body may take at most 1 MiB; a longer one is a 422 at path "".
MAX_BODY_BYTES = 1_048_576
#: Rate-limit endpoint classes (contract §1.10): cheap reads, cheap writes, job starts.
READ = "read-light"
WRITE = "write-light"
LONG = "long-running"


@attrs.frozen
class Param:
    """How a path parameter is validated: prefix, and the id form after it."""

    prefix: str
    form: str = "uuid"  # "uuid" or "ulid"
    bare_ok: bool = False

    def normalize(self, raw: str) -> str | None:
        """Canonical form of a path id, or None when it is not well formed."""
        if self.form == "ulid":
            head = self.prefix + "_"
            if raw.startswith(head) and ULID_RE.match(raw[len(head) :]):
                return raw
            return None
        return normalize_prefixed(raw, self.prefix, bare_ok=self.bare_ok)


@attrs.frozen
class Out:
    """A handler's answer: status, JSON-able body (or raw bytes / None) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    raw: bytes | None = None


class Query:
    """Query-string access: a single-valued parameter given twice is a 422 (contract §1.7)."""

    __slots__ = ("issues", "multi")

    def __init__(self, multi: MultiDictProxy[str], issues: Issues) -> None:
        self.multi = multi
        self.issues = issues

    def one(self, name: str) -> str | None:
        """A single-valued parameter; a repeated one is a 422."""
        values = self.multi.getall(name, [])
        if not values:
            return None
        if len(values) > 1:
            self.issues.add(name, "Must be given at most once.")
            return None
        return values[0]

    def many(self, name: str) -> list[str]:
        """A repeatable parameter: repeated and comma-separated forms both accepted."""
        out: list[str] = []
        for v in self.multi.getall(name, []):
            out.extend(p for p in v.split(",") if p != "")
        return out

    def prefixed_id(self, name: str, prefix: str, *, bare_ok: bool) -> tuple[bool, str | None]:
        """An optional id filter: (whether it was given, its canonical form or None when it
        is malformed, recording the 422)."""
        raw = self.one(name)
        if raw is None:
            return False, None
        norm = normalize_prefixed(raw, prefix, bare_ok=bare_ok)
        if norm is None:
            self.issues.add(name, f"Must be a {prefix}_<uuid> id.")
        return True, norm

    def limit(self, default: int, lo: int, hi: int) -> int:
        """`limit` within its range."""
        raw = self.one("limit")
        if raw is None:
            return default
        n = int(raw) if _DIGITS.fullmatch(raw) else -1
        if not lo <= n <= hi:
            self.issues.add("limit", f"Must be an integer from {lo} to {hi}.")
            return default
        return n

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        """An optional enum parameter."""
        v = self.one(name)
        if v is not None and v not in choices:
            self.issues.add(name, "Must be one of " + ", ".join(choices) + ".")
            return None
        return v

    def choices(self, name: str, choices: Sequence[str]) -> list[str]:
        """A repeatable enum parameter."""
        vals = self.many(name)
        bad = [v for v in vals if v not in choices]
        if bad:
            self.issues.add(name, "Must be one of " + ", ".join(choices) + ".")
            return []
        return vals

    def boolean(self, name: str) -> bool | None:
        """`true` or `false`."""
        v = self.one(name)
        if v is None:
            return None
        if v not in ("true", "false"):
            self.issues.add(name, "Must be true or false.")
            return None
        return v == "true"

    def cursor(self) -> list[Any] | None:
        """The decoded keyset cursor, or None; an undecodable one is a 422."""
        raw = self.one("cursor")
        if raw is None or raw == "":
            return None
        try:
            pad = "=" * (-len(raw) % 4)
            value = loads(base64.urlsafe_b64decode(raw + pad))
        except (ValueError, binascii.Error, TypeError):
            value = None
        if not (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], int)
            and not isinstance(value[0], bool)
            and isinstance(value[1], str)
        ):
            self.issues.add("cursor", "Cursor is not valid.")
            return None
        return value


def encode_cursor(sort_key: Any, item_id: str) -> str:
    """The keyset cursor for the item after which the next page starts."""
    return base64.urlsafe_b64encode(dumps([sort_key, item_id])).decode().rstrip("=")


def paginate(
    items: Iterable[Any],
    key: Callable[[Any], Any],
    ident: Callable[[Any], str],
    limit: int,
    cursor: list[Any] | None,
    render: Callable[[Any], Any],
) -> dict[str, Any]:
    """Keyset pagination, sort key descending, ties by id descending (contract §1.9)."""
    rows = sorted(items, key=lambda it: (key(it), ident(it)), reverse=True)
    if cursor is not None:
        ck = (cursor[0], cursor[1])
        try:
            rows = [it for it in rows if (key(it), ident(it)) < ck]
        except TypeError:
            rows = []
    page = rows[:limit]
    nxt = None
    if len(rows) > limit:
        last = page[-1]
        nxt = encode_cursor(key(last), ident(last))
    return {"items": [render(it) for it in page], "nextCursor": nxt}


@attrs.define(slots=True)
class Ctx:
    """Everything a handler may read about its request."""

    world: World
    key: ApiKey
    org: Organization
    params: dict[str, str]
    raw_params: dict[str, str]
    query: MultiDictProxy[str]
    body: bytes
    headers: Any
    now: int

    def path_issues(self, route: Route) -> Issues:
        """Issues for malformed path ids (the parameter name is the issue path)."""
        issues = Issues()
        for name in route.params:
            if name not in self.params:
                issues.add(name, f"Must be a well-formed {route.params[name].prefix} id.")
        return issues

    def json_body(self, issues: Issues) -> dict[str, Any] | None:
        """The body as a JSON object (empty body → {}); None after recording a path-"" issue.

        A body that is not a JSON object is reported alone: its fields are not checked.
        """
        if not self.body or not self.body.strip():
            return {}
        if len(self.body) > MAX_BODY_BYTES:
            issues.add("", "Body exceeds 1 MiB.")
            return None
        try:
            data = loads(self.body)
        except ValueError:
            issues.add("", "Body is not valid JSON.")
            return None
        if not isinstance(data, dict):
            issues.add("", "Body must be a JSON object.")
            return None
        return data


#: A `/v1` handler: it gets the request context and the issues found so far (malformed path
#: ids), validates query and body into the same issues, then answers or raises `ApiError`.
Handler = Callable[[Ctx, Issues], Out]


@attrs.frozen
class Route:
    """One `/v1` route: method, template, rate-limit class, scope and handler."""

    method: str
    template: str
    klass: str
    scope: str | None
    handler: Handler
    params: dict[str, Param] = attrs.Factory(dict)
    honours_idempotency: bool = True
    #: A write that refuses to run without an `Idempotency-Key` (400 IDEMPOTENCY_REQUIRED).
    requires_idempotency: bool = False
    #: How a stored success body is changed when it is replayed (None: replayed verbatim).
    replay: Callable[[bytes], bytes] | None = None

    @property
    def segments(self) -> tuple[str, ...]:
        """The template split on `/`."""
        return tuple(self.template.split("/"))

    @property
    def label(self) -> str:
        """`"<METHOD> <template>"`, as fault rules name routes."""
        return f"{self.method} {self.template}"


class Router:
    """Matches exact paths against templates; trailing slashes never match."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._by_len: dict[int, list[tuple[tuple[str, ...], Route]]] = {}
        for r in routes:
            segs = r.segments
            self._by_len.setdefault(len(segs), []).append((segs, r))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and raw path parameters, or None (→ 404 NOT_FOUND)."""
        parts = path.split("/")
        for segs, route in self._by_len.get(len(parts), ()):
            if route.method != method:
                continue
            params: dict[str, str] = {}
            for s, p in zip(segs, parts, strict=False):
                if s.startswith("{"):
                    if p == "":
                        break
                    params[s[1:-1]] = p
                elif s != p:
                    break
            else:
                return route, params
        return None
