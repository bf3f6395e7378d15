"""``marquee insights``: what the assistant struggles with and what data would help.

``--link`` prints a one-time sign-in link to the ``/admin/ai-insights`` page
instead, for the operator of this host.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from rich.console import Console

from adapters.chat.console_rendering import answer_rich
from bot.settings import Settings
from bot.wiring import database_session
from core import admin_reports, insights_access


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "insights", help="AI-learning insights: struggles, missing data, satisfaction"
    )
    parser.add_argument("--days", type=int, default=30, help="period in days (default 30)")
    parser.add_argument(
        "--link",
        action="store_true",
        help="print a one-time sign-in link to the /admin/ai-insights page (served by `marquee run`)",
    )
    parser.set_defaults(handler=run)


async def _insights(settings: Settings, days: int) -> int:
    async with database_session(settings) as pool, pool.acquire() as conn:
        report = await admin_reports.insights(conn, days)
    Console().print(answer_rich(admin_reports.insights_answer(report)))
    return 0


async def _sign_in_link(settings: Settings) -> int:
    ttl = timedelta(minutes=settings.insights_link_minutes)
    async with database_session(settings) as pool, pool.acquire() as conn:
        token = await insights_access.issue_sign_in_link(
            conn, user_id=None, actor=insights_access.HOST_ACTOR, ttl=ttl
        )
    print(insights_access.sign_in_url(settings.public_base_url, token))
    print(f"One-time link, valid {settings.insights_link_minutes} minutes; the page is served by `marquee run`.")
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.link:
        return asyncio.run(_sign_in_link(settings))
    return asyncio.run(_insights(settings, args.days))
