"""``marquee demo-data``: fill the database with a generated, reproducible media server."""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot.cli import CommandError
from bot.database import open_database
from bot.progress import progress_display
from bot.settings import Settings
from core.demo_data import DemoConfig, DemoDataError, DemoSummary, database_is_empty


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo-data",
        help="fill the database with a generated media server (users, library, history, requests, logs)",
        description="Generate a realistic, reproducible media server: the same seed gives the same data.",
    )
    defaults = DemoConfig()
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help=f"random seed (default {defaults.seed})"
    )
    parser.add_argument(
        "--users", type=int, default=defaults.users, help=f"members (default {defaults.users})"
    )
    parser.add_argument(
        "--items",
        type=int,
        default=defaults.items,
        help=f"media items: movies, shows, episodes (default {defaults.items})",
    )
    parser.add_argument(
        "--days", type=int, default=defaults.days, help=f"days of history (default {defaults.days})"
    )
    parser.add_argument(
        "--watch-rows",
        type=int,
        default=None,
        help="playback sessions in total (default: about 1.2 per user per day)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="empty the generated tables first instead of refusing a non-empty database",
    )
    parser.set_defaults(handler=run)


async def _generate(settings: Settings, config: DemoConfig, replace: bool) -> DemoSummary:
    from core.demo_data import generate_demo_data

    pool = await open_database(settings)
    try:
        if not replace and not await database_is_empty(pool):
            raise CommandError(
                "the database already has users or media items; run with --replace to delete them and generate anew"
            )
        # Rebuilding indexes over millions of rows takes seconds by design: no slow-query warnings for it.
        logging.getLogger("core.db").setLevel(logging.ERROR)
        with progress_display() as progress:
            try:
                return await generate_demo_data(pool, config, progress, replace=replace)
            except DemoDataError as exc:
                raise CommandError(str(exc)) from None
    finally:
        await pool.close()


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        config = DemoConfig(
            seed=args.seed,
            users=args.users,
            items=args.items,
            days=args.days,
            watch_rows=args.watch_rows,
            timezone=settings.timezone,
        )
    except ValueError as exc:
        raise CommandError(f"demo-data: {exc}", code=2) from None
    summary = asyncio.run(_generate(settings, config, args.replace))
    print(f"Generated {summary}.")
    print("Tables: " + ", ".join(f"{table} {rows:,}" for table, rows in summary.counts.items()))
    print(
        f"Admins: {', '.join(summary.admin_usernames)}; members include {', '.join(summary.user_usernames)} "
        "(console chat accounts are the usernames)."
    )
    return 0
