"""A small, hand-built media server with known answers, written with plain INSERTs.

Everything is placed relative to ``now`` so that "this month", "today" and
"last Christmas" hold whenever the tests run:

- alice watched *Arrival* on last Christmas evening and *Alien* ten days
  before it; she is two episodes into *Severance* (both this month), gave up on
  *The Office* four months ago, rated three things (average 8.3) and requested
  *Dune* (pending), *Cats* (declined) and *Severance* (available, approved by
  dana). She is the most active user.
- bob and erin both watched *Heat* in the last few days (so it is what
  "others" watch and trending); erin's play is attributed to bob's request.
- carol has not logged in for 90 days; she requested *Paddington 2*, which
  nobody ever played.
- dana is the admin. The tautulli sync is failing; three webhooks came in
  today; two of eight API calls failed; *Old Movie* was deleted this month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg

GB = 1024**3


def last_christmas(now: datetime) -> date:
    """The most recent Christmas Day before today, as the date parser reads 'last Christmas'."""
    this_year = date(now.year, 12, 25)
    return this_year if this_year < now.date() else date(now.year - 1, 12, 25)


def earlier_this_month(now: datetime, minutes: int = 0) -> datetime:
    """A moment in the current month before ``now`` (halfway since the 1st, minus ``minutes``)."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    moment = start + (now - start) / 2 - timedelta(minutes=minutes)
    return max(moment, start)


def earlier_today(now: datetime, minutes: int = 0) -> datetime:
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return max(start + (now - start) / 2 - timedelta(minutes=minutes), start)


@dataclass(frozen=True)
class FixtureServer:
    now: datetime
    users: dict[str, UUID]
    items: dict[str, UUID]


async def build_fixture_server(pool: asyncpg.Pool, now: datetime) -> FixtureServer:
    async with pool.acquire() as conn, conn.transaction():
        users: dict[str, UUID] = {}
        for username, role, login_days_ago in (
            ("alice", "user", 1),
            ("bob", "user", 2),
            ("carol", "user", 90),
            ("dana", "admin", 0),
            ("erin", "user", 3),
        ):
            users[username] = await conn.fetchval(
                "INSERT INTO users (username, display_name, role, last_login_at, login_count, created_at)"
                " VALUES ($1, $1, $2, $3, 5, $4) RETURNING id",
                username,
                role,
                now - timedelta(days=login_days_ago),
                now - timedelta(days=800),
            )

        items: dict[str, UUID] = {}
        old = now - timedelta(days=400)
        movies = (
            ("Alien", 1979, ["Science Fiction", "Horror"], 8.5, 10, old),
            ("Aliens", 1986, ["Science Fiction", "Action"], 8.4, 12, old),
            ("Arrival", 2016, ["Science Fiction", "Drama"], 7.9, 8, old),
            ("Heat", 1995, ["Crime", "Thriller"], 8.3, 15, old),
            ("Paddington 2", 2017, ["Family", "Comedy"], 7.8, 6, old),
            ("The Grand Budapest Hotel", 2014, ["Comedy"], 8.1, 7, now - timedelta(hours=1)),
        )
        for title, year, genres, rating, size_gb, added in movies:
            items[title] = await conn.fetchval(
                "INSERT INTO media_items (title, media_type, year, library_name, metadata, duration_seconds,"
                " file_size_bytes, added_at) VALUES ($1, 'movie', $2, 'Movies', $3, 7000, $4, $5) RETURNING id",
                title,
                year,
                {"genres": genres, "rating": rating, "summary": f"{title}."},
                size_gb * GB,
                added,
            )
        for show, year, genres, rating, episodes, length in (
            ("Severance", 2022, ["Drama", "Science Fiction"], 8.7, 4, 3000),
            ("The Office", 2005, ["Comedy"], 9.0, 3, 1300),
        ):
            show_id = await conn.fetchval(
                "INSERT INTO media_items (title, media_type, year, library_name, metadata, added_at)"
                " VALUES ($1, 'show', $2, 'TV Shows', $3, $4) RETURNING id",
                show,
                year,
                {"genres": genres, "rating": rating},
                old,
            )
            items[show] = show_id
            for number in range(1, episodes + 1):
                items[f"{show} E{number}"] = await conn.fetchval(
                    "INSERT INTO media_items (title, media_type, parent_id, season_number, episode_number,"
                    " library_name, duration_seconds, file_size_bytes, added_at)"
                    " VALUES ($1, 'episode', $2, 1, $3, 'TV Shows', $4, $5, $6) RETURNING id",
                    f"Episode {number}",
                    show_id,
                    number,
                    length,
                    2 * GB,
                    old,
                )

        async def request(
            who: str,
            title: str,
            media_type: str,
            status: str,
            requested_days_ago: float,
            item: str | None = None,
            approve_hours: float | None = None,
            decline_reason: str | None = None,
        ) -> UUID:
            requested = now - timedelta(days=requested_days_ago)
            approved = requested + timedelta(hours=approve_hours) if approve_hours is not None else None
            request_id: UUID = await conn.fetchval(
                "INSERT INTO content_requests (title, media_type, media_item_id, requested_by_user_id, status,"
                " requested_at, approved_at, approved_by_user_id, declined_at, decline_reason, available_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                title,
                media_type,
                items[item] if item else None,
                users[who],
                status,
                requested,
                approved,
                users["dana"] if approved else None,
                requested + timedelta(days=1) if decline_reason else None,
                decline_reason,
                requested + timedelta(days=1) if status == "available" else None,
            )
            return request_id

        await request("alice", "Dune", "movie", "pending", 5)
        await request("alice", "Cats", "movie", "declined", 10, decline_reason="Not available on any service")
        severance_request = await request("alice", "Severance", "show", "available", 60, "Severance", 3)
        heat_request = await request("bob", "Heat", "movie", "available", 300, "Heat", 1)
        await request("carol", "Paddington 2", "movie", "available", 200, "Paddington 2", 2)

        async def watched(
            who: str,
            item: str,
            at: datetime,
            seconds: int,
            rating: float | None = None,
            attributed_to: UUID | None = None,
        ) -> None:
            await conn.execute(
                "INSERT INTO watch_history (user_id, media_item_id, started_at, stopped_at, watched_seconds,"
                " percent_complete) VALUES ($1, $2, $3, $4, $5, 100)",
                users[who],
                items[item],
                at,
                at + timedelta(seconds=seconds),
                seconds,
            )
            await conn.execute(
                "INSERT INTO user_stats (user_id, media_item_id, play_count, rating, last_played_at,"
                " attributed_to_request_id) VALUES ($1, $2, 1, $3, $4, $5)"
                " ON CONFLICT (user_id, media_item_id) DO UPDATE SET play_count = user_stats.play_count + 1,"
                " last_played_at = greatest(user_stats.last_played_at, EXCLUDED.last_played_at)",
                users[who],
                items[item],
                rating,
                at + timedelta(seconds=seconds),
                attributed_to,
            )

        christmas = last_christmas(now)
        christmas_evening = datetime(christmas.year, 12, 25, 20, 0, tzinfo=now.tzinfo)
        await watched("alice", "Arrival", christmas_evening, 7000, rating=9)
        await watched("alice", "Alien", christmas_evening - timedelta(days=10), 7000, rating=8)
        await watched("alice", "Severance E1", earlier_this_month(now, minutes=120), 3000, rating=8,
                      attributed_to=severance_request)  # fmt: skip
        await watched("alice", "Severance E2", earlier_this_month(now, minutes=60), 3000)
        await watched("alice", "The Office E1", now - timedelta(days=120), 1300)
        await watched("bob", "Heat", now - timedelta(days=2), 7000, rating=8)
        await watched("bob", "Severance E1", now - timedelta(days=2, hours=3), 3000)
        await watched("erin", "Heat", now - timedelta(days=1), 7000, rating=9, attributed_to=heat_request)

        await conn.executemany(
            "INSERT INTO sync_schedule (integration, enabled, interval_seconds, last_run_at, last_success_at,"
            " last_error, consecutive_failures) VALUES ($1, true, 900, $2, $3, $4, $5)",
            [
                ("plex", now - timedelta(minutes=10), now - timedelta(minutes=10), None, 0),
                ("tautulli", now - timedelta(minutes=5), now - timedelta(days=2), "401 Unauthorized", 3),
            ],
        )
        await conn.executemany(
            "INSERT INTO webhook_log (source, event_type, status, error, received_at) VALUES ($1, $2, $3, $4, $5)",
            [
                ("plex", "media.play", "processed", None, earlier_today(now, 3)),
                ("plex", "media.stop", "processed", None, earlier_today(now, 2)),
                ("sonarr", "Download", "error", "unknown series", earlier_today(now, 1)),
                ("plex", "media.play", "processed", None, now - timedelta(days=2)),
            ],
        )
        await conn.executemany(
            "INSERT INTO api_logs (endpoint, method, status_code, response_time_ms, created_at)"
            " VALUES ($1, 'GET', $2, 40, $3)",
            [("/library", 500 if i < 2 else 200, now - timedelta(minutes=30 + i)) for i in range(8)],
        )
        await conn.executemany(
            "INSERT INTO bandwidth_logs (user_id, media_item_id, bytes_transferred, stream_duration_seconds,"
            " created_at) VALUES ($1, $2, $3, 3000, $4)",
            [
                (users["alice"], items["Severance E1"], 3 * GB, earlier_this_month(now, 100)),
                (users["bob"], items["Heat"], 2 * GB, earlier_this_month(now, 90)),
            ],
        )
        await conn.execute(
            "INSERT INTO deletion_log (title, media_type, file_size_bytes, deleted_at, reason)"
            " VALUES ('Old Movie', 'movie', $1, $2, 'never watched')",
            20 * GB,
            earlier_this_month(now, 30),
        )
    return FixtureServer(now=now, users=users, items=items)
