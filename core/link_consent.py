"""Linking a chat account by its owner's consent.

Another service may say which chat account is someone's: Overseerr keeps a
Discord id in each user's notification settings. That user types it in, so it
proves nothing about who owns the Discord account. It is kept as a suggestion;
on the account's first direct message Marquee asks "Are you <user>?" and links
only on "yes" from that account. Two users suggesting the same account make no
question at all (an admin links it), and neither does an account already linked,
nor one suggested for a user who already has an account on that platform.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from core.chat import ChatRequest, Reply

log = logging.getLogger(__name__)

YES = frozenset({"yes", "y", "yes that's me", "yes it's me", "yes, that's me", "yes, it's me"})
NO = frozenset({"no", "n", "no that's not me", "no, that's not me", "not me"})

_SUGGEST = """
INSERT INTO chat_link_suggestions (platform, platform_user_id, user_id, source)
SELECT $1, $2, $3, $4
WHERE NOT EXISTS (SELECT 1 FROM chat_accounts WHERE platform = $1 AND platform_user_id = $2)
ON CONFLICT (platform, platform_user_id, user_id) DO NOTHING
"""

# A user who changed the id in their settings no longer suggests the old one.
_FORGET_OTHERS = """
DELETE FROM chat_link_suggestions
WHERE user_id = $3 AND source = $4 AND platform = $1 AND platform_user_id <> $2 AND declined_at IS NULL
"""

# Open: not declined, the account not linked, and the user without an account on
# that platform yet (a second one, e.g. a mistyped id, goes through an admin).
_OPEN_SUGGESTIONS = """
SELECT s.user_id, u.username, s.asked_at
FROM chat_link_suggestions s JOIN users u ON u.id = s.user_id
WHERE s.platform = $1 AND s.platform_user_id = $2 AND s.declined_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM chat_accounts c WHERE c.platform = $1 AND c.platform_user_id = $2)
  AND NOT EXISTS (SELECT 1 FROM chat_accounts c WHERE c.platform = $1 AND c.user_id = s.user_id)
"""

_LINK = """
INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ($1, $2, $3)
ON CONFLICT (platform, platform_user_id) DO NOTHING
RETURNING user_id
"""

_AUDIT = """
INSERT INTO chat_account_links_audit (platform, platform_user_id, user_id, action, method, actor)
VALUES ($1, $2, $3, $4, $5, $6)
"""


@dataclass(frozen=True)
class Suggestion:
    user_id: UUID
    username: str
    asked: bool


async def suggest(
    conn: asyncpg.Connection, platform: str, platform_user_id: str, user_id: UUID, source: str
) -> None:
    """Remember that ``source`` says the chat account is ``user_id``'s; links nothing."""
    await conn.execute(_FORGET_OTHERS, platform, platform_user_id, user_id, source)
    await conn.execute(_SUGGEST, platform, platform_user_id, user_id, source)


async def audit(
    conn: asyncpg.Connection,
    platform: str,
    platform_user_id: str,
    user_id: UUID | None,
    action: str,
    method: str,
    actor: str,
) -> None:
    await conn.execute(_AUDIT, platform, platform_user_id, user_id, action, method, actor)


async def sole_suggestion(
    conn: asyncpg.Connection, platform: str, platform_user_id: str
) -> Suggestion | None:
    """The one user suggested for this unlinked account; None when none, or more than one, is."""
    rows = await conn.fetch(_OPEN_SUGGESTIONS, platform, platform_user_id)
    if len(rows) != 1:
        return None
    row = rows[0]
    return Suggestion(row["user_id"], row["username"], row["asked_at"] is not None)


def _answer(text: str) -> str | None:
    said = " ".join(text.strip().lower().rstrip(".!").split())
    if said in YES:
        return "yes"
    if said in NO:
        return "no"
    return None


def _actor(request: ChatRequest) -> str:
    return f"{request.platform}:{request.platform_user_id}"


async def consent_reply(conn: asyncpg.Connection, request: ChatRequest) -> Reply | None:
    """For an unlinked sender: the question, or the outcome of their answer; None when there is nothing to ask.

    Asked only in a direct message, so that nobody else learns whose account it may be.
    """
    if not request.is_direct_message:
        return None
    platform, account = request.platform, request.platform_user_id
    async with conn.transaction():
        # One answer at a time per account: a double "yes" links once.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('marquee.link_consent:' || $1 || ':' || $2, 0))",
            platform,
            account,
        )
        suggestion = await sole_suggestion(conn, platform, account)
        if suggestion is None:
            return None
        answer = _answer(request.text) if suggestion.asked else None
        if answer == "yes":
            linked = await conn.fetchval(_LINK, platform, account, suggestion.user_id)
            if linked is None:  # pragma: no cover - sole_suggestion excludes linked accounts, under the lock
                return None
            await conn.execute(
                "DELETE FROM chat_link_suggestions WHERE platform = $1 AND platform_user_id = $2",
                platform,
                account,
            )
            await audit(
                conn, platform, account, suggestion.user_id, "linked", "owner_consent", _actor(request)
            )
            log.info("%s account %s linked to %s by its owner", platform, account, suggestion.username)
            return Reply(
                f"Linked: this {platform.capitalize()} account is now **{suggestion.username}** on this server. "
                "Ask me anything about your viewing.",
            )
        if answer == "no":
            await conn.execute(
                "UPDATE chat_link_suggestions SET declined_at = now() "
                "WHERE platform = $1 AND platform_user_id = $2 AND user_id = $3",
                platform,
                account,
                suggestion.user_id,
            )
            await audit(
                conn, platform, account, suggestion.user_id, "declined", "owner_consent", _actor(request)
            )
            return None
        await conn.execute(
            "UPDATE chat_link_suggestions SET asked_at = coalesce(asked_at, now()) "
            "WHERE platform = $1 AND platform_user_id = $2 AND user_id = $3",
            platform,
            account,
            suggestion.user_id,
        )
    return Reply(
        f"Hi! Are you **{suggestion.username}** on this media server? Reply **yes** to link this "
        f"{platform.capitalize()} account to {suggestion.username}, or **no** if that is not you.",
        kind="link_question",
        details={"suggested_username": suggestion.username},
    )
