"""Frozen configuration values and their `DEFAULT_*` constants.

Change them with `attrs.evolve(DEFAULT_TIMEOUTS, read=120)` or per client with
`LayersClient(timeout=..., limits=...)` / `client.with_options(...)`.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUTS",
    "Limits",
    "Timeouts",
]

#: The production API; every route is under `/v1`.
DEFAULT_BASE_URL = "https://api.layers.com"


def _positive_or_none(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and (not isinstance(value, (int, float)) or value <= 0):
        raise ValueError(f"{attribute.name} must be a positive number of seconds or None")


@attrs.frozen
class Timeouts:
    """Timeouts in seconds.

    - `total`: the deadline of a whole call, or None for none (default 60 s).
    - `connect`: establishing a connection, including waiting for a free one in the pool.
    - `read`: the longest gap allowed between two reads of one response. Off by default: the
      API's responses are small JSON documents that `total` already bounds, and a read timer is
      re-armed on every chunk received, which costs measurable CPU per call.
    """

    total: float | None = attrs.field(default=60.0, validator=_positive_or_none)
    connect: float | None = attrs.field(default=10.0, validator=_positive_or_none)
    read: float | None = attrs.field(default=None, validator=_positive_or_none)


def _positive_int(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{attribute.name} must be a non-negative integer")


@attrs.frozen
class Limits:
    """The connection pool of one client (shared by every view of it).

    - `max_connections`: open connections at most (0 = unlimited); default 100.
    - `max_connections_per_host`: per host (0 = unlimited).
    - `keepalive_expiry`: seconds an idle connection is kept.
    """

    max_connections: int = attrs.field(default=100, validator=_positive_int)
    max_connections_per_host: int = attrs.field(default=0, validator=_positive_int)
    keepalive_expiry: float = 15.0


DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_LIMITS = Limits()
