"""Reading a service's list endpoints page by page, and one page ahead of the writer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from core.cancellation import cancel_and_wait

T = TypeVar("T")


async def prefetching(pages: AsyncIterator[T]) -> AsyncIterator[T]:
    pending: asyncio.Task[T] | None = asyncio.ensure_future(anext(pages))
    try:
        while pending is not None:
            try:
                page = await pending
            except StopAsyncIteration:
                return
            pending = asyncio.ensure_future(anext(pages))
            yield page
    finally:
        if pending is not None:
            await _abandon(pending)


async def _abandon(read_ahead: asyncio.Future[T]) -> None:
    """Stop the page read ahead and wait for it; only a cancel of the reader itself goes on from here.

    The read ahead ends cancelled (or ended already, maybe failing: no longer anyone's
    business), and that is dropped.
    """
    with contextlib.suppress(Exception):
        await cancel_and_wait(read_ahead)


async def offset_pages(
    read_page: Callable[[int], Awaitable[tuple[T, int, int | None]]],
    page_size: int,
    *,
    on_page: Callable[[int, int | None], None] | None = None,
) -> AsyncIterator[T]:
    """Pages of an offset-paged endpoint, from offset 0 until the service has no more.

    ``read_page(offset)`` returns the page, how many entries it holds and the
    total the service reports (None when it reports none). The end is an empty
    page, a short page, or the reported total reached, whichever comes first,
    so a service that ignores the page size or misreports its total still ends.
    ``on_page(entries read so far, total)`` follows every page read, for progress.
    """
    offset = 0
    while True:
        page, count, total = await read_page(offset)
        if on_page is not None:
            on_page(offset + count, total)
        if count:
            yield page
        offset += count
        if not count or count < page_size or (total is not None and offset >= total):
            return
