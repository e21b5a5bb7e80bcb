"""`AsyncPaginator`: `await` it for the first page, `async for` it for every item."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Generic, TypeVar

import attrs

from .models._base import ResponseMeta

__all__ = ["AsyncPaginator", "Page"]

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of a list: its items and the opaque cursor of the next page (None at the end)."""

    items: tuple[T, ...]
    next_cursor: str | None
    meta: ResponseMeta | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def has_next(self) -> bool:
        """True when another page follows."""
        return self.next_cursor is not None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)


class AsyncPaginator(Generic[T]):
    """A lazy list call. Nothing is sent until it is awaited or iterated.

    - ``page = await client.projects.list(status="active")`` fetches the first page;
    - ``async for project in client.projects.list(status="active")`` walks every page;
    - ``async for page in client.projects.list(...).pages()`` walks page by page.

    The filters of the original call are sent with every page; cursors are passed back verbatim.
    """

    __slots__ = ("_cursor", "_fetch")

    def __init__(
        self, fetch: Callable[[str | None], Awaitable[Page[T]]], cursor: str | None = None
    ) -> None:
        self._fetch = fetch
        self._cursor = cursor

    def __await__(self) -> Generator[object, None, Page[T]]:
        return self._fetch(self._cursor).__await__()

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Every page in order, starting at this paginator's cursor."""
        cursor = self._cursor
        while True:
            page = await self._fetch(cursor)
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def to_list(self, *, max_items: int | None = None) -> list[T]:
        """Collect every item (or the first `max_items`) into a list."""
        out: list[T] = []
        async for item in self:
            out.append(item)
            if max_items is not None and len(out) >= max_items:
                break
        return out
