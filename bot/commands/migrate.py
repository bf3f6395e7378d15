"""``marquee migrate``: apply pending migrations and new or changed function definitions."""

from __future__ import annotations

import argparse
import asyncio

from bot.database import open_database
from bot.settings import Settings
from core.ingest.play_rules import apply_watched_percent
from core.migrations import apply_migrations


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("migrate", help="apply pending database migrations")
    parser.set_defaults(handler=run)


async def _migrate(settings: Settings) -> int:
    pool = await open_database(settings, migrate=False)
    try:
        async with pool.acquire() as conn:
            applied = await apply_migrations(conn)
            await apply_watched_percent(conn, settings.watched_percent)
    finally:
        await pool.close()
    if applied:
        for schema_file in applied:
            print(f"applied {schema_file.path}")
    else:
        print("database is up to date")
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_migrate(settings))
