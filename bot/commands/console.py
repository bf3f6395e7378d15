"""``marquee console``: chat with Marquee in the terminal, through the same core path as the chat adapters."""

from __future__ import annotations

import argparse
import asyncio

from adapters.chat.console import ConsoleChat
from bot.commands.ask import resolve_console_user
from bot.settings import Settings
from bot.wiring import assistant_session


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("console", help="interactive chat in the terminal")
    parser.add_argument(
        "--as", dest="as_user", metavar="USERNAME", help="chat as this server user (default: first admin)"
    )
    parser.add_argument("--admin", action="store_true", help="start in admin mode (admins only)")
    parser.set_defaults(handler=run)


async def run_console(settings: Settings, username: str | None, admin: bool) -> int:
    async with assistant_session(settings) as (pool, assistant):
        async with pool.acquire() as conn:
            who = await resolve_console_user(conn, username)
        chat = ConsoleChat(assistant, who.username, admin_mode=admin and who.is_admin)
        chat.console.print(
            f"Chatting as [bold]{who.username}[/bold] ({who.role}); engine: {assistant.engine.name}."
        )
        if admin and not who.is_admin:
            chat.console.print("Admin mode is only for admins; starting in personal mode.")
        await chat.run()
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(run_console(settings, args.as_user, args.admin))
