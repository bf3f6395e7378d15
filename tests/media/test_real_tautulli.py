"""Marquee against a real Tautulli 2.17.2, in three zones, as a new user's server would run.

Tautulli files history under the server's local day and writes a play only
when its stream stops, so each zone runs evenings of plays with a sync at 23:00
local time while the last play of the night is still running.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from adapters.media.tautulli import TautulliSettings, TautulliSyncJob
from core.sync import schedule
from core.sync.jobs import run_job

from . import tautulli_seed
from .fakes import FakeTautulli, load_payload, serve
from .real_tautulli import SeedPlay, SeedUser, TautulliProcess, TautulliServers

ZONES = ["UTC", "America/Los_Angeles", "Asia/Tokyo"]
FIRST_EVENING = date(2026, 11, 20)
EVENINGS = 5
# (local start, minutes played, user, item, share of it played by then): Dany stops her
# episode at 40 % and resumes it after dinner (one play for Tautulli); the 22:40 play
# still runs at the 23:00 sync.
EVENING = [(time(18, 30), 45, 133788, 0, 1.0), (time(19, 10), 24, 8008135, 1, 0.4),
           (time(20, 10), 36, 8008135, 1, 1.0), (time(22, 40), 90, 133788, 2, 1.0)]  # fmt: skip
PLAYS_AN_EVENING = 3  # as Tautulli counts them
USERS = [
    SeedUser(133788, "Jon Snow", email="jon@example.com"),
    SeedUser(8008135, "DanyKhaleesi69", is_admin=1),
]


def job(server: TautulliProcess, at: datetime, api_key: str | None = None) -> TautulliSyncJob:
    settings = TautulliSettings(url=server.url, api_key=api_key or server.api_key, page_size=4, pause_seconds=0)
    return TautulliSyncJob(settings, clock=lambda: at)


def unix(day: date, at: time, zone: str) -> int:
    return int(datetime.combine(day, at, ZoneInfo(zone)).timestamp())


def evening_plays(day: date, zone: str, first_key: int) -> list[SeedPlay]:
    """The evening's streams, in the order they stop; a film, then episodes (60 minutes long)."""
    plays = []
    for start, minutes, user, item, share in EVENING:
        started = unix(day, start, zone)
        key = first_key + item
        extra: dict[str, Any] = {"title": f"Film {key}"}
        if item:
            extra = {"media_type": "episode", "title": f"Episode {key}", "grandparent_rating_key": 9000,
                     "grandparent_title": "The Long Night", "parent_rating_key": 9001,
                     "media_index": key, "parent_media_index": 1}  # fmt: skip
        length_ms = minutes * 60_000 if not item else 60 * 60_000
        offset_ms = int(length_ms * share)
        plays.append(SeedPlay(user, key, started, started + minutes * 60, offset_ms, length_ms, **extra))
    return plays


async def tautulli_count(server: TautulliProcess) -> int:
    """The movie and episode plays Tautulli itself lists (a resumed stream is part of the play it resumes)."""
    status, body = server.api("get_history", grouping=1, media_type="movie,episode", length=1)
    assert status == 200
    return int(body["response"]["data"]["recordsFiltered"])


@pytest.mark.parametrize("zone", ZONES)
async def test_every_play_reaches_marquee_whatever_the_servers_zone(
    db_pool: asyncpg.Pool,
    tautulli_servers: TautulliServers,
    zone: str,
    record_property: Any,
) -> None:
    with tautulli_servers.server(zone) as server:
        server.add_users(USERS)
        running: SeedPlay | None = None
        for evening in range(EVENINGS):
            day = FIRST_EVENING + timedelta(days=evening)
            *finished, late = evening_plays(day, zone, first_key=1000 + 10 * evening)
            if running is not None:  # last night's late play stopped after midnight: written now
                server.add_play(running)
            for play in finished:
                server.add_play(play)
            result = await run_job(db_pool, job(server, datetime.combine(day, time(23, 0), ZoneInfo(zone))))
            assert result.ok, result.error
            running = late
        assert running is not None
        server.add_play(running)
        last = FIRST_EVENING + timedelta(days=EVENINGS)
        assert (await run_job(db_pool, job(server, datetime.combine(last, time(23, 0), ZoneInfo(zone))))).ok

        in_tautulli = await tautulli_count(server)
        in_marquee = await db_pool.fetchval("SELECT count(*) FROM watch_history")
        record_property(f"plays {zone}", f"tautulli={in_tautulli} marquee={in_marquee}")
        print(f"\nreal Tautulli in {zone}: {in_tautulli} plays, Marquee {in_marquee}")
        assert in_tautulli == EVENINGS * PLAYS_AN_EVENING
        assert in_marquee == in_tautulli

        # Each play once, from its first stream's start (whatever the zone), with all its time.
        rows = await db_pool.fetch(
            "SELECT started_at, watched_seconds FROM watch_history ORDER BY started_at"
        )
        streams = [
            play
            for evening in range(EVENINGS)
            for play in evening_plays(FIRST_EVENING + timedelta(days=evening), zone, 1000 + 10 * evening)
        ]
        first_streams = [
            p for p in streams
            if not any(q.user_id == p.user_id and q.rating_key == p.rating_key and q.started < p.started for q in streams)
        ]  # fmt: skip
        assert [row["started_at"] for row in rows] == [
            datetime.fromtimestamp(p.started, UTC) for p in first_streams
        ]
        assert [row["watched_seconds"] for row in rows][:3] == [45 * 60, (24 + 36) * 60, 90 * 60]


async def test_a_wrong_key_names_the_setting_to_fix(
    db_pool: asyncpg.Pool, tautulli_servers: TautulliServers
) -> None:
    with tautulli_servers.server("UTC") as server:
        result = await run_job(db_pool, job(server, datetime.now(UTC), api_key="0" * 32))
    assert not result.ok
    assert result.error == (
        "Tautulli refused the API key (HTTP 400 on /api/v2); check MARQUEE_TAUTULLI_API_KEY"
    )


def by_user(table: dict[str, Any]) -> dict[str, Any]:
    return {**table, "data": sorted(table["data"], key=lambda row: row["user_id"])}


async def test_the_fake_answers_what_the_real_tautulli_answers(
    tautulli_servers: TautulliServers, tmp_path: Path
) -> None:
    with tautulli_servers.server("UTC") as server:
        tautulli_seed.seed(server)
        real = tautulli_seed.answers(server)
    # The recorded payloads are still what this Tautulli answers...
    for name, (status, body) in real.items():
        recorded = load_payload(f"tautulli-{name.replace('_', '-')}.json")
        assert (status, body) == (recorded["status"], recorded["body"]), name

    # ...and the fake answers the same to the same requests (status codes and error bodies included).
    fake = FakeTautulli()
    fake.api_key = server.api_key
    async with serve(fake) as url:
        import aiohttp

        async with aiohttp.ClientSession() as session:

            async def ask(cmd: str, apikey: str, **params: Any) -> tuple[int, Any]:
                query = {"apikey": apikey, "cmd": cmd, **{k: str(v) for k, v in params.items()}}
                async with session.get(f"{url}/api/v2", params=query) as response:
                    return response.status, json.loads(await response.read())

            for cmd in ("get_users", "get_history"):
                assert await ask(cmd, server.api_key, **tautulli_seed.RECORDED[cmd]) == real[cmd], cmd
            status, body = await ask(
                "get_users_table", server.api_key, **tautulli_seed.RECORDED["get_users_table"]
            )
            real_status, real_body = real["get_users_table"]
            assert status == real_status
            assert by_user(body["response"]["data"]) == by_user(real_body["response"]["data"])
            assert await ask("get_users", "0" * 32) == real["wrong_key"]


async def test_people_and_titles_as_tautulli_knows_them(
    db_pool: asyncpg.Pool, tautulli_servers: TautulliServers
) -> None:
    with tautulli_servers.server("Asia/Tokyo") as server:
        tautulli_seed.seed(server)
        server.add_play(
            SeedPlay(133788, 7000, 1462990000, 1462995000, 4_000_000, 5_000_000, title="Tom & Jerry <Uncut>")
        )
        result = await run_job(db_pool, job(server, datetime.fromtimestamp(1463000000, UTC)))
    assert result.ok, result.error
    users = {
        r["username"]: r["removed_at"] for r in await db_pool.fetch("SELECT username, removed_at FROM users")
    }
    assert set(users) == {"Jon Snow", "DanyKhaleesi69", "Hodor"}  # not Tautulli's own "Local"
    assert users["Hodor"] is not None and users["Jon Snow"] is None  # Hodor's share was revoked
    titles = await db_pool.fetch("SELECT title FROM media_items WHERE media_type = 'movie'")
    assert sorted(r["title"] for r in titles) == ["Arrival", "Tom & Jerry <Uncut>"]
    assert (
        await db_pool.fetchval("SELECT count(*) FROM watch_history") == 4
    )  # the song is not a play Marquee keeps


async def test_a_play_resumed_a_week_later_is_one_play(
    db_pool: asyncpg.Pool, tautulli_servers: TautulliServers
) -> None:
    week = 7 * 86400
    first = SeedPlay(133788, 4400, 1764615600, 1764617000, 1_400_000, 6_960_000, title="Arrival")
    rest = SeedPlay(
        133788, 4400, 1764615600 + week, 1764615600 + week + 5600, 6_960_000, 6_960_000, title="Arrival"
    )
    with tautulli_servers.server("America/Los_Angeles") as server:
        server.add_users(USERS)
        server.add_play(first)
        assert (await run_job(db_pool, job(server, datetime.fromtimestamp(first.stopped + 60, UTC)))).ok
        assert (
            await run_job(db_pool, job(server, datetime.fromtimestamp(first.stopped + 6 * 86400, UTC)))
        ).ok
        server.add_play(rest)  # Tautulli files it under the first stream's row: one play
        assert (await run_job(db_pool, job(server, datetime.fromtimestamp(rest.stopped + 60, UTC)))).ok
        in_tautulli = await tautulli_count(server)
    plays = await db_pool.fetch("SELECT started_at, watched_seconds, percent_complete FROM watch_history")
    assert in_tautulli == len(plays) == 1
    assert (plays[0]["started_at"].timestamp(), plays[0]["watched_seconds"]) == (first.started, 1400 + 5600)
    assert plays[0]["percent_complete"] == 100


async def test_an_interrupted_first_sync_resumes_where_it_stopped(
    db_pool: asyncpg.Pool, tautulli_servers: TautulliServers
) -> None:
    """Interrupted (Ctrl-C) after its first date window, a first sync loses and repeats no play when run again."""
    zone = "America/Los_Angeles"
    evenings = 12
    today = datetime.now(ZoneInfo(zone)).date()
    with tautulli_servers.server(zone) as server:
        server.add_users(USERS)
        server.add_libraries()
        for evening in range(evenings):
            for play in evening_plays(today - timedelta(days=evenings + 1 - evening), zone, 1000 + 10 * evening):
                server.add_play(play)
        in_tautulli = await tautulli_count(server)
        assert in_tautulli == evenings * PLAYS_AN_EVENING

        # Windows of two evenings each (six plays), sized from Tautulli's own per-day counts.
        settings = TautulliSettings(url=server.url, api_key=server.api_key, page_size=6, pause_seconds=0)
        reports: list[tuple[str, int, int]] = []
        interrupted = asyncio.ensure_future(
            run_job(db_pool, TautulliSyncJob(settings), progress=lambda *report: stop_after_first(report))
        )

        def stop_after_first(report: tuple[str, int, int]) -> None:
            reports.append(report)
            if report[0] == "tautulli play history":
                interrupted.cancel()

        with pytest.raises(asyncio.CancelledError):
            await interrupted
        history_reports = [r for r in reports if r[0] == "tautulli play history"]
        assert history_reports == [("tautulli play history", 6, in_tautulli)]
        cursor = await schedule.load_cursor(db_pool, "tautulli")
        assert "quiet_at" not in cursor  # not done
        assert cursor["backfill_through"] == (today - timedelta(days=evenings)).isoformat()
        assert await db_pool.fetchval("SELECT count(*) FROM watch_history") == 6

        reports.clear()
        resumed = await run_job(db_pool, TautulliSyncJob(settings), progress=lambda *report: reports.append(report))
        assert resumed.ok, resumed.error
        # Only what was not read yet is read again.
        assert [r for r in reports if r[0] == "tautulli play history"][-1] == (
            "tautulli play history", in_tautulli - 6, in_tautulli - 6
        )
        assert resumed.counts["plays_new"] == in_tautulli - 6
        assert await db_pool.fetchval("SELECT count(*) FROM watch_history") == in_tautulli
        assert await db_pool.fetchval("SELECT count(DISTINCT source_id) FROM watch_history") == in_tautulli
        cursor = await schedule.load_cursor(db_pool, "tautulli")
        assert "quiet_at" in cursor and "backfill_through" not in cursor
