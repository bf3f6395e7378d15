"""An interrupted Jellyfin viewing-data pass goes on with the users it had not read, losing and doubling nothing."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiohttp import web

from adapters.media.jellyfin import VIEWING_READ_FOR, JellyfinSettings, JellyfinSyncJob
from core.sync import schedule
from core.sync.jobs import run_job

from .fakes import FakeJellyfin, serve

ALICE = "5f4a3c2e9b1d4e6f8a7b6c5d4e3f2a1b"
BOB = "6a5b4c3d2e1f4a5b6c7d8e9f0a1b2c3d"
CAROL = "7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e"
ARRIVAL = "c0ffee00c0ffee00c0ffee00c0ffee00"
PILOT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def job(url: str) -> JellyfinSyncJob:
    return JellyfinSyncJob(JellyfinSettings(url=url, api_key="jellyfin-key", page_size=1))


async def test_an_interrupted_viewing_data_pass_resumes_with_the_users_it_had_not_read(
    db_pool: asyncpg.Pool,
) -> None:
    fake = FakeJellyfin()
    fake.users.append({"Id": CAROL, "Name": "carol", "HasPassword": True, "Policy": {"IsAdministrator": False}})
    fake.user_data[BOB] = {ARRIVAL: {"PlayCount": 1, "Played": True, "LastPlayedDate": "2026-11-18T20:00:00Z"}}
    fake.user_data[CAROL] = {PILOT: {"PlayCount": 4, "Played": True, "LastPlayedDate": "2026-11-17T20:00:00Z"}}
    running: asyncio.Future[object] | None = None

    async def stop_at_bob(request: web.Request) -> None:
        if request.query.get("userId") == BOB and running is not None and not running.done():
            running.cancel()
            await asyncio.sleep(3600)  # never answered: the sync is gone

    fake.before_items_page = stop_at_bob
    async with serve(fake) as url:
        running = asyncio.ensure_future(run_job(db_pool, job(url)))
        with pytest.raises(asyncio.CancelledError):
            await running
        assert (await schedule.load_cursor(db_pool, "jellyfin"))[VIEWING_READ_FOR] == [ALICE]

        fake.before_items_page = None
        fake.requests.clear()
        resumed = await run_job(db_pool, job(url))
        assert resumed.ok, resumed.error
        users_read = {path.split("userId=")[1].split("&")[0] for path in fake.requests if "userId=" in path}
        assert users_read == {BOB, CAROL}
        assert VIEWING_READ_FOR not in await schedule.load_cursor(db_pool, "jellyfin")

        # The next pass reads everyone again (a user may have played something since).
        fake.requests.clear()
        assert (await run_job(db_pool, job(url))).ok
        users_read = {path.split("userId=")[1].split("&")[0] for path in fake.requests if "userId=" in path}
        assert users_read == {ALICE, BOB, CAROL}

    states = await db_pool.fetch(
        "SELECT u.username, m.title, s.play_count FROM media_user_state s JOIN users u ON u.id = s.user_id "
        "JOIN media_items m ON m.id = s.media_item_id WHERE s.service = 'jellyfin' ORDER BY 1, 2"
    )
    assert [tuple(row) for row in states] == [
        ("alice", "Arrival", 2), ("alice", "Pilot", 1), ("bob", "Arrival", 1), ("carol", "Pilot", 4),
    ]  # fmt: skip
