"""Where a receiver remembers the event ids it accepted (deduplication, contract §3.15.10)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol, runtime_checkable

from .._errors import LayersValidationError

__all__ = ["DedupStore", "MemoryDedupStore"]


@runtime_checkable
class DedupStore(Protocol):
    """The event ids a `WebhookReceiver` has accepted, so that a retried delivery (same
    ``X-Layers-Event-Id``) runs its handlers once.

    Two async methods: `seen_or_add` checks and records in one step (it must be atomic for
    receivers sharing the store, e.g. Redis ``SET key 1 NX EX 86400`` answering "already
    there"), and `forget` takes an id back when the receiver could not accept the delivery
    after all, so the sender's retry is processed. The default is `MemoryDedupStore`; share a
    store between processes to deduplicate across them.
    """

    async def seen_or_add(self, event_id: str) -> bool:
        """True if `event_id` was already recorded; otherwise record it and return False."""
        ...

    async def forget(self, event_id: str) -> None:
        """Remove `event_id` (no error if absent)."""
        ...


class MemoryDedupStore:
    """The default `DedupStore`: the last `max_events` ids in memory, least recently seen
    evicted first (a duplicate refreshes its id). Per process, lost on restart.

    100,000 ids (the default) is about 15 MB and covers the sender's whole retry window
    (about 31 hours) at close to one event a second.
    """

    __slots__ = ("_ids", "_max")

    def __init__(self, max_events: int = 100_000) -> None:
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 1:
            raise LayersValidationError("max_events", "must be an integer >= 1")
        self._max = max_events
        self._ids: OrderedDict[str, None] = OrderedDict()

    @property
    def max_events(self) -> int:
        """How many ids are kept at most."""
        return self._max

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    async def seen_or_add(self, event_id: str) -> bool:
        """True if `event_id` is kept (it becomes the most recent); else keep it, evicting the
        least recently seen id beyond `max_events`, and return False."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return True
        self._ids[event_id] = None
        while len(self._ids) > self._max:
            self._ids.popitem(last=False)
        return False

    async def forget(self, event_id: str) -> None:
        """Drop `event_id` if kept."""
        self._ids.pop(event_id, None)

    def __repr__(self) -> str:
        return f"MemoryDedupStore({len(self._ids)}/{self._max} ids)"
