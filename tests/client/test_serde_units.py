"""Unit tests of the SDK's serde (issue 15): timestamps parsed and formatted, names turned into
camelCase, what `check_json` refuses and where it says the bad value sits, and models turned
into plain data and back.

`layers_async._serde` is internal: users meet it through every call's request body and every
decoded answer, where a timestamp one hour off or a path naming the wrong key is easy to miss.
These tests call it directly so that each rule is pinned by one exact value.
"""

from __future__ import annotations

import math
import time
import types
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from layers_async import LayersModel, LayersValidationError, Secret
from layers_async._serde import (
    MAX_DEPTH,
    _json_encode,
    camel,
    check_json,
    dumps,
    format_datetime,
    loads,
    parse_datetime,
    structure,
)

UTC = timezone.utc
KEY = "lp_live_01HXA1NHKJZXPV8R_q3Jx9vT2mB7nK4pL8wR1sY6zC0dF5gH2jN7aE3uVb9k"


def _models() -> types.SimpleNamespace:
    """Three models made anew on every call: a response model with one field of every shape
    the decoder generates code for (`Sample`), a nested one (`Inner`) and a nested plain attrs
    class (`Plain`, decoded by cattrs' own hook, its private field never read from the wire).

    Fresh classes, because the decoder builds one hook per class and caches it: only a class it
    has never seen makes it generate (and so exercise) a hook inside the test.
    """
    inner = attrs.make_class(
        "Inner",
        {"label": attrs.field(type=str), "extra_note": attrs.field(type=str | None, default=None)},
        bases=(LayersModel,),
        frozen=True,
    )
    plain = attrs.make_class(
        "Plain",
        {"some_value": attrs.field(type=int), "_hidden": attrs.field(type=int, default=7)},
        frozen=True,
    )
    sample = attrs.make_class(
        "Sample",
        {
            "sample_id": attrs.field(type=str),
            "created_at": attrs.field(type=datetime),
            "ended_at": attrs.field(type=datetime | None, default=None),
            "inner": attrs.field(type=inner | None, default=None),
            "inners": attrs.field(type=tuple[inner, ...], default=()),
            "tags": attrs.field(type=tuple[str, ...], default=()),
            "plain": attrs.field(type=plain | None, default=None),
            "secret": attrs.field(type=Secret | None, default=None),
            "metadata": attrs.field(type=dict[str, str], factory=dict),
            "count": attrs.field(type=int, default=0),
            "maybe": attrs.field(type=int | None, default=None),
        },
        bases=(LayersModel,),
        frozen=True,
    )
    return types.SimpleNamespace(Inner=inner, Plain=plain, Sample=sample)


BASE: dict[str, Any] = {"sampleId": "s_1", "createdAt": "2026-05-14T16:00:00.000Z"}


def test_camel_turns_snake_case_into_camel_case() -> None:
    """`social_account_id` → `socialAccountId`; one word and empty parts stay as they are."""
    assert camel("social_account_id") == "socialAccountId"
    assert camel("name") == "name"
    assert camel("a_b") == "aB"
    assert camel("x__y") == "xY"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-14T16:00:00Z", datetime(2026, 5, 14, 16, tzinfo=UTC)),
        ("2026-05-14T16:00:00z", datetime(2026, 5, 14, 16, tzinfo=UTC)),
        ("2026-05-14T16:00:00+00:00", datetime(2026, 5, 14, 16, tzinfo=UTC)),
        ("2026-05-14T16:00:00", datetime(2026, 5, 14, 16, tzinfo=UTC)),  # naive: taken as UTC
        ("2026-05-14T16:00:00.5Z", datetime(2026, 5, 14, 16, 0, 0, 500000, tzinfo=UTC)),
        ("2026-05-14T16:00:00.123456Z", datetime(2026, 5, 14, 16, 0, 0, 123456, tzinfo=UTC)),
        ("2026-05-14T16:00:00.1234567Z", datetime(2026, 5, 14, 16, 0, 0, 123456, tzinfo=UTC)),
        (
            "2026-05-14T16:00:00.1234567+02:00",
            datetime(2026, 5, 14, 14, 0, 0, 123456, tzinfo=UTC),
        ),
    ],
)
def test_timestamps_are_parsed_timezone_aware(text: str, expected: datetime) -> None:
    """`Z`, `z`, an offset, no zone (UTC) and 1 to 7 fractional digits all parse, aware."""
    got = parse_datetime(text)
    assert got == expected
    assert got.tzinfo is not None
    assert got.utcoffset() == (timedelta(hours=2) if text.endswith("+02:00") else timedelta(0))


def test_a_datetime_passes_and_other_types_are_refused() -> None:
    """A datetime is returned as it is; a number is a TypeError naming its type; a string that
    is no timestamp a ValueError."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_datetime(now) is now
    with pytest.raises(TypeError, match=r"^expected an ISO 8601 string, got int$"):
        parse_datetime(1_700_000_000)
    with pytest.raises(ValueError):
        parse_datetime("yesterday")


def test_timestamps_are_sent_as_utc_with_milliseconds() -> None:
    """Another offset is converted to UTC; microseconds are cut (not rounded) to milliseconds."""
    two_hours_ahead = timezone(timedelta(hours=2))
    value = datetime(2026, 5, 14, 18, 0, 7, 999999, tzinfo=two_hours_ahead)
    assert format_datetime(value) == "2026-05-14T16:00:07.999Z"
    assert format_datetime(datetime(2026, 12, 31, 23, 59, 59, 1000, tzinfo=UTC)) == (
        "2026-12-31T23:59:59.001Z"
    )


def _refusal(value: object, field: str = "metadata") -> str:
    with pytest.raises(LayersValidationError) as info:
        check_json(field, value)
    assert info.value.field == field
    return info.value.message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (math.nan, "must not hold NaN or Infinity (JSON has no such numbers)"),
        (
            {"a": [1, {"b": -math.inf}]},
            "must not hold NaN or Infinity (JSON has no such numbers) (at metadata['a'][1]['b'])",
        ),
        (
            ["ok", "x\ud800"],
            "must be valid Unicode text (it holds a lone surrogate) (at metadata[1])",
        ),
        (
            {"a": {"\ud800": 1}},
            "must have valid Unicode keys (one holds a lone surrogate) (at metadata['a'])",
        ),
        ({"a": {1: "x"}}, "must have string keys (got int) (at metadata['a'])"),
        ([2**64], "must hold integers that fit in 64 bits (at metadata[0])"),
        ([-(2**63) - 1], "must hold integers that fit in 64 bits (at metadata[0])"),
        ({"a": {1, 2}}, "must be plain JSON (got set) (at metadata['a'])"),
        (
            {"k" * 41: math.nan},
            f"must not hold NaN or Infinity (JSON has no such numbers) "
            f"(at metadata[{'k' * 40 + '...'!r}])",
        ),
        (
            {"k" * 40: math.nan},
            f"must not hold NaN or Infinity (JSON has no such numbers) (at metadata[{'k' * 40!r}])",
        ),
    ],
)
def test_check_json_names_what_is_wrong_and_where(value: object, message: str) -> None:
    """Each refusal says what JSON cannot hold and the path to it (long keys cut at 40)."""
    assert _refusal(value) == message


def test_check_json_accepts_plain_json_up_to_its_edges() -> None:
    """The edges that must pass: 64-bit integers at both ends, non-ASCII text and keys,
    booleans, None, tuples, and nesting exactly MAX_DEPTH deep."""
    check_json("body", [2**64 - 1, -(2**63), True, None, 1.5, "café ☕", ("t",), {"ключ": 1}])
    deep: object = 1
    for _ in range(MAX_DEPTH):
        deep = {"d": deep}
    check_json("body", deep)
    assert MAX_DEPTH == 64
    message = _refusal([deep])
    assert message.startswith(f"must not nest deeper than {MAX_DEPTH} levels (at metadata[0]")


def test_dumps_checks_then_encodes_compactly() -> None:
    """`dumps` names its field (`body` unless told) and encodes compact UTF-8; `loads` reads
    bytes and text alike."""
    assert dumps({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'.encode()
    with pytest.raises(LayersValidationError) as info:
        dumps({"a": math.nan})
    assert info.value.field == "body"
    assert loads(b'{"a":1}') == {"a": 1} == loads('{"a":1}')
    assert _json_encode({"a": "é"}) == '{"a":"é"}'.encode()
    with pytest.raises(ValueError):
        _json_encode(math.nan)  # the fallback encoder refuses NaN on its own too


def test_a_model_decodes_with_its_defaults_and_ignores_unknown_fields() -> None:
    """Omitted optional fields take their defaults (a fresh mapping each time); unknown fields
    are ignored; nested objects are None; `meta` is None."""
    m = _models()
    one = structure({**BASE, "someFutureField": [1]}, m.Sample)
    two = structure(dict(BASE), m.Sample)
    assert one == m.Sample(sample_id="s_1", created_at=datetime(2026, 5, 14, 16, tzinfo=UTC))
    assert (one.ended_at, one.inner, one.inners, one.tags, one.count) == (None, None, (), (), 0)
    assert one.metadata == {}
    assert one.metadata is not two.metadata
    assert one.meta is None


def test_a_fresh_model_decodes_every_field_shape() -> None:
    """Timestamps, optional nested objects, tuples of objects and of strings, plain attrs
    objects (private fields never read from the wire), secrets and mappings."""
    data = {
        **BASE,
        "endedAt": "2026-05-14T17:00:00.250+00:00",
        "inner": {"label": "one", "extra": 1},
        "inners": [{"label": "a"}, {"label": "b"}],
        "tags": ["x", "y"],
        "plain": {"someValue": 3, "_hidden": 99, "hidden": 98},
        "secret": KEY,
        "metadata": {"snake_key": "v"},
        "count": 4,
    }
    m = _models()
    got = structure(data, m.Sample)
    assert got.ended_at == datetime(2026, 5, 14, 17, 0, 0, 250000, tzinfo=UTC)
    assert got.inner == m.Inner(label="one")
    assert got.inners == (m.Inner(label="a"), m.Inner(label="b"))
    assert isinstance(got.inners, tuple)
    assert got.tags == ("x", "y")
    assert isinstance(got.tags, tuple)
    assert got.plain == m.Plain(some_value=3)
    assert got.secret is not None
    assert got.secret.reveal() == KEY
    assert got.metadata == {"snake_key": "v"}
    assert got.count == 4
    nulls = structure({**BASE, "endedAt": None, "inner": None, "plain": None}, m.Sample)
    assert (nulls.ended_at, nulls.inner, nulls.plain) == (None, None, None)


def test_a_fresh_model_without_a_required_field_does_not_decode() -> None:
    """A body missing a required field is refused by the decoder (the transport turns this
    into `APIResponseValidationError`)."""
    with pytest.raises(KeyError):
        structure({"sampleId": "s_1"}, _models().Sample)


def test_a_fresh_model_turns_into_wire_or_python_data() -> None:
    """`to_dict()` gives camelCase keys (`wire=False`: attribute names), nested objects as
    objects, tuples as lists, timestamps as UTC `...Z`, a secret as its hint; mapping keys are
    data, kept as they are; `meta` is left out; the wire form decodes back to an equal model."""
    m = _models()
    model = structure(
        {
            **BASE,
            "endedAt": "2026-05-14T18:00:00+02:00",
            "inners": [{"label": "a", "extraNote": "n"}],
            "tags": ["x"],
            "metadata": {"snake_key": "v"},
        },
        m.Sample,
    )
    wire = model.to_dict()
    assert wire == {
        "sampleId": "s_1",
        "createdAt": "2026-05-14T16:00:00.000Z",
        "endedAt": "2026-05-14T16:00:00.000Z",
        "inner": None,
        "inners": [{"label": "a", "extraNote": "n"}],
        "tags": ["x"],
        "plain": None,
        "secret": None,
        "metadata": {"snake_key": "v"},
        "count": 0,
        "maybe": None,
    }
    assert structure(wire, m.Sample) == model
    python = model.to_dict(wire=False)
    assert list(python) == [a.name for a in attrs.fields(m.Sample) if not a.name.startswith("_")]
    assert python["sample_id"] == "s_1"
    assert python["inners"] == [{"label": "a", "extra_note": "n"}]  # nested names too
    with_secret = structure({**BASE, "secret": KEY}, m.Sample)
    assert with_secret.to_dict()["secret"] == "lp_live_01HXA1NHKJZXPV8R_…"


def test_timestamps_are_sent_as_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the machine's zone set to Tokyo, a UTC timestamp is still sent as UTC."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        value = datetime(2026, 5, 14, 16, 0, 0, tzinfo=UTC)
        assert format_datetime(value) == "2026-05-14T16:00:00.000Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_numbers_and_mappings_pass_through_as_parsed() -> None:
    """Decoding is lenient: a number (also in an optional field) and a mapping are kept as the
    JSON parser gave them, never coerced to the annotated type."""
    got = structure({**BASE, "count": 4.5, "maybe": 2.5, "metadata": {"n": 1}}, _models().Sample)
    assert (got.count, got.maybe, got.metadata) == (4.5, 2.5, {"n": 1})
