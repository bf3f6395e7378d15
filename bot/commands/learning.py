"""``marquee learning``: the learning queue — list, show, resolve, wont-fix."""

from __future__ import annotations

import argparse
import asyncio
from typing import Literal

from rich.console import Console

from adapters.chat.console_rendering import answer_rich
from bot.cli import CommandError
from bot.settings import Settings
from bot.wiring import database_session
from core import admin_reports
from core.answer import Answer, parse_answer

# The triage log's "who" for a queue entry closed on the host.
HOST_ACTOR = "host (marquee learning)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("learning", help="the questions Marquee could not answer well")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="open questions by priority (the default)")
    listing.add_argument(
        "--status", choices=("pending", "in_progress", "resolved", "wont_fix"), default="pending"
    )
    listing.add_argument("--limit", type=int, default=20)
    show = actions.add_parser("show", help="one entry in full")
    show.add_argument("id", metavar="ID")
    for name, help_text in (("resolve", "mark as resolved"), ("wont-fix", "mark as won't fix")):
        close = actions.add_parser(name, help=help_text)
        close.add_argument("id", metavar="ID")
        close.add_argument("note", nargs="*", help="why (optional)")
    parser.set_defaults(handler=run, action="list", status="pending", limit=20)


async def _learning(settings: Settings, args: argparse.Namespace) -> Answer:
    async with database_session(settings) as pool, pool.acquire() as conn:
        try:
            if args.action == "list":
                entries = await admin_reports.learning_list(conn, args.status, args.limit)
                return admin_reports.learning_list_answer(entries, args.status)
            if args.action == "show":
                return admin_reports.learning_entry_answer(await admin_reports.learning_show(conn, args.id))
            status: Literal["resolved", "wont_fix"] = "resolved" if args.action == "resolve" else "wont_fix"
            entry = await admin_reports.learning_close(
                conn, args.id, status, " ".join(args.note) or None, HOST_ACTOR
            )
            return parse_answer(
                f"Marked `{admin_reports.short_id(entry['id'])}` as {status.replace('_', ' ')}."
            )
        except admin_reports.AdminReportError as exc:
            raise CommandError(str(exc)) from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    Console().print(answer_rich(asyncio.run(_learning(settings, args))))
    return 0
