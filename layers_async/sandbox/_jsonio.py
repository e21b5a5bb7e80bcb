"""JSON encoding for the sandbox: orjson when installed, the standard library otherwise."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["HAS_ORJSON", "dumps", "dumps_canonical", "loads"]

try:
    import orjson as _orjson

    HAS_ORJSON = True
except ImportError:  # pragma: no cover - depends on the optional extra
    HAS_ORJSON = False

if HAS_ORJSON:
    _SORT = _orjson.OPT_SORT_KEYS

    def dumps(obj: Any) -> bytes:
        """Serialise to compact UTF-8 JSON bytes."""
        return _orjson.dumps(obj)

    def dumps_canonical(obj: Any) -> bytes:
        """Serialise with sorted keys: the canonical form used for ETags and fingerprints."""
        return _orjson.dumps(obj, option=_SORT)

    def loads(data: bytes | str) -> Any:
        """Parse JSON bytes or text."""
        return _orjson.loads(data)

else:  # pragma: no cover

    def dumps(obj: Any) -> bytes:
        """Serialise to compact UTF-8 JSON bytes."""
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def dumps_canonical(obj: Any) -> bytes:
        """Serialise with sorted keys: the canonical form used for ETags and fingerprints."""
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()

    def loads(data: bytes | str) -> Any:
        """Parse JSON bytes or text."""
        return json.loads(data)
