"""The loop of ``marquee run`` that runs each enabled sync job on its interval.

A failing job backs off (interval × 2^failures, capped); a database that goes
away makes the loop wait and retry rather than die; cancellation stops it
cleanly without recording the interrupted run as a failure.
"""

from __future__ import annotations

import asyncio
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
    try:
        await asyncio.wait_for(stop_event.wait(), timeout=max(seconds, 0.0))
    except TimeoutError:
        pass


async def run_sync_scheduler(
    pool: asyncpg.Pool,
    jobs: Sequence[SyncJob],
    stop_event: asyncio.Event,
    *,
    max_sleep_seconds: float = MAX_SLEEP_SECONDS,
    database_retry_seconds: float = DATABASE_RETRY_SECONDS,
) -> None:
    """Run ``jobs`` on their intervals until ``stop_event`` is set."""
    by_name = {job.name: job for job in jobs}
    registered = False
    while not stop_event.is_set():
        try:
            if not registered:
                for job in jobs:
                    await schedule.register(pool, job.name, job.interval_seconds)
                registered = True
            states = await schedule.load_states(pool, list(by_name))
            now = datetime.now(UTC)
            sleep_for = max_sleep_seconds
            for name, job in by_name.items():
                if stop_event.is_set():
                    break
                state = states.get(name)
                if state is None or not state.enabled:
                    continue
                due = next_run_at(state)
                if due <= now:
                    await run_job(pool, job)
                    sleep_for = 0.0
                else:
                    sleep_for = min(sleep_for, (due - now).total_seconds())
        except asyncio.CancelledError:
            log.info("sync scheduler cancelled")
            raise
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The database went away (restart, network); wait and try again.
            log.warning("sync scheduler cannot reach the database (%s); retrying", exc)
            registered = False
            sleep_for = database_retry_seconds
        await _wait(stop_event, sleep_for)
    log.info("sync scheduler stopped")
