"""``marquee health``: sync status, webhooks, error rates, answer latency and the database."""

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
        "health", help="integration, webhook, API, answer-engine and database health"
    )
    parser.set_defaults(handler=run)


async def _health(settings: Settings) -> int:
    async with database_session(settings) as pool, pool.acquire() as conn:
        report = await admin_reports.health(conn)
    Console().print(answer_rich(admin_reports.health_answer(report)))
    # a failing integration is worth a non-zero exit for scripts and monitoring
    return 1 if report.failing_integrations else 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_health(settings))
