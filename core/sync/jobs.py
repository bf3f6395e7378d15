"""What a sync job is, and running one with its bookkeeping in ``sync_schedule``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

import asyncpg

from core import alerts
from core.errors import UserFacingError
from core.ingest.stats import refresh_user_stats_in_parallel
from core.progress import ProgressCallback
from core.redaction import redact
from core.sync import schedule
from core.sync.page_writer import PageWriter
from core.sync.progress_log import ProgressLog

log = logging.getLogger(__name__)


class SyncError(UserFacingError):
    """An expected failure of a sync (service unreachable, refused, answered nonsense); the message is shown as is."""


@dataclass
class SyncContext:
    """What a job gets: the pool, its cursor from the last successful run, and where to report progress."""

    pool: asyncpg.Pool
    integration: str
    cursor: dict[str, Any]
    progress: ProgressCallback | None = None

    def report(self, stage: str, done: int, total: int | None) -> None:
        """Report that ``done`` of ``total`` things of ``stage`` are written (total unknown: None)."""
        # A stage with nothing in it (a library without shows) is not worth a progress bar.
        if self.progress is not None and (done or total):
            self.progress(f"{self.integration} {stage}", done, max(done, total or 0))

    async def save_cursor(self, conn: asyncpg.Connection, cursor: dict[str, Any]) -> None:
        """Save the cursor on ``conn``, inside the transaction that wrote what it covers."""
        await schedule.save_cursor(conn, self.integration, cursor)
        self.cursor = cursor

    @cached_property
    def writer(self) -> PageWriter:
        """Where the job writes what it mapped: pages with their cursor (one writer per run)."""
        return PageWriter(self)


class SyncJob(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def interval_seconds(self) -> int: ...

    async def run(self, context: SyncContext) -> dict[str, int]:
        """Fetch and write; returns counts to report (e.g. {"items": 12, "plays": 3})."""
        ...


@dataclass
class JobResult:
    name: str
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


async def run_job(pool: asyncpg.Pool, job: SyncJob, *, progress: ProgressCallback | None = None) -> JobResult:
    """Run one job now and record the outcome; an error is recorded and returned, never raised.

    ``asyncio.CancelledError`` is not an error of the job: it propagates and the
    run counts neither as success nor failure.
    """
    await schedule.register(pool, job.name, job.interval_seconds)
    started = time.monotonic()
    run_at = await schedule.mark_started(pool, job.name)
    # Kept in sync_schedule as well as shown to ``progress``: /health shows a run of hours.
    progress_log = ProgressLog(pool, job.name)
    await progress_log.begin()
    context = SyncContext(
        pool=pool,
        integration=job.name,
        cursor=await schedule.load_cursor(pool, job.name),
        progress=progress_log.also(progress),
    )
    writing = asyncio.create_task(progress_log.keep_writing())
    try:
        return await _run(pool, job, context, run_at, started)
    finally:
        writing.cancel()
        await progress_log.finish()


async def _run(pool: asyncpg.Pool, job: SyncJob, context: SyncContext, run_at: datetime, started: float) -> JobResult:
    cancelled = False
    try:
        try:
            counts = await job.run(context)
        except asyncio.CancelledError:
            # Stopped (Ctrl-C, marquee run stopping): end now. The pairs its pages marked
            # stay in user_stats_pending, for the next run's refresh.
            cancelled = True
            raise
        finally:
            # What a job wrote is committed page by page, even when it fails later: bring
            # user_stats up to date for it either way, in set-based passes.
            if not cancelled:
                stats_written = await refresh_user_stats_in_parallel(pool)
        counts["user_stats_changed"] = stats_written
    except Exception as exc:
        # Redacted here as well as where it is stored: an unexpected exception's text may carry a URL.
        message = redact(str(exc) if isinstance(exc, SyncError) else f"{type(exc).__name__}: {exc}")
        if isinstance(exc, SyncError):
            log.warning("sync %s failed: %s", job.name, message)
        else:
            # Not a service failing but a bug in the job: its traceback is what the fix needs.
            log.error("sync %s failed: %s", job.name, message, exc_info=exc)
        failures = await schedule.record_failure(pool, job.name, run_at, message[:2000])
        await _alert(alerts.sync_failed(pool, job.name, failures, message, run_at))
        return JobResult(job.name, ok=False, error=message, seconds=time.monotonic() - started)
    failures_before = await schedule.record_success(pool, job.name, run_at)
    await _alert(alerts.sync_succeeded(pool, job.name, failures_before, run_at))
    log.info("sync %s done: %s", job.name, ", ".join(f"{k}={v}" for k, v in counts.items()) or "nothing")
    return JobResult(job.name, ok=True, counts=counts, seconds=time.monotonic() - started)


async def _alert(queueing: Awaitable[None]) -> None:
    """Queue an admin alert; failing to queue one must not turn a recorded run into an error."""
    try:
        await queueing
    except Exception:
        log.exception("could not queue an integration alert")
