"""``marquee unlink PLATFORM PLATFORM_USER_ID``: remove a chat account's link (nothing else moves a link)."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli import CommandError
from bot.settings import Settings
from bot.wiring import database_session
from core import identity


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("unlink", help="remove a Discord/Matrix account's link (admin)")
    parser.add_argument("platform", choices=identity.PLATFORMS)
    parser.add_argument(
        "platform_user_id", metavar="PLATFORM_USER_ID", help="Discord user id or Matrix @user:server"
    )
    parser.set_defaults(handler=run)


async def _unlink(settings: Settings, args: argparse.Namespace) -> int:
    async with database_session(settings) as pool, pool.acquire() as conn:
        try:
            username = await identity.unlink_account(
                conn, args.platform, args.platform_user_id, unlinked_by="cli"
            )
        except identity.UnknownUser as exc:
            raise CommandError(str(exc)) from None
    print(f"Unlinked {args.platform} account {args.platform_user_id} from {username}.")
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_unlink(settings, args))
