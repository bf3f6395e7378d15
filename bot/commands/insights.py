"""``marquee insights``: what the assistant struggles with and what data would help."""

from __future__ import annotations

import argparse
import asyncio

from rich.console import Console

from adapters.chat.console_rendering import answer_rich
from bot.settings import Settings
from bot.wiring import database_session
from core import admin_reports


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "insights", help="AI-learning insights: struggles, missing data, satisfaction"
    )
    parser.add_argument("--days", type=int, default=30, help="period in days (default 30)")
    parser.set_defaults(handler=run)


async def _insights(settings: Settings, days: int) -> int:
    async with database_session(settings) as pool, pool.acquire() as conn:
        report = await admin_reports.insights(conn, days)
    Console().print(answer_rich(admin_reports.insights_answer(report)))
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_insights(settings, args.days))
