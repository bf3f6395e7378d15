"""The learning queue: questions Marquee could not answer well, one row per distinct question.

A question close enough (pg_trgm similarity) to an open row of the same type
raises that row's ``times_asked`` and priority instead of adding a row.

Any member's text lands here for the admins to read, so one member adds at most
``new_entries_per_member_per_day`` new rows in any 24 hours, and a question
longer than ``max_question_chars`` is kept truncated, with a marker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

import asyncpg

log = logging.getLogger(__name__)

TRUNCATION_MARKER = "… [truncated]"


@dataclass(frozen=True)
class QueueLimits:
    new_entries_per_member_per_day: int = 20
    max_question_chars: int = 500


DEFAULT_LIMITS = QueueLimits()


# Questions at least this similar (pg_trgm, 0..1) and of the same type count as the same question.
SIMILARITY_THRESHOLD = 0.5

# Serialises upserts of one question type, so two simultaneous askers of the same
# new question make one row, not two.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('marquee.learning_queue:' || coalesce($1, ''), 0))"

# `%` uses the trigram index with pg_trgm's default threshold (0.3); the stricter
# similarity() test then decides.
_FIND_SIMILAR = """
SELECT id FROM ai_learning_queue
WHERE status IN ('pending', 'in_progress')
  AND question_type IS NOT DISTINCT FROM $2
  AND question % $1
  AND similarity(question, $1) >= $3
ORDER BY similarity(question, $1) DESC, created_at
LIMIT 1
"""

_BUMP = """
UPDATE ai_learning_queue SET
    times_asked = times_asked + $2,
    times_reported_wrong = times_reported_wrong + $3,
    last_asked_at = now(),
    why_failed = CASE WHEN $3 > 0 THEN 'user_reported_wrong' ELSE why_failed END,
    missing_tables = ARRAY(SELECT DISTINCT unnest(coalesce(missing_tables, '{}') || $4::text[]) ORDER BY 1),
    suggested_solution = coalesce($5, suggested_solution),
    priority = marquee_learning_priority(times_asked + $2, times_reported_wrong + $3, now())
WHERE id = $1
"""

_INSERT = """
INSERT INTO ai_learning_queue
    (question, question_type, why_failed, missing_tables, suggested_solution, times_reported_wrong, priority,
     asked_by_user_id)
VALUES ($1, $2, $3, $4, $5, $6, marquee_learning_priority(1, $6, now()), $7)
RETURNING id
"""

# Serialises one member's new entries, so simultaneous questions cannot pass the count together.
_MEMBER_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtextextended('marquee.learning_queue.member:' || $1::uuid::text, 0))"
)

_NEW_ENTRIES_TODAY = """
SELECT count(*) FROM ai_learning_queue
WHERE asked_by_user_id = $1 AND created_at > now() - interval '24 hours'
"""


def capped(question: str, max_chars: int) -> str:
    """The question, or its beginning with the truncation marker when it is longer than ``max_chars``."""
    if len(question) <= max_chars:
        return question
    return question[: max(0, max_chars - len(TRUNCATION_MARKER))].rstrip() + TRUNCATION_MARKER


async def record_question(
    conn: asyncpg.Connection,
    question: str,
    question_type: str | None,
    why_failed: str,
    missing_tables: list[str],
    suggested_solution: str | None,
    *,
    asked_by: UUID | None,
    limits: QueueLimits = DEFAULT_LIMITS,
    reported_wrong: bool = False,
) -> UUID | None:
    """Add the question to the queue or count it again on its similar open row; returns the row id.

    None when the question would be a new entry and ``asked_by`` already added the
    day's allowance: nothing is recorded then (the asker still gets their answer).
    """
    wrong = 1 if reported_wrong else 0
    question = capped(question, limits.max_question_chars)
    async with conn.transaction():
        if asked_by is not None:
            await conn.execute(_MEMBER_LOCK, asked_by)
        await conn.execute(_LOCK, question_type)
        existing: UUID | None = await conn.fetchval(
            _FIND_SIMILAR, question, question_type, SIMILARITY_THRESHOLD
        )
        if existing is not None:
            await conn.execute(_BUMP, existing, 1, wrong, missing_tables, suggested_solution)
            return existing
        if asked_by is not None:
            added: int = await conn.fetchval(_NEW_ENTRIES_TODAY, asked_by)
            if added >= limits.new_entries_per_member_per_day:
                log.info("learning queue: member %s reached today's %d new entries", asked_by, added)
                return None
        new_id: UUID = await conn.fetchval(
            _INSERT, question, question_type, why_failed, missing_tables, suggested_solution, wrong, asked_by
        )
        return new_id


async def mark_reported_wrong(conn: asyncpg.Connection, queue_id: UUID, delta: int) -> None:
    """A ❌ on an answer already in the queue (+1) or its removal (-1); does not count another ask."""
    await conn.execute(
        """
        UPDATE ai_learning_queue SET
            times_reported_wrong = greatest(0, times_reported_wrong + $2),
            why_failed = CASE WHEN $2 > 0 THEN 'user_reported_wrong' ELSE why_failed END,
            priority = marquee_learning_priority(times_asked, greatest(0, times_reported_wrong + $2), last_asked_at)
        WHERE id = $1
        """,
        queue_id,
        delta,
    )
