"""``generate_demo_data``: build the world, then write it in one transaction.

CPU-heavy generation runs in worker threads (numpy releases the GIL for much of
it) while the connection streams the previous chunk, so the event loop never
blocks and PostgreSQL and Python work side by side. Everything is written in one
transaction: a failure leaves the database as it was.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from typing import IO, TypeVar

import asyncpg
import numpy as np

from core.demo_data.binary_copy import HEADER, TRAILER, encode_rows
from core.demo_data.config import DemoConfig, DemoSummary
from core.demo_data.loading import (
    analyze,
    connection_is_empty,
    copy_binary,
    drop_bulk_indexes,
    rebuild_bulk_indexes,
    truncate_generated_tables,
)
from core.demo_data.operations import api_log_rows, deletion_rows, sync_schedule_rows, webhook_rows
from core.demo_data.randomness import stage_rng
from core.demo_data.tables import (
    MEDIA_ITEM_COLUMNS,
    REQUEST_COLUMNS,
    USER_COLUMNS,
    chat_account_records,
    media_external_id_records,
    media_item_lines,
    request_records,
    user_external_id_records,
    user_records,
)
from core.demo_data.viewing_stats import (
    COMPLETE_TENTHS,
    bandwidth_columns,
    user_stats_columns,
    watch_history_columns,
)
from core.demo_data.world import World, build_world
from core.ingest.play_rules import recount_plays_the_rule_decides, watched_percent
from core.progress import ProgressCallback

log = logging.getLogger(__name__)

T = TypeVar("T")

WATCH_HISTORY_COLUMNS = [
    "id",
    "user_id",
    "media_item_id",
    "started_at",
    "stopped_at",
    "watched_seconds",
    "percent_complete",
]
USER_STATS_COLUMNS = [
    "id",
    "user_id",
    "media_item_id",
    "play_count",
    "rating",
    "last_played_at",
    "attributed_to_request_id",
]
BANDWIDTH_COLUMNS = [
    "id",
    "user_id",
    "media_item_id",
    "bytes_transferred",
    "stream_duration_seconds",
    "created_at",
]


ITEMS_PER_COPY_PIECE = 20_000


class DemoDataError(Exception):
    """The demo server cannot be written (e.g. the database already has data)."""


class _Spool:
    """A binary COPY stream collected on disk while another COPY is running on the connection."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()
        self.file.write(HEADER)
        self.rows = 0

    def add(self, data: bytes, rows: int) -> None:
        self.file.write(data)
        self.rows += rows

    def finish(self) -> IO[bytes]:
        self.file.write(TRAILER)
        self.file.seek(0)
        return self.file


def _viewing_chunk(world: World, index: int, user_stats: _Spool, bandwidth: _Spool) -> tuple[bytes, int]:
    """Generate one chunk of members' sessions; stats and bandwidth go to their spools. Runs in a thread."""
    lo, hi = world.chunks[index]
    rng = stage_rng(world.config.seed, f"viewing {index}")
    users = np.arange(lo, hi, dtype=np.int64)
    sessions = world.viewing.sessions_for(rng, users, world.quotas[lo:hi], world.chunk_engagements(lo, hi))
    # Written in (user, item, start) order, which is also (user_id, media_item_id) order: cheaper index builds.
    sessions = sessions.sorted_by_user_item_start()
    people, catalogue = world.people, world.catalogue
    stats = user_stats_columns(
        rng, people, catalogue, world.requests, world.request_of_title, sessions, users
    )
    user_stats.add(encode_rows(stats), len(stats[0].values))
    streams = bandwidth_columns(rng, people, catalogue, world.timeline, sessions)
    bandwidth.add(encode_rows(streams), len(streams[0].values))
    return encode_rows(watch_history_columns(rng, people, catalogue, sessions)), sessions.count


async def _prefetched(produce: Callable[[int], T], count: int) -> AsyncIterator[T]:
    """produce(0..count-1) in a worker thread, one step ahead of the consumer."""
    pending: asyncio.Future[T] | None = None
    try:
        for index in range(count):
            current = (
                pending if pending is not None else asyncio.ensure_future(asyncio.to_thread(produce, index))
            )
            result = await current
            pending = (
                asyncio.ensure_future(asyncio.to_thread(produce, index + 1)) if index + 1 < count else None
            )
            yield result
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)


async def generate_demo_data(
    pool: asyncpg.Pool,
    config: DemoConfig,
    progress: ProgressCallback | None = None,
    *,
    replace: bool = False,
) -> DemoSummary:
    """Fill an empty database with a generated media server (``replace``: empty the generated tables first)."""
    started = time.perf_counter()

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    report("planning", 0, 1)
    world = await asyncio.to_thread(build_world, config)
    report("planning", 1, 1)
    people, catalogue, requests, timeline = world.people, world.catalogue, world.requests, world.timeline
    counts: dict[str, int] = {}

    async with pool.acquire() as conn, conn.transaction():
        if replace:
            await truncate_generated_tables(conn)
        elif not await connection_is_empty(conn):
            raise DemoDataError(
                "the database already has users or media items; use --replace to overwrite them"
            )
        # Only for this transaction: bigger sorts for the index builds, no wait for each WAL flush.
        await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        await conn.execute("SET LOCAL synchronous_commit = off")
        deferred = await drop_bulk_indexes(conn)

        report("users", 0, people.count)
        await conn.copy_records_to_table("users", records=user_records(people), columns=USER_COLUMNS)
        await conn.copy_records_to_table(
            "chat_accounts",
            records=chat_account_records(people, timeline),
            columns=["platform", "platform_user_id", "user_id", "linked_at"],
        )
        await conn.copy_records_to_table(
            "user_external_ids",
            records=user_external_id_records(stage_rng(config.seed, "external user ids"), people),
            columns=["service", "external_id", "user_id"],
        )
        counts["users"] = counts["chat_accounts"] = counts["user_external_ids"] = people.count
        report("users", people.count, people.count)

        report("library", 0, catalogue.count)

        async def media_lines() -> AsyncIterator[bytes]:
            for start in range(0, catalogue.count, ITEMS_PER_COPY_PIECE):
                stop = min(start + ITEMS_PER_COPY_PIECE, catalogue.count)
                yield await asyncio.to_thread(media_item_lines, catalogue, start, stop)
                report("library", stop, catalogue.count)

        await conn.copy_to_table(
            "media_items", source=media_lines(), columns=MEDIA_ITEM_COLUMNS, format="text"
        )
        external = await asyncio.to_thread(media_external_id_records, catalogue)
        await conn.copy_records_to_table(
            "media_external_ids", records=external, columns=["service", "external_id", "media_item_id"]
        )
        counts["media_items"], counts["media_external_ids"] = catalogue.count, len(external)
        del external
        report("library", catalogue.count, catalogue.count)

        report("requests", 0, requests.count)
        await conn.copy_records_to_table(
            "content_requests", records=request_records(requests, people, catalogue), columns=REQUEST_COLUMNS
        )
        counts["content_requests"] = requests.count
        report("requests", requests.count, requests.count)

        total = int(world.quotas.sum())
        user_stats, bandwidth = _Spool(), _Spool()
        written = 0
        report("watch history", 0, total)

        async def watch_history_chunks() -> AsyncIterator[bytes]:
            nonlocal written
            chunks = _prefetched(lambda i: _viewing_chunk(world, i, user_stats, bandwidth), len(world.chunks))
            async for data, rows in chunks:
                yield data
                written += rows
                report("watch history", written, total)

        await copy_binary(conn, "watch_history", WATCH_HISTORY_COLUMNS, watch_history_chunks())
        counts["watch_history"] = written
        report("user stats", 0, user_stats.rows)
        await conn.copy_to_table(
            "user_stats",
            source=await asyncio.to_thread(user_stats.finish),
            columns=USER_STATS_COLUMNS,
            format="binary",
        )
        counts["user_stats"] = user_stats.rows
        report("user stats", user_stats.rows, user_stats.rows)
        await conn.copy_to_table(
            "bandwidth_logs",
            source=await asyncio.to_thread(bandwidth.finish),
            columns=BANDWIDTH_COLUMNS,
            format="binary",
        )
        counts["bandwidth_logs"] = bandwidth.rows
        await asyncio.to_thread(user_stats.file.close)
        await asyncio.to_thread(bandwidth.file.close)

        report("operations logs", 0, 4)
        operations = stage_rng(config.seed, "operations")
        await conn.copy_records_to_table(
            "sync_schedule",
            records=sync_schedule_rows(operations, timeline),
            columns=[
                "integration",
                "enabled",
                "interval_seconds",
                "last_run_at",
                "last_success_at",
                "last_error",
                "consecutive_failures",
            ],
        )
        counts["sync_schedule"] = 4
        webhooks = webhook_rows(operations, people, timeline)
        await conn.copy_records_to_table(
            "webhook_log",
            records=webhooks,
            columns=["id", "source", "event_type", "status", "error", "received_at", "delivery_key"],
        )
        deletions = deletion_rows(operations, catalogue, timeline)
        await conn.copy_records_to_table(
            "deletion_log",
            records=deletions,
            columns=["id", "media_item_id", "title", "media_type", "file_size_bytes", "deleted_at", "reason"],
        )
        api_logs = api_log_rows(operations, people, timeline)
        await conn.copy_records_to_table(
            "api_logs",
            records=api_logs,
            columns=[
                "id",
                "user_id",
                "endpoint",
                "method",
                "status_code",
                "response_time_ms",
                "error_message",
                "created_at",
            ],
        )
        counts["webhook_log"], counts["deletion_log"], counts["api_logs"] = (
            len(webhooks),
            len(deletions),
            len(api_logs),
        )
        report("operations logs", 4, 4)

        report("indexes", 0, len(deferred))
        await rebuild_bulk_indexes(conn, deferred, lambda done: report("indexes", done, len(deferred)))
        # The generated play counts use the default 90 %; another MARQUEE_WATCHED_PERCENT recounts them.
        if await watched_percent(conn) != COMPLETE_TENTHS / 10:
            await recount_plays_the_rule_decides(conn)
        report("analyze", 0, 1)
        await analyze(conn)
        report("analyze", 1, 1)

    elapsed = time.perf_counter() - started
    admins = tuple(u for u, a in zip(people.usernames, people.is_admin.tolist(), strict=True) if a)
    ordinary = tuple(u for u, a in zip(people.usernames, people.is_admin.tolist(), strict=True) if not a)[:3]
    summary = DemoSummary(
        counts=counts, elapsed_seconds=elapsed, admin_usernames=admins, user_usernames=ordinary
    )
    log.info("generated demo server: %s", summary)
    return summary
