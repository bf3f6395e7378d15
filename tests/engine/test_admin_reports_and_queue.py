"""Health, insights and the learning queue's own rules, on seeded rows."""

from __future__ import annotations

from uuid import uuid4

import asyncpg

from core import admin_reports
from core.learning_queue import record_question
from core.scope import Scope
from core.tools.system_health import ApiErrorParams, api_error_rate


async def test_health_reports_integrations_webhooks_api_errors_and_answers(db_pool: asyncpg.Pool) -> None:
    await db_pool.execute(
        """
        INSERT INTO sync_schedule (integration, last_run_at, last_success_at, last_error, consecutive_failures)
        VALUES ('plex', now(), now() - interval '3 hours', 'HTTP 401 Unauthorized', 2),
               ('tautulli', now(), now(), NULL, 0);
        INSERT INTO webhook_log (source, event_type, status) VALUES
            ('plex', 'media.play', 'processed'), ('plex', 'media.stop', 'processed'),
            ('jellyfin', 'PlaybackStart', 'rejected');
        INSERT INTO webhook_log (source, event_type, status, received_at)
            VALUES ('plex', 'media.play', 'processed', now() - interval '2 days');
        INSERT INTO api_logs (endpoint, method, status_code) VALUES
            ('/library', 'GET', 200), ('/library', 'GET', 200), ('/library', 'GET', 200), ('/status', 'GET', 503);
        INSERT INTO ai_conversation_feedback (user_message, ai_response, engine, latency_ms, engine_error)
        VALUES ('q1', 'a1', 'anthropic', 900, NULL), ('q2', 'a2', 'offline', 40, 'EngineUnavailable: HTTP 529');
        """
    )
    async with db_pool.acquire() as conn:
        report = await admin_reports.health(conn)

    assert report.failing_integrations == ["plex"]
    assert report.webhooks_today == {"processed": 2, "rejected": 1}
    assert report.api_error_rate == 0.25
    assert (report.llm_answers_24h, report.llm_errors_24h) == (2, 1)
    assert report.database["status"] == "ok" and report.database["schema_version"] >= 3
    text = admin_reports.render_health(report)
    assert "failing: plex" in text and "HTTP 401 Unauthorized" in text and "25.0% of 4 requests" in text
    assert "last success 3 hours ago" in text


async def test_health_and_the_api_error_rate_tool_count_the_same_calls_as_failed(
    db_pool: asyncpg.Pool,
) -> None:
    """One definition of a failed API call: 5xx, or no status with an error; a 4xx with its error
    message is the client's mistake, for both."""
    await db_pool.execute(
        """
        INSERT INTO api_logs (endpoint, method, status_code, error_message) VALUES
            ('/library', 'GET', 200, NULL), ('/status', 'GET', 503, 'Service Unavailable'),
            ('/library/9', 'GET', 404, 'Not Found'), ('/sessions', 'GET', NULL, 'connection reset');
        """
    )
    admin = Scope(user_id=uuid4(), username="root", role="admin", mode="admin")
    async with db_pool.acquire() as conn:
        report = await admin_reports.health(conn)
        tool = await api_error_rate(conn, admin, ApiErrorParams())

    assert (report.api_requests_24h, report.api_errors_24h) == (4, 2)
    assert (tool.summary["calls"], tool.summary["errors"], tool.summary["client_errors"]) == (4, 2, 1)
    assert report.api_error_rate == tool.summary["error_rate"] == 0.5


async def test_health_counts_the_items_deleted_from_the_server(db_pool: asyncpg.Pool) -> None:
    await db_pool.execute(
        """
        INSERT INTO media_items (title, media_type, removed_at) VALUES
            ('Arrival', 'movie', NULL), ('Heat', 'movie', NULL), ('Gone Girl', 'movie', now());
        """
    )
    async with db_pool.acquire() as conn:
        report = await admin_reports.health(conn)
    assert report.library == {"items": 2, "removed": 1}
    assert "Library: 2 items; 1 deleted from the server" in admin_reports.render_health(report)


async def test_the_same_words_with_another_question_type_are_another_entry(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        first = await record_question(
            conn, "How much bandwidth are we using?", "operations", "missing_data", [], None, asked_by=None
        )
        again = await record_question(
            conn,
            "how much bandwidth are we using",
            "operations",
            "missing_data",
            ["bandwidth_logs"],
            "log streams",
            asked_by=None,
        )
        other_type = await record_question(
            conn, "How much bandwidth are we using?", "chitchat", "missing_data", [], None, asked_by=None
        )
        wrong = await record_question(
            conn,
            "How much bandwidth are we using?!",
            "operations",
            "x",
            [],
            None,
            asked_by=None,
            reported_wrong=True,
        )

    assert first == again == wrong and other_type != first
    row = await db_pool.fetchrow("SELECT * FROM ai_learning_queue WHERE id = $1", first)
    assert row["times_asked"] == 3 and row["times_reported_wrong"] == 1
    assert row["missing_tables"] == ["bandwidth_logs"] and row["suggested_solution"] == "log streams"
    assert row["why_failed"] == "user_reported_wrong"
    # 3 asks + a ❌ (weighs three) asked this week: 1 + 3 thresholds (2, 5) + recency = 4
    assert row["priority"] == 4


async def test_a_resolved_entry_is_not_reopened_by_a_new_ask(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        first = await record_question(
            conn, "What's the storage usage by library?", "analytics", "missing_data", [], None, asked_by=None
        )
        await admin_reports.learning_close(
            conn, str(first), "resolved", "file sizes are synced now", "root (console)"
        )
        second = await record_question(
            conn, "What's the storage usage by library?", "analytics", "missing_data", [], None, asked_by=None
        )
        pending = await admin_reports.learning_list(conn)
        resolved = await admin_reports.learning_list(conn, "resolved")

    assert second != first
    assert [e["id"] for e in pending] == [second] and [e["id"] for e in resolved] == [first]


async def test_insights_show_struggles_missing_data_satisfaction_and_calibration(
    db_pool: asyncpg.Pool,
) -> None:
    await db_pool.execute(
        """
        INSERT INTO ai_conversation_feedback
            (user_message, ai_response, confidence_score, missing_data, could_improve_with, was_successful,
             user_rating, user_reported_wrong, user_followed_up)
        VALUES ('a', 'x', 0.9, '[]', '[]', true, 5, false, false),
               ('b', 'x', 0.85, '[]', '[]', true, NULL, true, false),
               ('c', 'x', 0.3, '["file sizes"]', '["media_items.file_size_bytes"]', false, NULL, true, true),
               ('d', 'x', 0.5, '["file sizes", "bandwidth"]', '[]', false, NULL, false, false);
        INSERT INTO ai_learning_queue (question, question_type, why_failed, missing_tables, times_asked, priority)
        VALUES ('What is the storage usage by library?', 'analytics', 'missing_data',
                '{media_items.file_size_bytes}', 4, 3);
        """
    )
    async with db_pool.acquire() as conn:
        report = await admin_reports.insights(conn)

    assert report.struggled[0]["question"] == "What is the storage usage by library?"
    assert report.missing_data[0] == ("file sizes", 2)
    assert report.suggested_improvements[0] == ("media_items.file_size_bytes", 5)
    assert report.satisfaction["answers"] == 4 and report.satisfaction["thumbs_up"] == 1
    bands = {b["band"]: b for b in report.calibration}
    assert bands["high (≥ 0.7)"]["thumbs_up"] == 1 and bands["high (≥ 0.7)"]["reported_wrong"] == 1
    assert bands["low (< 0.4)"]["reported_wrong"] == 1
    text = admin_reports.render_insights(report)
    assert "50% of rated answers 👍" in text and "P3: 1 question(s)" in text
