"""Writing the generated server: emptiness check, truncation, bulk COPY and deferred indexes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import asyncpg

from core.demo_data.binary_copy import HEADER, TRAILER

log = logging.getLogger(__name__)

# Every table the generator fills, parents first.
GENERATED_TABLES = (
    "users",
    "chat_accounts",
    "user_external_ids",
    "media_items",
    "media_external_ids",
    "content_requests",
    "watch_history",
    "user_stats",
    "sync_schedule",
    "webhook_log",
    "deletion_log",
    "api_logs",
    "bandwidth_logs",
)
# Bulk tables whose secondary indexes and foreign keys are rebuilt after the load.
BULK_TABLES = ("media_items", "watch_history", "user_stats", "bandwidth_logs")


_EMPTY_SQL = "SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM media_items)"


async def database_is_empty(pool: asyncpg.Pool) -> bool:
    """True when there are no users and no media items."""
    async with pool.acquire() as conn:
        return await connection_is_empty(conn)


async def connection_is_empty(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval(_EMPTY_SQL))


async def truncate_generated_tables(conn: asyncpg.Connection) -> None:
    # CASCADE: conversations and feedback rows point at the users being replaced.
    await conn.execute(f"TRUNCATE {', '.join(GENERATED_TABLES)} CASCADE")


@dataclass(frozen=True)
class _Deferred:
    table: str
    name: str
    definition: str  # CREATE INDEX statement, or the constraint definition
    is_constraint: bool
    is_foreign_key: bool


async def drop_bulk_indexes(
    conn: asyncpg.Connection, tables: tuple[str, ...] = BULK_TABLES
) -> list[_Deferred]:
    """Drop the indexes and constraints of ``tables`` that nothing else depends on; return how to rebuild them.

    Read from the catalogue, so indexes added by later migrations are rebuilt too.
    Loading millions of rows and then building each index once is several times
    faster than maintaining them row by row.
    """
    rows = await conn.fetch(
        """
        SELECT c.conrelid::regclass::text AS table_name, c.conname AS name,
               pg_get_constraintdef(c.oid) AS definition, c.contype = 'f' AS is_foreign_key
        FROM pg_constraint c
        WHERE c.conrelid = ANY($1::regclass[]) AND c.contype IN ('p', 'u', 'f')
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint d
              WHERE d.contype = 'f' AND d.conindid = c.conindid AND c.contype <> 'f' AND d.conrelid <> c.conrelid)
        ORDER BY c.conrelid::regclass::text, c.contype DESC, c.conname
        """,
        list(tables),
    )
    # A self-referencing key (media_items.parent_id) depends on the table's own primary key: drop it first.
    deferred = [
        _Deferred(r["table_name"], r["name"], r["definition"], True, r["is_foreign_key"]) for r in rows
    ]
    index_rows = await conn.fetch(
        """
        SELECT i.indrelid::regclass::text AS table_name, x.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
        WHERE i.indrelid = ANY($1::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u'))
        ORDER BY 1, 2
        """,
        list(tables),
    )
    deferred += [_Deferred(r["table_name"], r["name"], r["definition"], False, False) for r in index_rows]
    for item in sorted(deferred, key=lambda d: not d.is_foreign_key):
        if item.is_constraint:
            await conn.execute(f'ALTER TABLE {item.table} DROP CONSTRAINT "{item.name}"')
        else:
            await conn.execute(f'DROP INDEX "{item.name}"')
    return deferred


async def rebuild_bulk_indexes(
    conn: asyncpg.Connection, deferred: list[_Deferred], on_done: Callable[[int], None] | None = None
) -> None:
    """Keys first (foreign keys need the primary keys they point at), then indexes, then foreign keys."""
    order = sorted(deferred, key=lambda d: (d.is_foreign_key, not d.is_constraint))
    for done, item in enumerate(order, start=1):
        if item.is_constraint:
            await conn.execute(f'ALTER TABLE {item.table} ADD CONSTRAINT "{item.name}" {item.definition}')
        else:
            await conn.execute(item.definition)
        if on_done is not None:
            on_done(done)


async def copy_binary(
    conn: asyncpg.Connection, table: str, columns: list[str], chunks: AsyncIterator[bytes]
) -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield HEADER
        async for chunk in chunks:
            if chunk:
                yield chunk
        yield TRAILER

    await conn.copy_to_table(table, source=stream(), columns=columns, format="binary")


async def analyze(conn: asyncpg.Connection, tables: tuple[str, ...] = GENERATED_TABLES) -> None:
    await conn.execute(f"ANALYZE {', '.join(tables)}")
