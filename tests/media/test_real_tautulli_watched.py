"""Finished plays mean what the real Tautulli 2.17.2 says: its own watched status, in three zones.

Tautulli calls a play watched from 85 % of the item on (its default), or from
the item's first credits marker when that comes earlier, and says so in every
get_history row (``watched_status`` 1). Marquee's counts of finished plays per
person must be Tautulli's, whatever a fixed percentage would say: a play at
88 % is watched, one at 84 % is not.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from adapters.media.tautulli import TautulliSettings, TautulliSyncJob
from core.scope import Scope
from core.sync.jobs import run_job
from core.tools.catalogue import build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool

from .fakes import tautulli_watched_status
from .real_tautulli import SeedPlay, SeedUser, TautulliProcess, TautulliServers

ZONES = ["UTC", "America/Los_Angeles", "Asia/Tokyo"]
EVENING = date(2026, 11, 24)
JON, DANY = 133788, 8008135
USERS = [SeedUser(JON, "Jon Snow"), SeedUser(DANY, "DanyKhaleesi69", is_admin=1)]
EPISODE_MS = 60 * 60_000
FILM_MS = 120 * 60_000


def unix(at: time, zone: str, day: date = EVENING) -> int:
    return int(datetime.combine(day, at, ZoneInfo(zone)).timestamp())


def stream(user: int, key: int, at: time, zone: str, share: float, *, film: bool, minutes: int,
           credits_at: float | None = None, day: date = EVENING) -> SeedPlay:  # fmt: skip
    """A stream stopped ``minutes`` after ``at`` with the player at ``share`` of the item."""
    length = FILM_MS if film else EPISODE_MS
    extra: dict[str, Any] = {"title": f"Film {key}"}
    if not film:
        extra = {"media_type": "episode", "title": f"Episode {key}", "grandparent_rating_key": 9000,
                 "grandparent_title": "The Long Night", "parent_rating_key": 9001, "media_index": key % 100,
                 "parent_media_index": 1}  # fmt: skip
    started = unix(at, zone, day)
    return SeedPlay(
        user, key, started, started + minutes * 60, int(length * share), length,
        marker_credits_first=None if credits_at is None else int(length * credits_at), **extra,
    )  # fmt: skip


def the_evening(zone: str) -> list[SeedPlay]:
    """Streams in the order they stop; the comment says what Tautulli (85 % or credits) calls each."""
    return [
        stream(JON, 5001, time(17, 0), zone, 1.0, film=True, minutes=120),  # watched
        stream(JON, 5002, time(19, 5), zone, 0.88, film=True, minutes=106),  # watched, under 90 %
        stream(JON, 5003, time(21, 0), zone, 0.86, film=False, minutes=52),  # watched, under 90 %
        stream(JON, 5004, time(22, 0), zone, 0.84, film=False, minutes=51),  # not watched (0.75)
        stream(DANY, 5003, time(18, 0), zone, 0.40, film=False, minutes=24),  # stopped at 40 %...
        stream(DANY, 5003, time(20, 0), zone, 0.88, film=False, minutes=29),  # ...resumed: one play, watched
        stream(DANY, 5001, time(20, 40), zone, 0.92, film=True, minutes=111),  # watched
        stream(DANY, 5007, time(22, 50), zone, 0.87, film=False, minutes=53),  # watched, under 90 %
        stream(DANY, 5008, time(23, 30), zone, 0.2, film=True, minutes=24),  # not watched (0)
        stream(JON, 5006, time(23, 50), zone, 0.5, film=False, minutes=30),  # not watched (0.5)
        # Into the credits (which start at 78 %): watched by Tautulli's default marker rule.
        stream(JON, 5005, time(21, 30), zone, 0.80, film=True, minutes=97, credits_at=0.78, day=EVENING + timedelta(1)),
    ]  # fmt: skip


def tautulli_history(server: TautulliProcess, user_id: int) -> list[dict[str, Any]]:
    """A person's movie and episode plays as Tautulli lists them (resumed streams grouped)."""
    status, body = server.api(
        "get_history", grouping=1, user_id=user_id, media_type="movie,episode", length=1000
    )
    assert status == 200, body
    rows: list[dict[str, Any]] = body["response"]["data"]["data"]
    return rows


async def marquee_counts(db_pool: asyncpg.Pool) -> dict[str, tuple[int, int, int]]:
    """Per person: (plays, finished plays in the admin top_watchers tool, sum of user_stats.play_count)."""
    admin = await db_pool.fetchrow("SELECT id, username, role FROM users WHERE username = 'DanyKhaleesi69'")
    assert admin is not None and admin["role"] == "admin"
    scope = Scope(user_id=admin["id"], username=admin["username"], role="admin", mode="admin")
    tools = ToolDatabase(db_pool, max_size=1, session_settings={"default_transaction_read_only": "off"})
    try:
        board = await run_tool(tools, scope, build_catalogue(), "top_watchers", {"start": "2000-01-01"})
    finally:
        await tools.close()
    finished = {row["username"]: int(row["completed_plays"]) for row in board.rows}
    rows = await db_pool.fetch(
        """SELECT u.username, (SELECT count(*) FROM watch_history w WHERE w.user_id = u.id) AS plays,
                  (SELECT coalesce(sum(s.play_count), 0) FROM user_stats s WHERE s.user_id = u.id) AS stats
           FROM users u"""
    )
    return {r["username"]: (int(r["plays"]), finished.get(r["username"], 0), int(r["stats"])) for r in rows}


async def personal_answers(db_pool: asyncpg.Pool, username: str) -> tuple[int, int, int, list[Any]]:
    """What a person is told: finished plays in November (watch_time), episodes of the show done out of
    how many (title_facts), and shows left under half done (abandoned_shows)."""
    user = await db_pool.fetchrow("SELECT id, username, role FROM users WHERE username = $1", username)
    assert user is not None
    scope = Scope(user_id=user["id"], username=username, role=user["role"], mode="personal")
    tools = ToolDatabase(db_pool, max_size=1, session_settings={"default_transaction_read_only": "off"})
    try:
        month = await run_tool(
            tools, scope, build_catalogue(), "watch_time", {"start": "2026-11-01", "end": "2026-11-30"}
        )
        show = await run_tool(tools, scope, build_catalogue(), "title_facts", {"title": "The Long Night"})
        abandoned = await run_tool(
            tools, scope, build_catalogue(), "abandoned_shows", {"idle_days": 1, "max_completion": 0.5}
        )
    finally:
        await tools.close()
    left = [(r["title"], r["watched"], r["episodes"]) for r in abandoned.rows]
    return int(month.summary["completed"]), show.summary["completed_items"], show.summary["items"], left


@pytest.mark.parametrize("zone", ZONES)
async def test_finished_plays_are_the_ones_tautulli_calls_watched(
    db_pool: asyncpg.Pool,
    tautulli_servers: TautulliServers,
    zone: str,
    record_property: Any,
) -> None:
    with tautulli_servers.server(zone) as server:
        server.add_users(USERS)
        for play in the_evening(zone):
            server.add_play(play)
        settings = TautulliSettings(url=server.url, api_key=server.api_key, page_size=4, pause_seconds=0)
        sync_at = datetime.combine(EVENING + timedelta(days=2), time(12, 0), ZoneInfo(zone))
        result = await run_job(db_pool, TautulliSyncJob(settings, clock=lambda: sync_at))
        assert result.ok, result.error
        tautulli = {user.username: tautulli_history(server, user.user_id) for user in USERS}

    # Tautulli's verdict, as it sends it: 1 (an integer) when watched, else 0 or a quarter on the way.
    statuses = [row["watched_status"] for rows in tautulli.values() for row in rows]
    assert {type(s) for s in statuses if s in (0, 1)} == {int}
    assert set(statuses) <= {0, 0.25, 0.5, 0.75, 1}
    # The fake derives it from percent_complete the same way (the credits marker aside).
    for row in (row for rows in tautulli.values() for row in rows if row["rating_key"] != 5005):
        derived = tautulli_watched_status(row["media_type"], row["percent_complete"])
        assert (derived, type(derived)) == (row["watched_status"], type(row["watched_status"])), row
    in_tautulli = {
        name: (len(rows), sum(1 for row in rows if row["watched_status"] == 1))
        for name, rows in tautulli.items()
    }
    # The seeded evening, as Tautulli itself counts it: 88 % and the credits count, 84 % does not.
    assert in_tautulli == {"Jon Snow": (6, 4), "DanyKhaleesi69": (4, 3)}

    in_marquee = await marquee_counts(db_pool)
    for name, (plays, watched) in in_tautulli.items():
        record_property(
            f"{zone} {name}", f"tautulli plays={plays} watched={watched}; marquee {in_marquee[name]}"
        )
        print(f"\nreal Tautulli in {zone}, {name}: Tautulli {plays} plays, {watched} watched; "
              f"Marquee {in_marquee[name][0]} plays, {in_marquee[name][1]} finished "
              f"(user_stats {in_marquee[name][2]})")  # fmt: skip
    assert {name: counts for name, counts in in_marquee.items() if name in in_tautulli} == {
        name: (plays, watched, watched) for name, (plays, watched) in in_tautulli.items()
    }
    # What each is told in personal mode says the same: Jon's 86 % episode is done, his 84 %
    # and 50 % ones are not (1 of 4: left under half done); Dany's resumed 88 % and her 87 %
    # episodes are done (2 of 4: not under half).
    assert await personal_answers(db_pool, "Jon Snow") == (4, 1, 4, [("The Long Night", 1, 4)])
    assert await personal_answers(db_pool, "DanyKhaleesi69") == (3, 2, 4, [])
