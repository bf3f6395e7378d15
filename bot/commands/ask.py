"""``marquee ask``: one question through the same core path as the chat adapters.

The terminal speaks as a server user through their ``console`` chat account
(linked on first use: whoever runs the CLI holds the database anyway). Without
``--as`` it is the first admin of the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json

import asyncpg

from bot.cli import CommandError
from bot.settings import Settings
from bot.wiring import assistant_session
from core import identity
from core.chat import ChatRequest

CLI_CONVERSATION = "cli"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help="ask one question, as a chat user would")
    parser.add_argument(
        "--as", dest="as_user", metavar="USERNAME", help="ask as this server user (default: first admin)"
    )
    parser.add_argument("--admin", action="store_true", help="admin mode (refused for non-admins)")
    parser.add_argument("--json", action="store_true", help="print the answer and its assessment as JSON")
    parser.add_argument("question", nargs="+", metavar="QUESTION")
    parser.set_defaults(handler=run)


async def resolve_console_user(conn: asyncpg.Connection, username: str | None) -> identity.Identity:
    """The identity the terminal speaks as; raises ``CommandError`` for an unknown user."""
    chosen = username or await identity.default_console_username(conn)
    if chosen is None:
        raise CommandError(
            "there are no admins on this server yet; pass --as USERNAME (or run marquee demo-data)"
        )
    try:
        return await identity.console_identity(conn, chosen)
    except identity.UnknownUser:
        raise CommandError(f"no user named {chosen!r} on this server") from None


async def _ask(settings: Settings, args: argparse.Namespace) -> int:
    question = " ".join(args.question)
    async with assistant_session(settings) as (pool, assistant):
        async with pool.acquire() as conn:
            who = await resolve_console_user(conn, args.as_user)
        reply = await assistant.handle(
            ChatRequest("console", who.username, CLI_CONVERSATION, question, explicit_admin=args.admin)
        )
    if reply.kind in ("refused", "rate_limited", "error", "link_instructions"):
        raise CommandError(reply.text, 3 if reply.kind == "refused" else 1)
    if args.json:
        details = reply.details
        print(
            json.dumps(
                {
                    # Plain text: scripts read it as it is, without Markdown marks.
                    "answer": reply.plain_text,
                    "confidence": reply.confidence,
                    "data_sources_used": details.get("data_sources_used", []),
                    "missing_data": details.get("missing_data", []),
                    "question_type": details.get("question_type"),
                    "feedback_id": str(reply.feedback_id) if reply.feedback_id else None,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(reply.plain_text)
        if reply.feedback_id is not None:
            print(
                f"\n(confidence {reply.confidence:.2f}; feedback: marquee feedback {reply.feedback_id} up|wrong)"
            )
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_ask(settings, args))
