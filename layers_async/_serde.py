"""The one cattrs converter of the SDK, and JSON encoding (orjson when installed).

- camelCase on the wire, snake_case in Python (one generated hook per model class, built once);
- unknown response fields are ignored; enum-like fields are plain `str`, so unknown values pass;
- datetimes are parsed from both `...Z` and `...+00:00` and always sent as UTC `...Z`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

__all__ = ["HAS_ORJSON", "camel", "converter", "dumps", "format_datetime", "loads", "structure"]

T = TypeVar("T")

try:
    import orjson as _orjson

    HAS_ORJSON = True
except ImportError:  # pragma: no cover - depends on the optional `speedups` extra
    HAS_ORJSON = False

if HAS_ORJSON:

    def loads(data: bytes | str) -> Any:
        """Decode JSON bytes or text."""
        return _orjson.loads(data)

    def dumps(obj: Any) -> bytes:
        """Encode to compact JSON bytes."""
        return _orjson.dumps(obj)

else:  # pragma: no cover

    def loads(data: bytes | str) -> Any:
        """Decode JSON bytes or text."""
        return json.loads(data)

    def dumps(obj: Any) -> bytes:
        """Encode to compact JSON bytes."""
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def camel(name: str) -> str:
    """snake_case → camelCase (`social_account_id` → `socialAccountId`)."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def parse_datetime(value: Any, _: Any = None) -> datetime:
    """Parse an ISO 8601 timestamp ending in `Z` or an offset; the result is timezone-aware."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        # Python 3.10 only accepts 3 or 6 fractional digits; pad or trim to 6.
        main, _, frac_tz = text.partition(".")
        digits = "".join(ch for ch in frac_tz if ch.isdigit())
        tz = frac_tz[len(digits) :]
        dt = datetime.fromisoformat(f"{main}.{(digits + '000000')[:6]}{tz}")
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def format_datetime(value: datetime) -> str:
    """A timezone-aware datetime as UTC with millisecond precision and `Z`."""
    utc = value.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


converter = Converter(forbid_extra_keys=False)
converter.register_structure_hook(datetime, parse_datetime)
converter.register_unstructure_hook(datetime, format_datetime)


def _structure_factory(cls: type[Any]) -> Any:
    overrides: dict[str, Any] = {}
    for a in attrs.fields(cls):
        if a.name.startswith("_"):
            overrides[a.name] = override(omit=True)  # SDK-side metadata, never on the wire
        else:
            overrides[a.name] = override(rename=camel(a.name))
    return make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=False, **overrides)


def _unstructure_factory(cls: type[Any]) -> Any:
    overrides: dict[str, Any] = {}
    for a in attrs.fields(cls):
        if a.name.startswith("_"):
            overrides[a.name] = override(omit=True)
        else:
            overrides[a.name] = override(rename=camel(a.name), omit_if_default=True)
    return make_dict_unstructure_fn(cls, converter, **overrides)


converter.register_structure_hook_factory(attrs.has, _structure_factory)
converter.register_unstructure_hook_factory(attrs.has, _unstructure_factory)


def structure(data: Any, cls: type[T]) -> T:
    """Decode wire data (already parsed JSON) into `cls`."""
    return converter.structure(data, cls)
