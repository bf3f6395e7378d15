"""The ``sync_schedule`` rows: one per integration, with its last outcome and cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from core.redaction import redact

_REGISTER = """
INSERT INTO sync_schedule (integration, interval_seconds) VALUES ($1, $2)
ON CONFLICT (integration) DO UPDATE SET interval_seconds = excluded.interval_seconds
WHERE sync_schedule.interval_seconds <> excluded.interval_seconds
"""
_MARK_STARTED = "UPDATE sync_schedule SET last_run_at = now() WHERE integration = $1 RETURNING last_run_at"
_LOAD_CURSOR = "SELECT cursor FROM sync_schedule WHERE integration = $1"
_SAVE_CURSOR = "UPDATE sync_schedule SET cursor = $2 WHERE integration = $1"
# The failures before this success (read in the same statement): a recovery is a transition.
_SUCCESS = """
UPDATE sync_schedule s SET last_success_at = now(), last_error = NULL, consecutive_failures = 0,
    first_sync_done_at = coalesce(s.first_sync_done_at, now())
FROM (SELECT consecutive_failures FROM sync_schedule WHERE integration = $1 FOR UPDATE) before
WHERE s.integration = $1
RETURNING before.consecutive_failures
"""
_FAILURE = """
UPDATE sync_schedule SET last_error = $2, consecutive_failures = consecutive_failures + 1
WHERE integration = $1
RETURNING consecutive_failures
"""
_STATES = """
SELECT integration, enabled, interval_seconds, last_run_at, consecutive_failures, last_success_at
FROM sync_schedule WHERE integration = ANY($1::text[])
"""


@dataclass(frozen=True)
class ScheduleState:
    integration: str
    enabled: bool
    interval_seconds: int
    last_run_at: datetime | None
    consecutive_failures: int
    last_success_at: datetime | None = None

    @property
    def interrupted(self) -> bool:
        """The last run neither succeeded nor failed: the process running it stopped (Ctrl-C, a restart)."""
        if self.last_run_at is None or self.consecutive_failures:
            return False
        return self.last_success_at is None or self.last_success_at < self.last_run_at


async def register(pool: asyncpg.Pool | asyncpg.Connection, integration: str, interval_seconds: int) -> None:
    await pool.execute(_REGISTER, integration, interval_seconds)


async def mark_started(pool: asyncpg.Pool, integration: str) -> datetime:
    started: datetime = await pool.fetchval(_MARK_STARTED, integration)
    return started


async def load_cursor(pool: asyncpg.Pool, integration: str) -> dict[str, Any]:
    cursor = await pool.fetchval(_LOAD_CURSOR, integration)
    return dict(cursor or {})


async def save_cursor(conn: asyncpg.Connection, integration: str, cursor: dict[str, Any]) -> None:
    await conn.execute(_SAVE_CURSOR, integration, cursor)


async def record_success(pool: asyncpg.Pool, integration: str, run_at: datetime) -> int:
    """Record a success; returns how many failures in a row it ends (0: it was fine already)."""
    return int(await pool.fetchval(_SUCCESS, integration) or 0)


async def record_failure(pool: asyncpg.Pool, integration: str, run_at: datetime, error: str) -> int:
    """Record a failure; returns the failures in a row, this one included."""
    return int(await pool.fetchval(_FAILURE, integration, redact(error)) or 0)


async def load_states(pool: asyncpg.Pool, integrations: list[str]) -> dict[str, ScheduleState]:
    rows = await pool.fetch(_STATES, integrations)
    return {row["integration"]: ScheduleState(**dict(row)) for row in rows}
