"""Items deleted from Plex or Jellyfin: marked removed by a complete library pass, kept for history.

A removed item leaves what the library holds (storage, removal candidates,
library look-ups) but stays in the plays that name it; an item that comes
back is present again; a pass that breaks midway marks nothing.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web

from adapters.media.jellyfin import JellyfinSettings, JellyfinSyncJob
from adapters.media.plex import PlexSettings, PlexSyncJob
from core.scope import Scope
from core.sync.jobs import run_job
from core.tools.base import ToolResult
from core.tools.catalogue import build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool

from .fakes import FakeJellyfin, FakePlex, plex_movie, serve

WINTER_SOLDIER = "Captain America: The Winter Soldier"


def plex_job(url: str) -> PlexSyncJob:
    return PlexSyncJob(PlexSettings(url=url, token="plex-token", page_size=2, retry_delay_seconds=0.0))


def jellyfin_job(url: str) -> JellyfinSyncJob:
    return JellyfinSyncJob(JellyfinSettings(url=url, api_key="jellyfin-key", page_size=2))


async def removed_at(pool: asyncpg.Pool, title: str) -> Any:
    return await pool.fetchval("SELECT removed_at FROM media_items WHERE title = $1", title)


async def ask(
    pool: asyncpg.Pool, tools: ToolDatabase, username: str, mode: str, tool: str, **arguments: Any
) -> ToolResult:
    user = await pool.fetchrow("SELECT id, role FROM users WHERE username = $1", username)
    scope = Scope(
        user_id=user["id"], username=username, role=user["role"], mode=mode, timezone=ZoneInfo("UTC")
    )  # type: ignore[arg-type]
    return await run_tool(tools, scope, build_catalogue(), tool, arguments)


def drop(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    [item] = [i for i in items if i[key] == value]
    items.remove(item)
    return item


async def test_an_item_deleted_from_plex_leaves_the_library_but_not_the_history(
    db_pool: asyncpg.Pool, tool_database: ToolDatabase
) -> None:
    fake = FakePlex()
    async with serve(fake) as url:
        assert (await run_job(db_pool, plex_job(url))).ok
        storage = await ask(db_pool, tool_database, "PlexUser", "admin", "storage_by_library")
        assert {r["library_name"]: r["size_bytes"] for r in storage.rows}["Movies"] == 10_000_000_000
        candidates = await ask(db_pool, tool_database, "PlexUser", "admin", "removal_candidates")
        assert WINTER_SOLDIER in [r["title"] for r in candidates.rows]

        deleted = drop(fake.items[("1", 1)], "ratingKey", "218860")
        result = await run_job(db_pool, plex_job(url))
        assert result.ok, result.error
        assert result.counts["items_removed"] == 1
        assert await removed_at(db_pool, WINTER_SOLDIER) is not None
        assert await removed_at(db_pool, "Pixar Short Films Collection 1") is None

        storage = await ask(db_pool, tool_database, "PlexUser", "admin", "storage_by_library")
        assert {r["library_name"]: r["size_bytes"] for r in storage.rows}["Movies"] == 2_000_000_000
        candidates = await ask(db_pool, tool_database, "PlexUser", "admin", "removal_candidates")
        assert WINTER_SOLDIER not in [r["title"] for r in candidates.rows]
        assert candidates.rows, "the items still there are still candidates"
        have = await ask(
            db_pool, tool_database, "PlexUser", "personal", "library_lookup", title=WINTER_SOLDIER
        )
        assert "deleted from the server" in build_catalogue().get("library_lookup").render(have)
        history = await ask(
            db_pool,
            tool_database,
            "PlexUser",
            "personal",
            "watch_history",
            start="2014-01-01",
            end="2015-12-31",
        )
        assert WINTER_SOLDIER in [r["title"] for r in history.rows]

        # The file is put back: the next pass finds it and it is part of the library again.
        fake.items[("1", 1)].append(deleted)
        again = await run_job(db_pool, plex_job(url))
        assert again.ok and again.counts["items_restored"] == 1
        assert await removed_at(db_pool, WINTER_SOLDIER) is None
        storage = await ask(db_pool, tool_database, "PlexUser", "admin", "storage_by_library")
        assert {r["library_name"]: r["size_bytes"] for r in storage.rows}["Movies"] == 10_000_000_000


async def test_an_unchanged_plex_library_is_not_read_twice(db_pool: asyncpg.Pool) -> None:
    # Plex's totals match what Marquee holds: no second listing of the keys.
    fake = FakePlex()
    async with serve(fake) as url:
        assert (await run_job(db_pool, plex_job(url))).ok
        fake.requests.clear()
        result = await run_job(db_pool, plex_job(url))
    assert result.ok and result.counts["items_removed"] == 0
    assert not any("includeGuids=0" in path for path in fake.requests)


async def test_a_deleted_plex_episode_and_a_deleted_section(db_pool: asyncpg.Pool) -> None:
    fake = FakePlex()
    async with serve(fake) as url:
        assert (await run_job(db_pool, plex_job(url))).ok
        drop(fake.items[("2", 4)], "ratingKey", "917")
        assert (await run_job(db_pool, plex_job(url))).ok
        assert await removed_at(db_pool, "At the Garbage Dump") is not None
        assert await removed_at(db_pool, "Mighty Machines") is None  # the show is still listed

        # The whole movie library is deleted: its section is gone from the list.
        fake.sections = [s for s in fake.sections if s["key"] != "1"]
        assert (await run_job(db_pool, plex_job(url))).ok
        assert await removed_at(db_pool, WINTER_SOLDIER) is not None
        assert await removed_at(db_pool, "Pixar Short Films Collection 1") is not None
        assert await removed_at(db_pool, "The 100") is None


async def test_a_plex_pass_that_breaks_midway_marks_nothing_removed(db_pool: asyncpg.Pool) -> None:
    fake = FakePlex()
    async with serve(fake) as url:
        assert (await run_job(db_pool, plex_job(url))).ok
        drop(fake.items[("1", 1)], "ratingKey", "218860")
        fake.broken_section = "2"  # the movies are read, then the shows' listing fails
        result = await run_job(db_pool, plex_job(url))
        assert not result.ok
        assert await db_pool.fetchval("SELECT count(*) FROM media_items WHERE removed_at IS NOT NULL") == 0

        fake.broken_section = None
        assert (await run_job(db_pool, plex_job(url))).ok
        assert await removed_at(db_pool, WINTER_SOLDIER) is not None


async def test_a_plex_library_that_changes_while_its_keys_are_read_marks_nothing(
    db_pool: asyncpg.Pool,
) -> None:
    # Offset paging skips an item when one before it goes mid-read: that item must not be taken for deleted.
    fake = FakePlex()
    movies = fake.items[("1", 1)]
    movies += [
        plex_movie(str(key), f"Film {key}", 2000, added_at=1400000000, size=1_000)
        for key in (7001, 7002, 7003)
    ]
    async with serve(fake) as url:
        assert (await run_job(db_pool, plex_job(url))).ok
        drop(movies, "ratingKey", "218860")

        def delete_during_the_key_scan(request: web.Request) -> None:
            if request.query.get("includeGuids") == "0" and request.match_info["key"] == "1":
                fake.after_items_page = None
                drop(movies, "ratingKey", "3001")  # "Film 7002" moves onto the page already read

        fake.after_items_page = delete_during_the_key_scan
        result = await run_job(db_pool, plex_job(url))
        assert result.ok and result.counts["items_removed"] == 0
        assert await removed_at(db_pool, "Film 7002") is None
        assert await removed_at(db_pool, WINTER_SOLDIER) is None  # checked again next time

        result = await run_job(db_pool, plex_job(url))
        assert result.ok and result.counts["items_removed"] == 2
        assert await removed_at(db_pool, "Film 7002") is None
        assert await removed_at(db_pool, WINTER_SOLDIER) is not None
        assert await removed_at(db_pool, "Pixar Short Films Collection 1") is not None


async def test_an_item_still_on_jellyfin_is_not_removed_when_plex_drops_it(db_pool: asyncpg.Pool) -> None:
    plex, jellyfin = FakePlex(), FakeJellyfin()
    async with serve(plex) as plex_url, serve(jellyfin) as jellyfin_url:
        assert (await run_job(db_pool, plex_job(plex_url))).ok
        assert (await run_job(db_pool, jellyfin_job(jellyfin_url))).ok
        drop(plex.items[("1", 1)], "ratingKey", "218860")
        assert (await run_job(db_pool, plex_job(plex_url))).ok
        assert await removed_at(db_pool, WINTER_SOLDIER) is None  # Jellyfin still has it

        drop(jellyfin.items, "Name", WINTER_SOLDIER)
        result = await run_job(db_pool, jellyfin_job(jellyfin_url))
        assert result.ok and result.counts["items_removed"] == 1
        assert await removed_at(db_pool, WINTER_SOLDIER) is not None


async def test_jellyfin_deletions_are_marked_cleared_and_never_guessed_from_a_broken_pass(
    db_pool: asyncpg.Pool, tool_database: ToolDatabase
) -> None:
    fake = FakeJellyfin()
    async with serve(fake) as url:
        assert (await run_job(db_pool, jellyfin_job(url))).ok
        arrival = drop(fake.items, "Name", "Arrival")

        fake.broken_folder = fake.folders[1]["Id"]  # the films are read, then the series fail
        assert not (await run_job(db_pool, jellyfin_job(url))).ok
        assert await removed_at(db_pool, "Arrival") is None

        fake.broken_folder = None
        result = await run_job(db_pool, jellyfin_job(url))
        assert result.ok and result.counts["items_removed"] == 1
        assert await removed_at(db_pool, "Arrival") is not None
        storage = await ask(db_pool, tool_database, "alice", "admin", "storage_by_library")
        assert {r["library_name"]: r["size_bytes"] for r in storage.rows}["Films"] == 8_000_000_000
        # alice's plays and counters of it stay.
        assert (
            await db_pool.fetchval(
                "SELECT s.play_count FROM user_stats s JOIN media_items m ON m.id = s.media_item_id WHERE m.title = 'Arrival'"
            )
            == 2
        )

        fake.items.append(arrival)
        result = await run_job(db_pool, jellyfin_job(url))
        assert result.ok and result.counts["items_restored"] == 1
        assert await removed_at(db_pool, "Arrival") is None
