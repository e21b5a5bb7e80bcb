"""Field validators for strict request bodies and query strings (contract §1.7)."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from .._validation import BLOCKED_NETWORKS
from ._clock import parse_client_ts
from ._errors import Issues
from ._ids import UUID_RE

__all__ = [
    "BCP47_RE",
    "EMAIL_RE",
    "Body",
    "check_https_url",
    "is_timezone",
]

BCP47_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_TZ_CACHE: frozenset[str] | None = None


def is_timezone(name: str) -> bool:
    """True when `name` is an IANA zone this machine knows."""
    global _TZ_CACHE
    if _TZ_CACHE is None:
        _TZ_CACHE = frozenset(available_timezones()) | {"UTC"}
    if name in _TZ_CACHE:
        return True
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return False
    return "/" in name or name == "UTC"


def _ip_blocked(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in BLOCKED_NETWORKS)


def check_https_url(url: str) -> str | None:
    """A media source URL must be absolute https, without credentials, and not name a local,
    private or reserved host (contract §3.3.1), judged on the text alone; returns the problem,
    or None when allowed."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "URL must be an absolute https URL."
    if parts.scheme.lower() != "https":
        return "URL must use https."
    if not parts.netloc or host is None or host == "":
        return "URL must be an absolute https URL."
    if "@" in parts.netloc:
        return "URL must not contain credentials."
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost") or host == "metadata.google.internal":
        return "URL host is not allowed."
    if _ip_blocked(host):
        return "URL resolves to a private or reserved address."
    # Numeric IPv4 shorthands (2130706433, 0x0a000005, 010.0.0.1) name addresses too.
    if re.fullmatch(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}", host):
        try:
            packed = socket.inet_aton(host)
        except OSError:
            return "URL host is not allowed."
        if _ip_blocked(socket.inet_ntoa(packed)):
            return "URL resolves to a private or reserved address."
    return None


_MISSING: Any = object()
#: Metadata bounds (contract §3.0.14): key and value lengths, key count, serialised size.
_META_KEY = 40
_META_VALUE = 500
_META_KEYS = 50
_META_BYTES = 16_384


class Body:
    """A parsed strict JSON body: typed getters that record issues instead of raising."""

    __slots__ = ("_allowed", "data", "issues")

    def __init__(
        self, data: Mapping[str, Any] | None, allowed: Iterable[str], issues: Issues
    ) -> None:
        if data is None:
            # The body was not a JSON object (already reported): check no field, and send any
            # field problem to a collector that is thrown away.
            data = {}
            issues = Issues()
        self.data = data
        self.issues = issues
        self._allowed = frozenset(allowed)
        for key in data:
            if key not in self._allowed:
                issues.add(key, "Unknown field.")

    def has(self, name: str) -> bool:
        """True when the field is present (even when null)."""
        return name in self.data

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        min_len: int = 0,
        max_len: int | None = None,
        nullable: bool = False,
        choices: Iterable[str] | None = None,
        pattern: re.Pattern[str] | None = None,
        pattern_message: str = "Invalid format.",
        path: str | None = None,
    ) -> str | None:
        """A string field; records an issue and returns None when invalid or absent."""
        p = path or name
        v = self.data.get(name, _MISSING)
        if v is _MISSING or (v is None and nullable):
            if required:
                self.issues.add(p, "Required.")
            return None
        if v is None:
            self.issues.add(p, "Must not be null." if not required else "Required.")
            return None
        if not isinstance(v, str):
            self.issues.add(p, "Must be a string.")
            return None
        if choices is not None:
            opts = list(choices)
            if v not in opts:
                self.issues.add(p, "Must be one of " + ", ".join(opts) + ".")
                return None
        n = len(v)
        if n < min_len or (max_len is not None and n > max_len):
            if max_len is None:
                self.issues.add(p, f"Must be at least {min_len} characters.")
            elif min_len <= 1 and n == 0 and min_len == 1:
                self.issues.add(p, f"Must be 1 to {max_len} characters.")
            else:
                self.issues.add(p, f"Must be {min_len} to {max_len} characters.")
            return None
        if pattern is not None and not pattern.match(v):
            self.issues.add(p, pattern_message)
            return None
        return v

    def integer(
        self, name: str, *, least: int, most: int, required: bool = False, nullable: bool = False
    ) -> int | None:
        """An integer field from `least` to `most`; None when absent, null (if allowed) or
        invalid (an issue is recorded when invalid)."""
        v = self.data.get(name, _MISSING)
        if v is _MISSING or (v is None and nullable):
            if required:
                self.issues.add(name, "Required.")
            return None
        if not isinstance(v, int) or isinstance(v, bool) or not least <= v <= most:
            self.issues.add(name, f"Must be an integer from {least} to {most}.")
            return None
        return v

    def metadata(self, name: str = "metadata") -> dict[str, Any] | None:
        """An object mapping strings to strings within the metadata bounds (keys up to 40
        characters, values up to 500, at most 50 keys and 16 KB); None when absent or null.

        A value that is not a string (null included) is an issue at `metadata.<key>`.
        """
        v = self.data.get(name)
        if v is None:
            return None
        if not isinstance(v, dict):
            self.issues.add(name, "Must be an object mapping strings to strings.")
            return None
        before = len(self.issues.items)
        for k, val in v.items():
            if len(k) > _META_KEY:
                self.issues.add(f"{name}.{k}", f"Keys are at most {_META_KEY} characters.")
            elif not isinstance(val, str) or len(val) > _META_VALUE:
                self.issues.add(f"{name}.{k}", f"Must be a string of at most {_META_VALUE}.")
        if len(v) > _META_KEYS:
            self.issues.add(name, f"At most {_META_KEYS} keys.")
        elif len(json.dumps(v, ensure_ascii=False).encode()) > _META_BYTES:
            self.issues.add(name, "At most 16 KB when serialised.")
        return v if len(self.issues.items) == before else None

    def boolean(self, name: str) -> bool | None:
        """An optional boolean field."""
        v = self.data.get(name, _MISSING)
        if v is _MISSING or v is None:
            return None
        if not isinstance(v, bool):
            self.issues.add(name, "Must be a boolean.")
            return None
        return v

    def prefixed_id(
        self, name: str, prefix: str, *, required: bool = False, path: str | None = None
    ) -> str | None:
        """An id field `<prefix>_<uuid>`, normalised to lowercase."""
        v = self.string(name, required=required, path=path)
        if v is None:
            return None
        norm = normalize_prefixed(v, prefix, bare_ok=False)
        if norm is None:
            self.issues.add(path or name, f"Must be a {prefix}_<uuid> id.")
        return norm

    def timestamp(self, name: str, *, required: bool = False) -> int | None:
        """A client timestamp in UTC `Z` form, as epoch milliseconds."""
        v = self.data.get(name, _MISSING)
        if v is _MISSING or v is None:
            if required:
                self.issues.add(name, "Required.")
            return None
        ms = parse_client_ts(v)
        if ms is None:
            self.issues.add(name, "Must be an ISO 8601 UTC timestamp ending in Z.")
        return ms


def normalize_prefixed(value: str, prefix: str, *, bare_ok: bool) -> str | None:
    """`<prefix>_<uuid>` (or a bare UUID when allowed) → canonical lowercase prefixed id."""
    head = prefix + "_"
    if value.startswith(head):
        rest = value[len(head) :]
    elif bare_ok:
        rest = value
    else:
        return None
    if not UUID_RE.match(rest):
        return None
    return head + rest.lower()
