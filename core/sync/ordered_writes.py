"""Writing pages on several connections at once while recording progress in page order.

A large first sync is bound by the database: one page written at a time leaves
a core idle while the next page is fetched and parsed. ``write_in_order`` keeps
up to ``writers`` page writes in flight, each in its own transaction, and
calls ``committed`` for every page strictly in the order the pages came, only
once that page and every page before it are written. A job saves its cursor
there, so a failure or a crash never leaves the cursor past a page that was
not written: the next run reads such pages again, and idempotent writes make
that harmless.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import TypeVar

PageT = TypeVar("PageT")
ResultT = TypeVar("ResultT")


async def write_in_order(
    pages: AsyncIterable[PageT],
    write: Callable[[PageT], Awaitable[ResultT]],
    committed: Callable[[PageT, ResultT], Awaitable[None]],
    *,
    writers: int,
) -> None:
    """Run ``write`` for every page, up to ``writers`` at once; ``committed`` follows in page order.

    The first failure stops the reading of pages, cancels the writes still in
    flight and propagates; ``committed`` has then run for exactly the pages
    before the first one that did not finish.
    """
    if writers < 1:
        raise ValueError("writers must be at least 1")
    in_flight: deque[tuple[asyncio.Task[ResultT], PageT]] = deque()

    async def finish_oldest() -> None:
        task, page = in_flight[0]
        result = await task
        in_flight.popleft()
        await committed(page, result)

    try:
        async for page in pages:
            in_flight.append((asyncio.ensure_future(write(page)), page))
            if len(in_flight) >= writers:
                await finish_oldest()
        while in_flight:
            await finish_oldest()
    finally:
        for task, _ in in_flight:
            task.cancel()
        await asyncio.gather(*(task for task, _ in in_flight), return_exceptions=True)
