"""Pages written several at once, with progress recorded strictly in page order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.sync.ordered_writes import write_in_order


async def pages_of(items: list[int]) -> AsyncIterator[int]:
    for item in items:
        yield item


async def test_progress_follows_page_order_even_when_later_pages_finish_first() -> None:
    finished: list[int] = []
    committed: list[tuple[int, int]] = []
    running = 0
    most_at_once = 0

    async def write(page: int) -> int:
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        # Earlier pages take longer, so later ones finish first.
        await asyncio.sleep(0.001 * (10 - page))
        running -= 1
        finished.append(page)
        return page * 10

    async def record(page: int, result: int) -> None:
        committed.append((page, result))

    await write_in_order(pages_of(list(range(10))), write, record, writers=3)

    assert committed == [(page, page * 10) for page in range(10)]
    assert finished != sorted(finished)
    assert most_at_once == 3


async def test_a_failed_page_stops_progress_right_before_it() -> None:
    committed: list[int] = []
    started: list[int] = []

    async def write(page: int) -> int:
        started.append(page)
        if page == 4:
            raise RuntimeError("page 4 is broken")
        await asyncio.sleep(0.001)
        return page

    async def record(page: int, result: int) -> None:
        committed.append(page)

    with pytest.raises(RuntimeError, match="page 4 is broken"):
        await write_in_order(pages_of(list(range(20))), write, record, writers=2)

    assert committed == [0, 1, 2, 3]
    # Reading stopped at the failure: no page long after it was started.
    assert max(started) <= 5


async def test_a_failing_page_source_cancels_the_writes_in_flight() -> None:
    cancelled: list[int] = []

    async def broken_pages() -> AsyncIterator[int]:
        yield 0
        yield 1
        await asyncio.sleep(0.01)  # both writes are under way
        raise ConnectionError("service went away")

    async def write(page: int) -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(page)
            raise
        return page

    async def record(page: int, result: int) -> None:
        raise AssertionError("no page finished")

    with pytest.raises(ConnectionError):
        await write_in_order(broken_pages(), write, record, writers=3)
    assert sorted(cancelled) == [0, 1]


async def test_one_writer_writes_pages_one_after_another() -> None:
    order: list[str] = []

    async def write(page: int) -> None:
        order.append(f"write {page}")
        await asyncio.sleep(0)

    async def record(page: int, result: None) -> None:
        order.append(f"commit {page}")

    await write_in_order(pages_of([1, 2, 3]), write, record, writers=1)
    assert order == ["write 1", "commit 1", "write 2", "commit 2", "write 3", "commit 3"]


async def test_at_least_one_writer_is_required() -> None:
    async def write(page: int) -> None: ...

    async def record(page: int, result: None) -> None: ...

    with pytest.raises(ValueError, match="at least 1"):
        await write_in_order(pages_of([1]), write, record, writers=0)
