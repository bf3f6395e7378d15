"""The per-(title, viewer) session rollup always equals watch_history itself.

Triggers (core/schema/functions/rollup_title_viewer_sessions.sql) keep it:
plays written, changed or deleted, items deleted (their plays cascade) or moved
under another show, TRUNCATE, and the demo generator's COPY.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from core.demo_data import DemoConfig, generate_demo_data

T0 = datetime(2026, 11, 1, 20, tzinfo=UTC)

# Sessions per title (an episode counts for its show) and viewer, straight from watch_history,
# next to the rollup (full outer join: a row missing on either side is a difference).
_DIFFERENCES = """
WITH truth AS (
    SELECT coalesce(mi.parent_id, mi.id) AS title_id, wh.user_id, count(*) AS sessions
    FROM watch_history wh JOIN media_items mi ON mi.id = wh.media_item_id
    GROUP BY 1, 2
)
SELECT t.title_id, t.user_id, t.sessions, r.title_id, r.user_id, r.sessions
FROM truth t
FULL JOIN title_viewer_sessions r ON r.title_id = t.title_id AND r.user_id = t.user_id
WHERE t.sessions IS DISTINCT FROM r.sessions
"""


async def differences(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(_DIFFERENCES))


async def sessions_of(conn: asyncpg.Connection, title: object, user: object) -> int | None:
    return await conn.fetchval(
        "SELECT sessions FROM title_viewer_sessions WHERE title_id = $1 AND user_id = $2", title, user
    )


async def test_rollup_follows_plays_items_and_reparenting(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        ann = await conn.fetchval("INSERT INTO users (username) VALUES ('ann') RETURNING id")
        bob = await conn.fetchval("INSERT INTO users (username) VALUES ('bob') RETURNING id")
        heat = await conn.fetchval(
            "INSERT INTO media_items (title, media_type) VALUES ('Heat', 'movie') RETURNING id"
        )
        dark = await conn.fetchval(
            "INSERT INTO media_items (title, media_type) VALUES ('Dark', 'show') RETURNING id"
        )
        lost = await conn.fetchval(
            "INSERT INTO media_items (title, media_type) VALUES ('Lost', 'show') RETURNING id"
        )
        episodes = [
            await conn.fetchval(
                "INSERT INTO media_items (title, media_type, parent_id, episode_number) "
                "VALUES ($1, 'episode', $2, $3) RETURNING id",
                f"Dark {n}",
                dark,
                n,
            )
            for n in (1, 2, 3)
        ]
        plays = [(ann, heat), (ann, heat), (bob, heat), *[(ann, e) for e in episodes], (bob, episodes[0])]
        await conn.executemany(
            "INSERT INTO watch_history (user_id, media_item_id, started_at) VALUES ($1, $2, $3)",
            [(user, item, T0 + timedelta(hours=n)) for n, (user, item) in enumerate(plays)],
        )
        assert await sessions_of(conn, heat, ann) == 2
        assert await sessions_of(conn, dark, ann) == 3
        assert await differences(conn) == []

        # A play re-attributed to another viewer moves with it.
        await conn.execute(
            "UPDATE watch_history SET user_id = $1 WHERE user_id = $2 AND media_item_id = $3", ann, bob, heat
        )
        assert (await sessions_of(conn, heat, ann), await sessions_of(conn, heat, bob)) == (3, None)
        assert await differences(conn) == []

        # An episode moved to another show takes its plays along.
        await conn.execute("UPDATE media_items SET parent_id = $1 WHERE id = $2", lost, episodes[2])
        assert (await sessions_of(conn, dark, ann), await sessions_of(conn, lost, ann)) == (2, 1)
        assert await differences(conn) == []

        # Deleting an episode, a whole show (its episodes cascade) and a viewer take their plays away.
        await conn.execute("DELETE FROM media_items WHERE id = $1", episodes[0])
        assert await differences(conn) == []
        await conn.execute("DELETE FROM media_items WHERE id = $1", lost)
        await conn.execute("DELETE FROM users WHERE id = $1", bob)
        assert await differences(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM title_viewer_sessions") == 2

        await conn.execute("TRUNCATE watch_history")
        assert await conn.fetchval("SELECT count(*) FROM title_viewer_sessions") == 0


async def test_rollup_matches_watch_history_after_demo_generation(db_pool: asyncpg.Pool) -> None:
    config = DemoConfig(seed=5, users=8, items=120, days=60, now=datetime(2026, 11, 21, 20, tzinfo=UTC))
    await generate_demo_data(db_pool, config)
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM title_viewer_sessions") > 0
        assert await differences(conn) == []
