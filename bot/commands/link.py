"""``marquee link PLATFORM PLATFORM_USER_ID USERNAME``: link a chat account to a server user."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli import CommandError
from bot.settings import Settings
from bot.wiring import database_session
from core import identity


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("link", help="link a Discord/Matrix account to a server user (admin)")
    parser.add_argument("platform", choices=identity.PLATFORMS)
    parser.add_argument(
        "platform_user_id", metavar="PLATFORM_USER_ID", help="Discord user id or Matrix @user:server"
    )
    parser.add_argument("username", metavar="USERNAME", help="the user's media-server username")
    parser.set_defaults(handler=run)


async def _link(settings: Settings, args: argparse.Namespace) -> int:
    async with database_session(settings) as pool, pool.acquire() as conn:
        try:
            user_id = await identity.link_account(
                conn, args.platform, args.platform_user_id, args.username, linked_by="cli"
            )
            services = await identity.known_on(conn, user_id)
        except (identity.UnknownUser, identity.AlreadyLinked) as exc:
            raise CommandError(str(exc)) from None
    known = f" (known on: {', '.join(services)})" if services else ""
    print(f"Linked {args.platform} account {args.platform_user_id} to {args.username}{known}.")
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_link(settings, args))
