"""A small media server built by hand, so every tool's answer can be worked out on paper.

Times are relative to ``now`` (the moment the fixture is built), in UTC.

People: alice, bob (shares activity with admins), carol, dave; admins root and
mia. Library: five movies in "Movies"; three shows in "TV Shows" (episodes
carry no library of their own). The comments next to each row are what the
test expectations are computed from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

GB = 1_000_000_000


@dataclass
class FixtureServer:
    now: datetime
    users: dict[str, UUID] = field(default_factory=dict)
    items: dict[str, UUID] = field(default_factory=dict)

    def ago(self, days: float = 0, hour: int | None = None) -> datetime:
        moment = self.now - timedelta(days=days)
        return moment.replace(hour=hour, minute=0, second=0, microsecond=0) if hour is not None else moment


async def _item(conn: asyncpg.Connection, **values: Any) -> UUID:
    values.setdefault("metadata", {})  # the pool's codec encodes it as jsonb
    columns = ", ".join(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    item_id: UUID = await conn.fetchval(
        f"INSERT INTO media_items ({columns}) VALUES ({placeholders}) RETURNING id", *values.values()
    )
    return item_id


async def build_fixture_server(pool: asyncpg.Pool) -> FixtureServer:
    server = FixtureServer(now=datetime.now(UTC))
    ago = server.ago
    async with pool.acquire() as conn, conn.transaction():
        # --- people ---------------------------------------------------------------------
        for username, role, shares, last_login in [
            ("alice", "user", False, ago(1)),
            ("bob", "user", True, ago(40)),
            ("carol", "user", False, None),
            ("dave", "user", False, ago(2)),
            ("root", "admin", False, ago(hours_to_days(1))),
            ("mia", "admin", False, ago(100)),
        ]:
            server.users[username] = await conn.fetchval(
                "INSERT INTO users (username, role, share_activity_with_admins, last_login_at, email)"
                " VALUES ($1, $2, $3, $4, $1 || '@example.org') RETURNING id",
                username,
                role,
                shares,
                last_login,
            )

        # --- library --------------------------------------------------------------------
        movies = [
            ("Inception", 2010, ["Sci-Fi", "Action"], 8.8, 2 * GB, 400, 8880),
            ("The Matrix", 1999, ["Sci-Fi", "Action"], 8.7, 3 * GB, 410, 8160),
            ("Paddington", 2014, ["Family", "Comedy"], 7.3, None, 3, 5700),
            ("Old Flop", 2001, ["Comedy"], 3.1, 5 * GB, 800, 5400),
            ("Arrival", 2016, ["Sci-Fi", "Drama"], 7.9, 4 * GB, 200, 6960),
        ]
        for title, year, genres, rating, size, age, duration in movies:
            server.items[title] = await _item(
                conn, title=title, media_type="movie", year=year, library_name="Movies",
                metadata={"genres": genres, "rating": rating}, file_size_bytes=size, added_at=ago(age),
                duration_seconds=duration,
            )  # fmt: skip
        shows = [
            # title, genres, rating, age in days, episode durations, episode sizes
            ("Breaking Bad", ["Crime", "Drama"], 9.5, 500, [3000] * 4, [GB] * 4),
            ("The Office", ["Comedy"], 8.9, 300, [1320] * 5, [GB // 2] * 4 + [None]),
            ("New Show", ["Drama"], 6.0, 2, [2400] * 2, [GB, None]),
        ]
        for title, genres, rating, age, durations, sizes in shows:
            show_id = await _item(
                conn, title=title, media_type="show", library_name="TV Shows",
                metadata={"genres": genres, "rating": rating}, added_at=ago(age),
            )  # fmt: skip
            server.items[title] = show_id
            for number, (duration, size) in enumerate(zip(durations, sizes, strict=True), 1):
                server.items[f"{title} E{number}"] = await _item(
                    conn, title=f"Episode {number}", media_type="episode", parent_id=show_id, season_number=1,
                    episode_number=number, duration_seconds=duration, file_size_bytes=size, added_at=ago(age),
                )  # fmt: skip

        # --- requests -------------------------------------------------------------------
        request_ids: dict[str, UUID] = {}
        for title, kind, requester, status, requested, approved, approver, available, item, reason in [
            # Breaking Bad: approved after 12 h by root, available after 48 h.
            ("Breaking Bad", "show", "alice", "available", 502, 501.5, "root", 500, "Breaking Bad", None),
            # The Office: approved after 2 h by mia, available after 48 h.
            ("The Office", "show", "bob", "available", 302, 302 - 2 / 24, "mia", 300, "The Office", None),
            # Paddington: approved after 12 h by root, available after 24 h.
            ("Paddington", "movie", "carol", "available", 4, 3.5, "root", 3, "Paddington", None),
            (
                "Dune",
                "movie",
                "alice",
                "declined",
                10,
                None,
                None,
                None,
                None,
                "not available in good quality",
            ),
            ("Cats", "movie", "dave", "declined", 20, None, None, None, None, None),
            ("Tenet", "movie", "bob", "pending", 1, None, None, None, None, None),
        ]:
            request_ids[title] = await conn.fetchval(
                "INSERT INTO content_requests (title, media_type, requested_by_user_id, status, requested_at,"
                " approved_at, approved_by_user_id, available_at, media_item_id, declined_at, decline_reason)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                title,
                kind,
                server.users[requester],
                status,
                ago(requested),
                ago(approved) if approved is not None else None,
                server.users[approver] if approver else None,
                ago(available) if available is not None else None,
                server.items[item] if item else None,
                ago(requested - 1) if status == "declined" else None,
                reason,
            )

        # --- viewing --------------------------------------------------------------------
        # (user, item, days ago, hour UTC, watched seconds, percent, rating)
        plays = [
            ("alice", "Inception", 10, 20, 8880, 100, 9),
            ("alice", "Breaking Bad E1", 61, 20, 3000, 100, 8),
            ("alice", "Breaking Bad E2", 60, 20, 3000, 100, None),
            ("alice", "The Office E1", 4, 21, 1320, 100, None),
            ("alice", "The Office E2", 3, 21, 1320, 100, None),
            ("alice", "The Office E3", 2, 21, 1320, 100, None),
            ("alice", "Paddington", 1, 12, 2000, 50, None),
            ("bob", "Inception", 5, 20, 8880, 100, 7),
            ("bob", "The Matrix", 4, 20, 8160, 100, 8),
            ("bob", "The Office E1", 3, 19, 1320, 100, None),
            ("carol", "Inception", 2, 18, 8880, 100, None),
            ("carol", "The Matrix", 2, 22, 8160, 100, None),
            ("carol", "Breaking Bad E1", 40, 20, 3000, 100, 10),
            ("dave", "The Office E1", 1, 20, 1320, 100, None),
        ]
        for user, item, days, hour, seconds, percent, rating in plays:
            started = ago(days, hour)
            await conn.execute(
                "INSERT INTO watch_history (user_id, media_item_id, started_at, stopped_at, watched_seconds,"
                " percent_complete) VALUES ($1, $2, $3, $4, $5, $6)",
                server.users[user],
                server.items[item],
                started,
                started + timedelta(seconds=seconds),
                seconds,
                percent,
            )
            await conn.execute(
                "INSERT INTO user_stats (user_id, media_item_id, play_count, rating, last_played_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                server.users[user],
                server.items[item],
                1 if percent >= 90 else 0,
                rating,
                started,
            )

        # --- operations -----------------------------------------------------------------
        for user, item, days, num_bytes, seconds in [
            ("alice", "Inception", 5, 1 * GB, 3600),
            ("alice", "The Office E1", 4, 2 * GB, 1320),
            ("bob", "Inception", 5, 3 * GB, 8880),
            ("carol", "Inception", 2, None, 8880),
            (None, "The Matrix", 3, GB // 10, 600),
        ]:
            await conn.execute(
                "INSERT INTO bandwidth_logs (user_id, media_item_id, bytes_transferred, stream_duration_seconds,"
                " created_at) VALUES ($1, $2, $3, $4, $5)",
                server.users[user] if user else None,
                server.items[item],
                num_bytes,
                seconds,
                ago(days),
            )
        await conn.executemany(
            "INSERT INTO sync_schedule (integration, enabled, interval_seconds, last_run_at, last_success_at,"
            " last_error, consecutive_failures) VALUES ($1, true, 3600, $2, $3, $4, $5)",
            [
                ("plex", ago(hours_to_days(1)), ago(hours_to_days(1)), None, 0),
                ("tautulli", ago(hours_to_days(1)), ago(2), "connection refused", 3),
            ],
        )
        minutes = [ago(hours_to_days(m / 60)) for m in (5, 10, 15, 20, 25)]
        await conn.executemany(
            "INSERT INTO webhook_log (source, event_type, status, error, received_at) VALUES ($1, $2, $3, $4, $5)",
            [
                ("plex", "media.play", "processed", None, minutes[0]),
                ("plex", "media.stop", "processed", None, minutes[1]),
                ("plex", "library.new", "processed", None, minutes[2]),
                ("plex", "media.play", "error", "bad signature", minutes[3]),
                ("overseerr", "MEDIA_APPROVED", "processed", None, minutes[4]),
            ],
        )
        api_calls = [("/api/ai/chat", 200, None)] * 6 + [
            ("/api/library", 200, None),
            ("/api/library", 404, "not found"),
            ("/api/ai/chat", 500, "upstream timeout"),
            ("/api/ai/chat", 502, "bad gateway"),
        ]
        await conn.executemany(
            "INSERT INTO api_logs (user_id, endpoint, method, status_code, response_time_ms, error_message,"
            " created_at) VALUES ($1, $2, 'POST', $3, 100, $4, $5)",
            [(server.users["alice"], e, s, m, ago(hours_to_days(1))) for e, s, m in api_calls],
        )
        await conn.executemany(
            "INSERT INTO deletion_log (title, media_type, file_size_bytes, deleted_at, reason) VALUES ($1, $2, $3, $4, $5)",
            [("Cats 2", "movie", 7 * GB, ago(5), "low plays"), ("Old Show", "show", None, ago(6), None)],
        )

        # --- conversation ---------------------------------------------------------------
        for user in ("alice", "bob"):
            chat_id = await conn.fetchval(
                "INSERT INTO chat_history (user_id, platform, conversation_id, role, content)"
                " VALUES ($1, 'console', 'c1', 'user', 'what should I watch?') RETURNING id",
                server.users[user],
            )
            await conn.execute(
                "INSERT INTO ai_conversation_feedback (chat_history_id, user_id, user_message, ai_response)"
                " VALUES ($1, $2, 'what should I watch?', 'Inception')",
                chat_id,
                server.users[user],
            )
    return server


def hours_to_days(hours: float) -> float:
    return hours / 24
