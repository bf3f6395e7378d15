"""Feedback on answers: 👍/❌ reactions by the asker, and follow-up questions.

Reactions are kept as present/absent rows (``ai_feedback_reactions``), so a
repeated event changes nothing and a removal undoes exactly what the addition did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import asyncpg

from core.chat import THUMBS_UP, WRONG, ReactionAction
from core.learning_queue import DEFAULT_LIMITS, QueueLimits, mark_reported_wrong, record_question

FOLLOW_UP_WINDOW = timedelta(minutes=5)
THUMBS_UP_RATING = 5


async def attach_reply(
    conn: asyncpg.Connection, feedback_id: UUID, platform: str, reply_message_id: str
) -> None:
    await conn.execute(
        "UPDATE ai_conversation_feedback SET platform = $2, reply_message_id = $3 WHERE id = $1",
        feedback_id,
        platform,
        reply_message_id,
    )


@dataclass(frozen=True)
class FeedbackTarget:
    id: UUID
    user_id: UUID
    question: str
    question_type: str | None
    missing_tables: list[str]
    learning_queue_id: UUID | None


_TARGET_COLUMNS = """
f.id, f.user_id, f.user_message, f.question_type, f.learning_queue_id,
coalesce(ARRAY(SELECT jsonb_array_elements_text(coalesce(f.could_improve_with, '[]'::jsonb))), '{}') AS improve
"""

_BY_REPLY = f"""
SELECT {_TARGET_COLUMNS}
FROM ai_conversation_feedback f
JOIN chat_accounts ca ON ca.user_id = f.user_id AND ca.platform = f.platform AND ca.platform_user_id = $3
WHERE f.platform = $1 AND f.reply_message_id = $2
"""

_BY_ID = f"SELECT {_TARGET_COLUMNS} FROM ai_conversation_feedback f WHERE f.id = $1"


def _target(row: asyncpg.Record) -> FeedbackTarget:
    return FeedbackTarget(
        row["id"],
        row["user_id"],
        row["user_message"],
        row["question_type"],
        list(row["improve"]),
        row["learning_queue_id"],
    )


async def find_by_reply(
    conn: asyncpg.Connection, platform: str, reply_message_id: str, reactor_platform_user_id: str
) -> FeedbackTarget | None:
    """The feedback row of that reply, only when the reactor is the asker (through their chat account)."""
    row = await conn.fetchrow(_BY_REPLY, platform, reply_message_id, reactor_platform_user_id)
    return _target(row) if row else None


async def find_by_id(conn: asyncpg.Connection, feedback_id: UUID) -> FeedbackTarget | None:
    row = await conn.fetchrow(_BY_ID, feedback_id)
    return _target(row) if row else None


async def apply_reaction(
    conn: asyncpg.Connection,
    target: FeedbackTarget,
    emoji: str,
    action: ReactionAction,
    *,
    queue_limits: QueueLimits = DEFAULT_LIMITS,
) -> bool:
    """Apply one 👍/❌ added or removed; True when it changed the feedback row."""
    if emoji not in (THUMBS_UP, WRONG):
        return False
    async with conn.transaction():
        if action == "added":
            changed = await conn.fetchval(
                "INSERT INTO ai_feedback_reactions (feedback_id, emoji) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING RETURNING true",
                target.id,
                emoji,
            )
        else:
            changed = await conn.fetchval(
                "DELETE FROM ai_feedback_reactions WHERE feedback_id = $1 AND emoji = $2 RETURNING true",
                target.id,
                emoji,
            )
        if not changed:
            return False
        if emoji == THUMBS_UP:
            await conn.execute(
                "UPDATE ai_conversation_feedback SET user_rating = $2 WHERE id = $1",
                target.id,
                THUMBS_UP_RATING if action == "added" else None,
            )
            return True
        await conn.execute(
            "UPDATE ai_conversation_feedback SET user_reported_wrong = $2 WHERE id = $1",
            target.id,
            action == "added",
        )
        if target.learning_queue_id is not None:
            await mark_reported_wrong(conn, target.learning_queue_id, 1 if action == "added" else -1)
        elif action == "added":
            queue_id = await record_question(
                conn,
                target.question,
                target.question_type,
                "user_reported_wrong",
                target.missing_tables,
                None,
                asked_by=target.user_id,
                limits=queue_limits,
                reported_wrong=True,
            )
            if queue_id is not None:
                await conn.execute(
                    "UPDATE ai_conversation_feedback SET learning_queue_id = $2 WHERE id = $1",
                    target.id,
                    queue_id,
                )
        return True


_FOLLOW_UP = """
UPDATE ai_conversation_feedback SET user_followed_up = true
WHERE id = (
    SELECT id FROM ai_conversation_feedback
    WHERE user_id = $1 AND platform = $2 AND conversation_id = $3 AND created_at >= now() - $4::interval
    ORDER BY created_at DESC LIMIT 1
) AND NOT user_followed_up
RETURNING id
"""


async def mark_follow_up(
    conn: asyncpg.Connection,
    user_id: UUID,
    platform: str,
    conversation_id: str,
    window: timedelta = FOLLOW_UP_WINDOW,
) -> UUID | None:
    """A new question soon after an answer in the same conversation marks that answer as followed up."""
    followed: UUID | None = await conn.fetchval(_FOLLOW_UP, user_id, platform, conversation_id, window)
    return followed
