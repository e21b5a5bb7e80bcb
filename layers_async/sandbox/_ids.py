"""Seeded identifiers: UUIDv4-shaped ids, ULIDs on the virtual clock, API key strings."""

from __future__ import annotations

import random
import re

__all__ = [
    "CROCKFORD",
    "KEY_RE",
    "ULID_RE",
    "UUID_RE",
    "IdFactory",
]

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)
ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}\Z")
KEY_RE = re.compile(r"^lp_(live|test)_[0-9A-HJKMNP-TV-Z]{16}_[A-Za-z0-9_-]{43}\Z")


def _uuid_from_int(n: int) -> str:
    # Force version 4 and the RFC 4122 variant bits, as uuid.UUID(int=..., version=4) does.
    n &= ~(0xF000 << 64)
    n |= 0x4000 << 64
    n &= ~(0xC000 << 48)
    n |= 0x8000 << 48
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class IdFactory:
    """Generates every id from one seeded random stream so runs repeat exactly."""

    __slots__ = ("_rng",)

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def uuid(self) -> str:
        """A lowercase UUIDv4 string made from seeded random bits."""
        return _uuid_from_int(self._rng.getrandbits(128))

    def prefixed(self, prefix: str) -> str:
        """`<prefix>_<uuid4>`."""
        return f"{prefix}_{self.uuid()}"

    def ulid(self, ms: int) -> str:
        """A 26-character ULID whose first 10 characters encode `ms`."""
        n = (max(0, ms) << 80) | self._rng.getrandbits(80)
        out = []
        for _ in range(26):
            out.append(CROCKFORD[n & 31])
            n >>= 5
        return "".join(reversed(out))

    def secret(self, length: int) -> str:
        """`length` seeded base64url characters (webhook signing secrets)."""
        return "".join(self._rng.choice(_B64URL) for _ in range(length))

    def api_key(self, env: str) -> str:
        """A key string `lp_<env>_<keyId16>_<secret43>` in the format of contract §1.2."""
        key_id = "".join(self._rng.choice(CROCKFORD) for _ in range(16))
        secret = "".join(self._rng.choice(_B64URL) for _ in range(43))
        return f"lp_{env}_{key_id}_{secret}"
