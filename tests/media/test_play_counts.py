"""user_stats.play_count counts finished views: the service's own verdict, else MARQUEE_WATCHED_PERCENT (90)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from core.demo_data import DemoConfig, generate_demo_data
from core.ingest.media import upsert_media
from core.ingest.play_rules import apply_watched_percent, watched_percent
from core.ingest.plays import upsert_plays
from core.ingest.records import MediaRecord, PlayRecord, UserRecord
from core.ingest.stats import refresh_user_stats
from core.ingest.users import upsert_user

WHEN = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


def _play(
    source_id: str, percent: float | None, hours_later: int, *, watched: bool | None = None, user: str = "7",
    item: str = "501",
) -> PlayRecord:  # fmt: skip
    started = WHEN + timedelta(hours=hours_later)
    return PlayRecord(
        service="tautulli",
        source_id=source_id,
        user_external_id=user,
        item_external_id=item,
        started_at=started,
        stopped_at=started + timedelta(minutes=50),
        watched_seconds=3000,
        percent_complete=percent,
        service_watched=watched,
        id_service="plex",
    )


async def _people_and_films(conn: asyncpg.Connection) -> None:
    for external_id, name in (("7", "carol"), ("8", "dave")):
        await upsert_user(conn, UserRecord(service="plex", external_id=external_id, username=name))
    await upsert_media(
        conn,
        [
            MediaRecord(
                service="plex", external_id=key, title=title, media_type="movie", duration_seconds=6000
            )
            for key, title in (("501", "Heat"), ("502", "Ronin"))
        ],
    )


async def _play_count(conn: asyncpg.Connection, user: str = "carol", title: str = "Heat") -> int:
    count: int = await conn.fetchval(
        """SELECT s.play_count FROM user_stats s JOIN users u ON u.id = s.user_id
           JOIN media_items m ON m.id = s.media_item_id WHERE u.username = $1 AND m.title = $2""",
        user,
        title,
    )
    return count


async def test_partial_plays_are_sessions_but_not_completed_views(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn, conn.transaction():
        await _people_and_films(conn)
        # a 40 % abandoned start, a completed view, a Plex history entry (a view Plex marked
        # watched, of unknown completion) and a play nobody says anything about
        await upsert_plays(
            conn,
            [
                _play("a", 40.0, 0),
                _play("b", 97.5, 24),
                _play("c", None, 48, watched=True),
                _play("d", None, 50),
            ],
        )
        await refresh_user_stats(conn)
        stats = await conn.fetchrow("SELECT play_count, last_played_at FROM user_stats")
        sessions = await conn.fetchval("SELECT count(*) FROM watch_history")
    assert sessions == 4
    assert stats["play_count"] == 2
    assert stats["last_played_at"] == WHEN + timedelta(hours=50, minutes=50)


async def test_the_services_verdict_wins_over_the_percentage(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn, conn.transaction():
        await _people_and_films(conn)
        await upsert_plays(
            conn,
            [
                _play("watched-at-88", 88.0, 0, watched=True),  # Tautulli: watched (85 %)
                _play("not-watched-at-97", 97.0, 1, watched=False),  # the service says no
                _play("no-verdict-at-92", 92.0, 2),  # the percentage decides: finished
                _play("no-verdict-at-88", 88.0, 3),  # the percentage decides: not finished
            ],
        )
        await refresh_user_stats(conn)
        assert await _play_count(conn) == 2
        verdicts = dict(await conn.fetch("SELECT source_id, service_watched FROM watch_history"))
    assert verdicts == {"watched-at-88": True, "not-watched-at-97": False, "no-verdict-at-92": None,
                        "no-verdict-at-88": None}  # fmt: skip


async def test_a_report_without_a_verdict_keeps_the_one_known(db_pool: asyncpg.Pool) -> None:
    """Tautulli's "stop" webhook gives no verdict; the history's (or the "watched" webhook's) stays."""
    async with db_pool.acquire() as conn, conn.transaction():
        await _people_and_films(conn)
        await upsert_plays(conn, [_play("p", 86.0, 0, watched=True)])
        await upsert_plays(conn, [_play("p", 87.0, 0)])
        row = await conn.fetchrow("SELECT percent_complete, service_watched FROM watch_history")
        await upsert_plays(conn, [_play("p", 87.0, 0, watched=False)])
        corrected = await conn.fetchval("SELECT service_watched FROM watch_history")
    assert (row["percent_complete"], row["service_watched"]) == (87, True)
    assert corrected is False


RECOMPUTE = """
SELECT w.user_id, w.media_item_id,
       count(*) FILTER (WHERE coalesce(w.service_watched, w.percent_complete >= $1)) AS finished
FROM watch_history w GROUP BY 1, 2
"""


async def _rollups_match_a_recompute(conn: asyncpg.Connection, percent: float) -> None:
    """user_stats and user_stats_item_totals equal what the plays say under ``percent``."""
    expected = {
        (r["user_id"], r["media_item_id"]): r["finished"] for r in await conn.fetch(RECOMPUTE, percent)
    }
    stored = {
        (r["user_id"], r["media_item_id"]): r["play_count"]
        for r in await conn.fetch("SELECT * FROM user_stats")
    }
    assert stored == expected
    per_item: dict[object, int] = {}
    for (_, item), finished in expected.items():
        per_item[item] = per_item.get(item, 0) + finished
    totals = {
        r["media_item_id"]: r["plays"] for r in await conn.fetch("SELECT * FROM user_stats_item_totals")
    }
    assert totals == per_item


async def test_a_changed_watched_percent_recomputes_what_it_decides(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        async with conn.transaction():
            await _people_and_films(conn)
            await upsert_plays(
                conn,
                [
                    _play("c1", 88.0, 0),
                    _play("c2", 86.0, 1, item="502"),
                    _play("c3", 70.0, 2, watched=True, item="502"),
                    _play("d1", 88.0, 0, user="8"),
                    _play("d2", 99.0, 3, watched=False, user="8"),
                    _play("d3", 80.0, 4, user="8", item="502"),
                ],
            )
            await refresh_user_stats(conn)
        assert await watched_percent(conn) == 90  # the default
        await _rollups_match_a_recompute(conn, 90)
        assert (await _play_count(conn, "carol", "Heat"), await _play_count(conn, "dave", "Heat")) == (0, 0)

        # MARQUEE_WATCHED_PERCENT=85 at the next start: the plays without a verdict are judged again.
        assert await apply_watched_percent(conn, 85) is True
        await _rollups_match_a_recompute(conn, 85)
        assert (await _play_count(conn, "carol", "Heat"), await _play_count(conn, "dave", "Heat")) == (1, 1)
        assert await _play_count(conn, "carol", "Ronin") == 2
        assert await _play_count(conn, "dave", "Ronin") == 0

        # The same setting again changes nothing.
        assert await apply_watched_percent(conn, 85) is False
        assert await apply_watched_percent(conn, 90) is True
        await _rollups_match_a_recompute(conn, 90)


async def test_demo_data_counts_plays_by_the_configured_percentage(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        assert await apply_watched_percent(conn, 50) is True
    await generate_demo_data(
        db_pool, DemoConfig(seed=5, users=8, items=120, days=60, now=datetime(2026, 11, 21, 20, tzinfo=UTC))
    )
    async with db_pool.acquire() as conn:
        expected = {
            (r["user_id"], r["media_item_id"]): r["finished"] for r in await conn.fetch(RECOMPUTE, 50)
        }
        stored = {
            (r["user_id"], r["media_item_id"]): r["play_count"]
            for r in await conn.fetch("SELECT * FROM user_stats")
            if (r["user_id"], r["media_item_id"]) in expected
        }
        between = await conn.fetchval(
            "SELECT count(*) FROM watch_history WHERE percent_complete >= 50 AND percent_complete < 90"
        )
    assert between > 0  # plays the setting changes the verdict on
    assert stored == expected
