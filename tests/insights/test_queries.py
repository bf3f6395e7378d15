"""The page's numbers on known data, and the triage actions' effects on the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from core import insights_page, learning_queue
from core.insights_page import InsightsActionError, QueueFilter

from .conftest import Seeded

MONTH = timedelta(days=30)


async def answers(pool: asyncpg.Pool, *rows: tuple[float, bool, str]) -> None:
    """Feedback rows of (confidence, reported wrong, engine), answered an hour ago."""
    await pool.executemany(
        "INSERT INTO ai_conversation_feedback (user_message, ai_response, confidence_score, user_reported_wrong, "
        "engine, created_at) VALUES ('q', 'a', $1, $2, $3, now() - interval '1 hour')",
        rows,
    )


async def test_calibration_buckets_confidence_and_counts_answers_not_reported_wrong(db_pool: asyncpg.Pool) -> None:
    await answers(
        db_pool,
        (0.05, True, "offline"), (0.08, False, "offline"),
        (0.95, False, "offline"), (1.0, False, "offline"), (0.91, True, "offline"),
        (0.55, False, "anthropic"),
    )  # fmt: skip
    async with db_pool.acquire() as conn:
        result = await insights_page.calibration(conn, MONTH)

    offline, anthropic = result
    assert offline.engine == "offline" and offline.answers == 5
    assert [(b.low, b.answers, b.not_reported_wrong) for b in offline.buckets] == [(0.0, 2, 1), (0.9, 3, 2)]
    assert offline.buckets[1].share_not_wrong == pytest.approx(2 / 3)
    assert offline.mean_confidence == pytest.approx((0.05 + 0.08 + 0.95 + 1.0 + 0.91) / 5)
    assert offline.success_rate == pytest.approx(3 / 5)
    assert (anthropic.engine, anthropic.answers, anthropic.success_rate) == ("anthropic", 1, 1.0)
    assert [b.low for b in anthropic.buckets] == [0.5]


async def test_satisfaction_per_week_in_the_servers_zone_per_type_and_per_engine(db_pool: asyncpg.Pool) -> None:
    # Monday 00:30 in Berlin is still Sunday in UTC: the week is the Berlin one.
    await db_pool.executemany(
        "INSERT INTO ai_conversation_feedback (user_message, ai_response, user_rating, user_reported_wrong, "
        "user_followed_up, question_type, engine, created_at) VALUES ('q', 'a', $1, $2, $3, $4, $5, $6)",
        [
            (5, False, False, "stats", "offline", datetime(2026, 11, 22, 23, 30, tzinfo=UTC)),
            (None, True, True, "stats", "anthropic", datetime(2026, 11, 23, 10, tzinfo=UTC)),
            (None, False, True, "requests", "offline", datetime(2026, 11, 20, 10, tzinfo=UTC)),
        ],
    )
    async with db_pool.acquire() as conn:
        await conn.execute("SET TIME ZONE 'UTC'")
        result = await insights_page.satisfaction(conn, timedelta(days=3650), "Europe/Berlin")

    assert [(r.label, r.answers, r.thumbs_up, r.reported_wrong, r.followed_up) for r in result.by_week] == [
        ("2026-11-23", 2, 1, 1, 1),
        ("2026-11-16", 1, 0, 0, 1),
    ]
    assert [(r.label, r.answers) for r in result.by_question_type] == [("stats", 2), ("requests", 1)]
    offline = next(r for r in result.by_engine if r.label == "offline")
    assert (offline.thumbs_up_rate, offline.wrong_rate, offline.follow_up_rate) == (0.5, 0.0, 0.5)


async def test_struggles_put_the_most_reported_wrong_first_and_show_mode_and_engine(
    db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    async with db_pool.acquire() as conn:
        found = await insights_page.struggles(conn)

    assert found[0].id == seeded.approvals and found[0].times_reported_wrong == 1
    assert seeded.closed not in {s.id for s in found}  # won't fix is not a struggle any more
    bandwidth = next(s for s in found if s.id == seeded.bandwidth)
    assert bandwidth.times_asked == 4
    assert bandwidth.engines == ["offline"] and bandwidth.modes == ["personal"]
    assert bandwidth.mean_confidence is not None


async def test_missing_data_is_counted_with_a_suggested_change_for_each(
    db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    async with db_pool.acquire() as conn:
        patterns = await insights_page.missing_data_patterns(conn)
        await learning_queue.record_question(conn, "plays by codec", "stats", "missing_data", ["media_items.codec"], None, asked_by=None)
        more = await insights_page.missing_data_patterns(conn)

    first = patterns[0]
    assert (first.item, first.questions, first.times_asked) == ("bandwidth_logs", 2, 5)
    assert "Tautulli" in first.suggestion
    codec = next(p for p in more if p.item == "media_items.codec")
    assert codec.suggestion.startswith("Fill media_items.codec")


async def test_an_admins_priority_stays_when_the_question_is_asked_again(
    db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    async with db_pool.acquire() as conn:
        await insights_page.set_priority(conn, seeded.genres, 5, "root")
        for _ in range(2):
            await learning_queue.record_question(
                conn, "Which genres does everyone like?", "discovery", "low_confidence", [], None, asked_by=None
            )
        row = await conn.fetchrow("SELECT priority, times_asked FROM ai_learning_queue WHERE id = $1", seeded.genres)
        untouched = await conn.fetchval("SELECT priority FROM ai_learning_queue WHERE id = $1", seeded.bandwidth)
        await learning_queue.record_question(
            conn, "How much bandwidth did streams use last month?", "operations", "missing_data", [], None, asked_by=None
        )
        recomputed = await conn.fetchval("SELECT priority FROM ai_learning_queue WHERE id = $1", seeded.bandwidth)

    assert row["priority"] == 5 and row["times_asked"] == 3
    assert recomputed >= untouched  # entries nobody prioritised still follow the asks


async def test_merging_folds_counts_answers_and_missing_data_into_the_kept_entry(
    db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    async with db_pool.acquire() as conn:
        before = await conn.fetchrow("SELECT * FROM ai_learning_queue WHERE id = $1", seeded.bandwidth)
        answers_before = await conn.fetchval(
            "SELECT count(*) FROM ai_conversation_feedback WHERE learning_queue_id = ANY($1::uuid[])",
            [seeded.bandwidth, seeded.approvals],
        )
        merged = await insights_page.merge_duplicates(conn, seeded.bandwidth, [seeded.approvals, seeded.bandwidth], "root")
        kept = await conn.fetchrow("SELECT * FROM ai_learning_queue WHERE id = $1", seeded.bandwidth)
        closed = await conn.fetchrow("SELECT * FROM ai_learning_queue WHERE id = $1", seeded.approvals)
        moved = await conn.fetchval(
            "SELECT count(*) FROM ai_conversation_feedback WHERE learning_queue_id = $1", seeded.bandwidth
        )

        assert merged == 1
        assert kept["times_asked"] == before["times_asked"] + 1
        assert kept["times_reported_wrong"] == before["times_reported_wrong"] + 1
        assert kept["missing_tables"] == ["bandwidth_logs", "content_requests.approved_by_user_id"]
        assert moved == answers_before
        assert closed["status"] == "resolved" and closed["merged_into"] == seeded.bandwidth
        assert closed["resolution_note"] == f"merged into {str(seeded.bandwidth)[:8]}"

        with pytest.raises(InsightsActionError, match="already merged"):
            await insights_page.merge_duplicates(conn, seeded.genres, [seeded.approvals], "root")
        with pytest.raises(InsightsActionError, match="merged into another"):
            await insights_page.set_status(conn, seeded.approvals, "pending", None, "root")
        with pytest.raises(InsightsActionError, match="at least one duplicate"):
            await insights_page.merge_duplicates(conn, seeded.genres, [seeded.genres], "root")
        with pytest.raises(InsightsActionError, match="1 to 5"):
            await insights_page.set_priority(conn, seeded.genres, 9, "root")


async def test_queue_page_filters_and_counts(db_pool: asyncpg.Pool, seeded: Seeded) -> None:
    async with db_pool.acquire() as conn:
        pending = await insights_page.queue_page(conn, QueueFilter())
        anything = await insights_page.queue_page(conn, QueueFilter(status=None), limit=2)
        typed = await insights_page.queue_page(conn, QueueFilter(status=None, question_type="requests"))

    assert pending.matching == 4 and pending.counts_by_status == {
        "pending": 4, "in_progress": 0, "resolved": 0, "wont_fix": 1,
    }  # fmt: skip
    assert anything.matching == 5 and len(anything.entries) == 2
    assert [e["id"] for e in typed.entries] == [seeded.approvals]
    assert pending.question_types == ["discovery", "operations", "other", "requests"]
