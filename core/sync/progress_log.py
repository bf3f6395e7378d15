"""How far a sync run has got, kept in its ``sync_schedule`` row for ``/health``.

A first sync of a large server runs for minutes or hours in the background of
``marquee run`` (or in ``marquee sync`` in another terminal): the job's
progress reports (stage, done, total) are kept in memory and written every
``FLUSH_SECONDS``, never once per report, so a fast stage costs the database
nothing. The rate and the time left follow from when the stage began and how
far it is (``core/admin_reports.py`` words them for an admin).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

import asyncpg

from core.progress import ProgressCallback

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0

_BEGIN = """
UPDATE sync_schedule SET progress_stage = NULL, progress_done = NULL, progress_total = NULL,
    progress_stage_started_at = NULL, progress_updated_at = $2, progress_finished_at = NULL
WHERE integration = $1
"""
_WRITE = """
UPDATE sync_schedule SET progress_stage = $2, progress_done = $3, progress_total = $4,
    progress_stage_started_at = $5, progress_updated_at = $6
WHERE integration = $1
"""
_FINISH = "UPDATE sync_schedule SET progress_finished_at = $2 WHERE integration = $1"


class ProgressLog:
    """One run's progress: ``report`` as the job advances, ``keep_writing`` alongside it, ``finish`` at the end."""

    def __init__(self, pool: asyncpg.Pool, integration: str, *, clock: Any = None) -> None:
        self.pool = pool
        self.integration = integration
        self._clock = clock or partial(datetime.now, UTC)
        self._stage: str | None = None
        self._done = self._total = 0
        self._stage_started_at = self._last_report_at = self._clock()
        self._dirty = False

    async def begin(self) -> None:
        await self.pool.execute(_BEGIN, self.integration, self._last_report_at)

    def report(self, stage: str, done: int, total: int) -> None:
        now = self._clock()
        if stage != self._stage:
            # A stage's work began when the previous report ended (its first report already counts some).
            self._stage, self._stage_started_at = stage, self._last_report_at
        self._done, self._total, self._last_report_at, self._dirty = done, total, now, True

    def also(self, other: ProgressCallback | None) -> ProgressCallback:
        """A callback reporting here and to ``other`` (the terminal's display) too."""

        def both(stage: str, done: int, total: int) -> None:
            self.report(stage, done, total)
            if other is not None:
                other(stage, done, total)

        return both

    async def write(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        await self.pool.execute(
            _WRITE, self.integration, self._stage, self._done, self._total,
            self._stage_started_at, self._last_report_at,
        )  # fmt: skip

    async def keep_writing(self, every: float = FLUSH_SECONDS) -> None:
        """Write the latest report every ``every`` seconds until cancelled; a failed write only waits for the next."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.write()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.debug("sync %s: progress not written (%s)", self.integration, exc)

    async def finish(self) -> None:
        """The last report, and that the run is over (done, failed or interrupted: ``sync_schedule`` tells which)."""
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self.write()
            await self.pool.execute(_FINISH, self.integration, self._clock())
