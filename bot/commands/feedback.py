"""``marquee feedback FEEDBACK_ID up|wrong``: the console's 👍/❌ on an answer (``--undo`` takes it back)."""

from __future__ import annotations

import argparse
import asyncio
from uuid import UUID

from bot.cli import CommandError
from bot.settings import Settings
from bot.wiring import database_session
from core import feedback
from core.chat import THUMBS_UP, WRONG


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("feedback", help="mark an answer as good (up) or wrong")
    parser.add_argument("feedback_id", metavar="FEEDBACK_ID")
    parser.add_argument("verdict", choices=("up", "wrong"))
    parser.add_argument("--undo", action="store_true", help="take the reaction back")
    parser.set_defaults(handler=run)


async def _feedback(settings: Settings, args: argparse.Namespace) -> int:
    try:
        feedback_id = UUID(args.feedback_id)
    except ValueError:
        raise CommandError(f"{args.feedback_id!r} is not a feedback id") from None
    emoji = THUMBS_UP if args.verdict == "up" else WRONG
    async with database_session(settings) as pool, pool.acquire() as conn:
        target = await feedback.find_by_id(conn, feedback_id)
        if target is None:
            raise CommandError(f"no answer with feedback id {feedback_id}")
        changed = await feedback.apply_reaction(conn, target, emoji, "removed" if args.undo else "added")
    if args.undo:
        print(f"{emoji} removed." if changed else f"There was no {emoji} to remove.")
    else:
        print(f"{emoji} recorded." if changed else f"{emoji} was already recorded.")
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_feedback(settings, args))
