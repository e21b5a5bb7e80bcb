"""The state file of `layers-async onboard`: an append-only JSONL journal, fsynced per line.

``{"external_id", "status": "started"}`` is written when a customer's flow begins and
``{"external_id", "status": "done", "result": {...}}`` when it ends (``"failed"`` with the
error when it fails). Reading it back on start tells which customers are done; a torn last
line (a kill while writing) is dropped. One run at a time holds the file (an advisory lock).

Nothing read back is trusted blindly: a line that is not JSON, or whose ``external_id`` or
``status`` is not a string, is skipped and counted (`Journal.unreadable`); a ``done`` record
whose result lacks the project id it claims (``"result": {}``) is counted
(`Journal.untrusted`) and that customer is onboarded again, which the idempotent flow does
without creating anything twice.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeGuard

import anyio

__all__ = ["Journal", "StateInUseError", "Trusted", "onboarded"]

#: Permissions of a new state file: the user reads and writes, others read.
_FILE_MODE = 0o644


class StateInUseError(Exception):
    """Another run holds the state file."""


#: Whether a ``done`` result read back holds what a finished run records (else it runs again).
Trusted = Callable[[Any], TypeGuard[dict[str, Any]]]


class Journal:
    """The append-only JSONL state file: one fsynced line per event, read back on start.

    `trusted` judges each ``done`` result read back (default: an onboarding's, `onboarded`).
    """

    def __init__(self, path: Path, trusted: Trusted | None = None) -> None:
        self.path = path
        self._trusted: Trusted = onboarded if trusted is None else trusted
        self.done: dict[str, dict[str, Any]] = {}
        self.started: set[str] = set()
        self.torn = False
        #: Lines skipped because they are not a record this module writes.
        self.unreadable = 0
        #: ``done`` records not trusted (their result lacks what it claims): run again.
        self.untrusted = 0
        self._lock = anyio.Lock()
        self._pending: list[bytes] = []
        created = not path.exists()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, _FILE_MODE)
        try:
            self._flock()
            self._load()
            if created:
                _fsync_dir(path.parent)
        except BaseException:
            os.close(self._fd)
            raise

    def _flock(self) -> None:
        if sys.platform == "win32":  # pragma: no cover - no advisory locks there
            return
        import fcntl

        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateInUseError(f"{self.path} is in use by another run") from None

    def _load(self) -> None:
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        end = data.rfind(b"\n") + 1
        if end < len(data):  # a kill while writing the last line: drop the fragment
            self.torn = True
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        for raw in data[:end].splitlines():
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw, parse_float=_finite, parse_constant=_no_constant)
            except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep
                rec = None
            if not isinstance(rec, dict):
                rec = {}
            ext, status = rec.get("external_id"), rec.get("status")
            if not (isinstance(ext, str) and ext and isinstance(status, str)):
                self.unreadable += 1
                continue
            if status == "done":
                result = rec.get("result")
                if self._trusted(result):
                    self.done[ext] = result
                else:
                    self.untrusted += 1
                    self.done.pop(ext, None)
                    self.started.add(ext)
            elif status == "started":
                self.started.add(ext)

    def _write(self, data: bytes) -> None:
        os.write(self._fd, data)
        os.fsync(self._fd)

    @staticmethod
    def _encode(record: Mapping[str, Any]) -> bytes:
        return (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()

    def note(self, record: Mapping[str, Any]) -> None:
        """Queue one record; it is written (and fsynced) with the next `append` or `close`."""
        self._pending.append(self._encode(record))

    async def append(self, record: Mapping[str, Any]) -> None:
        """Append one record (after any queued ones), on disk before this returns.

        Lines that arrive while a write is under way are written together with one fsync.
        """
        self._pending.append(self._encode(record))
        async with self._lock:
            if not self._pending:  # the previous writer took this record along
                return
            batch, self._pending = self._pending, []
            await anyio.to_thread.run_sync(self._write, b"".join(batch))

    def close(self) -> None:
        """Write what is queued, then release the lock and the file."""
        if self._fd >= 0:
            if self._pending:
                batch, self._pending = self._pending, []
                with contextlib.suppress(OSError):
                    self._write(b"".join(batch))
            os.close(self._fd)
            self._fd = -1


#: What a trusted ``done`` result holds: field -> the types its value may have.
_RESULT_FIELDS: dict[str, tuple[type, ...]] = {
    "project_id": (str,),
    "media_ids": (list,),
    "social_account_id": (str, type(None)),
    "container_id": (str,),
    "scheduled_post_ids": (list,),
}


def _finite(text: str) -> float:
    """A JSON number as a float; one past the float range (`1e999`) makes the line unreadable,
    since the journal only ever holds numbers that strict JSON can write back."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _no_constant(name: str) -> float:
    """`NaN` and `Infinity` are not JSON: a line holding one is unreadable."""
    raise ValueError(f"{name} is not JSON")


def onboarded(result: Any) -> TypeGuard[dict[str, Any]]:
    """Whether a ``done`` result holds the ids a finished onboarding records, with their types.

    The project id must be a non-empty string; the other fields written with it, when present,
    must have the types written (a result from an older run may lack them).
    """
    if not isinstance(result, dict):
        return False
    project = result.get("project_id")
    if not (isinstance(project, str) and project):
        return False
    for field, types in _RESULT_FIELDS.items():
        if field in result and not isinstance(result[field], types):
            return False
    return all(
        isinstance(i, str) for f in ("media_ids", "scheduled_post_ids") for i in result.get(f, ())
    )


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
