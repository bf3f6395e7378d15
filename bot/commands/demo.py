"""``marquee demo``: the first-run experience on a fresh machine.

Embedded PostgreSQL (unless MARQUEE_DATABASE_URL is set), migrations, a
generated demo server when the database is empty, then a chat in the terminal.
"""

from __future__ import annotations

import argparse
import asyncio

from bot.database import open_database
from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="first run: embedded database, migrations, demo data, then a chat in the terminal"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated server (default 42)")
    parser.set_defaults(handler=run)


async def _set_up(settings: Settings, seed: int) -> str | None:
    """Prepare the database; returns the demo admin to chat as (None: the console picks the first admin)."""
    from core.demo_data import DemoConfig, database_is_empty, generate_demo_data

    pool = await open_database(settings)
    try:
        where = (
            "MARQUEE_DATABASE_URL" if settings.database_url else f"embedded PostgreSQL in {settings.data_dir}"
        )
        print(f"Database: {where}, schema up to date.")
        if await database_is_empty(pool):
            print("Generating a demo media server (first run only)...")
            summary = await generate_demo_data(
                pool, DemoConfig(seed=seed, users=40, items=3000, days=365, timezone=settings.timezone)
            )
            print(f"Demo server ready: {summary}")
            if summary.user_usernames:
                print(f"Try it as an ordinary member too: marquee console --as {summary.user_usernames[0]}")
            return summary.admin_usernames[0] if summary.admin_usernames else None
        print("The database already has data; keeping it.")
        return None
    finally:
        await pool.close()


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.commands.console import run_console

    username = asyncio.run(_set_up(settings, args.seed))
    return asyncio.run(run_console(settings, username, admin=False))
