"""The loops of ``marquee run`` that run each enabled sync job on its interval, one loop per job.

A failing job backs off (interval × 2^failures, capped); a database that goes
away makes the loop wait and retry rather than die; cancellation stops it
cleanly without recording the interrupted run as a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from core.sync import schedule
from core.sync.jobs import SyncJob, run_job

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 6 * 3600
# How often the loop looks at sync_schedule again (an admin may disable a job).
MAX_SLEEP_SECONDS = 30.0
DATABASE_RETRY_SECONDS = 5.0


def next_run_at(state: schedule.ScheduleState) -> datetime:
    if state.last_run_at is None or state.interrupted:
        # Never run, or stopped part-way (a first sync of hours, say): resume it now, not an interval later.
        return datetime.min.replace(tzinfo=UTC)
    delay = state.interval_seconds * (2 ** min(state.consecutive_failures, 16))
    if state.consecutive_failures:
        delay = min(delay, max(MAX_BACKOFF_SECONDS, state.interval_seconds))
    return state.last_run_at + timedelta(seconds=delay)


async def _wait(stop_event: asyncio.Event, seconds: float) -> None:
    # asyncio.timeout, not wait_for: on 3.11 wait_for can drop a cancel that lands as the wait ends.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(seconds, 0.0)):
            await stop_event.wait()


async def run_sync_scheduler(
    pool: asyncpg.Pool,
    jobs: Sequence[SyncJob],
    stop_event: asyncio.Event,
    *,
    max_sleep_seconds: float = MAX_SLEEP_SECONDS,
    database_retry_seconds: float = DATABASE_RETRY_SECONDS,
) -> None:
    """Run ``jobs`` on their intervals until ``stop_event`` is set, each in a loop of its own.

    A first Tautulli sync of hours, or a service that keeps failing, never holds
    back another service's runs; one loop per job means a job never runs twice at once.
    """
    by_name = {job.name: job for job in jobs}
    loops = [
        asyncio.create_task(
            _run_on_schedule(pool, job, stop_event, max_sleep_seconds, database_retry_seconds),
            name=f"sync {name}",
        )
        for name, job in by_name.items()
    ]
    try:
        await asyncio.gather(*loops)
    except asyncio.CancelledError:
        log.info("sync scheduler cancelled")
        raise
    finally:
        # Cancelled, or one loop died of a bug: the others stop with it, not in the background.
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
    log.info("sync scheduler stopped")


async def _run_on_schedule(
    pool: asyncpg.Pool,
    job: SyncJob,
    stop_event: asyncio.Event,
    max_sleep_seconds: float,
    database_retry_seconds: float,
) -> None:
    """Run ``job`` whenever it is due until ``stop_event`` is set; a run under way is finished first."""
    registered = False
    while not stop_event.is_set():
        sleep_for = max_sleep_seconds
        try:
            if not registered:
                await schedule.register(pool, job.name, job.interval_seconds)
                registered = True
            state = (await schedule.load_states(pool, [job.name])).get(job.name)
            # Disabled by an admin: look again later.
            if state is not None and state.enabled:
                now = datetime.now(UTC)
                due = next_run_at(state)
                if due <= now:
                    await run_job(pool, job)
                    sleep_for = 0.0
                else:
                    sleep_for = min(sleep_for, (due - now).total_seconds())
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The database went away (restart, network); wait and try again.
            log.warning("sync %s cannot reach the database (%s); retrying", job.name, exc)
            registered = False
            sleep_for = database_retry_seconds
        await _wait(stop_event, sleep_for)
