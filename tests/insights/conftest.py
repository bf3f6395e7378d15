"""A small learning queue and feedback history on a real database, and the page served on a real port."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from adapters.http.insights_page import InsightsPageConfig
from adapters.http.server import RunningServer, WebhookConfig, build_app, start_http_server
from core import learning_queue
from core.page_charts import PageCharts
from core.tools.catalogue import build_catalogue
from core.tools.database_wall import ToolDatabase

ADMIN_DISCORD = "999999999999999999"
MEMBER_DISCORD = "111111111111111111"
# Text that only a member's chat could contain: the page must never show it.
PRIVATE_ANSWER = "PRIVATE-ANSWER-TEXT for alice"
PRIVATE_HISTORY = "PRIVATE-CHAT-HISTORY of alice"


@dataclass
class Seeded:
    admin: UUID
    member: UUID
    bandwidth: UUID
    bandwidth_duplicate: UUID
    approvals: UUID
    genres: UUID
    closed: UUID


async def seed(pool: asyncpg.Pool) -> Seeded:
    async with pool.acquire() as conn:
        admin = await conn.fetchval("INSERT INTO users (username, role) VALUES ('root', 'admin') RETURNING id")
        member = await conn.fetchval("INSERT INTO users (username, role) VALUES ('alice', 'user') RETURNING id")
        await conn.executemany(
            "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ('discord', $1, $2)",
            [(ADMIN_DISCORD, admin), (MEMBER_DISCORD, member)],
        )
        await conn.execute(
            "INSERT INTO chat_history (user_id, platform, conversation_id, role, content, mode) "
            "VALUES ($1, 'discord', 'dm', 'user', $2, 'personal')",
            member,
            PRIVATE_HISTORY,
        )
        # Questions of no particular member: the per-member daily cap does not apply.
        record = functools.partial(learning_queue.record_question, asked_by=None)
        bandwidth = await record(
            conn, "How much bandwidth did streams use last month?", "operations", "missing_data",
            ["bandwidth_logs"], None,
        )  # fmt: skip
        duplicate = await record(
            conn, "bandwidth per user in october", "operations", "missing_data", ["bandwidth_logs"],
            "Sync Tautulli stream history",
        )  # fmt: skip
        approvals = await record(
            conn, "Who approved the most requests this year?", "requests", "missing_data",
            ["content_requests.approved_by_user_id"], None, reported_wrong=True,
        )  # fmt: skip
        genres = await record(
            conn, "Which genres does everyone like?", "discovery", "low_confidence",
            ["media_items.metadata.genres"], None,
        )  # fmt: skip
        closed = await record(conn, "What is the weather like?", "other", "low_confidence", [], None)
        await conn.execute("UPDATE ai_learning_queue SET status = 'wont_fix' WHERE id = $1", closed)
        for _ in range(3):
            await record(conn, "How much bandwidth did streams use last month?", "operations", "missing_data",
                         ["bandwidth_logs"], None)  # fmt: skip
        # 40 answers over three weeks, two engines; confidence, 👍, ❌ and follow-ups varied.
        rows = []
        for n in range(40):
            confidence = round((n % 10) / 10 + 0.05, 2)
            engine = "anthropic" if n % 2 else "offline"
            queue_id = (bandwidth, approvals, genres, None)[n % 4]
            rows.append(
                (
                    member, f"question {n}", PRIVATE_ANSWER, confidence, 5 if n % 3 == 0 else None,
                    n % 5 == 0, n % 7 == 0 and confidence < 0.5, ("operations", "requests", "discovery", "other")[n % 4],
                    engine, "admin" if n % 4 == 1 else "personal", queue_id, timedelta(days=n % 21, hours=n),
                    ["a Tautulli connection"] if n % 4 == 0 else None,
                )
            )  # fmt: skip
        await conn.executemany(
            """INSERT INTO ai_conversation_feedback
               (user_id, user_message, ai_response, confidence_score, user_rating, user_followed_up,
                user_reported_wrong, question_type, engine, mode, learning_queue_id, created_at, could_improve_with)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now() - $12::interval, $13::jsonb)""",
            rows,
        )
        await seed_viewing(conn, admin, member)
    return Seeded(admin, member, bandwidth, duplicate, approvals, genres, closed)


# The library, plays and requests the page's charts draw. A library name is hostile input.
HOSTILE_LIBRARY = 'TV <script>alert("x")</script> $x^2$'
GIB = 1024**3
# (days ago, hour in Europe/Berlin, seconds watched, whose): the last one is outside a 30-day window.
PLAYS = ((1, 20, 3600, "member"), (8, 20, 3600, "admin"), (2, 21, 1800, "member"), (40, 9, 7200, "member"))


def berlin_moment(days_ago: int, hour: int) -> datetime:
    zone = ZoneInfo("Europe/Berlin")
    day = datetime.now(zone).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, 15), zone)


async def seed_viewing(conn: asyncpg.Connection, admin: UUID, member: UUID) -> None:
    arrival = await conn.fetchval(
        "INSERT INTO media_items (title, media_type, library_name, file_size_bytes, added_at) "
        "VALUES ('Arrival', 'movie', 'Films', $1, now() - interval '60 days') RETURNING id",
        8 * GIB,
    )
    await conn.execute(
        "INSERT INTO media_items (title, media_type, library_name, file_size_bytes, added_at) "
        "VALUES ('Heat', 'movie', 'Films', $1, now() - interval '5 days')",
        4 * GIB,
    )
    show = await conn.fetchval(
        "INSERT INTO media_items (title, media_type, library_name, added_at) "
        "VALUES ('Severance', 'show', $1, now() - interval '5 days') RETURNING id",
        HOSTILE_LIBRARY,
    )
    await conn.execute(
        "INSERT INTO media_items (title, media_type, parent_id, season_number, episode_number, file_size_bytes) "
        "VALUES ('Good News About Hell', 'episode', $1, 1, 1, $2)",
        show,
        20 * GIB,
    )
    who = {"admin": admin, "member": member}
    await conn.executemany(
        "INSERT INTO watch_history (user_id, media_item_id, started_at, watched_seconds) VALUES ($1, $2, $3, $4)",
        [(who[user], arrival, berlin_moment(days, hour), seconds) for days, hour, seconds, user in PLAYS],
    )
    await conn.execute(
        """INSERT INTO content_requests (title, media_type, requested_by_user_id, status, requested_at, approved_at,
                                         available_at)
           VALUES ('Dune', 'movie', $1, 'available', now() - interval '10 days', now() - interval '10 days' + interval '2 hours',
                   now() - interval '10 days' + interval '26 hours'),
                  ('Alien', 'movie', $1, 'pending', now() - interval '3 days', NULL, NULL)""",
        member,
    )


@pytest.fixture
async def seeded(db_pool: asyncpg.Pool) -> Seeded:
    return await seed(db_pool)


@pytest.fixture
async def server(db_pool: asyncpg.Pool, tool_database: ToolDatabase) -> AsyncIterator[RunningServer]:
    charts = PageCharts(db_pool, tool_database, build_catalogue(), "Europe/Berlin")
    app = build_app(db_pool, WebhookConfig(), InsightsPageConfig(timezone="Europe/Berlin"), charts=charts)
    running = await start_http_server(app, "127.0.0.1", 0)
    try:
        yield running
    finally:
        await running.stop()


def base_url(server: RunningServer) -> str:
    return f"http://127.0.0.1:{server.port}"
