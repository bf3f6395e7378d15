"""The page writer: a page of records and the cursor that says it is done are written together, or neither is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import asyncpg
import pytest

from core.ingest.records import MediaRecord, UserRecord
from core.sync import page_writer, schedule
from core.sync.jobs import SyncContext, run_job
from core.sync.page_writer import Cursor, Page, PageCounts

JOB = "paged"
SERVICE = "plex"


def film(n: int) -> MediaRecord:
    return MediaRecord(SERVICE, f"film-{n}", f"Film {n}", "movie", year=2000 + n)


def untitled(n: int) -> MediaRecord:
    # The database refuses an item without a title (media_items.title is NOT NULL).
    return MediaRecord(SERVICE, f"untitled-{n}", None, "movie")  # type: ignore[arg-type]


def next_page(n: int, cursor: Cursor) -> Cursor:
    return {**cursor, "next_page": n}


class PagedJob:
    """Writes ``pages`` pages of two films each, from the page its cursor names; page ``refused`` fails."""

    name = JOB
    interval_seconds = 3600

    def __init__(self, pages: int, *, refused: int | None = None, writers: int | None = None) -> None:
        self.pages = pages
        self.refused = refused
        self.writers = writers
        self.started_from: int | None = None

    def page(self, n: int) -> Page:
        records = [film(2 * n), untitled(n) if n == self.refused else film(2 * n + 1)]
        return Page(media=records, listed_by_library=True, cursor_after=partial(next_page, n + 1))

    async def run(self, context: SyncContext) -> dict[str, int]:
        self.started_from = context.cursor.get("next_page", 0)
        numbers = range(self.started_from, self.pages)
        if self.writers is None:
            written = PageCounts()
            for n in numbers:
                written.add(await context.writer.write(self.page(n)))
        else:
            written = await context.writer.write_in_order(self.pages_from(numbers), writers=self.writers)
        return {"items_new": written.items_new}

    async def pages_from(self, numbers: range) -> AsyncIterator[Page]:
        for n in numbers:
            yield self.page(n)


async def films(pool: asyncpg.Pool) -> set[str]:
    rows = await pool.fetch("SELECT external_id FROM media_external_ids WHERE service = $1", SERVICE)
    return {row["external_id"] for row in rows}


def films_of_pages(*numbers: int) -> set[str]:
    return {f"film-{2 * n + k}" for n in numbers for k in (0, 1)}


@pytest.mark.parametrize("writers", [None, 3], ids=["one page at a time", "three pages at once"])
async def test_a_refused_page_leaves_the_cursor_after_the_last_page_written(
    db_pool: asyncpg.Pool, writers: int | None
) -> None:
    result = await run_job(db_pool, PagedJob(5, refused=2, writers=writers))

    assert not result.ok
    assert await schedule.load_cursor(db_pool, JOB) == {"next_page": 2}
    written = await films(db_pool)
    assert films_of_pages(0, 1) <= written
    # Not even the good film of the refused page: its transaction is gone whole.
    assert "film-4" not in written


async def test_a_page_and_its_cursor_are_one_transaction(db_pool: asyncpg.Pool) -> None:
    await schedule.register(db_pool, JOB, 3600)
    context = SyncContext(pool=db_pool, integration=JOB, cursor={})
    alice = UserRecord(SERVICE, "7", "alice")

    with pytest.raises(asyncpg.PostgresError):
        await context.writer.write(
            Page(users=[alice], media=[film(0), untitled(0)], cursor_after=partial(next_page, 1))
        )

    assert await films(db_pool) == set()
    assert await db_pool.fetchval("SELECT count(*) FROM user_external_ids WHERE service = $1", SERVICE) == 0
    assert await schedule.load_cursor(db_pool, JOB) == {}
    assert context.cursor == {}


@pytest.mark.parametrize("writers", [None, 3], ids=["one page at a time", "three pages at once"])
async def test_a_resumed_run_goes_on_from_the_saved_cursor(
    db_pool: asyncpg.Pool, writers: int | None
) -> None:
    assert not (await run_job(db_pool, PagedJob(5, refused=2, writers=writers))).ok

    resumed = PagedJob(5, writers=writers)
    assert (await run_job(db_pool, resumed)).ok

    assert resumed.started_from == 2
    assert await films(db_pool) == films_of_pages(0, 1, 2, 3, 4)
    assert await schedule.load_cursor(db_pool, JOB) == {"next_page": 5}


async def test_the_counts_of_pages_written_at_once_add_up(db_pool: asyncpg.Pool) -> None:
    result = await run_job(db_pool, PagedJob(7, writers=3))

    assert result.ok and result.counts["items_new"] == 14


async def test_a_run_that_wrote_a_bulk_of_items_over_several_pages_analyses_the_item_tables(
    db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four items make a bulk here: two pages of two, none of them a bulk alone.
    monkeypatch.setattr(page_writer, "BULK_ITEMS", 4)

    class AnalysingJob(PagedJob):
        async def run(self, context: SyncContext) -> dict[str, int]:
            counts = await super().run(context)
            await context.writer.analyze_after_bulk_writes()
            return counts

    assert (await run_job(db_pool, AnalysingJob(2))).ok

    estimated = await db_pool.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'media_items'::regclass")
    assert estimated == 4
