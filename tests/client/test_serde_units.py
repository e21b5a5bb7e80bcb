"""Unit tests of the SDK's serde (issue 15): timestamps parsed and formatted, names turned into
camelCase, what `check_json` refuses and where it says the bad value sits, and models turned
into plain data and back.

`layers_async._serde` is internal: users meet it through every call's request body and every
decoded answer, where a timestamp one hour off or a path naming the wrong key is easy to miss.
These tests call it directly so that each rule is pinned by one exact value.
"""

from __future__ import annotations

import inspect
import math
import re
import textwrap
import time
import types
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from layers_async import LayersModel, LayersValidationError, Secret
from layers_async import _serde as serde
from layers_async._serde import (
    MAX_DEPTH,
    _builder_class,
    _json_encode,
    camel,
    check_json,
    converter,
    dumps,
    format_datetime,
    loads,
    parse_datetime,
    structure,
)

UTC = timezone.utc
KEY = "lp_live_01HXA1NHKJZXPV8R_q3Jx9vT2mB7nK4pL8wR1sY6zC0dF5gH2jN7aE3uVb9k"


def _models(*, slots: bool = True) -> types.SimpleNamespace:
    """Three models made anew on every call: a response model with one field of every shape
    the decoder generates code for (`Sample`), a nested one (`Inner`) and a nested plain attrs
    class (`Plain`, decoded by cattrs' own hook, its private field never read from the wire).

    Fresh classes, because the decoder builds one hook per class and caches it: only a class it
    has never seen makes it generate (and so exercise) a hook inside the test. Slotted like the
    SDK's models (decoded by filling a mutable twin of the class), or with a `__dict__` (decoded
    by stores past the frozen `__setattr__`): the decoder generates different code for each.
    """
    inner = attrs.make_class(
        "Inner",
        {"label": attrs.field(type=str), "extra_note": attrs.field(type=str | None, default=None)},
        bases=(LayersModel,),
        frozen=True,
        slots=slots,
    )
    plain = attrs.make_class(
        "Plain",
        {"some_value": attrs.field(type=int), "_hidden": attrs.field(type=int, default=7)},
        frozen=True,
        slots=slots,
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
        slots=slots,
    )
    return types.SimpleNamespace(Inner=inner, Plain=plain, Sample=sample, slots=slots)


@pytest.fixture(params=[True, False], ids=["slotted", "with-dict"])
def models(request: pytest.FixtureRequest) -> types.SimpleNamespace:
    """Fresh models (`_models`) of either layout, so that each decoding rule is pinned on both
    kinds of generated code."""
    return _models(slots=request.param)


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


def test_a_model_decodes_with_its_defaults_and_ignores_unknown_fields(
    models: types.SimpleNamespace,
) -> None:
    """Omitted optional fields take their defaults (a fresh mapping each time); unknown fields
    are ignored; nested objects are None; `meta` is None."""
    m = models
    one = structure({**BASE, "someFutureField": [1]}, m.Sample)
    two = structure(dict(BASE), m.Sample)
    assert one == m.Sample(sample_id="s_1", created_at=datetime(2026, 5, 14, 16, tzinfo=UTC))
    assert (one.ended_at, one.inner, one.inners, one.tags, one.count) == (None, None, (), (), 0)
    assert one.metadata == {}
    assert one.metadata is not two.metadata
    assert one.meta is None


def test_a_fresh_model_decodes_every_field_shape(models: types.SimpleNamespace) -> None:
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
    m = models
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


def test_a_fresh_model_without_a_required_field_does_not_decode(
    models: types.SimpleNamespace,
) -> None:
    """A body missing a required field is refused by the decoder (the transport turns this
    into `APIResponseValidationError`)."""
    with pytest.raises(KeyError):
        structure({"sampleId": "s_1"}, models.Sample)


def test_a_fresh_model_turns_into_wire_or_python_data(models: types.SimpleNamespace) -> None:
    """`to_dict()` gives camelCase keys (`wire=False`: attribute names), nested objects as
    objects, tuples as lists, timestamps as UTC `...Z`, a secret as its hint; mapping keys are
    data, kept as they are; `meta` is left out; the wire form decodes back to an equal model."""
    m = models
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


def test_numbers_and_mappings_pass_through_as_parsed(models: types.SimpleNamespace) -> None:
    """Decoding is lenient: a number (also in an optional field) and a mapping are kept as the
    JSON parser gave them, never coerced to the annotated type."""
    got = structure({**BASE, "count": 4.5, "maybe": 2.5, "metadata": {"n": 1}}, models.Sample)
    assert (got.count, got.maybe, got.metadata) == (4.5, 2.5, {"n": 1})


def test_a_decoded_model_is_the_frozen_class_equal_to_one_built_by_hand(
    models: types.SimpleNamespace,
) -> None:
    """The decoded object is of exactly the model's class (nested ones too), frozen, and equal,
    with the same repr and hash, to the model built by its constructor; a slotted one has no
    `__dict__`."""
    m = models
    got = structure({**BASE, "inner": {"label": "x"}, "inners": [{"label": "y"}]}, m.Sample)
    built = m.Sample(
        sample_id="s_1",
        created_at=datetime(2026, 5, 14, 16, tzinfo=UTC),
        inner=m.Inner(label="x"),
        inners=(m.Inner(label="y"),),
    )
    assert (type(got), type(got.inner), type(got.inners[0])) == (m.Sample, m.Inner, m.Inner)
    assert got == built
    assert repr(got) == repr(built)
    assert hash(got.inner) == hash(m.Inner(label="x"))
    assert hasattr(got, "__dict__") is not m.slots
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        got.sample_id = "s_2"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del got.inner


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-14T16:00:00", datetime(2026, 5, 14, 16, tzinfo=UTC)),  # naive: taken as UTC
        ("2026-05-14T16:00:00.5z", datetime(2026, 5, 14, 16, 0, 0, 500000, tzinfo=UTC)),
        ("2026-05-14T18:00:00+02:00", datetime(2026, 5, 14, 16, tzinfo=UTC)),
    ],
)
def test_a_decoded_timestamp_is_aware_whatever_its_form(
    models: types.SimpleNamespace, text: str, expected: datetime
) -> None:
    """Required and optional timestamps alike: no offset reads as UTC, a lowercase `z` (which
    `fromisoformat` refuses) is read by the fallback, an offset is kept."""
    got = structure({**BASE, "createdAt": text, "endedAt": text}, models.Sample)
    assert got.created_at == expected == got.ended_at
    offset = timedelta(hours=2) if text.endswith("+02:00") else timedelta(0)
    assert got.created_at.utcoffset() == offset == got.ended_at.utcoffset()


def test_a_decoded_timestamp_of_the_wrong_type_is_refused(models: types.SimpleNamespace) -> None:
    """A number where a timestamp belongs is a TypeError naming its type, text that is no
    timestamp a ValueError; a datetime object is kept as it is."""
    for key in ("createdAt", "endedAt"):
        with pytest.raises(TypeError, match=r"^expected an ISO 8601 string, got int$"):
            structure({**BASE, key: 1_700_000_000}, models.Sample)
        with pytest.raises(ValueError, match="yesterday"):
            structure({**BASE, key: "yesterday"}, models.Sample)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    got = structure({**BASE, "createdAt": when, "endedAt": when}, models.Sample)
    assert got.created_at is when
    assert got.ended_at is when


def test_a_null_list_is_refused_not_taken_as_its_default(models: types.SimpleNamespace) -> None:
    """`null` for a list (whose default, when the key is absent, is empty) is a malformed
    answer: refused, not read as `()`."""
    for key in ("tags", "inners"):
        with pytest.raises(TypeError, match="NoneType"):
            structure({**BASE, key: None}, models.Sample)


def test_list_members_pass_through_as_parsed(models: types.SimpleNamespace) -> None:
    """Like a single plain field, each member of a list of plain values is kept as parsed (a
    number in a list of strings is not turned into text)."""
    got = structure({**BASE, "tags": [1, "x", None]}, models.Sample)
    assert got.tags == (1, "x", None)


def test_private_fields_are_never_read_from_the_wire(models: types.SimpleNamespace) -> None:
    """A response model's `meta` and a plain attrs class's private field keep their own values
    whatever keys the body holds (`Meta`, `meta`, `_meta`, `Hidden`, ...)."""
    noise = {"Meta": {"x": 1}, "meta": 1, "_meta": 1}
    plain = {"someValue": 3, "Hidden": 5, "hidden": 4, "_hidden": 6}
    got = structure(
        {**BASE, **noise, "inner": {"label": "a", **noise}, "plain": plain}, models.Sample
    )
    assert got.meta is None
    assert got.inner is not None
    assert got.inner.meta is None
    assert got.plain == models.Plain(some_value=3)
    assert got.plain._hidden == 7


def test_a_model_with_annotations_as_text_is_resolved_before_decoding() -> None:
    """A model whose annotations are still text (`from __future__ import annotations`, as in
    this file) has them resolved first: its timestamps decode to datetimes, not to text."""

    @attrs.frozen
    class Stamped(LayersModel):
        at: datetime
        until: datetime | None = None

    got = structure({"at": "2026-05-14T16:00:00Z", "until": "2026-05-14T17:00:00Z"}, Stamped)
    assert got == Stamped(
        at=datetime(2026, 5, 14, 16, tzinfo=UTC), until=datetime(2026, 5, 14, 17, tzinfo=UTC)
    )


def test_rarer_field_shapes_decode_as_declared() -> None:
    """Shapes no SDK model uses today, decoded as declared all the same: an absent timestamp
    whose default is None though its type does not admit None, an absent optional timestamp
    whose default is not None (an explicit null stays null), and a fixed-length tuple, decoded
    member by member."""
    epoch = datetime(2020, 1, 1, tzinfo=UTC)
    edge = attrs.make_class(
        "Edge",
        {
            "pair": attrs.field(type=tuple[str, datetime], default=("a", epoch)),
            "stamp": attrs.field(type=datetime, default=None),
            "since": attrs.field(type=datetime | None, default=epoch),
        },
        bases=(LayersModel,),
        frozen=True,
        slots=True,
    )
    assert structure({}, edge) == edge(pair=("a", epoch), stamp=None, since=epoch)
    when = "2026-05-14T16:00:00Z"
    got = structure({"pair": ["b", when], "stamp": when, "since": None}, edge)
    at = datetime(2026, 5, 14, 16, tzinfo=UTC)
    assert got == edge(pair=("b", at), stamp=at, since=None)


#: How a generated decoder reads a timestamp `v` (required, or optional once not None).
_READ_TIMESTAMP = """\
try: v = __fromiso(v)
except (TypeError, ValueError): v = __parse_dt(v)
else:
    if v.tzinfo is None: v = v.replace(tzinfo=__utc)
"""

#: The decoder generated for `_models().Sample` (slotted). Line by line, because each line's
#: shape is a choice made for speed that no decoded value shows: a slower generic path (cattrs'
#: own hooks, a `__missing` check, `parse_datetime` for every timestamp, stores past the frozen
#: `__setattr__`) decodes equal objects.
SAMPLE_DECODER = """\
def structure_Sample(o, _=None):
    obj = __new(__twin)
    obj._meta = None
    obj.sample_id = o['sampleId']
    v = o['createdAt']
{required}    obj.created_at = v
    v = o.get('endedAt')
    if v is not None:
{optional}    obj.ended_at = v
    v = o.get('inner')
    if v is not None:
        v = __hook_inner(v)
    obj.inner = v
    v = o.get('inners', __missing)
    if v is __missing: v = __default_inners
    else:
        v = tuple(map(__hook_inners, v))
    obj.inners = v
    v = o.get('tags', __missing)
    if v is __missing: v = __default_tags
    else:
        v = tuple(v)
    obj.tags = v
    v = o.get('plain')
    if v is not None:
        v = __hook_plain(v)
    obj.plain = v
    v = o.get('secret')
    if v is not None:
        v = __structure(v, __type_secret)
    obj.secret = v
    v = o.get('metadata', __missing)
    if v is __missing: v = __default_metadata()
    obj.metadata = v
    obj.count = o.get('count', __default_count)
    obj.maybe = o.get('maybe', __default_maybe)
    obj.__class__ = __cls
    return obj
""".format(
    required=textwrap.indent(_READ_TIMESTAMP, " " * 4),
    optional=textwrap.indent(_READ_TIMESTAMP, " " * 8),
)


def test_the_generated_decoder_reads_as_pinned_for_both_layouts(
    models: types.SimpleNamespace,
) -> None:
    """(Internal: only the generated source tells the fast paths from the generic ones.) A
    slotted model's decoder fills the mutable twin and switches its class; a model with a
    `__dict__` gets the same statements, its stores going past the frozen `__setattr__`. The
    source is where tracebacks and `inspect` find it."""
    hook = converter.get_structure_hook(models.Sample)
    assert hook.__code__.co_filename == "<layers_async structure Sample>"
    expected = SAMPLE_DECODER
    if not models.slots:
        expected = expected.replace("__new(__twin)", "__new(__cls)")
        expected = expected.replace("    obj.__class__ = __cls\n", "")
        expected = re.sub(r"(?m)^    obj\.(\w+) = (.*)$", r"    __set(obj, '\1', \2)", expected)
    assert inspect.getsource(hook) == expected


def test_the_builder_twin_has_the_models_layout_and_plain_stores() -> None:
    """(Internal: the twin never outlives a decode, so only it can show this.) The twin of a
    slotted model has its base and slots, its module and a telling name, and the plain
    attribute store and delete of `object` (CPython's fast path for slots); a model with a
    `__dict__` or with two bases has none, and still decodes, through its own class."""
    m = _models()
    twin = _builder_class(m.Sample)
    assert twin is not None
    assert (twin.__name__, twin.__module__) == ("_BuildSample", m.Sample.__module__)
    assert twin.__bases__ == (LayersModel,)
    assert twin.__dict__["__slots__"] is m.Sample.__dict__["__slots__"]
    assert twin.__dict__["__setattr__"] is object.__setattr__
    assert twin.__dict__["__delattr__"] is object.__delattr__
    assert _builder_class(_models(slots=False).Sample) is None
    mixin = type("Mixin", (), {"__slots__": ()})
    fields = {"label": attrs.field(type=str)}
    two = attrs.make_class("Two", fields, bases=(LayersModel, mixin), frozen=True, slots=True)
    assert _builder_class(two) is None
    got = structure({"label": "x"}, two)
    assert (type(got), got) == (two, two(label="x"))


def _python_310_fromisoformat(text: str) -> datetime:
    """`datetime.fromisoformat` as Python 3.10 has it: no `Z`, and a fraction of exactly 3 or
    6 digits (offsets too), else ValueError."""
    fractions = re.findall(r"\.(\d*)", text)
    if text.endswith(("Z", "z")) or any(len(f) not in (3, 6) for f in fractions):
        raise ValueError(f"Invalid isoformat string: {text!r}")
    return datetime.fromisoformat(text)


@pytest.fixture
def python_310(monkeypatch: pytest.MonkeyPatch) -> None:
    """(Internal: the machine runs 3.11+.) `_serde` parsing timestamps as it does on 3.10."""
    stricter = type(
        "Datetime310", (datetime,), {"fromisoformat": staticmethod(_python_310_fromisoformat)}
    )
    monkeypatch.setattr(serde, "datetime", stricter)
    monkeypatch.setattr(serde, "_FROMISO_READS_Z", False)


@pytest.mark.usefixtures("python_310")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-14T16:00:00Z", datetime(2026, 5, 14, 16, tzinfo=UTC)),
        ("2026-05-14T16:00:00z", datetime(2026, 5, 14, 16, tzinfo=UTC)),
        ("2026-05-14T16:00:00.123Z", datetime(2026, 5, 14, 16, 0, 0, 123000, tzinfo=UTC)),
        ("2026-05-14T16:00:00.5", datetime(2026, 5, 14, 16, 0, 0, 500000, tzinfo=UTC)),
        ("2026-05-14T16:00:00.1234567", datetime(2026, 5, 14, 16, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_timestamps_parse_on_python_310(text: str, expected: datetime) -> None:
    """Python 3.10's reading: `Z`/`z` taken as UTC, and a fraction of other than 3 or 6 digits
    padded or cut to microseconds (here where it carries no offset)."""
    assert parse_datetime(text) == expected


@pytest.mark.usefixtures("python_310")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-14T16:00:00.5Z", datetime(2026, 5, 14, 16, 0, 0, 500000, tzinfo=UTC)),
        ("2026-05-14T16:00:00.25z", datetime(2026, 5, 14, 16, 0, 0, 250000, tzinfo=UTC)),
        ("2026-05-14T18:00:00.1234567+02:00", datetime(2026, 5, 14, 16, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_a_fraction_of_any_length_before_an_offset_parses_on_python_310(
    text: str, expected: datetime
) -> None:
    """On Python 3.10 `.5Z`, `.25z` and a 7-digit fraction before `+02:00` parse, as on 3.11."""
    assert parse_datetime(text) == expected


def test_a_decoder_made_on_python_310_reads_timestamps_the_310_way(
    models: types.SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decoder generated on Python 3.10 hands every timestamp to `parse_datetime` (3.10's
    `fromisoformat` reads no `Z`): `Z` and no offset both read as UTC. (Only the version
    flag is switched: `python_310`'s stand-in class would not be the models' `datetime`.)"""
    monkeypatch.setattr(serde, "_FROMISO_READS_Z", False)
    got = structure({**BASE, "endedAt": "2026-05-14T17:00:00.5"}, models.Sample)
    assert got.created_at == datetime(2026, 5, 14, 16, tzinfo=UTC)
    assert got.ended_at == datetime(2026, 5, 14, 17, 0, 0, 500000, tzinfo=UTC)


def test_structure_calls_the_hook_it_cached_for_the_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """(Internal: the cache saves a converter lookup per decoded body, which no result shows.)
    `structure` makes a class's hook once, then takes it from its cache and calls it as cattrs
    calls hooks, with the data and the class."""
    inner = _models().Inner
    assert structure({"label": "a"}, inner) == inner(label="a")
    assert serde._hooks[inner] is converter.get_structure_hook(inner)
    monkeypatch.setitem(serde._hooks, inner, lambda data, cls: (data, cls))
    assert structure({"label": "b"}, inner) == ({"label": "b"}, inner)
