"""``user_stats`` recomputed for the (user, item) pairs a write touched.

play_count is the larger of the plays in ``watch_history`` and the counters a
service reports itself (``media_user_state``); a service that reports only
counters (Jellyfin) and one that reports plays (Plex, Tautulli) for the same
person do not add up to double counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import asyncpg

_RECOMPUTE = """
INSERT INTO user_stats (user_id, media_item_id, play_count, last_played_at, rating)
SELECT p.user_id, p.media_item_id,
       GREATEST(h.plays, COALESCE(st.play_count, 0), CASE WHEN st.played THEN 1 ELSE 0 END),
       GREATEST(h.last_played_at, st.last_played_at),
       st.rating
FROM (SELECT DISTINCT * FROM unnest($1::uuid[], $2::uuid[])) AS p(user_id, media_item_id)
CROSS JOIN LATERAL (
    SELECT count(*) AS plays, max(COALESCE(w.stopped_at, w.started_at)) AS last_played_at
    FROM watch_history w WHERE w.user_id = p.user_id AND w.media_item_id = p.media_item_id
) h
LEFT JOIN LATERAL (
    SELECT max(s.play_count) AS play_count, bool_or(s.played) AS played,
           max(s.last_played_at) AS last_played_at, max(s.rating) AS rating
    FROM media_user_state s WHERE s.user_id = p.user_id AND s.media_item_id = p.media_item_id
) st ON true
ON CONFLICT (user_id, media_item_id) DO UPDATE SET
    play_count = excluded.play_count,
    last_played_at = excluded.last_played_at,
    rating = COALESCE(excluded.rating, user_stats.rating)
WHERE (user_stats.play_count, user_stats.last_played_at, user_stats.rating)
      IS DISTINCT FROM (excluded.play_count, excluded.last_played_at, COALESCE(excluded.rating, user_stats.rating))
"""

Pair = tuple[uuid.UUID, uuid.UUID]


async def refresh_user_stats(conn: asyncpg.Connection, pairs: Iterable[Pair]) -> int:
    """Recompute user_stats for these (user_id, media_item_id) pairs; returns rows written."""
    unique = set(pairs)
    if not unique:
        return 0
    users = [user_id for user_id, _ in unique]
    items = [item_id for _, item_id in unique]
    status = await conn.execute(_RECOMPUTE, users, items)
    return int(status.rsplit(" ", 1)[-1])
