"""Syncing a (fake) Plex server: first run, unchanged re-run, and a change upstream."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiohttp import web

from adapters.media import plex
from adapters.media.plex import PlexSettings, PlexSyncJob
from core.sync import page_writer, schedule
from core.sync.jobs import run_job

from .fakes import FakePlex, plex_movie, serve
from .snapshot import differences, snapshot


def job(url: str, **overrides: object) -> PlexSyncJob:
    settings = {"url": url, "token": "plex-token", "page_size": 2, **overrides}
    return PlexSyncJob(PlexSettings(**settings))  # type: ignore[arg-type]


async def test_first_sync_fills_users_items_hierarchy_history_and_ratings(db_pool: asyncpg.Pool) -> None:
    fake = FakePlex()
    async with serve(fake) as url:
        result = await run_job(db_pool, job(url))
    assert result.ok, result.error
    usernames = {r["username"] for r in await db_pool.fetch("SELECT username FROM users")}
    assert usernames == {"PlexUser", "Kids"}
    assert await db_pool.fetchval("SELECT role FROM users WHERE username = 'PlexUser'") == "admin"

    movie = await db_pool.fetchrow(
        "SELECT * FROM media_items WHERE title = 'Captain America: The Winter Soldier'"
    )
    assert movie["media_type"] == "movie" and movie["library_name"] == "Movies"
    assert movie["file_size_bytes"] == 8_000_000_000 and movie["duration_seconds"] == 7800
    assert movie["metadata"] == {
        "genres": ["Action"],
        "audience_rating": 7.5,
        # what semantic search embeds
        "summary": "Captain America: The Winter Soldier: what happens, in a sentence.",
        "cast": ["Chris Evans", "Scarlett Johansson"],
        "directors": ["Anthony Russo", "Joe Russo"],
        "writers": ["Christopher Markus"],
    }
    assert (
        await db_pool.fetchval(
            "SELECT external_id FROM media_external_ids WHERE service = 'tmdb' AND media_item_id = $1",
            movie["id"],
        )
        == "100402"
    )

    pilot = await db_pool.fetchrow(
        "SELECT e.*, s.title AS show FROM media_items e JOIN media_items s ON s.id = e.parent_id WHERE e.title = 'Pilot'"
    )
    assert (pilot["show"], pilot["season_number"], pilot["episode_number"]) == ("The 100", 1, 1)
    assert pilot["file_size_bytes"] == 13_400_382 and pilot["library_name"] == "TV Shows"
    show_tvdb = await db_pool.fetchval(
        "SELECT e.external_id FROM media_external_ids e JOIN media_items m ON m.id = e.media_item_id "
        "WHERE m.title = 'The 100' AND e.service = 'tvdb'"
    )
    assert show_tvdb == "268592"

    # Two history entries name an item still in the library; the rest were deleted (no ratingKey).
    plays = await db_pool.fetch(
        "SELECT m.title, w.stopped_at, w.started_at, w.watched_seconds, w.source, w.source_id, w.service_watched "
        "FROM watch_history w JOIN media_items m ON m.id = w.media_item_id ORDER BY w.stopped_at"
    )
    assert [(p["title"], p["source_id"]) for p in plays] == [
        ("Captain America: The Winter Soldier", "1"),
        ("At the Garbage Dump", "2"),
    ]
    assert plays[0]["watched_seconds"] == 7800
    assert all(p["service_watched"] for p in plays)  # a history entry is a view Plex marked watched
    assert (plays[0]["stopped_at"] - plays[0]["started_at"]).total_seconds() == 7800
    stats = await db_pool.fetchrow(
        "SELECT s.play_count, s.rating, s.last_played_at FROM user_stats s JOIN media_items m ON m.id = s.media_item_id "
        "JOIN users u ON u.id = s.user_id WHERE m.title LIKE 'Captain%' AND u.username = 'PlexUser'"
    )
    assert stats["play_count"] == 1 and float(stats["rating"]) == 8.0
    assert stats["last_played_at"] == plays[0]["stopped_at"]

    schedule = await db_pool.fetchrow("SELECT * FROM sync_schedule WHERE integration = 'plex'")
    assert schedule["last_success_at"] is not None and schedule["consecutive_failures"] == 0
    assert schedule["cursor"]["viewed_at"] == 1419653744
    assert len(schedule["cursor"]["library_pages"]) == 4  # one fingerprint per library page read


async def test_resync_without_upstream_change_changes_nothing(db_pool: asyncpg.Pool) -> None:
    fake = FakePlex()
    async with serve(fake) as url:
        assert (await run_job(db_pool, job(url))).ok
        before = await snapshot(db_pool)
        again = await run_job(db_pool, job(url))
    assert again.ok
    assert again.counts["items_new"] == again.counts["items_changed"] == again.counts["plays_new"] == 0
    assert differences(before, await snapshot(db_pool)) == {}


async def test_resync_after_upstream_change_writes_only_that_change(db_pool: asyncpg.Pool) -> None:
    fake = FakePlex()
    async with serve(fake) as url:
        assert (await run_job(db_pool, job(url))).ok
        before = await snapshot(db_pool)
        fake.items[("1", 1)].append(
            plex_movie("5000", "Arrival", 2016, added_at=1500000000, size=5_000_000_000)
        )
        fake.history.append(
            {"historyKey": "/status/sessions/history/9", "ratingKey": "5000", "accountID": 3972737,
             "viewedAt": 1500001000, "type": "movie", "title": "Arrival"}
        )  # fmt: skip
        result = await run_job(db_pool, job(url))
    assert result.ok and result.counts["items_new"] == 1 and result.counts["plays_new"] == 1
    assert differences(before, await snapshot(db_pool)) == {
        "media_items": (0, 1),
        "media_external_ids": (0, 1),
        "watch_history": (0, 1),
        "user_stats": (0, 1),
    }
    # Only the history from two days before the newest view seen was asked for.
    since = 1419653744 - 2 * 86400
    assert any(f"viewedAt%3E=%3D{since}" in path or f"viewedAt>=={since}" in path for path in fake.requests)


async def test_views_reported_late_with_an_older_viewed_at_are_still_read(db_pool: asyncpg.Pool) -> None:
    # A phone that played a download offline reports its view when it reconnects, dated when it played.
    fake = FakePlex()
    async with serve(fake) as url:
        assert (await run_job(db_pool, job(url))).ok
        plays = await db_pool.fetchval("SELECT count(*) FROM watch_history")
        fake.history.append(
            {"historyKey": "/status/sessions/history/10", "ratingKey": "218860", "accountID": 1,
             "viewedAt": 1419653744 - 3600, "type": "movie", "title": "Captain America: The Winter Soldier"}
        )  # fmt: skip
        result = await run_job(db_pool, job(url))
    assert result.ok and result.counts["plays_new"] == 1
    assert await db_pool.fetchval("SELECT count(*) FROM watch_history") == plays + 1


async def test_a_bulk_item_sync_brings_the_planner_statistics_up_to_date(
    db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first sync of a large library analyses the item tables before matching plays to
    # them; here "large" is lowered to the fake's handful of items.
    monkeypatch.setattr(page_writer, "BULK_ITEMS", 1)
    fake = FakePlex()
    async with serve(fake) as url:
        assert (await run_job(db_pool, job(url))).ok
    items, estimated = await db_pool.fetchrow(
        "SELECT (SELECT count(*) FROM media_items), reltuples FROM pg_class WHERE oid = 'media_items'::regclass"
    )
    assert items > 0 and estimated == items


async def test_an_item_listed_on_two_pages_is_one_item(db_pool: asyncpg.Pool) -> None:
    # Offset paging repeats an item when the library changes while it is read; pages
    # written at the same time must still not create it twice.
    fake = FakePlex()
    movies = [
        plex_movie(str(6000 + n), f"Film {n}", 2000 + n, added_at=1_500_000_000 + n, size=1_000_000)
        for n in range(6)
    ]
    fake.items[("1", 1)] = [
        movies[0],
        movies[1],
        movies[1],
        movies[2],
        movies[3],
        movies[3],
        movies[4],
        movies[5],
    ]
    async with serve(fake) as url:
        assert (await run_job(db_pool, job(url))).ok
    titles = [
        r["title"] for r in await db_pool.fetch("SELECT title FROM media_items WHERE title LIKE 'Film %'")
    ]
    assert sorted(titles) == [f"Film {n}" for n in range(6)]


async def test_progress_is_reported_page_by_page_up_to_each_total(db_pool: asyncpg.Pool) -> None:
    reports: list[tuple[str, int, int]] = []
    fake = FakePlex()
    async with serve(fake) as url:
        result = await run_job(db_pool, job(url), progress=lambda *report: reports.append(report))
    assert result.ok
    episodes = [(done, total) for stage, done, total in reports if stage == "plex TV Shows (episodes)"]
    # Two items a page: 2 of 4, then 4 of 4, in page order.
    assert episodes == [(2, 4), (4, 4)]
    assert reports[-1][0] == "plex play history" and reports[-1][1] == reports[-1][2]


async def test_an_interrupted_first_sync_of_a_long_history_resumes_without_loss_or_duplicates(
    db_pool: asyncpg.Pool,
) -> None:
    """Read in windows of viewedAt, each paged; stopped in its third window, the next run reads on from its cursor."""
    fake = FakePlex()
    first = 1_700_000_000
    # Four days of views, one an hour, plus two at the very same second.
    fake.history = [
        {"historyKey": f"/status/sessions/history/{100 + n}", "ratingKey": "218860" if n % 2 else "3001",
         "accountID": 1, "viewedAt": first + n * 3600, "type": "movie", "title": "A film"}
        for n in range(96)
    ] + [
        {"historyKey": f"/status/sessions/history/{300 + n}", "ratingKey": "3001", "accountID": 1,
         "viewedAt": first + 50 * 3600, "type": "movie", "title": "A film"}
        for n in range(2)
    ]  # fmt: skip
    windows: list[tuple[str | None, str | None]] = []
    stopped = asyncio.Event()
    running: asyncio.Future[object] | None = None

    async def stop_in_third_window(request: web.Request) -> None:
        if request.query.get("X-Plex-Container-Size") == "1":
            return  # the probes that size the windows
        bounds = (request.query.get("viewedAt>"), request.query.get("viewedAt<"))
        if bounds not in windows:
            windows.append(bounds)
        if len(windows) == 3 and running is not None and not stopped.is_set():
            stopped.set()
            running.cancel()
            await asyncio.sleep(3600)  # never answered: the sync is gone

    fake.before_history_page = stop_in_third_window
    async with serve(fake) as url:
        # Pages of 5, windows of about 20 views (4 pages): five windows.
        running = asyncio.ensure_future(run_job(db_pool, job(url, page_size=5)))
        with pytest.raises(asyncio.CancelledError):
            await running
        written = await db_pool.fetchval("SELECT count(*) FROM watch_history")
        cursor = await schedule.load_cursor(db_pool, "plex")
        assert 0 < written < len(fake.history)
        assert first <= cursor["viewed_at"] < first + 96 * 3600

        fake.before_history_page = None
        fake.requests.clear()
        resumed = await run_job(db_pool, job(url, page_size=5))
    assert resumed.ok, resumed.error
    # The windows tile the seconds: each starts the second after the previous one ends.
    assert windows[0][0] == "=0" and windows[1][0] == f"={int(windows[0][1][1:]) + 1}"  # type: ignore[index]
    # Resumed from the cursor (less the late-report overlap), not from the beginning.
    since = cursor["viewed_at"] - plex.HISTORY_OVERLAP_SECONDS
    history_calls = [path for path in fake.requests if path.startswith("/status/sessions/history/all")]
    assert f"viewedAt%3E=%3D{since}" in history_calls[0]
    rows = await db_pool.fetch("SELECT source_id FROM watch_history WHERE source = 'plex'")
    keys = [row["source_id"] for row in rows]
    assert sorted(keys) == sorted(h["historyKey"].rsplit("/", 1)[-1] for h in fake.history)
