"""The state file of `layers-async onboard`: an append-only JSONL journal, fsynced per line.

``{"external_id", "status": "started"}`` is written when a customer's flow begins and
``{"external_id", "status": "done", "result": {...}}`` when it ends (``"failed"`` with the
error when it fails). Reading it back on start tells which customers are done; a torn last
line (a kill while writing) is dropped. One run at a time holds the file (an advisory lock).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio

__all__ = ["Journal", "StateInUseError"]

#: Permissions of a new state file: the user reads and writes, others read.
_FILE_MODE = 0o644


class StateInUseError(Exception):
    """Another run holds the state file."""


class Journal:
    """The append-only JSONL state file: one fsynced line per event, read back on start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, dict[str, Any]] = {}
        self.started: set[str] = set()
        self.torn = False
        self.unreadable = 0
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
                rec = json.loads(raw)
                ext, status = rec["external_id"], rec["status"]
            except (ValueError, KeyError, TypeError):
                self.unreadable += 1
                continue
            if status == "done" and isinstance(rec.get("result"), dict):
                self.done[ext] = rec["result"]
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


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
