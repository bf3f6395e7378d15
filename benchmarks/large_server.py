"""The large demo server that ``benchmarks/tools.py`` and ``benchmarks/engine.py`` measure.

It is generated once into its own database (``marquee_bench_large`` unless
told otherwise) and reused by every later run of either script: on the
PostgreSQL server of ``--database-url``/``MARQUEE_DATABASE_URL``, or else an
embedded one under the data directory.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.database import ensure_database_exists, start_embedded_database, with_database
from core.db import create_pool
from core.demo_data import DemoConfig, database_is_empty, generate_demo_data
from core.migrations import apply_migrations

LARGE_SERVER_DATABASE = "marquee_bench_large"


async def prepare_large_server(
    *,
    admin_dsn: str | None,
    database: str,
    data_dir: Path,
    users: int,
    items: int,
    watch_rows: int,
) -> str:
    """The DSN of ``database``, migrated and holding the large demo server (generated now if it is empty)."""
    admin_dsn = admin_dsn or os.environ.get("MARQUEE_DATABASE_URL")
    if admin_dsn:
        await ensure_database_exists(admin_dsn, database)
        dsn = with_database(admin_dsn, database)
    else:
        dsn = with_database(await start_embedded_database(data_dir), database)
        await ensure_database_exists(with_database(dsn, "postgres"), database)
    pool = await create_pool(dsn, max_size=4)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn)
        if await database_is_empty(pool):
            print(
                f"generating the large demo server ({users} users, {items} items, "
                f"{watch_rows} watch rows); this runs once...",
                flush=True,
            )
            started = time.perf_counter()
            config = DemoConfig(seed=7, users=users, items=items, days=730, watch_rows=watch_rows)
            await generate_demo_data(pool, config)
            # Fresh statistics and visibility map, as autovacuum would leave them on a live server.
            await pool.execute("VACUUM (ANALYZE)")
            print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        await pool.close()
    return dsn
