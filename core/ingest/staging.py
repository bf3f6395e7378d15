"""Loading a batch into a per-connection staging table, from which one statement writes the real tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg


async def load_staging_table(
    conn: asyncpg.Connection,
    create_sql: str,
    table: str,
    columns: Sequence[str],
    rows: Iterable[tuple[object, ...]],
) -> None:
    """Fill ``table`` (a temporary table that ``create_sql`` creates if missing) with exactly ``rows``.

    One staging table per connection, emptied at every commit: no catalog churn
    per page. The TRUNCATE covers a second batch in the same transaction.
    """
    await conn.execute(create_sql)
    await conn.execute(f"TRUNCATE {table}")
    await conn.copy_records_to_table(table, columns=columns, records=rows)
    # Temporary tables have no statistics until analysed; without them the joins that read them plan badly.
    await conn.execute(f"ANALYZE {table}")
