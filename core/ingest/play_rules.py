"""The rule for plays no service gave a verdict on: finished from ``MARQUEE_WATCHED_PERCENT`` of their length.

The setting is written to ``play_rules`` at every start, where every count of
finished plays reads it (``analytics.play_finished``; see
core/schema/migrations/011_service_watched.sql). Applied at query time rather
than stored per play, a changed setting costs one row and a recompute of the
``user_stats`` pairs it can change, not a rewrite of the history.
"""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from core.ingest.stats import refresh_user_stats

# Only plays without the service's own verdict depend on the percentage.
_MARK_PLAYS_THE_RULE_DECIDES = """
INSERT INTO user_stats_pending (user_id, media_item_id)
SELECT DISTINCT user_id, media_item_id FROM watch_history WHERE service_watched IS NULL
ORDER BY user_id, media_item_id
ON CONFLICT DO NOTHING
"""


async def apply_watched_percent(conn: asyncpg.Connection, percent: float) -> bool:
    """Make ``percent`` the rule; returns whether it changed (user_stats are then recomputed)."""
    wanted = Decimal(str(percent))
    async with conn.transaction():
        current = await conn.fetchval("SELECT watched_percent FROM play_rules FOR UPDATE")
        if current == wanted:
            return False
        await conn.execute("UPDATE play_rules SET watched_percent = $1", wanted)
        await recount_plays_the_rule_decides(conn)
    return True


async def recount_plays_the_rule_decides(conn: asyncpg.Connection) -> None:
    """Recompute user_stats of every (user, item) with a play only the percentage judges."""
    await conn.execute(_MARK_PLAYS_THE_RULE_DECIDES)
    await refresh_user_stats(conn)


async def watched_percent(conn: asyncpg.Connection) -> Decimal:
    """The percentage in force."""
    value: Decimal = await conn.fetchval("SELECT watched_percent FROM play_rules")
    return value
