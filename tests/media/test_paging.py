"""Reading one page ahead (``prefetching``): closing it never hides a cancel of the reader."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from adapters.media.paging import prefetching


async def test_a_cancel_during_the_read_aheads_cleanup_still_cancels_the_reader() -> None:
    """The page read ahead takes a moment to stop (a connection to close); a cancel meanwhile is the reader's own."""
    asked = asyncio.Event()
    stopping = asyncio.Event()
    stopped = asyncio.Event()

    async def pages() -> AsyncIterator[int]:
        yield 1
        try:
            asked.set()
            await asyncio.Event().wait()  # the next page, never answered
        finally:
            stopping.set()
            await stopped.wait()  # closing its connection takes a while
            yield 2  # pragma: no cover

    went_on = False

    async def reader() -> None:
        nonlocal went_on
        async with contextlib.aclosing(prefetching(pages())) as reading:
            async for _ in reading:
                await asked.wait()
                break
        went_on = True

    reading = asyncio.create_task(reader())
    await stopping.wait()
    reading.cancel()
    stopped.set()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert not went_on
