"""A sync cancelled part-way (Ctrl-C in ``marquee sync``, a stop of ``marquee run``) ends cancelled, at once.

Wherever the cancel lands (a fetch, a page's write, a retry's pause), the run
ends with ``CancelledError`` rather than going on, leaves nothing of itself
running, keeps only whole pages with their cursor, and the next run resumes
from there and ends with every play once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from adapters.media.tautulli import TautulliSettings, TautulliSyncJob
from core.sync import schedule
from core.sync.jobs import run_job

from .fakes import HeldTautulli, serve, tautulli_play

DAYS = 4
PLAYS_A_DAY = 100  # the smallest page size Marquee allows: a window a day


def with_history(tautulli: HeldTautulli) -> HeldTautulli:
    user = tautulli.users[1]
    first_day = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=DAYS + 1)
    tautulli.history = [
        tautulli_play(
            100 + n, user["user_id"], user["username"], 5000 + n,
            int((first_day + timedelta(days=n // PLAYS_A_DAY, minutes=n % PLAYS_A_DAY * 10)).timestamp()),
        )
        for n in range(DAYS * PLAYS_A_DAY)
    ]  # fmt: skip
    return tautulli


def job(url: str, api_key: str) -> TautulliSyncJob:
    return TautulliSyncJob(TautulliSettings(url=url, api_key=api_key, page_size=PLAYS_A_DAY, pause_seconds=0))


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll ``check`` until it holds (what the database does has no event to wait on)."""
    while True:
        if await check():
            return
        await asyncio.sleep(0.02)


def held_after_writing(pool: asyncpg.Pool, tautulli: HeldTautulli, plays: int) -> Callable[[], Awaitable[None]]:
    """Ready once Tautulli holds a window and the ``plays`` read before it are written."""

    async def ready() -> None:
        await tautulli.holding.wait()
        await until(lambda: pool.fetchval("SELECT count(*) >= $1 FROM watch_history", plays))

    return ready


def others_running(before: set[asyncio.Task[Any]]) -> list[str]:
    """Tasks started since ``before`` and still running (the fake server's own excepted)."""
    return [
        repr(task.get_coro())
        for task in asyncio.all_tasks() - before
        if task is not asyncio.current_task() and not task.done() and "web_protocol" not in repr(task.get_coro())
    ]


async def cancelled_when(
    pool: asyncpg.Pool, tautulli: HeldTautulli, url: str, ready: Callable[[], Awaitable[object]]
) -> None:
    """Run the sync, cancel it once ``ready`` returns, and check it ended cancelled and left nothing running."""
    before = asyncio.all_tasks()
    running = asyncio.create_task(run_job(pool, job(url, tautulli.api_key)))
    waiting = asyncio.ensure_future(ready())
    await asyncio.wait([running, waiting], return_when=asyncio.FIRST_COMPLETED)
    assert not running.done(), f"the sync ended before the moment under test: {running.result()}"
    await waiting
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    # Nothing of the sync goes on fetching in the background once it has ended.
    await asyncio.sleep(0)
    assert others_running(before) == []
    tautulli.release.set()


async def check_resumes(pool: asyncpg.Pool, tautulli: HeldTautulli, url: str, written_before: int) -> None:
    assert await pool.fetchval("SELECT count(*) FROM watch_history") == written_before
    # A stopped run ends without bringing user_stats up to date: what it wrote is still
    # marked for that, and the next run does it.
    pending = await pool.fetchval("SELECT count(*) FROM user_stats_pending")
    assert (pending > 0) == (written_before > 0)
    cursor = await schedule.load_cursor(pool, "tautulli")
    assert "quiet_at" not in cursor
    resumed = await run_job(pool, job(url, tautulli.api_key))
    assert resumed.ok, resumed.error
    assert resumed.counts["plays_new"] == DAYS * PLAYS_A_DAY - written_before
    assert await pool.fetchval("SELECT count(DISTINCT source_id) FROM watch_history") == DAYS * PLAYS_A_DAY
    assert await pool.fetchval("SELECT count(*) FROM watch_history") == DAYS * PLAYS_A_DAY
    assert await pool.fetchval("SELECT count(*) FROM user_stats_pending") == 0
    assert await pool.fetchval("SELECT count(*) FROM user_stats") == DAYS * PLAYS_A_DAY


async def test_cancelled_while_fetching_a_window_it_ends_at_once_and_resumes_after_the_last_saved_one(
    db_pool: asyncpg.Pool,
) -> None:
    tautulli = with_history(HeldTautulli(answered=2))
    async with serve(tautulli) as url:
        await cancelled_when(db_pool, tautulli, url, held_after_writing(db_pool, tautulli, 2 * PLAYS_A_DAY))
        cursor = await schedule.load_cursor(db_pool, "tautulli")
        assert "backfill_through" in cursor
        await check_resumes(db_pool, tautulli, url, written_before=2 * PLAYS_A_DAY)


async def test_cancelled_during_a_retry_pause_it_ends_at_once(db_pool: asyncpg.Pool) -> None:
    tautulli = with_history(HeldTautulli(answered=1, held_status=503))
    async with serve(tautulli) as url:
        await cancelled_when(db_pool, tautulli, url, held_after_writing(db_pool, tautulli, PLAYS_A_DAY))
        await check_resumes(db_pool, tautulli, url, written_before=PLAYS_A_DAY)


async def test_cancelled_while_writing_a_window_it_keeps_neither_its_plays_nor_its_cursor(
    db_pool: asyncpg.Pool,
) -> None:
    # The next window is being read meanwhile (and held): its reading stops with the run.
    tautulli = with_history(HeldTautulli(answered=1))
    async with serve(tautulli) as url, db_pool.acquire() as blocker:
        first_window = await db_pool.fetchval("SELECT count(*) FROM watch_history")
        assert first_window == 0
        blocked = blocker.transaction()
        await blocked.start()
        # Plays can be read but not written: the first window's write waits on the lock.
        await blocker.execute("LOCK TABLE watch_history IN EXCLUSIVE MODE")

        async def write_waiting() -> None:
            await tautulli.holding.wait()
            await until(
                lambda: db_pool.fetchval(
                    "SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND relation = 'watch_history'::regclass"
                )
            )

        try:
            await cancelled_when(db_pool, tautulli, url, write_waiting)
        finally:
            await blocked.rollback()
        cursor = await schedule.load_cursor(db_pool, "tautulli")
        assert "backfill_through" not in cursor
        await check_resumes(db_pool, tautulli, url, written_before=0)
