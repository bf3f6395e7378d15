"""How the Matrix bot reads what people send it: invites, ``!`` commands, and messages addressed to it.

Pure functions, so the rules can be read (and tested) apart from the client.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from core.chat import admin_commands_usage

HELP = (
    "Ask me about your server in plain words, e.g. *what should I watch tonight?*\n\n"
    "React with 👍 or ❌ to an answer to tell me how I did.\n\n"
    "- `!privacy on` / `!privacy off`: share (or stop sharing) which titles you watch with the admins\n"
    "- `!notify on` / `!notify off`: a DM when your requests are approved, declined or ready (default on)\n"
    "- `!link @user:server USERNAME` or `!link discord ID USERNAME`: link a chat account (admins)\n"
    f"- {admin_commands_usage('!')}: admin commands, in the admin room\n"
    "- after `!requests`, reply `approve N` or `decline N: reason` (admins, admin room)"
)


def homeserver_of(user_id: str) -> str:
    return user_id.split(":", 1)[1] if ":" in user_id else ""


def invite_allowed(
    inviter: str, allowed_users: Collection[str], allowed_homeservers: Collection[str], own_user_id: str
) -> bool:
    """Whether to join a room ``inviter`` invited the bot to (admin rooms are joined regardless).

    With no allowed users and no allowed homeservers configured, people of the bot's own homeserver
    may invite it: the usual self-hosted setup, and never the whole federation.
    """
    if inviter in allowed_users or homeserver_of(inviter) in allowed_homeservers:
        return True
    if not allowed_users and not allowed_homeservers:
        return homeserver_of(inviter) == homeserver_of(own_user_id)
    return False


def parse_command(text: str) -> tuple[str, list[str]]:
    """``!learning resolve 3 added the table`` → ("learning", ["resolve", "3", "added the table"])."""
    name, _, rest = text[1:].strip().partition(" ")
    name = name.lower()
    rest = rest.strip()
    if name == "learning":
        # The note of resolve/wont-fix is free text: keep it in one piece.
        return name, rest.split(maxsplit=2)
    return name, rest.split()


def addressed_question(text: str, bot_names: Iterable[str], *, mentioned: bool) -> str | None:
    """The question in a message of a shared room, or None when the message is not for the bot.

    A message is for the bot when it starts with one of its names ("Marquee: ..."), names it anywhere,
    or mentions it (``m.mentions``); a leading name is not part of the question.
    """
    for name in filter(None, bot_names):
        prefix = re.match(rf"\s*{re.escape(name)}(?=[\s:,]|$)[\s:,]*", text, flags=re.IGNORECASE)
        if prefix:
            return text[prefix.end() :].strip() or None
        if re.search(rf"(?<![\w@]){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE):
            mentioned = True
    return text if mentioned else None
