"""Time and peak memory of generating a large demo server into a fresh database.

    python benchmarks/demo_data.py                      # 2,000 users, 200,000 items, 5,000,000 plays
    python benchmarks/demo_data.py --users 200 --items 20000 --watch-rows 500000

The database is created for the run and dropped afterwards (``--keep`` keeps
it): on the server of MARQUEE_DATABASE_URL when set (the URL's user must be
allowed to create databases), else on a throwaway embedded PostgreSQL.
Peak memory is the Python process's maximum resident set size; PostgreSQL's
own memory is not included.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scratch_postgres import create_scratch_database, drop_scratch_database, scratch_server
from bot.database import with_database
from core.db import create_pool
from core.demo_data import DemoConfig, generate_demo_data
from core.migrations import apply_migrations


async def run(args: argparse.Namespace, admin_dsn: str) -> None:
    name = await create_scratch_database(admin_dsn)
    dsn = with_database(admin_dsn, name)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn)
        finally:
            await conn.close()
        pool = await create_pool(dsn, max_size=2)
        stage_started: dict[str, float] = {}
        began = time.perf_counter()

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in stage_started:
                stage_started[stage] = time.perf_counter() - began
                print(f"  {stage_started[stage]:6.1f}s  {stage} ({total:,})", flush=True)

        config = DemoConfig(
            seed=args.seed, users=args.users, items=args.items, days=args.days, watch_rows=args.watch_rows
        )
        try:
            summary = await generate_demo_data(pool, config, progress)
            size = await pool.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        finally:
            await pool.close()
    finally:
        if not args.keep:
            await drop_scratch_database(admin_dsn, name)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(summary.counts.values())
    print()
    print(f"generated: {summary}")
    for table, count in summary.counts.items():
        print(f"  {table:<20} {count:>12,}")
    print(f"time:        {summary.elapsed_seconds:.1f} s ({rows / summary.elapsed_seconds:,.0f} rows/s)")
    print(f"peak memory: {peak_mb:,.0f} MB (Python process, max RSS)")
    print(f"database:    {size}" + (f", kept as {name}" if args.keep else ""))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--watch-rows", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    args = parser.parse_args()
    # Index builds over millions of rows are expected to take seconds; no slow-query warnings for them.
    logging.basicConfig(level=logging.ERROR)
    print(
        f"demo server: {args.users:,} users, {args.items:,} items, {args.watch_rows:,} plays, {args.days} days"
    )
    with scratch_server() as admin_dsn:
        asyncio.run(run(args, admin_dsn))


if __name__ == "__main__":
    main()
