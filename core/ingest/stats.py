"""``user_stats`` recomputed for the (user, item) pairs whose plays or counters changed.

Writers mark pairs in ``user_stats_pending`` in their own transaction;
``refresh_user_stats`` recomputes every marked pair in one set-based statement,
and ``refresh_user_stats_in_parallel`` splits a large backlog (a first sync
marks every pair it wrote) into parts by item, one connection each.
play_count is the larger of the plays in ``watch_history`` and the counters a
service reports itself (``media_user_state``), so a service that reports only
counters (Jellyfin) and one that reports plays (Plex, Tautulli) for the same
person do not add up to double counts.
"""

from __future__ import annotations

import asyncio

import asyncpg

# Claiming the pending rows with DELETE makes two concurrent refreshes split
# the work instead of doing it twice.
_REFRESH = """
WITH claimed AS (
    DELETE FROM user_stats_pending
    -- Parts split by item: no two parts touch the same user_stats or rollup rows.
    WHERE $2 = 1 OR get_byte(uuid_send(media_item_id), 15) % $2 = $1
    RETURNING user_id, media_item_id
), plays AS (
    -- play_count counts finished views: the service's own verdict, else the configured
    -- percentage (analytics.play_finished). Plex's history says "watched" for each view.
    SELECT w.user_id, w.media_item_id,
           count(*) FILTER (
               WHERE analytics.play_finished(w.service_watched, w.percent_complete, (SELECT analytics.watched_percent()))
           ) AS plays,
           max(COALESCE(w.stopped_at, w.started_at)) AS last_played_at
    FROM watch_history w JOIN claimed c USING (user_id, media_item_id)
    GROUP BY w.user_id, w.media_item_id
), counters AS (
    SELECT s.user_id, s.media_item_id, max(s.play_count) AS play_count, bool_or(s.played) AS played,
           max(s.last_played_at) AS last_played_at, max(s.rating) AS rating
    FROM media_user_state s JOIN claimed c USING (user_id, media_item_id)
    GROUP BY s.user_id, s.media_item_id
)
INSERT INTO user_stats (user_id, media_item_id, play_count, last_played_at, rating)
SELECT c.user_id, c.media_item_id,
       GREATEST(COALESCE(p.plays, 0), COALESCE(n.play_count, 0), CASE WHEN n.played THEN 1 ELSE 0 END),
       GREATEST(p.last_played_at, n.last_played_at),
       n.rating
FROM claimed c
JOIN users u ON u.id = c.user_id
JOIN media_items m ON m.id = c.media_item_id
LEFT JOIN plays p ON p.user_id = c.user_id AND p.media_item_id = c.media_item_id
LEFT JOIN counters n ON n.user_id = c.user_id AND n.media_item_id = c.media_item_id
ON CONFLICT (user_id, media_item_id) DO UPDATE SET
    play_count = excluded.play_count,
    last_played_at = excluded.last_played_at,
    rating = COALESCE(excluded.rating, user_stats.rating)
WHERE (user_stats.play_count, user_stats.last_played_at, user_stats.rating)
      IS DISTINCT FROM (excluded.play_count, excluded.last_played_at, COALESCE(excluded.rating, user_stats.rating))
"""


async def refresh_user_stats(conn: asyncpg.Connection, *, part: int = 0, parts: int = 1) -> int:
    """Recompute user_stats for every pending pair (of items in ``part`` of ``parts``); returns the rows written."""
    status = await conn.execute(_REFRESH, part, parts)
    return int(status.rsplit(" ", 1)[-1])


async def refresh_user_stats_in_parallel(pool: asyncpg.Pool, parts: int = 2) -> int:
    """Recompute every pending pair in ``parts`` transactions at once (one per core is plenty)."""

    async def refresh_part(part: int) -> int:
        async with pool.acquire() as conn, conn.transaction():
            return await refresh_user_stats(conn, part=part, parts=parts)

    return sum(await asyncio.gather(*(refresh_part(part) for part in range(parts))))
