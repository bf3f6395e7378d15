"""The per-item rollup of user_stats always equals user_stats itself.

It is kept by triggers (core/schema/functions/rollup_user_stats_item_totals.sql),
so every writer is covered: the ingest recompute
(``core.ingest.stats.refresh_user_stats``), the demo generator's COPY, direct
edits, cascaded deletes and TRUNCATE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

from core.demo_data import DemoConfig, generate_demo_data
from core.ingest.stats import refresh_user_stats, refresh_user_stats_in_parallel

T0 = datetime(2026, 11, 1, 20, tzinfo=UTC)

# Every item's totals computed straight from user_stats, next to the rollup's row (full outer join:
# a row missing on either side shows up as a difference).
_DIFFERENCES = """
WITH truth AS (
    SELECT media_item_id, sum(play_count)::bigint AS plays, count(*) AS stat_rows,
           coalesce(sum(rating), 0) AS rating_sum, count(rating) AS ratings, max(last_played_at) AS last_played_at
    FROM user_stats GROUP BY media_item_id
)
SELECT coalesce(t.media_item_id, r.media_item_id) AS media_item_id
FROM truth t
FULL JOIN user_stats_item_totals r ON r.media_item_id = t.media_item_id
WHERE (t.plays, t.stat_rows, t.rating_sum, t.ratings, t.last_played_at)
      IS DISTINCT FROM (r.plays, r.stat_rows, r.rating_sum, r.ratings, r.last_played_at)
"""


async def differences(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(_DIFFERENCES))


async def _user(conn: asyncpg.Connection, name: str) -> object:
    return await conn.fetchval("INSERT INTO users (username) VALUES ($1) RETURNING id", name)


async def _movie(conn: asyncpg.Connection, title: str) -> object:
    return await conn.fetchval(
        "INSERT INTO media_items (title, media_type, added_at) VALUES ($1, 'movie', $2) RETURNING id",
        title,
        T0,
    )


async def _play(conn: asyncpg.Connection, user: object, item: object, hours_later: int) -> None:
    """A finished view (as Plex's history reports one) as the ingest writes it: the row, its pair marked."""
    started = T0 + timedelta(hours=hours_later)
    await conn.execute(
        "INSERT INTO watch_history (user_id, media_item_id, started_at, stopped_at, watched_seconds, service_watched) "
        "VALUES ($1, $2, $3, $4, 3600, true)",
        user,
        item,
        started,
        started + timedelta(hours=1),
    )
    await conn.execute(
        "INSERT INTO user_stats_pending (user_id, media_item_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        user,
        item,
    )


async def test_rollup_follows_the_ingest_recompute_edits_and_deletes(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        ann, bob = await _user(conn, "ann"), await _user(conn, "bob")
        heat, up = await _movie(conn, "Heat"), await _movie(conn, "Up")
        async with conn.transaction():
            await _play(conn, ann, heat, 0)
            await _play(conn, ann, heat, 30)
            await _play(conn, bob, heat, 5)
            await _play(conn, bob, up, 7)
            assert await refresh_user_stats(conn) == 3
        assert await differences(conn) == []
        row = await conn.fetchrow("SELECT * FROM user_stats_item_totals WHERE media_item_id = $1", heat)
        assert (row["plays"], row["stat_rows"], row["ratings"]) == (3, 2, 0)
        assert row["last_played_at"] == T0 + timedelta(hours=31)

        # A service reports a rating and a higher play counter: the recompute updates user_stats.
        await conn.execute(
            "INSERT INTO media_user_state (service, user_id, media_item_id, play_count, rating) "
            "VALUES ('jellyfin', $1, $2, 5, 8.5)",
            bob,
            heat,
        )
        await conn.execute(
            "INSERT INTO user_stats_pending (user_id, media_item_id) VALUES ($1, $2)", bob, heat
        )
        await refresh_user_stats(conn)
        row = await conn.fetchrow("SELECT * FROM user_stats_item_totals WHERE media_item_id = $1", heat)
        assert (row["plays"], row["stat_rows"], row["rating_sum"], row["ratings"]) == (
            7,
            2,
            Decimal("8.5"),
            1,
        )
        assert await differences(conn) == []

        # The latest play's viewer leaves: the last played moment falls back to the remaining viewer's.
        await conn.execute("DELETE FROM users WHERE id = $1", ann)
        row = await conn.fetchrow("SELECT * FROM user_stats_item_totals WHERE media_item_id = $1", heat)
        assert row["last_played_at"] == T0 + timedelta(hours=6)
        assert await differences(conn) == []

        # An item nobody has stats for any more has no totals row.
        await conn.execute("DELETE FROM media_items WHERE id = $1", up)
        await conn.execute("UPDATE user_stats SET media_item_id = $1 WHERE media_item_id = $1", heat)
        assert await differences(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM user_stats_item_totals") == 1

        await conn.execute("TRUNCATE user_stats")
        assert await conn.fetchval("SELECT count(*) FROM user_stats_item_totals") == 0


async def test_rollup_matches_user_stats_after_demo_generation(db_pool: asyncpg.Pool) -> None:
    config = DemoConfig(seed=5, users=8, items=120, days=60, now=datetime(2026, 11, 21, 20, tzinfo=UTC))
    await generate_demo_data(db_pool, config)
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM user_stats_item_totals") > 0
        assert await differences(conn) == []


async def test_a_backlog_refreshed_in_parts_is_refreshed_whole(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        viewers = [await _user(conn, f"viewer{n}") for n in range(3)]
        movies = [await _movie(conn, f"Movie {n}") for n in range(40)]
        for n, movie in enumerate(movies):
            for hours, viewer in enumerate(viewers[: 1 + n % 3]):
                await _play(conn, viewer, movie, hours)

    # Three parts at once, as a first sync does; every pending pair is taken exactly once.
    assert await refresh_user_stats_in_parallel(db_pool, parts=3) == 79
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM user_stats_pending") == 0
        assert await conn.fetchval("SELECT count(*) FROM user_stats") == 79
        assert await conn.fetchval("SELECT sum(play_count) FROM user_stats") == 79
        assert await differences(conn) == []
