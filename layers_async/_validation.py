"""Request validation done before anything is sent (contract §1.7, §3): strict, typed, early."""

from __future__ import annotations

import ipaddress
import math
import re
import socket
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import cast, get_args
from urllib.parse import urlsplit

from ._config import Timeouts
from ._errors import LayersValidationError
from ._serde import check_json, dumps, format_datetime
from ._transport import NotGiven
from .models import JSON

__all__ = [
    "BLOCKED_NETWORKS",
    "check_bool",
    "check_datetime",
    "check_enum",
    "check_enums",
    "check_extra_headers",
    "check_header_value",
    "check_https_url",
    "check_id",
    "check_idempotency_key",
    "check_int",
    "check_seconds",
    "check_str",
    "check_timeout",
]

# Every pattern here is applied with `fullmatch`: the whole value must match (an anchored `...$`
# would also accept a trailing newline, which yarl strips from a path or aiohttp refuses later).
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ULID = r"[0-9A-HJKMNP-TV-Z]{26}"
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _id_form(prefix: str, body: str, *, bare: bool = False) -> tuple[re.Pattern[str], str]:
    """The pattern of a `<prefix>_<body>` id (the prefix optional where `bare` UUIDs are
    accepted) and how an error names it: "an org_<uuid> id", "a job_<ULID> id", "a st_<ULID>
    state"."""
    pattern = rf"({prefix}_)?{body}" if bare else rf"{prefix}_{body}"
    article = "an" if prefix[0] in "aeiou" else "a"
    noun = "state" if prefix == "st" else "id"
    shown = "ULID" if body == _ULID else "uuid"
    return re.compile(pattern), f"{article} {prefix}_<{shown}> {noun}"


#: Every id kind `check_id` knows: org, project and container ids may be bare UUIDs; jobs and
#: OAuth states are ULIDs.
_ID_FORMS = {
    **{kind: _id_form(kind, _UUID, bare=True) for kind in ("org", "prj", "cnt")},
    **{kind: _id_form(kind, _UUID) for kind in ("med", "sa", "inf", "sp", "key", "wh", "dlv")},
    **{kind: _id_form(kind, _ULID) for kind in ("job", "st")},
}
BCP47 = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")
TIKTOK_ID = re.compile(r"[0-9]{1,32}")
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f]")
#: An HTTP header name (a token) and value (printable ASCII, spaces, tabs).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
#: Headers only the client sets, with the reason given when a call tries to.
_RESERVED_HEADERS = {
    "authorization": "the client sends the API key",
    "proxy-authorization": "credentials go through the client's configuration",
    "host": "the base URL decides the host",
    "content-length": "the client frames the body",
    "transfer-encoding": "the client frames the body",
    "connection": "the client manages connections",
    "keep-alive": "the client manages connections",
    "upgrade": "the client manages connections",
    "te": "the client manages connections",
    "trailer": "the client frames the body",
}
#: The longest quote of a refused value in an error message, in characters.
_EXCERPT = 60
#: The longest URL the API accepts, in characters.
URL_MAX_LEN = 2048
#: The largest `metadata` object the API accepts, serialised as JSON.
METADATA_MAX_BYTES = 8 * 1024
#: The bounds of string → string metadata (organizations, allocations, webhook endpoints):
#: key and value lengths in characters, keys, and the serialised size in bytes.
STRING_MAP_KEY_LEN, STRING_MAP_VALUE_LEN, STRING_MAP_KEYS, STRING_MAP_BYTES = 40, 500, 50, 16 * 1024


def fail(field: str, message: str) -> LayersValidationError:
    """The error for one bad parameter."""
    return LayersValidationError(field, message)


def check_str(
    field: str,
    value: object,
    *,
    min_len: int = 0,
    max_len: int | None = None,
    pattern: re.Pattern[str] | None = None,
    what: str = "",
) -> str:
    """A string within [min_len, max_len] code points, optionally matching `pattern`."""
    if not isinstance(value, str):
        raise fail(field, f"must be a string, not {type(value).__name__}")
    n = len(value)
    if n < min_len or (max_len is not None and n > max_len):
        bound = f"{min_len} to {max_len}" if max_len is not None else f"at least {min_len}"
        raise fail(field, f"must be {bound} characters (got {n})")
    if pattern is not None and not pattern.fullmatch(value):
        raise fail(field, f"must be {what or 'well formed'}")
    check_json(field, value)  # lone surrogates cannot be sent (UTF-8 has no form for them)
    return value


def check_enum(field: str, value: object, choices: object) -> str:
    """One of `choices`: the values of a `Literal[...]` type (the one the parameter is
    annotated with), or a collection of strings."""
    allowed = cast("Collection[str]", get_args(choices) or choices)
    if not isinstance(value, str) or value not in allowed:
        choice = ", ".join(sorted(allowed))
        raise fail(field, f"must be one of {choice} (got {_excerpt(value)})")
    return value


def check_enums(field: str, value: object, choices: object) -> list[str]:
    """A single value or a sequence of values, each one of `choices` (as in `check_enum`)."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, Sequence) or not values:
        raise fail(field, "must be a value or a non-empty sequence of values")
    return [check_enum(field, v, choices) for v in values]


def check_int(field: str, value: object, lo: int, hi: int) -> int:
    """An integer in [lo, hi]."""
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise fail(field, f"must be an integer from {lo} to {hi} (got {_excerpt(value)})")
    return value


def check_bool(field: str, value: object) -> bool:
    """A bool."""
    if not isinstance(value, bool):
        raise fail(field, f"must be a bool (got {_excerpt(value)})")
    return value


def check_id(field: str, value: object, kind: str) -> str:
    """An id of the given kind (`prj`, `med`, ...); bare UUIDs where the API accepts them."""
    pattern, what = _ID_FORMS[kind]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise fail(field, f"must be {what} (got {_excerpt(value)})")
    return value


def check_datetime(field: str, value: object) -> str:
    """A timezone-aware datetime, returned as the UTC `Z` wire form."""
    if not isinstance(value, datetime):
        raise fail(field, f"must be a datetime (got {type(value).__name__})")
    if value.tzinfo is None or value.utcoffset() is None:
        raise fail(field, "must be timezone-aware (a naive datetime has no defined instant)")
    try:
        return format_datetime(value)
    except OverflowError:
        # An aware time at the edge of datetime's range has no UTC form (0001-01-01 - 1 h).
        raise fail(field, "is out of range: its UTC time is not a representable date") from None


#: The networks the API's SSRF guard refuses in URLs it fetches: "this network", private,
#: carrier-grade NAT, loopback, link-local, unique-local and unspecified addresses (contract
#: §3.3.1). One list: the SDK checks before sending, the sandbox when it serves the request.
BLOCKED_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
]


def _url_text(field: str, value: object, max_len: int) -> str:
    """URL text without whitespace or control characters (`urlsplit` drops tabs and newlines
    silently, so a URL that holds one would be checked as another)."""
    url = check_str(field, value, min_len=1, max_len=max_len)
    if _URL_UNSAFE.search(url):
        raise fail(field, "must not contain spaces or control characters")
    return url


def check_https_url(field: str, value: object, *, max_len: int = URL_MAX_LEN) -> str:
    """An absolute https URL that the API's SSRF guard would accept (§3.3.1)."""
    url = _url_text(field, value, max_len)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise fail(field, "must be an absolute https URL") from None
    if parts.scheme.lower() != "https" or not host:
        raise fail(field, "must be an absolute https URL")
    if "@" in parts.netloc:
        raise fail(field, "must not contain credentials")
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost") or host == "metadata.google.internal":
        raise fail(field, f"host {host!r} is not allowed")
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if not _NUMERIC_HOST.fullmatch(host):
            return url
        # Legacy numeric IPv4 forms (2130706433, 0x7f.1, 127.1) still name an address.
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return url  # a host name made of hex letters, not an address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == n.version and ip in n for n in BLOCKED_NETWORKS):
        raise fail(field, "must not point at a private or reserved address")
    return url


def check_return_url(field: str, value: object) -> str:
    """OAuth returnUrl: absolute, https (http only for localhost / 127.0.0.1), ≤ 2048 chars."""
    url = _url_text(field, value, URL_MAX_LEN)
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise fail(field, "must be an absolute URL") from None
    if not host or parts.scheme not in ("https", "http"):
        raise fail(field, "must be an absolute https URL")
    if parts.scheme == "http" and host not in ("localhost", "127.0.0.1"):
        raise fail(field, "must use https (http is allowed only for localhost and 127.0.0.1)")
    return url


def check_metadata(
    field: str, value: object, *, max_bytes: int = METADATA_MAX_BYTES
) -> dict[str, JSON]:
    """A JSON object of at most `max_bytes` serialised."""
    if not isinstance(value, Mapping):
        raise fail(field, "must be a mapping")
    size = len(dumps(dict(value), field))
    if size > max_bytes:
        raise fail(field, f"must be at most {max_bytes} bytes serialised (got {size})")
    return dict(value)


def check_string_map(field: str, value: object) -> dict[str, str]:
    """String → string metadata within its bounds: keys of at most 40 characters, values of
    at most 500, at most 50 keys and 16 KB serialised (contract §3.0.14)."""
    if not isinstance(value, Mapping):
        raise fail(field, "must be a mapping of strings to strings")
    if len(value) > STRING_MAP_KEYS:
        raise fail(field, f"must have at most {STRING_MAP_KEYS} keys (got {len(value)})")
    for key, item in value.items():
        if not isinstance(key, str) or len(key) > STRING_MAP_KEY_LEN:
            got = _excerpt(key)
            raise fail(field, f"keys must be strings of at most 40 characters (got {got})")
        check_str(f"{field}[{_excerpt(key)}]", item, max_len=STRING_MAP_VALUE_LEN)
    size = len(dumps(dict(value), field))
    if size > STRING_MAP_BYTES:
        raise fail(field, f"must be at most {STRING_MAP_BYTES} bytes serialised (got {size})")
    return dict(value)


def check_idempotency_key(value: object) -> str:
    """1-255 visible ASCII characters (no space, no control character, nothing after)."""
    if not isinstance(value, str) or not _IDEMPOTENCY_KEY.fullmatch(value):
        raise fail("idempotency_key", "must be 1 to 255 visible ASCII characters")
    return value


def check_header_value(field: str, value: object, header: str = "") -> str:
    """A header value: printable ASCII, spaces and tabs only (CR and LF would end the header
    and start another, so they are refused rather than left to the HTTP library)."""
    of = f"the value of {header} " if header else ""
    if not isinstance(value, str):
        raise fail(field, f"{of}must be a string, not {type(value).__name__}")
    if not _HEADER_VALUE.fullmatch(value):
        raise fail(field, f"{of}must be printable ASCII (no CR, LF or other control character)")
    return value


def check_extra_headers(
    value: object, field: str = "extra_headers"
) -> Mapping[str, str] | None:
    """Headers a call (`extra_headers`) or a client (`default_headers`) adds to its requests.

    Names are HTTP tokens, values printable ASCII; the headers that carry the API key or
    frame the request (`Authorization`, `Host`, `Content-Length`, ...) cannot be set, and an
    `Idempotency-Key` must be what `idempotency_key=` accepts.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise fail(field, "must map header names to string values")
    for name, header in value.items():
        if not isinstance(name, str) or not isinstance(header, str):
            raise fail(field, "must map header names to string values")
        if not _HEADER_NAME.fullmatch(name):
            raise fail(field, f"{_excerpt(name)} is not a valid header name")
        why = _RESERVED_HEADERS.get(name.lower())
        if why is not None:
            raise fail(field, f"must not set {name} ({why})")
        check_header_value(field, header, name)
        if name.lower() == "idempotency-key" and not _IDEMPOTENCY_KEY.fullmatch(header):
            raise fail(field, f"{name} must be 1 to 255 visible ASCII characters")
    return value


def check_seconds(field: str, value: object) -> float:
    """A finite, positive number of seconds (NaN would make every deadline comparison false)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(field, f"must be a number of seconds (got {type(value).__name__})")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not (math.isfinite(seconds) and seconds > 0):
        raise fail(field, f"must be a finite number of seconds above 0 (got {_excerpt(value)})")
    return seconds


def check_timeout(value: object) -> float | Timeouts | NotGiven | None:
    """A call's or client's `timeout=`: seconds (the total deadline), a `Timeouts`, or None
    for no deadline."""
    if value is None or isinstance(value, (Timeouts, NotGiven)):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail("timeout", "must be a positive number of seconds, a Timeouts or None")
    return check_seconds("timeout", value)


def _excerpt(value: object) -> str:
    """`repr(value)`, shortened: error messages quote what they refuse, never all of it."""
    try:
        text = repr(value)
    except Exception:  # an int past the digit limit, a broken __repr__
        return f"a {type(value).__name__}"
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."
