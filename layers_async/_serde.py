"""The one cattrs converter of the SDK, and JSON encoding (orjson when installed).

- camelCase on the wire, snake_case in Python (one generated hook per model class, built once);
- unknown response fields are ignored; enum-like fields are plain `str`, so unknown values pass;
- datetimes are parsed from both `...Z` and `...+00:00` and always sent as UTC `...Z`.
"""

from __future__ import annotations

import json
import linecache
import math
import sys
import types
import typing
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_structure_fn, override

from ._errors import LayersValidationError
from ._secret import Secret
from .models._base import LayersModel

if TYPE_CHECKING:
    from cattrs.dispatch import StructureHook

    from .models import JSON

__all__ = [
    "HAS_ORJSON",
    "MAX_DEPTH",
    "camel",
    "check_json",
    "converter",
    "dumps",
    "format_datetime",
    "loads",
    "structure",
    "to_plain",
]

T = TypeVar("T")

try:
    import orjson as _orjson

    HAS_ORJSON = True
except ImportError:  # pragma: no cover - depends on the optional `speedups` extra
    HAS_ORJSON = False

#: How deeply what is sent may nest (objects and arrays), in both encoders.
MAX_DEPTH = 64
#: The integers both encoders can send: those that fit in 64 bits.
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
#: The longest key or text an error message quotes, in characters.
_QUOTE = 40


def _json_encode(obj: object) -> bytes:
    """Encode with the standard library (the fallback without orjson)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


if HAS_ORJSON:

    def loads(data: bytes | str) -> Any:
        """Decode JSON bytes or text."""
        return _orjson.loads(data)

    #: The encoder `dumps` uses once the value is checked (tests swap it for the fallback).
    _encode: Callable[[object], bytes] = _orjson.dumps

else:  # pragma: no cover

    def loads(data: bytes | str) -> Any:
        """Decode JSON bytes or text."""
        return json.loads(data)

    _encode = _json_encode


def dumps(obj: object, field: str = "body") -> bytes:
    """Encode plain JSON (dict, list, tuple, str, int, float, bool, None) to compact bytes.

    What JSON cannot hold faithfully raises `LayersValidationError` naming `field` and where in
    it the value sits, before anything is encoded, with or without orjson alike: NaN and
    ±Infinity (JSON has no such numbers), text that is not valid Unicode (lone surrogates),
    integers beyond 64 bits, non-string keys, other types, nesting deeper than `MAX_DEPTH`.
    """
    check_json(field, obj)
    return _encode(obj)


def check_json(field: str, value: object) -> None:
    """Raise `LayersValidationError` naming `field` unless `value` is plain, sendable JSON."""
    try:
        _walk(value, 0)
    except _Unsendable as bad:
        where = field + "".join(reversed(bad.path))
        at = f" (at {where})" if bad.path else ""
        raise LayersValidationError(field, bad.message + at) from None


class _Unsendable(Exception):
    """What `_walk` found; `path` grows (innermost first) as the walk unwinds."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []


_SURROGATE = "must be valid Unicode text (it holds a lone surrogate)"


def _walk(value: object, depth: int) -> None:
    """Check `value` (recursively); raises `_Unsendable`. Runs on every request body, so the
    path to a bad value is only built when there is one."""
    if isinstance(value, str):
        if not value.isascii() and _bad_text(value):
            raise _Unsendable(_SURROGATE)
    elif value is None or isinstance(value, bool):
        return
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Unsendable("must not hold NaN or Infinity (JSON has no such numbers)")
    elif isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise _Unsendable("must hold integers that fit in 64 bits")
    elif isinstance(value, (dict, list, tuple)):
        if depth >= MAX_DEPTH:
            raise _Unsendable(f"must not nest deeper than {MAX_DEPTH} levels")
        children = _members(value) if isinstance(value, dict) else enumerate(value)
        for at, item in children:
            try:
                _walk(item, depth + 1)
            except _Unsendable as bad:
                bad.path.append(f"[{_quote(at)}]" if isinstance(at, str) else f"[{at}]")
                raise
    else:
        raise _Unsendable(f"must be plain JSON (got {type(value).__name__})")


def _members(obj: dict[object, object]) -> Iterator[tuple[str, object]]:
    """The members of a JSON object, each key checked before its value is walked."""
    for key, item in obj.items():
        if not isinstance(key, str):
            raise _Unsendable(f"must have string keys (got {type(key).__name__})")
        if not key.isascii() and _bad_text(key):
            raise _Unsendable("must have valid Unicode keys (one holds a lone surrogate)")
        yield key, item


def _quote(key: str) -> str:
    return repr(key if len(key) <= _QUOTE else key[:_QUOTE] + "...")


def _bad_text(text: str) -> bool:
    """True when `text` holds a lone surrogate (it cannot be encoded as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def camel(name: str) -> str:
    """snake_case → camelCase (`social_account_id` → `socialAccountId`)."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


#: `datetime.fromisoformat` reads a trailing `Z` itself from Python 3.11 on: the generated
#: hooks call it directly there and fall back to `parse_datetime` for anything it refuses.
_FROMISO_READS_Z = sys.version_info >= (3, 11)


def parse_datetime(value: object, _: object = None) -> datetime:
    """Parse an ISO 8601 timestamp ending in `Z` or an offset; the result is timezone-aware."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    if _FROMISO_READS_Z:
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            dt = _parse_iso_text(value)
    else:  # pragma: no cover - Python 3.10
        dt = _parse_iso_text(value)
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def _parse_iso_text(value: str) -> datetime:
    """`datetime.fromisoformat` of `value` with a trailing `Z` read as `+00:00` (which Python
    3.10 needs), and on 3.10 a fraction of any length trimmed or padded to microseconds."""
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        # Python 3.10 only accepts 3 or 6 fractional digits; pad or trim to 6.
        main, _, frac_tz = text.partition(".")
        tz = frac_tz.lstrip("0123456789")  # the offset after the fraction's leading digits
        digits = frac_tz[: len(frac_tz) - len(tz)]
        dt = datetime.fromisoformat(f"{main}.{(digits + '000000')[:6]}{tz}")
    return dt


def format_datetime(value: datetime) -> str:
    """A timezone-aware datetime as UTC with millisecond precision and `Z`."""
    utc = value.astimezone(timezone.utc)  # OverflowError at the edges of datetime's range
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


converter = Converter(forbid_extra_keys=False, detailed_validation=False)
converter.register_structure_hook(datetime, parse_datetime)
converter.register_unstructure_hook(datetime, format_datetime)
# A minted secret is decoded into a `Secret`; turned back into data it shows only its hint.
converter.register_structure_hook(Secret, lambda v, _: Secret(v))
converter.register_unstructure_hook(Secret, lambda s: s.hint)


def _structure_factory(cls: type[attrs.AttrsInstance]) -> StructureHook:
    if issubclass(cls, LayersModel):
        return _response_model_hook(cls)
    overrides: dict[str, Any] = {}  # cattrs types these keywords beside its boolean options
    for a in attrs.fields(cls):
        if a.name.startswith("_"):
            overrides[a.name] = override(omit=True)  # SDK-side metadata, never on the wire
        else:
            overrides[a.name] = override(rename=camel(a.name))
    return make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=False, **overrides)


_PASS_THROUGH = (str, int, float, bool, dict, Any)
_MISSING = object()


def _converter_for(tp: object, ns: dict[str, Any], name: str) -> list[str] | None:
    """Python statements turning a wire value `v` into `tp` in place, or None when `v` passes
    through as parsed.

    Response decoding is lenient on purpose (contract §1.14): enum-like fields are plain
    `str`, numbers and mappings pass through as parsed, unknown keys are never read.
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp in _PASS_THROUGH or origin is dict:
        return None
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            conv = _converter_for(inner[0], ns, name)
            return None if conv is None else ["if v is not None:", *(f"    {c}" for c in conv)]
    if tp is datetime:
        ns["__parse_dt"] = parse_datetime
        if not _FROMISO_READS_Z:  # pragma: no cover - Python 3.10
            return ["v = __parse_dt(v)"]
        # The result is the one `parse_datetime` gives: it also reads the text with
        # `fromisoformat`, and takes a timestamp without an offset as UTC.
        ns["__fromiso"], ns["__utc"] = datetime.fromisoformat, timezone.utc
        return [
            "try: v = __fromiso(v)",
            "except (TypeError, ValueError): v = __parse_dt(v)",
            "else:",
            "    if v.tzinfo is None: v = v.replace(tzinfo=__utc)",
        ]
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if item in _PASS_THROUGH:
            return ["v = tuple(v)"]
        if attrs.has(item):
            key = f"__hook_{name}"
            ns[key] = converter.get_structure_hook(item)
            return [f"v = tuple(map({key}, v))"]
    if isinstance(tp, type) and attrs.has(tp):
        key = f"__hook_{name}"
        ns[key] = converter.get_structure_hook(tp)
        return [f"v = {key}(v)"]
    key = f"__type_{name}"
    ns[key] = tp
    ns["__structure"] = converter.structure
    return [f"v = __structure(v, {key})"]


def _field_lines(a: attrs.Attribute[Any], ns: dict[str, Any]) -> list[str]:
    """The statements reading one field from the wire object `o` into the new object `obj`."""
    if a.name.startswith("_"):
        return [f"obj.{a.name} = None"]  # SDK-side metadata, never on the wire
    wire = camel(a.name)
    conv = _converter_for(a.type, ns, a.name)
    default: Any = a.default
    if default is attrs.NOTHING:
        if conv is None:
            return [f"obj.{a.name} = o[{wire!r}]"]
        return [f"v = o[{wire!r}]", *conv, f"obj.{a.name} = v"]
    # An omitted key takes the default; a Factory's is made afresh for every object.
    factory = isinstance(default, attrs.Factory)  # type: ignore[arg-type]
    ns[f"__default_{a.name}"] = default.factory if factory else default
    if not factory and conv is None:
        return [f"obj.{a.name} = o.get({wire!r}, __default_{a.name})"]
    if default is None and conv is not None and conv[0] == "if v is not None:":
        return [f"v = o.get({wire!r})", *conv, f"obj.{a.name} = v"]  # absent and null alike
    lines = [
        f"v = o.get({wire!r}, __missing)",
        f"if v is __missing: v = __default_{a.name}{'()' if factory else ''}",
    ]
    if conv is not None:
        lines += ["else:", *(f"    {c}" for c in conv)]
    return [*lines, f"obj.{a.name} = v"]


def _builder_class(cls: type[LayersModel]) -> type | None:
    """A mutable twin of the frozen, slotted `cls` (same base, same slots), or None.

    The generated hook fills the twin's slots with plain attribute stores, then gives the
    object its real class; CPython allows that switch between classes of the same layout.
    Built once per class; None when `cls` is not a single-base slotted class.
    """
    if len(cls.__bases__) != 1 or "__slots__" not in cls.__dict__:
        return None
    body = {
        "__slots__": cls.__dict__["__slots__"],
        # Both, so that attribute stores take CPython's fast path for slots.
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
        "__module__": cls.__module__,
    }
    try:
        twin = type(f"_Build{cls.__name__}", cls.__bases__, body)
        probe: Any = object.__new__(twin)
        probe.__class__ = cls
    except TypeError:  # pragma: no cover - a layout CPython will not switch between
        return None
    return twin


def _response_model_hook(cls: type[LayersModel]) -> StructureHook:
    """A straight-line decoder for one response model, generated once per class.

    It builds the frozen instance without running `__init__` (models have no validators):
    slots are filled on a mutable twin of the class, which then becomes `cls`. That makes
    decoding several times faster than a generic hook on the hot polling and list paths.
    """
    attrs.resolve_types(cls)  # a no-op for exported models: the package resolved them at import
    # The namespace the generated source runs in: helpers going in, the new function out.
    twin = _builder_class(cls)
    ns: dict[str, Any] = {"__cls": cls, "__new": object.__new__, "__twin": twin}
    ns["__missing"] = _MISSING
    lines = [f"def structure_{cls.__name__}(o, _=None):"]
    body = ["obj = __new(__twin)" if twin is not None else "obj = __new(__cls)"]
    for a in attrs.fields(cls):
        body += _field_lines(a, ns)
    if twin is not None:
        body.append("obj.__class__ = __cls")
    else:  # a class with a `__dict__`: stores go past its frozen `__setattr__`
        body = [_frozen_store(line) for line in body]
        ns["__set"] = object.__setattr__
    lines += [f"    {line}" for line in body]
    lines.append("    return obj")
    source = "\n".join(lines) + "\n"
    filename = f"<layers_async structure {cls.__qualname__}>"
    exec(compile(source, filename, "exec"), ns)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    hook: StructureHook = ns[f"structure_{cls.__name__}"]
    return hook


def _frozen_store(line: str) -> str:
    """`obj.name = value` as a store past the frozen class's `__setattr__`."""
    if not line.startswith("obj."):
        return line
    name, _, value = line[4:].partition(" = ")
    return f"__set(obj, {name!r}, {value})"


converter.register_structure_hook_factory(attrs.has, _structure_factory)


_hooks: dict[type, StructureHook] = {}


def structure(data: JSON, cls: type[T]) -> T:
    """Decode wire data (already parsed JSON) into `cls` (the hook is looked up once per class)."""
    hook = _hooks.get(cls)
    if hook is None:
        hook = _hooks[cls] = converter.get_structure_hook(cls)
    result: T = hook(data, cls)
    return result


def to_plain(model: attrs.AttrsInstance, *, wire: bool) -> dict[str, JSON]:
    """A model as JSON-able data: camelCase keys when `wire`, else its Python attribute names.

    Nested models become objects and tuples lists; every other value goes through the
    converter's unstructure hooks (datetimes become UTC `...Z` strings, as on the wire).
    Private attributes (the response's `meta`) are left out; the keys of mapping fields
    (`metadata`, ...) are data, kept as they are.
    """
    return {
        (camel(a.name) if wire else a.name): _plain(getattr(model, a.name), wire)
        for a in attrs.fields(type(model))
        if not a.name.startswith("_")
    }


def _plain(value: object, wire: bool) -> JSON:
    if attrs.has(type(value)):
        return to_plain(value, wire=wire)  # type: ignore[arg-type]  # attrs.has narrows the type
    if isinstance(value, (tuple, list)):
        return [_plain(v, wire) for v in value]
    plain: JSON = converter.unstructure(value)
    return plain
