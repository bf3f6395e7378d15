"""The generated demo server: realistic shapes, every lifecycle and viewing pattern, reproducible, fast to load.

Most tests read one server generated once for this module; the reproducibility,
refusal and CLI tests generate their own.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.cli import main
from bot.database import with_database
from core.db import create_pool
from core.demo_data import GENERATED_TABLES, DemoConfig, DemoDataError, database_is_empty, generate_demo_data

NOW = datetime(2026, 11, 21, 20, tzinfo=UTC)  # a Saturday evening
TZ = "Europe/Berlin"
CONFIG = DemoConfig(seed=11, users=24, items=500, days=240, now=NOW, timezone=TZ)
SMALL = DemoConfig(seed=5, users=8, items=120, days=60, now=NOW, timezone=TZ)


@pytest.fixture(scope="module")
def demo_url(postgres_admin_dsn: str, template_database: str) -> Iterator[str]:
    """A database holding the server generated from CONFIG (read-only for the tests)."""
    name = f"marquee_demo_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        admin = await asyncpg.connect(postgres_admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        finally:
            await admin.close()
        pool = await create_pool(with_database(postgres_admin_dsn, name), max_size=2)
        try:
            await generate_demo_data(pool, CONFIG)
        finally:
            await pool.close()

    async def drop() -> None:
        admin = await asyncpg.connect(postgres_admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(create())
    yield with_database(postgres_admin_dsn, name)
    asyncio.run(drop())


@pytest.fixture
async def demo(demo_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(demo_url)
    await conn.execute("SET TIME ZONE 'UTC'")
    try:
        yield conn
    finally:
        await conn.close()


async def _table_digests(conn: asyncpg.Connection) -> dict[str, str]:
    digests = {}
    for table in GENERATED_TABLES:
        digests[table] = await conn.fetchval(
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        )
    return digests


# --- people -------------------------------------------------------------------------------------------------


async def test_members_have_names_roles_and_login_history(demo: asyncpg.Connection) -> None:
    users = await demo.fetch("SELECT * FROM users ORDER BY username")
    assert len(users) == CONFIG.users
    by_name = {u["username"]: u for u in users}
    assert by_name["alice"]["role"] == "admin" and by_name["alice"]["display_name"]
    assert by_name["bob"]["role"] == "user"
    admins = [u for u in users if u["role"] == "admin"]
    assert 2 <= len(admins) <= 3
    assert all(u["display_name"] and " " in u["display_name"] for u in users)
    assert 0 < sum(u["share_activity_with_admins"] for u in users) < len(users)
    for u in users:
        account_days = (u["last_login_at"] - u["created_at"]).days + 1
        assert u["created_at"] <= u["last_login_at"] <= NOW
        assert 1 <= u["login_count"] <= 3 * account_days


async def test_inactive_members_stopped_long_ago(demo: asyncpg.Connection) -> None:
    inactive = await demo.fetch(
        """
        SELECT u.username, max(w.started_at) AS last_play
        FROM users u LEFT JOIN watch_history w ON w.user_id = u.id
        WHERE u.last_login_at < $1::timestamptz - interval '30 days'
        GROUP BY u.username
        """,
        NOW,
    )
    assert inactive
    assert all(r["last_play"] is None or r["last_play"] < NOW.replace(month=10) for r in inactive)
    # Nobody plays after their last login.
    assert not await demo.fetchval(
        "SELECT count(*) FROM watch_history w JOIN users u ON u.id = w.user_id WHERE w.started_at > u.last_login_at"
    )


async def test_every_member_has_a_console_chat_account(demo: asyncpg.Connection) -> None:
    mismatched = await demo.fetchval(
        """
        SELECT count(*) FROM users u
        LEFT JOIN chat_accounts c ON c.user_id = u.id AND c.platform = 'console'
        WHERE c.platform_user_id IS DISTINCT FROM u.username
        """
    )
    assert mismatched == 0
    assert await demo.fetchval("SELECT count(*) FROM chat_accounts") == CONFIG.users


# --- library ------------------------------------------------------------------------------------------------


async def test_library_has_movies_shows_and_well_formed_episodes(demo: asyncpg.Connection) -> None:
    assert await demo.fetchval("SELECT count(*) FROM media_items") == CONFIG.items
    libraries = {r["library_name"] for r in await demo.fetch("SELECT DISTINCT library_name FROM media_items")}
    assert libraries == {"Movies", "TV Shows", "Anime"}
    malformed_episodes = await demo.fetchval(
        """
        SELECT count(*) FROM media_items e LEFT JOIN media_items s ON s.id = e.parent_id
        WHERE e.media_type = 'episode'
          AND (s.media_type IS DISTINCT FROM 'show' OR e.season_number IS NULL OR e.episode_number IS NULL
               OR s.library_name <> e.library_name)
        """
    )
    assert malformed_episodes == 0
    assert not await demo.fetchval(
        "SELECT count(*) FROM media_items WHERE media_type <> 'episode' AND (parent_id IS NOT NULL "
        "OR season_number IS NOT NULL)"
    )
    assert not await demo.fetchval(
        "SELECT count(*) FROM (SELECT parent_id, season_number, episode_number FROM media_items "
        "WHERE parent_id IS NOT NULL GROUP BY 1, 2, 3 HAVING count(*) > 1) d"
    )


async def test_titles_carry_genres_ratings_summaries_sizes_and_dates(demo: asyncpg.Connection) -> None:
    bad_metadata = await demo.fetchval(
        """
        SELECT count(*) FROM media_items
        WHERE media_type IN ('movie', 'show')
          AND NOT (jsonb_typeof(metadata->'genres') = 'array' AND jsonb_array_length(metadata->'genres') > 0
                   AND (metadata->>'rating')::numeric BETWEEN 0 AND 10 AND length(metadata->>'summary') > 20)
        """
    )
    assert bad_metadata == 0
    sizes = await demo.fetchrow(
        """
        SELECT count(*) FILTER (WHERE media_type = 'show' AND file_size_bytes IS NOT NULL) AS sized_shows,
               avg((file_size_bytes IS NULL)::int) FILTER (WHERE media_type <> 'show') AS unknown_share,
               min(duration_seconds) AS shortest, max(added_at) - min(added_at) AS spread
        FROM media_items
        """
    )
    assert sizes["sized_shows"] == 0
    assert 0.01 < sizes["unknown_share"] < 0.2  # a minority the coverage notes can report
    assert sizes["shortest"] >= 600
    assert sizes["spread"].days > 3 * 365
    services = {r["service"] for r in await demo.fetch("SELECT DISTINCT service FROM media_external_ids")}
    assert {"tmdb", "tvdb"} <= services


# --- viewing ------------------------------------------------------------------------------------------------


async def test_sessions_are_consistent(demo: asyncpg.Connection) -> None:
    assert await demo.fetchval("SELECT count(*) FROM watch_history") == CONFIG.resolved_watch_rows()
    inconsistent = await demo.fetchval(
        """
        SELECT count(*) FROM watch_history w JOIN media_items m ON m.id = w.media_item_id
        WHERE m.media_type = 'show'
           OR w.stopped_at < w.started_at + make_interval(secs => w.watched_seconds)
           OR w.watched_seconds > m.duration_seconds
           OR w.percent_complete <> round(100.0 * w.watched_seconds / m.duration_seconds, 1)
           OR w.started_at < m.added_at OR w.stopped_at > $1
        """,
        NOW,
    )
    assert inconsistent == 0
    assert await demo.fetchval("SELECT count(*) FROM watch_history WHERE percent_complete < 90") > 0


async def test_user_stats_agree_with_watch_history(demo: asyncpg.Connection) -> None:
    # play_count = sessions ≥ 90 % complete; last_played_at = latest started_at.
    disagreements = await demo.fetchval(
        """
        WITH expected AS (
            SELECT user_id, media_item_id, count(*) FILTER (WHERE percent_complete >= 90) AS play_count,
                   max(started_at) AS last_played_at
            FROM watch_history GROUP BY user_id, media_item_id
        ), played AS (SELECT * FROM user_stats WHERE last_played_at IS NOT NULL)
        SELECT count(*) FROM expected e FULL JOIN played s USING (user_id, media_item_id)
        WHERE e.user_id IS NULL OR s.user_id IS NULL
           OR e.play_count <> s.play_count OR e.last_played_at <> s.last_played_at
        """
    )
    assert disagreements == 0
    rated_only = await demo.fetchrow(
        """
        SELECT count(*) AS rows,
               count(*) FILTER (WHERE rating IS NULL OR play_count <> 0 OR EXISTS (
                   SELECT 1 FROM watch_history w WHERE w.user_id = s.user_id AND w.media_item_id = s.media_item_id
               )) AS wrong
        FROM user_stats s WHERE last_played_at IS NULL
        """
    )
    assert rated_only["rows"] > 0 and rated_only["wrong"] == 0
    ratings = await demo.fetchrow(
        "SELECT count(rating) AS rated, count(*) AS total, min(rating) AS low, max(rating) AS high, "
        "bool_and(rating = round(rating, 1)) AS one_decimal FROM user_stats"
    )
    assert 0 < ratings["rated"] < ratings["total"]
    assert 0 <= ratings["low"] and ratings["high"] <= 10 and ratings["one_decimal"]


async def test_evenings_are_the_peak_in_server_time(demo: asyncpg.Connection) -> None:
    hours = dict(
        await demo.fetch(
            "SELECT extract(hour FROM started_at AT TIME ZONE $1)::int, count(*) FROM watch_history GROUP BY 1",
            TZ,
        )
    )
    busiest = max(hours, key=lambda h: hours[h])
    assert 19 <= busiest <= 22
    evening = sum(n for h, n in hours.items() if 18 <= h <= 23)
    assert evening > 0.45 * sum(hours.values())
    assert hours.get(4, 0) < hours[busiest] / 10


async def test_weekend_binges_and_rewatches(demo: asyncpg.Connection) -> None:
    binges = await demo.fetchval(
        """
        SELECT count(*) FROM (
            SELECT w.user_id, e.parent_id, (w.started_at AT TIME ZONE $1)::date AS day
            FROM watch_history w JOIN media_items e ON e.id = w.media_item_id
            WHERE e.media_type = 'episode' AND extract(isodow FROM w.started_at AT TIME ZONE $1) IN (6, 7)
            GROUP BY 1, 2, 3 HAVING count(*) >= 3
        ) b
        """,
        TZ,
    )
    assert binges > 0
    assert await demo.fetchval("SELECT count(*) FROM user_stats WHERE play_count >= 2") > 0


async def test_series_are_finished_in_progress_and_abandoned(demo: asyncpg.Connection) -> None:
    rows = await demo.fetch(
        """
        WITH progress AS (
            SELECT w.user_id, e.parent_id AS show_id, count(DISTINCT e.id) AS seen, max(w.started_at) AS last_play
            FROM watch_history w JOIN media_items e ON e.id = w.media_item_id
            WHERE e.media_type = 'episode' GROUP BY 1, 2
        ), sizes AS (SELECT parent_id AS show_id, count(*) AS episodes FROM media_items
                     WHERE media_type = 'episode' GROUP BY 1)
        SELECT p.seen, s.episodes, p.last_play FROM progress p JOIN sizes s USING (show_id)
        """
    )
    finished = [r for r in rows if r["seen"] == r["episodes"] and r["episodes"] >= 2]
    in_progress = [r for r in rows if r["seen"] < r["episodes"] and (NOW - r["last_play"]).days <= 14]
    abandoned = [r for r in rows if r["seen"] <= 3 < r["episodes"] and (NOW - r["last_play"]).days > 90]
    assert finished and in_progress and abandoned


# --- requests -----------------------------------------------------------------------------------------------


async def test_requests_go_through_their_whole_lifecycle(demo: asyncpg.Connection) -> None:
    statuses = dict(await demo.fetch("SELECT status, count(*) FROM content_requests GROUP BY status"))
    assert set(statuses) == {"pending", "approved", "declined", "available", "failed"}
    wrong = await demo.fetch(
        """
        SELECT r.status, r.title FROM content_requests r LEFT JOIN users a ON a.id = r.approved_by_user_id
        WHERE CASE r.status
            WHEN 'pending' THEN r.approved_at IS NOT NULL OR r.declined_at IS NOT NULL OR r.media_item_id IS NOT NULL
            WHEN 'declined' THEN r.decline_reason IS NULL OR r.declined_at <= r.requested_at
                                 OR r.approved_by_user_id IS NOT NULL
            ELSE a.role IS DISTINCT FROM 'admin' OR r.approved_at <= r.requested_at
                 OR r.approved_at - r.requested_at NOT BETWEEN interval '5 minutes' AND interval '7 days'
                 OR (r.status = 'available') <> (r.available_at IS NOT NULL AND r.media_item_id IS NOT NULL)
                 OR r.available_at < r.approved_at
            END
        """
    )
    assert wrong == []
    # Arrived titles entered the library when the request became available.
    assert not await demo.fetchval(
        "SELECT count(*) FROM content_requests r JOIN media_items m ON m.id = r.media_item_id "
        "WHERE m.added_at <> r.available_at"
    )


async def test_some_requesters_never_watch_what_they_asked_for(demo: asyncpg.Connection) -> None:
    never = await demo.fetchval(
        """
        SELECT count(*) FROM content_requests r
        WHERE r.status = 'available' AND NOT EXISTS (
            SELECT 1 FROM watch_history w JOIN media_items m ON m.id = w.media_item_id
            WHERE w.user_id = r.requested_by_user_id AND (m.id = r.media_item_id OR m.parent_id = r.media_item_id))
        """
    )
    assert never > 0


async def test_plays_of_requested_titles_are_attributed_to_the_request(demo: asyncpg.Connection) -> None:
    attributed = await demo.fetch(
        """
        SELECT s.user_id = r.requested_by_user_id AS by_requester,
               r.status = 'available' AND (m.id = r.media_item_id OR m.parent_id = r.media_item_id)
                   AND s.last_played_at >= r.available_at AS correct
        FROM user_stats s JOIN content_requests r ON r.id = s.attributed_to_request_id
        JOIN media_items m ON m.id = s.media_item_id
        """
    )
    assert attributed and all(r["correct"] for r in attributed)
    assert {r["by_requester"] for r in attributed} == {True, False}
    missing = await demo.fetchval(
        """
        SELECT count(*) FROM user_stats s JOIN media_items m ON m.id = s.media_item_id
        JOIN content_requests r ON r.status = 'available' AND r.media_item_id = coalesce(m.parent_id, m.id)
        WHERE s.last_played_at IS NOT NULL AND s.attributed_to_request_id IS NULL
        """
    )
    assert missing == 0


# --- operations ---------------------------------------------------------------------------------------------


async def test_operations_logs_show_a_failing_integration_and_todays_activity(
    demo: asyncpg.Connection,
) -> None:
    sync = {r["integration"]: r for r in await demo.fetch("SELECT * FROM sync_schedule")}
    assert set(sync) == {"plex", "jellyfin", "tautulli", "overseerr"}
    failing = [r for r in sync.values() if r["last_error"]]
    assert len(failing) == 1
    assert (
        failing[0]["consecutive_failures"] > 0
        and (NOW - failing[0]["last_success_at"]).total_seconds() > 3600
    )
    webhooks = dict(await demo.fetch("SELECT status, count(*) FROM webhook_log GROUP BY status"))
    assert set(webhooks) == {"processed", "ignored", "rejected", "error"}
    today = await demo.fetchval(
        "SELECT count(*) FROM webhook_log WHERE (received_at AT TIME ZONE $1)::date = ($2 AT TIME ZONE $1)::date",
        TZ,
        NOW,
    )
    assert today > 0
    assert await demo.fetchval("SELECT count(*) FROM deletion_log WHERE file_size_bytes > 0") > 0
    api = await demo.fetchrow(
        "SELECT count(*) FILTER (WHERE status_code BETWEEN 400 AND 499) AS client_errors, "
        "count(*) FILTER (WHERE status_code >= 500) AS server_errors, min(response_time_ms) AS fastest FROM api_logs"
    )
    assert api["client_errors"] > 0 and api["server_errors"] > 0 and api["fastest"] >= 0
    streams = await demo.fetchrow(
        "SELECT count(DISTINCT user_id) AS users, count(DISTINCT media_item_id) AS items, "
        "min(bytes_transferred) AS least FROM bandwidth_logs"
    )
    assert streams["users"] > 1 and streams["items"] > 1 and streams["least"] >= 0


# --- reproducibility and safety -----------------------------------------------------------------------------


async def test_same_seed_gives_the_same_rows_and_another_seed_differs(db_pool: asyncpg.Pool) -> None:
    assert await database_is_empty(db_pool)
    await generate_demo_data(db_pool, SMALL)
    assert not await database_is_empty(db_pool)
    async with db_pool.acquire() as conn:
        first = await _table_digests(conn)
    await generate_demo_data(db_pool, SMALL, replace=True)
    async with db_pool.acquire() as conn:
        again = await _table_digests(conn)
    assert again == first
    other = DemoConfig(seed=6, users=SMALL.users, items=SMALL.items, days=SMALL.days, now=NOW, timezone=TZ)
    await generate_demo_data(db_pool, other, replace=True)
    async with db_pool.acquire() as conn:
        different = await _table_digests(conn)
    for table in ("users", "media_items", "watch_history", "user_stats", "content_requests"):
        assert different[table] != first[table], table


async def test_a_non_empty_database_is_refused_unless_replacing(db_pool: asyncpg.Pool) -> None:
    await generate_demo_data(db_pool, SMALL)
    with pytest.raises(DemoDataError):
        await generate_demo_data(db_pool, SMALL)
    assert await db_pool.fetchval("SELECT count(*) FROM users") == SMALL.users


def _marquee(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MARQUEE_DATABASE_URL": database_url, "MARQUEE_LOG_LEVEL": "WARNING"}
    marquee = Path(sys.executable).parent / "marquee"
    return subprocess.run(
        [str(marquee), "demo-data", *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


async def test_cli_fills_the_database_and_refuses_to_overwrite(database_url: str) -> None:
    done = await asyncio.to_thread(_marquee, database_url, "--users", "10", "--items", "200", "--days", "30")
    assert done.returncode == 0, done.stderr
    assert "10 users" in done.stdout and "alice" in done.stdout
    assert "watch history" in done.stderr  # plain progress lines when not on a terminal

    refused = await asyncio.to_thread(
        _marquee, database_url, "--users", "10", "--items", "200", "--days", "30"
    )
    assert refused.returncode == 1
    assert "--replace" in refused.stderr and "Traceback" not in refused.stderr

    replaced = await asyncio.to_thread(
        _marquee, database_url, "--users", "12", "--items", "200", "--days", "30", "--replace"
    )
    assert replaced.returncode == 0, replaced.stderr
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM users") == 12
        assert await conn.fetchval("SELECT count(*) FROM media_items") == 200
    finally:
        await conn.close()


def test_impossible_settings_are_refused_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="users"):
        DemoConfig(users=1)
    monkeypatch.setenv("MARQUEE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert main(["demo-data", "--items", "3"]) == 2
    assert "items must be at least" in capsys.readouterr().err
