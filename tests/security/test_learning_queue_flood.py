"""Attack: one member floods the admins' learning queue with new, long questions."""

from __future__ import annotations

import asyncpg

from core.learning_queue import QueueLimits, record_question

LIMITS = QueueLimits(new_entries_per_member_per_day=3, max_question_chars=200)


async def _member(pool: asyncpg.Pool, name: str) -> object:
    return await pool.fetchval("INSERT INTO users (username) VALUES ($1) RETURNING id", name)


async def test_a_member_adds_at_most_the_daily_number_of_new_entries(db_pool: asyncpg.Pool) -> None:
    mallory = await _member(db_pool, "mallory")
    alice = await _member(db_pool, "alice")
    # Distinct questions, so that none counts as a repeat of another.
    topics = ["zebra crossing", "quantum foam", "medieval bread", "volcanic glass", "arctic moss"]
    async with db_pool.acquire() as conn:
        for topic in topics:
            await record_question(
                conn,
                f"how many {topic} films?",
                None,
                "missing_data",
                [],
                None,
                asked_by=mallory,
                limits=LIMITS,
            )
        kept = await record_question(
            conn,
            "which lighthouse documentaries?",
            None,
            "missing_data",
            [],
            None,
            asked_by=alice,
            limits=LIMITS,
        )

    assert (
        await db_pool.fetchval("SELECT count(*) FROM ai_learning_queue WHERE asked_by_user_id = $1", mallory)
        == 3
    )
    assert kept is not None


async def test_a_long_question_is_truncated_with_a_marker(db_pool: asyncpg.Pool) -> None:
    mallory = await _member(db_pool, "mallory")
    async with db_pool.acquire() as conn:
        await record_question(
            conn, "why " + "spam " * 20_000, None, "missing_data", [], None, asked_by=mallory, limits=LIMITS
        )

    question = await db_pool.fetchval("SELECT question FROM ai_learning_queue")
    assert len(question) <= 200 and question.endswith("… [truncated]")
