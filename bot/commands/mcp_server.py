"""``marquee mcp``: the scoped tool catalogue over the Model Context Protocol (stdio), as one server user.

``--as`` chooses the user (default: the first admin); admin mode needs both an
admin and ``--admin``, exactly as ``marquee ask``. Logs go to stderr: stdout is
the protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot.cli import CommandError
from bot.commands.ask import resolve_console_user
from bot.settings import Settings
from bot.wiring import database_session
from core import identity
from core.chat import ChatRequest
from core.tools.catalogue import build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import ScopedToolRunner

MCP_CONVERSATION = "mcp"

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("mcp", help="serve the tools over MCP (stdio) as one server user")
    parser.add_argument(
        "--as", dest="as_user", metavar="USERNAME", help="act as this server user (default: first admin)"
    )
    parser.add_argument("--admin", action="store_true", help="admin mode (refused for non-admins)")
    parser.set_defaults(handler=run)


async def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.mcp.server import serve_stdio

    async with database_session(settings) as pool:
        async with pool.acquire() as conn:
            who = await resolve_console_user(conn, args.as_user)
        request = ChatRequest("console", who.username, MCP_CONVERSATION, "", explicit_admin=args.admin)
        try:
            scope = identity.build_scope(who, request, settings.tz, settings.min_group_size)
        except identity.AdminModeRefused as refused:
            raise CommandError(str(refused), 3) from None
        log.info("MCP on stdio as %s (%s mode)", scope.username, scope.mode)
        # The tools run behind the database wall, on the engine's own pool, as in chat.
        tools = ToolDatabase(pool, max_size=2)
        try:
            await serve_stdio(ScopedToolRunner(tools, scope, build_catalogue()), scope)
        finally:
            await tools.close()
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_serve(settings, args))
