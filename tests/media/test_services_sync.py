"""Syncing Jellyfin, Tautulli and Overseerr/Jellyseerr fakes; one row per thing seen through several services."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from adapters.media.jellyfin import JellyfinSettings, JellyfinSyncJob
from adapters.media.overseerr import SeerrSettings, SeerrSyncJob
from adapters.media.plex import PlexSettings, PlexSyncJob
from adapters.media.tautulli import TautulliSettings, TautulliSyncJob
from core.ingest.plays import upsert_plays
from core.ingest.records import PlayRecord
from core.sync.jobs import run_job

from .fakes import FakeJellyfin, FakePlex, FakeSeerr, FakeTautulli, serve, tautulli_play
from .snapshot import differences, snapshot


def jellyfin_job(url: str) -> JellyfinSyncJob:
    return JellyfinSyncJob(JellyfinSettings(url=url, api_key="jellyfin-key", page_size=2))


def tautulli_job(url: str, now: int = 1462903600) -> TautulliSyncJob:
    """A Tautulli sync at ``now`` (Unix seconds; by default just after the fake's last play)."""
    clock = lambda: datetime.fromtimestamp(now, UTC)  # noqa: E731
    return TautulliSyncJob(TautulliSettings(url=url, api_key="tautulli-key", page_size=2, pause_seconds=0), clock=clock)


def seerr_job(url: str, service: str = "overseerr") -> SeerrSyncJob:
    return SeerrSyncJob(SeerrSettings(service=service, url=url, api_key="seerr-key", page_size=2))  # type: ignore[arg-type]


async def test_jellyfin_sync_users_items_and_user_data(db_pool: asyncpg.Pool) -> None:
    fake = FakeJellyfin()
    async with serve(fake) as url:
        result = await run_job(db_pool, jellyfin_job(url))
        assert result.ok, result.error
        alice = await db_pool.fetchrow("SELECT * FROM users WHERE username = 'alice'")
        assert (
            alice["role"] == "admin"
            and alice["last_login_at"].isoformat() == "2026-11-20T20:01:02.123456+00:00"
        )
        arrival = await db_pool.fetchrow("SELECT * FROM media_items WHERE title = 'Arrival'")
        assert arrival["library_name"] == "Films" and arrival["file_size_bytes"] == 9_876_543_210
        assert arrival["duration_seconds"] == 6960 and arrival["metadata"]["genres"] == [
            "Science Fiction",
            "Drama",
        ]
        # what semantic search embeds: the overview, actors, directors and writers (not the composer)
        assert arrival["metadata"]["summary"].startswith("A linguist works with the military")
        assert arrival["metadata"]["cast"] == ["Amy Adams", "Jeremy Renner"]
        assert (arrival["metadata"]["directors"], arrival["metadata"]["writers"]) == (
            ["Denis Villeneuve"],
            ["Eric Heisserer"],
        )
        pilot = await db_pool.fetchrow(
            "SELECT e.season_number, e.episode_number, s.title FROM media_items e "
            "JOIN media_items s ON s.id = e.parent_id WHERE e.title = 'Pilot'"
        )
        assert tuple(pilot) == (1, 1, "The 100")
        stats = await db_pool.fetchrow(
            "SELECT s.play_count, s.rating, s.last_played_at FROM user_stats s "
            "JOIN media_items m ON m.id = s.media_item_id WHERE m.title = 'Arrival'"
        )
        assert stats["play_count"] == 2 and float(stats["rating"]) == 9.0
        assert stats["last_played_at"].isoformat() == "2026-11-19T22:00:00+00:00"

        before = await snapshot(db_pool)
        assert (await run_job(db_pool, jellyfin_job(url))).ok
        assert differences(before, await snapshot(db_pool)) == {}

        fake.user_data["5f4a3c2e9b1d4e6f8a7b6c5d4e3f2a1b"]["c0ffee00c0ffee00c0ffee00c0ffee00"][
            "PlayCount"
        ] = 3
        assert (await run_job(db_pool, jellyfin_job(url))).ok
        assert differences(before, await snapshot(db_pool)) == {
            "media_user_state": (1, 1),
            "user_stats": (1, 1),
        }


async def test_plex_and_jellyfin_share_items_and_users(db_pool: asyncpg.Pool) -> None:
    async with serve(FakePlex()) as plex_url, serve(FakeJellyfin()) as jellyfin_url:
        plex = PlexSyncJob(PlexSettings(url=plex_url, token="plex-token"))
        assert (await run_job(db_pool, plex)).ok
        assert (await run_job(db_pool, jellyfin_job(jellyfin_url))).ok
    # Same TMDB id (movie) and TVDB id (show): one row each, known by both services.
    for title in ("Captain America: The Winter Soldier", "The 100"):
        assert await db_pool.fetchval("SELECT count(*) FROM media_items WHERE title = $1", title) == 1
    services = await db_pool.fetch(
        "SELECT e.service FROM media_external_ids e JOIN media_items m ON m.id = e.media_item_id "
        "WHERE m.title = 'Captain America: The Winter Soldier' ORDER BY 1"
    )
    assert [r["service"] for r in services] == ["jellyfin", "plex", "tmdb"]
    # Library name and size from the first service are kept; the earliest added_at wins.
    movie = await db_pool.fetchrow(
        "SELECT * FROM media_items WHERE title = 'Captain America: The Winter Soldier'"
    )
    assert movie["library_name"] == "Films" and movie["added_at"].year == 2014


async def test_tautulli_sync_history_users_and_bandwidth(db_pool: asyncpg.Pool) -> None:
    fake = FakeTautulli()
    async with serve(fake) as url:
        result = await run_job(db_pool, tautulli_job(url))
        assert result.ok, result.error
        assert result.counts["plays_new"] == 3  # the music track is not tracked
        jon = await db_pool.fetchrow("SELECT * FROM users WHERE username = 'Jon Snow'")
        assert jon["email"] == "Jon.Snow.1337@CastleBlack.com" and jon["last_login_at"].year == 2016
        assert await db_pool.fetchval("SELECT role FROM users WHERE username = 'DanyKhaleesi69'") == "admin"
        # Tautulli's built-in "Local" user is nobody; a friend no longer shared with is kept, marked removed.
        assert not await db_pool.fetchval("SELECT count(*) FROM users WHERE username = 'Local'")
        assert await db_pool.fetchval("SELECT removed_at IS NOT NULL FROM users WHERE username = 'Hodor'")
        assert await db_pool.fetchval("SELECT removed_at FROM users WHERE username = 'Jon Snow'") is None
        plays = await db_pool.fetch(
            "SELECT w.watched_seconds, w.percent_complete, w.service_watched, m.title, s.title AS show "
            "FROM watch_history w JOIN media_items m ON m.id = w.media_item_id "
            "LEFT JOIN media_items s ON s.id = m.parent_id ORDER BY w.started_at"
        )
        # Tautulli's watched_status: 0.75 below its 85 %, 1 when watched.
        assert [
            (p["title"], p["show"], p["watched_seconds"], int(p["percent_complete"]), p["service_watched"])
            for p in plays
        ] == [
            ("The Red Woman", "Game of Thrones", 263, 84, False),
            ("The Red Woman", "Game of Thrones", 3000, 100, True),
            ("Arrival", None, 263, 84, False),
        ]
        # Tautulli's history does not say when an item arrived in the library: unknown, not "now".
        assert await db_pool.fetchval("SELECT count(*) FROM media_items WHERE added_at IS NOT NULL") == 0
        bandwidth = await db_pool.fetchrow("SELECT * FROM bandwidth_logs")
        assert (
            bandwidth["bytes_transferred"] == 25318 * 125 * 900
            and bandwidth["stream_duration_seconds"] == 900
        )
        assert bandwidth["user_id"] == jon["id"]

        fake.sessions = []  # nobody streaming: no new bandwidth rows on the next runs
        before = await snapshot(db_pool)
        again = await run_job(db_pool, tautulli_job(url))
        assert again.ok and again.counts["plays_new"] == 0
        assert differences(before, await snapshot(db_pool)) == {}

        fake.history.append(tautulli_play(1127, 8008135, "DanyKhaleesi69", 4400, 1462950000, media_type="movie",
                                          title="Arrival", grandparent_rating_key="", grandparent_title=""))  # fmt: skip
        assert (await run_job(db_pool, tautulli_job(url, now=1462954000))).ok
        # The play, and Dany's last_seen (Tautulli's users table dates it by her newest play).
        assert differences(before, await snapshot(db_pool)) == {
            "watch_history": (0, 1), "user_stats": (0, 1), "users": (1, 1),
        }  # fmt: skip
        # Two days before the last quiet sync (2016-05-10 18:06 UTC), and a day more for the server's zone.
        assert "after=2016-05-07" in fake.requests[-2]


async def test_people_are_one_user_by_ids_never_by_name(db_pool: asyncpg.Pool) -> None:
    plex = FakePlex()  # accounts: PlexUser (1, the owner), Kids (3972737)
    tautulli = FakeTautulli()
    # Tautulli's admin is the server owner, under their plex.tv id; a non-owner happens
    # to be called like Plex's "Kids" account but is another Plex account.
    by_id = {user["user_id"]: user for user in tautulli.users}
    by_id[8008135]["username"] = "OwnerOnPlexTv"
    by_id[133788]["username"] = "Kids"
    async with serve(plex) as plex_url, serve(tautulli) as tautulli_url:
        assert (await run_job(db_pool, PlexSyncJob(PlexSettings(url=plex_url, token="plex-token")))).ok
        assert (await run_job(db_pool, tautulli_job(tautulli_url))).ok

    owner = await db_pool.fetch(
        "SELECT DISTINCT user_id FROM user_external_ids WHERE service = 'plex' AND external_id IN ('1', '8008135')"
    )
    assert len(owner) == 1
    kids = await db_pool.fetch(
        "SELECT user_id FROM user_external_ids WHERE service = 'plex' AND external_id IN ('3972737', '133788')"
    )
    assert len({row["user_id"] for row in kids}) == 2
    assert await db_pool.fetchval("SELECT count(*) FROM users WHERE username LIKE 'Kids%'") == 2


async def test_overseerr_sync_users_discord_suggestions_and_requests(db_pool: asyncpg.Pool) -> None:
    fake = FakeSeerr()
    async with serve(FakeJellyfin()) as jellyfin_url:
        assert (await run_job(db_pool, jellyfin_job(jellyfin_url))).ok
    async with serve(fake) as url:
        result = await run_job(db_pool, seerr_job(url))
        assert result.ok, result.error
        # alice is matched to the Jellyfin user by her jellyfinUserId; her Discord id is only a
        # suggestion, which the Discord account's owner confirms in a DM.
        assert await db_pool.fetchval("SELECT count(*) FROM users WHERE username = 'alice'") == 1
        assert (
            await db_pool.fetchval(
                "SELECT u.username FROM chat_link_suggestions s JOIN users u ON u.id = s.user_id "
                "WHERE s.platform_user_id = $1",
                "123456789012345678",
            )
            == "alice"
        )
        assert await db_pool.fetchval("SELECT count(*) FROM chat_accounts") == 0
        rows = await db_pool.fetch(
            "SELECT r.*, m.title AS item, a.username AS approver FROM content_requests r "
            "LEFT JOIN media_items m ON m.id = r.media_item_id LEFT JOIN users a ON a.id = r.approved_by_user_id "
            "ORDER BY r.source_request_id"
        )
        arrival, show, declined = rows
        assert (arrival["title"], arrival["status"], arrival["item"], arrival["approver"]) == (
            "Arrival", "available", "Arrival", "PlexUser",
        )  # fmt: skip
        assert arrival["available_at"].isoformat() == "2026-02-03T08:00:00+00:00"
        assert arrival["approved_at"].isoformat() == "2026-02-01T12:00:00+00:00"
        assert (show["title"], show["status"], show["item"], show["media_type"]) == (
            "The 100",
            "pending",
            "The 100",
            "show",
        )
        assert (
            declined["status"] == "declined"
            and declined["declined_at"].isoformat() == "2026-03-06T09:30:00+00:00"
        )

        before = await snapshot(db_pool)
        assert (await run_job(db_pool, seerr_job(url))).ok
        assert differences(before, await snapshot(db_pool)) == {}

        fake.media_requests[1]["status"] = 2
        fake.media_requests[1]["updatedAt"] = "2026-03-02T10:00:00.000Z"
        fake.media_requests[1]["modifiedBy"] = fake.users[0]
        assert (await run_job(db_pool, seerr_job(url))).ok
        assert differences(before, await snapshot(db_pool)) == {"content_requests": (1, 1)}


async def test_jellyfin_and_tautulli_report_progress_up_to_each_total(db_pool: asyncpg.Pool) -> None:
    reports: list[tuple[str, int, int]] = []

    def record(stage: str, done: int, total: int) -> None:
        reports.append((stage, done, total))

    async with serve(FakeJellyfin()) as url:
        assert (await run_job(db_pool, jellyfin_job(url), progress=record)).ok
    async with serve(FakeTautulli()) as url:
        assert (await run_job(db_pool, tautulli_job(url), progress=record)).ok

    last: dict[str, tuple[int, int]] = {}
    for stage, done, total in reports:
        assert done <= total
        assert done >= last.get(stage, (0, 0))[0], (stage, reports)  # never backwards
        last[stage] = (done, total)
    # Every stage ends complete: each library's items, the users' viewing data, the play history.
    assert all(done == total for done, total in last.values()), last
    assert "jellyfin viewing data (users)" in last and "tautulli play history" in last
    assert "jellyfin Films (shows)" not in last  # a library without shows has no stage of its own
    assert any(stage.startswith("jellyfin ") and "movies and episodes" in stage for stage in last)


async def test_a_resumed_stream_is_part_of_the_play_it_resumes(db_pool: asyncpg.Pool) -> None:
    fake = FakeTautulli()
    resumed = {"stopped": 1462803000, "play_duration": 2700, "percent_complete": 100, "media_type": "movie",
               "title": "Arrival", "grandparent_rating_key": "", "grandparent_title": "", "reference_id": 3}  # fmt: skip
    fake.history.append(tautulli_play(5, 133788, "Jon Snow", 4400, 1462800300, **resumed))
    async with serve(fake) as url:
        # The resumed stream's webhook came first, as a play of its own.
        assert (await run_job(db_pool, tautulli_job(url))).ok
    async with db_pool.acquire() as conn, conn.transaction():
        webhook = PlayRecord("tautulli", "133788:4400:1462800300", "133788", "4400",
                             datetime.fromtimestamp(1462800300, UTC), datetime.fromtimestamp(1462803000, UTC),
                             2700, 100.0, id_service="plex")  # fmt: skip
        await upsert_plays(conn, [webhook])
    async with serve(fake) as url:
        assert (await run_job(db_pool, tautulli_job(url))).ok
    arrival = await db_pool.fetch(
        "SELECT w.started_at, w.stopped_at, w.watched_seconds, w.percent_complete FROM watch_history w "
        "JOIN media_items m ON m.id = w.media_item_id WHERE m.title = 'Arrival'"
    )
    # One play, as Tautulli counts it: from the first stream's start to the resumed one's end, both streams' time.
    assert [(r["started_at"].timestamp(), r["stopped_at"].timestamp(), r["watched_seconds"], r["percent_complete"])
            for r in arrival] == [(1462800000, 1462803000, 263 + 2700, 100)]  # fmt: skip


async def test_a_play_resumed_days_later_is_still_one_play(db_pool: asyncpg.Pool) -> None:
    fake = FakeTautulli()
    fake.history = fake.history[:1]  # Dany's 84 % of The Red Woman, on 2016-05-08
    fake.sessions = []  # nobody streams at the syncs
    async with serve(fake) as url:
        assert (await run_job(db_pool, tautulli_job(url, now=1462690000))).ok
        assert (await run_job(db_pool, tautulli_job(url, now=1462690000 + 6 * 86400))).ok
        # A week later she watches the rest; Tautulli files it under the first stream's row.
        week = 7 * 86400
        fake.history.append(
            tautulli_play(7, 8008135, "DanyKhaleesi69", 4348, 1462688107 + week, reference_id=1,
                          stopped=1462688107 + week + 500, play_duration=500, percent_complete=100)
        )  # fmt: skip
        assert (await run_job(db_pool, tautulli_job(url, now=1462690000 + week))).ok
    plays = await db_pool.fetch("SELECT started_at, watched_seconds, percent_complete FROM watch_history")
    assert [(p["started_at"].timestamp(), p["watched_seconds"], p["percent_complete"]) for p in plays] == [
        (1462688107, 263 + 500, 100)
    ]
    # The window (from 2016-05-11) cut the first stream off, so the whole play was asked for by its id.
    assert any("reference_id=1" in request for request in fake.requests)


async def test_an_item_first_seen_in_history_is_dated_by_the_library_sync(db_pool: asyncpg.Pool) -> None:
    tautulli = FakeTautulli()
    tautulli.history = [
        tautulli_play(9, 133788, "Jon Snow", 218860, 1462800000, media_type="movie", grandparent_rating_key="",
                      grandparent_title="", title="Captain America: The Winter Soldier")
    ]  # fmt: skip
    async with serve(tautulli) as url:
        assert (await run_job(db_pool, tautulli_job(url))).ok
    movie = "SELECT added_at FROM media_items WHERE title = 'Captain America: The Winter Soldier'"
    assert await db_pool.fetchval(movie) is None  # Tautulli's history does not say when it arrived
    async with serve(FakePlex()) as url:
        assert (await run_job(db_pool, PlexSyncJob(PlexSettings(url=url, token="plex-token")))).ok
    assert (await db_pool.fetchval(movie)).timestamp() == 1419000000  # Plex's addedAt
