"""The generated decoders of response models: what they build (the frozen class itself, equal to
one built by hand), how they read timestamps (as `parse_datetime` does), what a malformed
answer raises, and what they cost (no Python helper per field, a bytecode budget per row)."""

from __future__ import annotations

import itertools
import pickle
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from types import FrameType
from typing import Any

import attrs
import orjson
import pytest

from layers_async import (
    APIResponseValidationError,
    Asset,
    Job,
    JobResult,
    LayersClient,
    LayersModel,
    Project,
    ProjectSummary,
)
from layers_async._serde import _FROMISO_READS_Z, converter, parse_datetime, structure
from tests.client._rogue import KEY, answer, rogue_server

UTC = timezone.utc
JOB_ID = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"
ASSET = {"assetId": "ast_1", "kind": "image", "url": "https://cdn.example/1.png"}
JOB: dict[str, Any] = {
    "jobId": JOB_ID,
    "kind": "slideshow_builder",
    "status": "completed",
    "stage": "done",
    "progress": 1,
    "containerIds": ["cnt_1"],
    "locationUrl": f"/v1/jobs/{JOB_ID}",
    "startedAt": "2026-12-03T17:42:12.123Z",
    "updatedAt": "2026-12-03T17:43:02.456+00:00",
    "finishedAt": None,
    "result": {"containerId": "cnt_1", "assets": [ASSET, {**ASSET, "thumbnailUrl": "t"}]},
    "futureField": {"x": 1},
}
ROW = {
    "id": "prj_1",
    "name": "Acme",
    "status": "active",
    "timezone": "UTC",
    "createdAt": "2026-11-01T09:00:00.000Z",
    "updatedAt": "2026-12-01T10:00:30.250Z",
}
#: Timestamps as the API sends them, and in the other forms `parse_datetime` reads.
TIMESTAMPS = [
    "2026-12-03T17:42:12.123Z",
    "2026-12-03T17:42:12Z",
    "2026-12-03T17:42:12.123456Z",
    "2026-12-03T17:42:12.1Z",
    "2026-12-03T17:42:12.12345Z",
    "2026-12-03T17:42:12.123z",
    "2026-12-03T17:42:12.123+00:00",
    "2026-12-03T19:42:12.123+02:00",
    "2026-12-03T17:42:12.123",
    "2026-12-03",
]
#: Values that are no timestamp.
NOT_TIMESTAMPS: list[object] = ["yesterday", "", "2026-13-03T00:00:00Z", "Z", 12, 1.5, [], {}]


def test_a_decoded_model_is_the_frozen_class_itself() -> None:
    """A decoded Job and its nested models are the exported classes, equal to ones built by
    hand: hashable, frozen, picklable, evolvable, and their to_dict decodes back equal."""
    job = structure(JOB, Job)
    expected = Job(
        job_id=JOB_ID,
        kind="slideshow_builder",
        status="completed",
        stage="done",
        progress=1,
        container_ids=("cnt_1",),
        location_url=f"/v1/jobs/{JOB_ID}",
        started_at=datetime(2026, 12, 3, 17, 42, 12, 123000, tzinfo=UTC),
        updated_at=datetime(2026, 12, 3, 17, 43, 2, 456000, tzinfo=UTC),
        result=JobResult(
            container_id="cnt_1",
            assets=(
                Asset(asset_id="ast_1", kind="image", url="https://cdn.example/1.png"),
                Asset(
                    asset_id="ast_1", kind="image", url="https://cdn.example/1.png",
                    thumbnail_url="t",
                ),
            ),
        ),
    )
    assert type(job) is Job
    assert type(job.result) is JobResult
    assert [type(a) for a in job.result.assets] == [Asset, Asset]
    assert job == expected
    assert hash(job) == hash(expected)
    assert repr(job) == repr(expected)
    assert job.meta is None
    assert job.result.meta is None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        job.status = "running"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(job)) == job
    assert attrs.evolve(job, status="failed").status == "failed"
    assert structure(job.to_dict(), Job) == job


def test_defaults_are_made_afresh_and_absent_or_null_optionals_are_none() -> None:
    """Absent keys take their defaults (a fresh dict per object for a Factory); an optional
    nested model or timestamp that is absent or null decodes as None."""
    one, two = (structure({**ROW, "organizationId": "org_1"}, Project) for _ in range(2))
    assert one.metadata == {}
    assert one.metadata is not two.metadata
    assert (one.primary_language, one.brand_voice) == ("en", "authentic")
    assert one.requires_approval is False
    assert (one.brand_context, one.archived_at) == (None, None)
    job = structure({**JOB, "result": None}, Job)
    assert (job.result, job.error, job.finished_at, job.influencer_id) == (None, None, None, None)
    required = ("jobId", "kind", "status", "locationUrl", "startedAt")
    bare = structure({k: JOB[k] for k in required}, Job)
    assert (bare.stage, bare.progress, bare.container_ids, bare.result) == (None, 0.0, (), None)


@pytest.mark.parametrize("text", TIMESTAMPS)
def test_timestamps_decode_as_parse_datetime_reads_them(text: str) -> None:
    """Every form of timestamp decodes, required or optional, to what `parse_datetime` gives:
    the same instant, timezone-aware, a missing offset taken as UTC."""
    row = structure({**ROW, "createdAt": text}, ProjectSummary)
    job = structure({**JOB, "finishedAt": text}, Job)
    reference = parse_datetime(text)
    for got in (row.created_at, job.finished_at):
        assert got == reference
        assert got is not None
        assert got.utcoffset() == reference.utcoffset()
        assert got.tzinfo is not None


def _as_python_3_10_reads(value: str) -> datetime:
    """The reading before the Python 3.11 fast path: a trailing `Z` as `+00:00`, a fraction of
    any length (the digits right after the dot) padded or trimmed to microseconds, no offset
    taken as UTC."""
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        main, _, frac_tz = text.partition(".")
        offset = frac_tz.lstrip("0123456789")
        digits = frac_tz[: len(frac_tz) - len(offset)]
        dt = datetime.fromisoformat(f"{main}.{(digits + '000000')[:6]}{offset}")
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _outcome(read: Callable[[str], datetime | None], text: str) -> tuple[object, ...]:
    try:
        got = read(text)
    except (TypeError, ValueError) as exc:
        return (type(exc), str(exc))
    return (got, None if got is None else got.utcoffset())


def test_every_form_reads_as_before_the_fast_path() -> None:
    """Thousands of date, separator, time and offset combinations (valid or not) read the same
    through `parse_datetime` and a model's hook as through the reading before the fast path:
    the same instant and offset, or the same exception type and message."""
    forms = itertools.product(
        ["2026-12-03", "20261203", "2026-W49-4", "2026-12", "", "9999-12-31"],
        ["T", " ", "t", ""],
        ["17:42:12.123", "17:42:12", "17:42", "174212", "17:42:12.1234567", "17:42:12,1", ""],
        ["Z", "z", "+00:00", "+0200", "-05:30", "+00:00Z", "ZZ", "", "+00", "UTC", " Z"],
    )

    def hook(text: str) -> datetime | None:
        return structure({**JOB, "finishedAt": text}, Job).finished_at

    for text in map("".join, forms):
        before = _outcome(_as_python_3_10_reads, text)
        assert _outcome(parse_datetime, text) == before, text
        assert _outcome(hook, text) == before, text


@pytest.mark.parametrize(
    "value", [datetime(2026, 1, 1), datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2)))]
)
def test_a_datetime_object_passes_unchanged(value: datetime) -> None:
    """A datetime object given to the converter (not from the wire) is kept as it is, naive or
    aware, as `parse_datetime` keeps it."""
    body: dict[str, Any] = {**JOB, "finishedAt": value}
    assert structure(body, Job).finished_at is value
    assert parse_datetime(value) is value


@pytest.mark.parametrize("value", NOT_TIMESTAMPS, ids=repr)
def test_a_value_that_is_no_timestamp_raises_what_parse_datetime_raises(value: object) -> None:
    """A required or an optional timestamp that is no timestamp raises the exception type and
    message `parse_datetime` raises for it."""
    with pytest.raises((TypeError, ValueError)) as reference:
        parse_datetime(value)
    bodies: list[tuple[type[LayersModel], dict[str, Any]]] = [
        (ProjectSummary, {**ROW, "updatedAt": value}),
        (Job, {**JOB, "finishedAt": value}),
    ]
    for cls, body in bodies:
        with pytest.raises(reference.type) as info:
            structure(body, cls)
        assert str(info.value) == str(reference.value)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({**JOB, "finishedAt": 12}, "expected an ISO 8601 string, got int"),
        ({**JOB, "result": {"assets": [{"kind": "image"}]}}, "required field 'assetId'"),
        ({**JOB, "result": {"assets": [[1]]}}, "TypeError"),
    ],
    ids=["timestamp-not-a-string", "asset-without-a-field", "asset-not-an-object"],
)
async def test_a_malformed_nested_field_raises_a_typed_error_naming_why(
    body: dict[str, Any], why: str
) -> None:
    """A job poll whose optional timestamp or nested asset is malformed raises
    APIResponseValidationError saying what did not fit, never a bare converter exception."""
    async with rogue_server() as rogue:
        rogue.then(answer(orjson.dumps(body)))
        async with LayersClient(api_key=KEY, base_url=rogue.url, rate_limit_tier=False) as c:
            with pytest.raises(APIResponseValidationError) as info:
                await c.jobs.get(JOB_ID)
    assert "Job" in info.value.message
    assert why in info.value.message


@attrs.frozen(slots=False)
class _Loose(LayersModel):
    """A model whose class has a `__dict__` (no model of the SDK is one)."""

    name: str
    at: datetime | None = None


def test_a_model_without_slots_still_decodes() -> None:
    """A model class that is not slotted decodes through the frozen store path, to an equal,
    frozen instance of that class."""
    got = structure({"name": "x", "at": "2026-12-03T17:42:12.123Z"}, _Loose)
    assert type(got) is _Loose
    assert got == _Loose(name="x", at=datetime(2026, 12, 3, 17, 42, 12, 123000, tzinfo=UTC))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        got.name = "y"  # type: ignore[misc]


def _trace(decode: Callable[[], object]) -> tuple[set[str], int]:
    """The Python functions `decode` enters (besides itself) and the bytecode it executes."""
    names: set[str] = set()
    ops = 0

    def tracer(frame: FrameType, event: str, _: object) -> Any:
        nonlocal ops
        if event == "call":
            names.add(frame.f_code.co_name)
            frame.f_trace_opcodes = True
        elif event == "opcode":
            ops += 1
        return tracer

    previous = sys.gettrace()  # a coverage tool's tracer, put back afterwards
    sys.settrace(tracer)
    try:
        decode()
    finally:
        sys.settrace(previous)
    return names - {"<lambda>"}, ops


def test_decoding_enters_only_the_model_hooks() -> None:
    """Decoding a Job with its result and assets runs one generated hook per model and no
    Python helper per field (timestamps in the API's `...Z` form are read by the C parser)."""
    hook = converter.get_structure_hook(Job)
    names, _ = _trace(lambda: hook(JOB, Job))
    hooks = {"structure_Job", "structure_JobResult", "structure_Asset"}
    if _FROMISO_READS_Z:
        assert names == hooks
    else:  # pragma: no cover - Python 3.10 reads `Z` through parse_datetime
        assert names - {"parse_datetime"} == hooks


def test_a_list_row_decodes_within_a_bytecode_budget() -> None:
    """A ProjectSummary row (9 fields, 2 timestamps) executes at most 12 bytecode
    instructions per field: plain stores into slots, no per-field calls."""
    hook = converter.get_structure_hook(ProjectSummary)
    _, ops = _trace(lambda: hook(ROW, ProjectSummary))
    assert ops <= 12 * len(attrs.fields(ProjectSummary))


def test_the_decoded_timestamps_are_utc_aware() -> None:
    """An API timestamp decodes to UTC (offset zero); one with an offset keeps its instant."""
    got = structure({**ROW, "updatedAt": "2026-12-01T12:00:30.250+02:00"}, ProjectSummary)
    assert got.created_at.utcoffset() == timedelta(0)
    assert got.updated_at == datetime(2026, 12, 1, 10, 0, 30, 250000, tzinfo=UTC)
