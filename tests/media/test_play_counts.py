"""user_stats.play_count counts completed views (≥ 90 % played), as the schema defines it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from core.ingest.media import upsert_media
from core.ingest.plays import upsert_plays
from core.ingest.records import MediaRecord, PlayRecord, UserRecord
from core.ingest.stats import refresh_user_stats
from core.ingest.users import upsert_user

WHEN = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


def _play(source_id: str, percent: float | None, hours_later: int) -> PlayRecord:
    started = WHEN + timedelta(hours=hours_later)
    return PlayRecord(
        service="tautulli",
        source_id=source_id,
        user_external_id="7",
        item_external_id="501",
        started_at=started,
        stopped_at=started + timedelta(minutes=50),
        watched_seconds=3000,
        percent_complete=percent,
        id_service="plex",
    )


async def test_partial_plays_are_sessions_but_not_completed_views(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn, conn.transaction():
        await upsert_user(conn, UserRecord(service="plex", external_id="7", username="carol"))
        await upsert_media(
            conn,
            [
                MediaRecord(
                    service="plex", external_id="501", title="Heat", media_type="movie", duration_seconds=6000
                )
            ],
        )
        # a 40 % abandoned start, a completed view, and a play of unknown completion (Plex history)
        await upsert_plays(conn, [_play("a", 40.0, 0), _play("b", 97.5, 24), _play("c", None, 48)])
        await refresh_user_stats(conn)
        stats = await conn.fetchrow("SELECT play_count, last_played_at FROM user_stats")
        sessions = await conn.fetchval("SELECT count(*) FROM watch_history")
    assert sessions == 3
    assert stats["play_count"] == 2
    assert stats["last_played_at"] == WHEN + timedelta(hours=48, minutes=50)
