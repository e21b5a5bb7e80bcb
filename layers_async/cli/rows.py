"""The customer list of `layers-async onboard`: CSV or JSONL rows, each fully validated.

Every row is checked with the SDK's own request validation before anything is sent; a bad
row becomes a `BadRow` listing every problem as ``(field, message)``.
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, cast, get_args

import attrs

from .. import (
    BrandVoice,
    Customer,
    LayersValidationError,
    MediaItem,
    MediaKind,
    Platform,
    TargetGender,
)
from .._validation import check_datetime, check_enum, check_https_url
from ..resources.projects import validate_project_fields

__all__ = ["COLUMNS", "BadRow", "Row", "read_customers"]

#: Columns that are project fields of the same name, checked as `client.projects.create` does.
_PROJECT_COLUMNS = (
    "name",
    "timezone",
    "app_name",
    "app_description",
    "tagline",
    "brand_voice",
    "target_gender",
    "primary_language",
)
_MEDIA_COLUMNS: tuple[tuple[str, MediaKind], ...] = (
    ("logo_url", "logo"),
    ("screenshot_url", "screenshot"),
    ("demo_video_url", "demo-video"),
)
#: Input columns (CSV header names or JSONL keys), in the order their problems are reported.
COLUMNS = (
    "external_id",
    *_PROJECT_COLUMNS,
    *(column for column, _kind in _MEDIA_COLUMNS),
    "connect",
    "schedule_at",
)
_JSONL_SUFFIXES = (".jsonl", ".ndjson")

Problems = list[tuple[str, str]]  # (field, message)


@attrs.frozen
class BadRow:
    """A row that failed validation: its line (1-based, as in the file) and every problem."""

    line: int
    external_id: str | None
    problems: tuple[tuple[str, str], ...]  # (field, message)


@attrs.frozen
class Row:
    """A valid row: its line and the customer it describes."""

    line: int
    customer: Customer


def read_customers(
    path: Path, *, schedule_in: timedelta | None = None
) -> tuple[list[Row], list[BadRow]]:
    """Read and fully validate a .csv or .jsonl customer list (OSError/ValueError if unreadable).

    Format by suffix: ``.jsonl``/``.ndjson`` is JSONL, anything else CSV. A repeated
    ``external_id`` is a bad row (the first one wins).
    """
    rows: list[Row] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        records = _jsonl(fh) if path.suffix.lower() in _JSONL_SUFFIXES else _csv(fh)
        for line, record, problems in records:
            ext_raw = record.get("external_id")
            ext = ext_raw.strip() if isinstance(ext_raw, str) and ext_raw.strip() else None
            if record or problems:
                # a line that is not a record at all is reported as such, nothing more
                customer = _customer(record, problems, schedule_in) if record else None
                if ext is not None and ext in seen:
                    problems.append(("external_id", f"duplicate of line {seen[ext]}"))
                elif ext is not None and not problems:
                    seen[ext] = line
                if problems or customer is None:
                    bad.append(BadRow(line, ext, tuple(problems)))
                else:
                    rows.append(Row(line, customer))
    return rows, bad


def _csv(fh: TextIO) -> Iterator[tuple[int, dict[str, Any], Problems]]:
    reader = csv.reader(fh)
    try:
        header = next(reader)
    except StopIteration:
        return
    names = [h.strip().lower() for h in header]
    dupes = sorted({n for n in names if names.count(n) > 1 and n})
    if dupes:
        raise ValueError(f"line 1: repeated column(s) in the header: {', '.join(dupes)}")
    last = reader.line_num
    for values in reader:
        line, last = last + 1, reader.line_num
        if not any(v.strip() for v in values):
            continue  # a blank line
        problems: Problems = []
        if len(values) > len(names):
            problems.append(
                ("row", f"has {len(values)} values but the header names {len(names)} columns")
            )
        record = {n: v for n, v in zip(names, values, strict=False) if n}
        yield line, record, problems


def _jsonl(fh: TextIO) -> Iterator[tuple[int, dict[str, Any], Problems]]:
    for line, text in enumerate(fh, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            yield line, {}, [("row", f"not valid JSON ({exc})")]
            continue
        if not isinstance(value, dict):
            yield line, {}, [("row", "must be a JSON object")]
            continue
        yield line, {str(k).strip().lower(): v for k, v in value.items()}, []


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _customer(
    record: Mapping[str, Any], problems: Problems, schedule_in: timedelta | None
) -> Customer | None:
    """Validate one record with the SDK's own checks; append every problem found."""
    for name, value in record.items():
        if name not in COLUMNS and _present(value):
            problems.append((name, "unknown column (see the --help for the known ones)"))
    v: dict[str, Any] = {}
    for name in COLUMNS:
        value = record.get(name)
        if _present(value):
            v[name] = value.strip() if isinstance(value, str) else value

    def check(name: str, fn: Callable[[Any], Any]) -> None:
        if name not in v:
            return
        try:
            v[name] = fn(v[name])
        except LayersValidationError as exc:
            problems.append((name, exc.message))
            del v[name]

    for name in ("external_id", "name"):
        if name not in v:
            problems.append((name, "is required"))
    # the external id becomes the project's customer_external_id: checked as that field
    check("external_id", _project_field("customer_external_id"))
    for column in _PROJECT_COLUMNS:
        check(column, _project_field(column))
    for column, _kind in _MEDIA_COLUMNS:
        check(column, functools.partial(check_https_url, column))
    check("connect", lambda x: check_enum("connect", x, get_args(Platform)))
    check("schedule_at", _schedule_at)
    if "schedule_at" in v and "connect" not in v and "connect" not in dict(problems):
        problems.append(("schedule_at", "needs connect (a post is scheduled on an account)"))
    if problems:
        return None
    return Customer(
        external_id=v["external_id"],
        name=v["name"],
        timezone=v.get("timezone", "UTC"),
        app_name=v.get("app_name"),
        app_description=v.get("app_description"),
        tagline=v.get("tagline"),
        brand_voice=cast("BrandVoice | None", v.get("brand_voice")),
        target_gender=cast("TargetGender | None", v.get("target_gender")),
        primary_language=v.get("primary_language"),
        media=tuple(MediaItem(kind, v[c]) for c, kind in _MEDIA_COLUMNS if c in v),
        connect=cast("Platform | None", v.get("connect")),
        schedule_at=v.get("schedule_at"),
        schedule_in=schedule_in if "connect" in v and "schedule_at" not in v else None,
    )


def _project_field(keyword: str) -> Callable[[Any], Any]:
    """A check of one project field by the rules `client.projects.create` applies."""

    def check(value: Any) -> Any:
        validate_project_fields(**{keyword: value})
        return value

    return check


def _schedule_at(value: Any) -> datetime:
    if not isinstance(value, str):
        raise LayersValidationError("schedule_at", "must be an ISO 8601 date and time string")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise LayersValidationError(
            "schedule_at", f"must be ISO 8601, e.g. 2026-06-01T09:00:00+02:00 (got {value!r})"
        ) from None
    check_datetime("schedule_at", when)  # naive → "must be timezone-aware"
    return when
