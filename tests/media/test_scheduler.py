"""The sync scheduler: runs due jobs, backs off failing ones, outlives a database outage, stops on cancel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from core.sync.jobs import SyncContext, SyncError
from core.sync.schedule import ScheduleState
from core.sync.scheduler import next_run_at, run_sync_scheduler


class CountingJob:
    def __init__(self, name: str, stop_after: int, stop: asyncio.Event, fail: bool = False) -> None:
        self.name = name
        self.interval_seconds = 3600
        self.runs = 0
        self.stop_after = stop_after
        self.stop = stop
        self.fail = fail

    async def run(self, context: SyncContext) -> dict[str, int]:
        self.runs += 1
        if self.runs >= self.stop_after:
            self.stop.set()
        if self.fail:
            raise SyncError(f"{self.name} is unreachable")
        return {"runs": self.runs}


async def test_due_jobs_run_once_per_interval_and_failures_are_recorded(db_pool: asyncpg.Pool) -> None:
    stop = asyncio.Event()
    # Each job's own event tells it ran.
    good = CountingJob("plex", stop_after=1, stop=asyncio.Event())
    bad = CountingJob("jellyfin", stop_after=1, stop=asyncio.Event(), fail=True)
    scheduler = asyncio.create_task(run_sync_scheduler(db_pool, [good, bad], stop, max_sleep_seconds=0.05))
    await asyncio.wait_for(asyncio.gather(good.stop.wait(), bad.stop.wait()), 30)
    # A moment in which an hourly job would run again, were it not for its interval.
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(scheduler, 30)
    assert (good.runs, bad.runs) == (1, 1)
    rows = {r["integration"]: r for r in await db_pool.fetch("SELECT * FROM sync_schedule")}
    assert rows["plex"]["last_success_at"] is not None and rows["plex"]["interval_seconds"] == 3600
    assert (
        rows["jellyfin"]["last_error"] == "jellyfin is unreachable"
        and rows["jellyfin"]["consecutive_failures"] == 1
    )


async def test_disabled_jobs_do_not_run(db_pool: asyncpg.Pool) -> None:
    stop = asyncio.Event()
    job = CountingJob("plex", stop_after=1, stop=stop)
    await db_pool.execute("INSERT INTO sync_schedule (integration, enabled) VALUES ('plex', false)")
    task = asyncio.create_task(run_sync_scheduler(db_pool, [job], stop, max_sleep_seconds=0.05))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert job.runs == 0


def test_failing_jobs_back_off_exponentially_up_to_a_cap() -> None:
    ran = datetime(2026, 1, 1, tzinfo=UTC)

    def state(failures: int, interval: int = 900) -> ScheduleState:
        succeeded = ran + timedelta(seconds=5) if not failures else ran - timedelta(days=1)
        return ScheduleState("plex", True, interval, ran, failures, last_success_at=succeeded)

    assert next_run_at(state(0)) == ran + timedelta(seconds=900)
    assert next_run_at(state(1)) == ran + timedelta(seconds=1800)
    assert next_run_at(state(3)) == ran + timedelta(seconds=7200)
    assert next_run_at(state(30)) == ran + timedelta(hours=6)
    assert next_run_at(ScheduleState("plex", True, 900, None, 0)) < ran


def test_a_run_that_neither_succeeded_nor_failed_is_due_at_once() -> None:
    """Stopped part-way (Ctrl-C, a restart), a first sync of hours resumes now, not an interval later."""
    ran = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_run_at(ScheduleState("plex", True, 900, ran, 0, last_success_at=None)) < ran
    assert next_run_at(ScheduleState("plex", True, 900, ran, 0, last_success_at=ran - timedelta(hours=1))) < ran
    # Failed: it backs off as before.
    assert next_run_at(ScheduleState("plex", True, 900, ran, 1, last_success_at=None)) > ran


class FlakyPool:
    """The real pool, except that the first ``outage`` calls fail as if the database restarted."""

    def __init__(self, pool: asyncpg.Pool, outage: int) -> None:
        self._pool = pool
        self.outage = outage

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._pool, name)
        if name not in ("execute", "fetch", "fetchval", "fetchrow"):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.outage > 0:
                self.outage -= 1
                raise ConnectionRefusedError("connection refused")
            return await attribute(*args, **kwargs)

        return call


async def test_a_database_outage_is_waited_out(db_pool: asyncpg.Pool) -> None:
    stop = asyncio.Event()
    job = CountingJob("plex", stop_after=1, stop=stop)
    flaky = FlakyPool(db_pool, outage=3)
    await asyncio.wait_for(
        run_sync_scheduler(flaky, [job], stop, max_sleep_seconds=0.05, database_retry_seconds=0.01),  # type: ignore[arg-type]
        30,
    )
    assert job.runs == 1 and flaky.outage == 0
    assert (
        await db_pool.fetchval("SELECT consecutive_failures FROM sync_schedule WHERE integration = 'plex'")
        == 0
    )


async def test_cancelling_mid_run_records_no_failure(db_pool: asyncpg.Pool) -> None:
    started = asyncio.Event()

    class HangingJob:
        name = "plex"
        interval_seconds = 60

        async def run(self, context: SyncContext) -> dict[str, int]:
            started.set()
            await asyncio.Event().wait()
            return {}

    task = asyncio.create_task(run_sync_scheduler(db_pool, [HangingJob()], asyncio.Event()))
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    row = await db_pool.fetchrow("SELECT * FROM sync_schedule WHERE integration = 'plex'")
    assert row["last_error"] is None and row["consecutive_failures"] == 0 and row["last_success_at"] is None


async def test_a_run_cancelled_part_way_resumes_as_soon_as_the_scheduler_starts_again(db_pool: asyncpg.Pool) -> None:
    started = asyncio.Event()
    runs: list[dict[str, Any]] = []
    stop = asyncio.Event()

    class FirstSyncJob:
        name = "plex"
        interval_seconds = 3600

        async def run(self, context: SyncContext) -> dict[str, int]:
            runs.append(dict(context.cursor))
            if len(runs) == 1:
                async with context.pool.acquire() as conn:
                    await context.save_cursor(conn, {"through": "window 1"})
                started.set()
                await asyncio.Event().wait()  # the process is stopped here
            stop.set()
            return {}

    task = asyncio.create_task(run_sync_scheduler(db_pool, [FirstSyncJob()], asyncio.Event()))
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # An hour's interval, yet it runs again at once, from its cursor.
    await asyncio.wait_for(run_sync_scheduler(db_pool, [FirstSyncJob()], stop, max_sleep_seconds=0.05), 10)
    assert runs == [{}, {"through": "window 1"}]



class HeldFirstSync:
    """A first sync of hours (Tautulli's on a big server): runs until ``release`` is set."""

    name = "tautulli"
    interval_seconds = 3600

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def run(self, context: SyncContext) -> dict[str, int]:
        self.started.set()
        await self.release.wait()
        return {}


class EverySecondJob:
    """A quick sync due every second (Plex, Overseerr), counting its runs and how many ever overlapped."""

    interval_seconds = 1

    def __init__(self, name: str) -> None:
        self.name = name
        self.runs = 0
        self.running = 0
        self.most_at_once = 0
        self.ran_twice = asyncio.Event()

    async def run(self, context: SyncContext) -> dict[str, int]:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0)
            self.runs += 1
            if self.runs >= 2:
                self.ran_twice.set()
        finally:
            self.running -= 1
        return {}


async def test_a_long_first_sync_holds_back_no_other_service(db_pool: asyncpg.Pool) -> None:
    stop = asyncio.Event()
    tautulli = HeldFirstSync()
    plex, overseerr = EverySecondJob("plex"), EverySecondJob("overseerr")
    scheduler = asyncio.create_task(
        run_sync_scheduler(db_pool, [tautulli, plex, overseerr], stop, max_sleep_seconds=0.05)
    )
    try:
        await asyncio.wait_for(tautulli.started.wait(), 10)
        # Run on their own schedule, again and again, while Tautulli's first sync goes on.
        await asyncio.wait_for(asyncio.gather(plex.ran_twice.wait(), overseerr.ran_twice.wait()), 30)
        assert not tautulli.release.is_set()
        assert (plex.most_at_once, overseerr.most_at_once) == (1, 1)
    finally:
        # A graceful stop lets the run under way finish.
        stop.set()
        tautulli.release.set()
        await asyncio.wait_for(scheduler, 30)
    row = await db_pool.fetchrow("SELECT * FROM sync_schedule WHERE integration = 'tautulli'")
    assert row["last_success_at"] is not None and row["consecutive_failures"] == 0


async def test_a_graceful_stop_waits_for_the_run_under_way_and_starts_no_other(db_pool: asyncpg.Pool) -> None:
    stop = asyncio.Event()
    tautulli = HeldFirstSync()
    plex = EverySecondJob("plex")
    scheduler = asyncio.create_task(run_sync_scheduler(db_pool, [tautulli, plex], stop, max_sleep_seconds=0.05))
    await asyncio.wait_for(tautulli.started.wait(), 10)
    stop.set()
    await asyncio.sleep(0.2)
    assert not scheduler.done()  # Tautulli's run is still under way
    runs_at_stop = plex.runs
    tautulli.release.set()
    await asyncio.wait_for(scheduler, 30)
    assert plex.runs == runs_at_stop
    row = await db_pool.fetchrow("SELECT * FROM sync_schedule WHERE integration = 'tautulli'")
    assert row["last_success_at"] is not None


async def test_a_cancel_of_the_stop_itself_is_not_dropped_while_the_loop_winds_down() -> None:
    """``marquee run``'s stop cancels a loop that did not end in time; a cancel of the stop meanwhile still stops it."""
    from bot.integrations import _finish

    winding_down = asyncio.Event()
    wound_down = asyncio.Event()

    async def loop_ignoring_the_stop() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            winding_down.set()
            await wound_down.wait()  # its run's last writes take a moment

    loop = asyncio.create_task(loop_ignoring_the_stop())
    went_on = False

    async def stop() -> None:
        nonlocal went_on
        await _finish(loop, seconds=0.01)
        went_on = True

    stopping = asyncio.create_task(stop())
    await winding_down.wait()
    stopping.cancel()
    wound_down.set()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert not went_on
