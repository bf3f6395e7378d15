"""Writing a sync job's pages: the one place a media sync holds a connection.

A media adapter fetches a page from its service and maps it into ingest records
(a ``Page``); the page writer writes the page in one transaction together with
the cursor that says it is done, so a failed page leaves neither its rows nor
its cursor, and the next run resumes from the last page written. A large first
sync writes its pages several at a time (``write_in_order``); there the cursor
follows each page in page order, once the page and every page before it are
committed (``core.sync.ordered_writes``). After a pass that wrote a bulk of
items, ``analyze_after_bulk_writes`` brings the planner's statistics up to date.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import asyncpg

from core.db import commit_without_waiting_for_disk
from core.ingest.events import record_bandwidth
from core.ingest.media import BULK_ITEMS, analyze_media_tables, upsert_media
from core.ingest.plays import retire_sessions_merged_into, upsert_plays, upsert_user_item_states
from core.ingest.records import (
    BandwidthRecord,
    MediaRecord,
    PlayRecord,
    RequestRecord,
    UserItemState,
    UserRecord,
)
from core.ingest.removals import RemovalResult, count_present_links, settle_library
from core.ingest.requests import link_requests_to_items, upsert_request
from core.ingest.users import upsert_user
from core.sync.ordered_writes import write_in_order

if TYPE_CHECKING:
    from core.sync.jobs import SyncContext

Cursor = dict[str, Any]
# The job's cursor once a page is written, made from the cursor saved before it.
CursorAfter = Callable[[Cursor], Cursor]


@dataclass(frozen=True)
class Page:
    """One page of records a service answered, mapped, and what the cursor says once it is written.

    Records are written in the order of the fields: users, then items (shows before
    their episodes, as the adapter lists them), then plays, states, requests and samples.
    """

    users: Sequence[UserRecord] = ()
    media: Sequence[MediaRecord] = ()
    # The items of a library listing (not merely named by a play): an item listed again is restored.
    listed_by_library: bool = False
    plays: Sequence[PlayRecord] = ()
    # Plays that now hold streams written one by one before (through a webhook): those rows go.
    plays_merging_streams: Sequence[PlayRecord] = ()
    states: Sequence[UserItemState] = ()
    requests: Sequence[RequestRecord] = ()
    bandwidth: Sequence[BandwidthRecord] = ()
    cursor_after: CursorAfter | None = None


@dataclass
class PageCounts:
    """What writing pages changed; a job reports these in its "sync X done" line."""

    items_new: int = 0
    items_changed: int = 0
    items_restored: int = 0
    plays_written: int = 0
    states_changed: int = 0
    requests_changed: int = 0
    bandwidth_samples: int = 0

    def add(self, other: PageCounts) -> None:
        for counter in fields(self):
            setattr(self, counter.name, getattr(self, counter.name) + getattr(other, counter.name))


class PageWriter:
    """A sync run's writes: pages with their cursor, the deleted-items check, the planner's statistics."""

    def __init__(self, context: SyncContext) -> None:
        self.context = context
        # Everything this run wrote, for the bulk rule of analyze_after_bulk_writes.
        self.written = PageCounts()

    async def write(self, page: Page) -> PageCounts:
        """Write one page and its cursor in one transaction; neither is written if anything fails."""
        async with self.context.pool.acquire() as conn, conn.transaction():
            counts = await _write_records(conn, page)
            if page.cursor_after is not None:
                await self.context.save_cursor(conn, page.cursor_after(self.context.cursor))
        self.written.add(counts)
        return counts

    async def write_in_order(self, pages: AsyncIterable[Page], *, writers: int) -> PageCounts:
        """Write up to ``writers`` pages at once, each in its own transaction; cursors follow in page order.

        A page's cursor is saved once it and every page before it are committed, so
        the cursor never passes a page that was not written; a failure stops the pass.
        """
        total = PageCounts()

        async def committed(page: Page, counts: PageCounts) -> None:
            total.add(counts)
            self.written.add(counts)
            if page.cursor_after is not None:
                async with self.context.pool.acquire() as conn:
                    await self.context.save_cursor(conn, page.cursor_after(self.context.cursor))

        await write_in_order(pages, self._write_trailed_by_cursor, committed, writers=writers)
        return total

    async def _write_trailed_by_cursor(self, page: Page) -> PageCounts:
        async with self.context.pool.acquire() as conn, conn.transaction():
            # A page lost to a crash right after its commit is read again (its cursor is
            # saved after it, and saving the cursor flushes the log): the commit need not wait.
            await commit_without_waiting_for_disk(conn)
            return await _write_records(conn, page)

    async def write_users(self, users: Iterable[UserRecord]) -> int:
        """Write the service's accounts in one transaction; returns how many."""
        records = list(users)
        await self.write(Page(users=records))
        return len(records)

    async def save_cursor(self, cursor_after: CursorAfter) -> None:
        await self.write(Page(cursor_after=cursor_after))

    async def count_present_links(self, service: str) -> int:
        """How many of ``service``'s items Marquee believes the service still lists."""
        async with self.context.pool.acquire() as conn:
            return await count_present_links(conn, service)

    async def settle_library(self, service: str, listed: set[str]) -> RemovalResult:
        """After a complete pass: mark removed what ``service`` no longer lists, restore what it lists again."""
        async with self.context.pool.acquire() as conn, conn.transaction():
            return await settle_library(conn, service, listed)

    async def link_requests_to_items(self) -> None:
        async with self.context.pool.acquire() as conn, conn.transaction():
            await link_requests_to_items(conn)

    async def analyze_after_bulk_writes(self) -> None:
        """ANALYZE the item tables when this run inserted or changed BULK_ITEMS items or more.

        A first sync fills the tables from nothing: without fresh statistics the
        planner would match the plays that follow against tables it believes empty.
        """
        if self.written.items_new + self.written.items_changed >= BULK_ITEMS:
            async with self.context.pool.acquire() as conn:
                await analyze_media_tables(conn)


async def _write_records(conn: asyncpg.Connection, page: Page) -> PageCounts:
    for user in page.users:
        await upsert_user(conn, user)
    media = await upsert_media(conn, page.media, listed_by_library=page.listed_by_library)
    plays = await upsert_plays(conn, page.plays)
    await retire_sessions_merged_into(conn, page.plays_merging_streams)
    states_changed = await upsert_user_item_states(conn, page.states)
    requests_changed = 0
    for request in page.requests:
        requests_changed += (await upsert_request(conn, request)).changed
    return PageCounts(
        items_new=media.inserted,
        items_changed=media.updated,
        items_restored=media.restored,
        plays_written=plays.written,
        states_changed=states_changed,
        requests_changed=requests_changed,
        bandwidth_samples=await record_bandwidth(conn, page.bandwidth),
    )
