"""The ``--secrets`` file of `layers-async provision`: the only place child secrets go.

It is a JSONL file created with mode 0600 (the user reads and writes, nobody else); an
existing file that others may read or write is refused, not fixed. Each line is
``{"external_id", "organization_id", "api_key_id", "secret"}`` (plus
``"webhook_signing_secret"`` when the customer has a webhook endpoint), fsynced before the
customer is marked done in the journal, so a crash never loses a secret it reported. A rerun
appends a line only when the key differs from the last one written for that customer (after a
rotation): read the file keeping the last line per ``external_id``.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from .. import ProvisionResult

__all__ = ["SecretsFile", "SecretsFileError", "read_secrets"]

#: The only permissions the file may have: the user reads and writes it.
FILE_MODE = 0o600


class SecretsFileError(Exception):
    """The secrets file cannot be used: others may read it, or it is not a regular file."""


def read_secrets(path: Path) -> dict[str, dict[str, str]]:
    """The file's records, the last one per external id (a torn last line is skipped)."""
    out: dict[str, dict[str, str]] = {}
    for raw in path.read_bytes().splitlines():
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("external_id"), str):
            out[rec["external_id"]] = rec
    return out


class SecretsFile:
    """The open ``--secrets`` file: `write` appends one customer's secrets, fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, FILE_MODE)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SecretsFileError(f"{path} is not a regular file")
            if st.st_mode & 0o077:
                raise SecretsFileError(
                    f"{path} may be read by others (mode {stat.S_IMODE(st.st_mode):04o}):"
                    f" chmod 600 it or name a new file"
                )
            #: external id -> (its last key id, whether a signing secret was recorded).
            self._known = {
                ext: (rec.get("api_key_id"), "webhook_signing_secret" in rec)
                for ext, rec in read_secrets(path).items()
            }
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def write(self, result: ProvisionResult) -> None:
        """Append the customer's secrets, unless the same key is already the last recorded."""
        ext = result.customer_external_id
        signing = result.webhook_signing_secret
        key_id, had_signing = self._known.get(ext, (None, False))
        if key_id == result.api_key_id and (signing is None or had_signing):
            return
        rec = {
            "external_id": ext,
            "organization_id": result.organization_id,
            "api_key_id": result.api_key_id,
            "secret": result.secret.reveal(),
        }
        if signing is not None:
            rec["webhook_endpoint_id"] = result.webhook_endpoint_id or ""
            rec["webhook_signing_secret"] = signing.reveal()
        os.write(self._fd, (json.dumps(rec, separators=(",", ":")) + "\n").encode())
        os.fsync(self._fd)
        self._known[ext] = (result.api_key_id, signing is not None or had_signing)

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
