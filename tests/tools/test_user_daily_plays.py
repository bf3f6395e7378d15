"""The per-(user, UTC day) and per-(user, UTC month) rollups of plays always equal watch_history itself.

Triggers (core/schema/functions/rollup_user_daily_plays.sql) keep it: plays
written, changed (moved to another day or viewer, longer) or deleted, users and
items deleted (their plays cascade), TRUNCATE, and the demo generator's COPY.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from core.demo_data import DemoConfig, generate_demo_data

# The last hour of a UTC day and month: an hour later is another day and another month.
T0 = datetime(2026, 10, 31, 23, tzinfo=UTC)

# Sessions and seconds per user and UTC day, straight from watch_history, next to the rollup
# (full outer join: a row missing on either side is a difference).
_DIFFERENCES = """
WITH truth AS (
    SELECT (started_at AT TIME ZONE 'UTC')::date AS day, user_id, count(*) AS sessions,
           sum(watched_seconds) AS watched_seconds
    FROM watch_history GROUP BY 1, 2
)
SELECT t.*, r.*
FROM truth t
FULL JOIN user_daily_plays r ON r.day = t.day AND r.user_id = t.user_id
WHERE (t.sessions, t.watched_seconds) IS DISTINCT FROM (r.sessions, r.watched_seconds)
"""


_MONTH_DIFFERENCES = """
WITH truth AS (
    SELECT date_trunc('month', started_at AT TIME ZONE 'UTC')::date AS month, user_id, count(*) AS sessions,
           sum(watched_seconds) AS watched_seconds
    FROM watch_history GROUP BY 1, 2
)
SELECT t.*, r.*
FROM truth t
FULL JOIN user_monthly_plays r ON r.month = t.month AND r.user_id = t.user_id
WHERE (t.sessions, t.watched_seconds) IS DISTINCT FROM (r.sessions, r.watched_seconds)
"""


async def differences(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(_DIFFERENCES)) + list(await conn.fetch(_MONTH_DIFFERENCES))


async def test_rollup_follows_plays_users_and_items(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        ann = await conn.fetchval("INSERT INTO users (username) VALUES ('ann') RETURNING id")
        bob = await conn.fetchval("INSERT INTO users (username) VALUES ('bob') RETURNING id")
        heat = await conn.fetchval(
            "INSERT INTO media_items (title, media_type) VALUES ('Heat', 'movie') RETURNING id"
        )
        dune = await conn.fetchval(
            "INSERT INTO media_items (title, media_type) VALUES ('Dune', 'movie') RETURNING id"
        )
        # Plays either side of UTC midnight, one exactly on it, several per user and day.
        moments = [
            T0,
            T0 + timedelta(minutes=59, seconds=59),
            T0 + timedelta(hours=1),
            T0 + timedelta(hours=2),
        ]
        await conn.executemany(
            "INSERT INTO watch_history (user_id, media_item_id, started_at, watched_seconds) VALUES ($1, $2, $3, $4)",
            [(user, item, moment, 600) for user in (ann, bob) for item in (heat, dune) for moment in moments],
        )
        assert (
            await conn.fetchval(
                "SELECT sessions FROM user_daily_plays WHERE user_id = $1 AND day = '2026-10-31'", ann
            )
            == 4
        )
        assert await differences(conn) == []

        # Moved to the next day, to another viewer, longer; and all of it in one statement.
        await conn.execute(
            "UPDATE watch_history SET started_at = started_at + interval '30 minutes', watched_seconds = 900"
            " WHERE user_id = $1 AND media_item_id = $2",
            ann,
            heat,
        )
        assert await differences(conn) == []
        await conn.execute(
            "UPDATE watch_history SET user_id = $1 WHERE user_id = $2 AND media_item_id = $3", ann, bob, dune
        )
        assert await differences(conn) == []
        # An update that changes nothing the rollup counts.
        await conn.execute("UPDATE watch_history SET percent_complete = 50")
        assert await differences(conn) == []

        await conn.execute("DELETE FROM watch_history WHERE started_at = $1", T0)
        assert await differences(conn) == []
        await conn.execute("DELETE FROM media_items WHERE id = $1", heat)
        assert await differences(conn) == []
        await conn.execute("DELETE FROM users WHERE id = $1", bob)
        assert await differences(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM user_daily_plays") == 2
        assert await conn.fetchval("SELECT count(*) FROM user_monthly_plays") == 2

        await conn.execute("TRUNCATE watch_history")
        assert await conn.fetchval("SELECT count(*) FROM user_daily_plays") == 0
        assert await conn.fetchval("SELECT count(*) FROM user_monthly_plays") == 0


async def test_rollup_matches_watch_history_after_demo_generation(db_pool: asyncpg.Pool) -> None:
    config = DemoConfig(seed=5, users=8, items=120, days=60, now=datetime(2026, 11, 21, 20, tzinfo=UTC))
    await generate_demo_data(db_pool, config)
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM user_daily_plays") > 0
        assert await conn.fetchval("SELECT count(*) FROM user_monthly_plays") > 1
        assert await differences(conn) == []
