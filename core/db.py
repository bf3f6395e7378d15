"""The one asyncpg pool and its connection set-up."""

from __future__ import annotations

import json
import logging

import asyncpg

from core.redaction import redact

log = logging.getLogger(__name__)

SLOW_QUERY_SECONDS = 1.0


def redact_dsn(dsn: str) -> str:
    """The DSN with its password replaced (user info, ``?password=``, key=value), for log lines."""
    return redact(dsn)


def _log_slow_query(record: asyncpg.connection.LoggedQuery) -> None:
    if record.elapsed >= SLOW_QUERY_SECONDS:
        log.warning("slow query (%.2fs): %s", record.elapsed, " ".join(record.query.split())[:200])


async def init_connection(conn: asyncpg.Connection) -> None:
    """Decode json/jsonb as Python values; times in UTC; warn on slow queries."""
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.execute("SET TIME ZONE 'UTC'")
    conn.add_query_logger(_log_slow_query)


async def check_database(pool: asyncpg.Pool) -> None:
    """Raise unless the database answers a query (asyncpg's or the OS's error, as it comes)."""
    await pool.fetchval("SELECT 1")


async def commit_without_waiting_for_disk(conn: asyncpg.Connection) -> None:
    """Let the current transaction's commit return before its WAL is flushed; call inside the transaction.

    Only for writes that are read again after a crash (a sync whose cursor trails
    them): a server crash may lose the last such commits, never corrupt them.
    """
    await conn.execute("SET LOCAL synchronous_commit = off")


async def create_pool(dsn: str, *, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=max_size, init=init_connection)
    assert pool is not None
    return pool
