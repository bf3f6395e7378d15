"""Answers of the slow server-wide admin tools, computed ahead of time.

The cross-user rankings (power users, popular content, what to remove, ...)
read every play of their period or every item on each call: 0.3-0.9 s on a
server with 5,000,000 plays, and seconds of waiting for the pool under many
conversations. ``marquee run`` recomputes their default questions every
``REFRESH_SECONDS`` with the tools' own code (``refresh_snapshots``) and
stores the answers (``tool_result_snapshots``, migration 013). A tool asked
exactly that question in admin mode then serves the stored answer when it is
at most ``MAX_AGE`` old and from the same local day (so every default period,
which covers whole days in admin mode, is the same period), and says "as of
HH:MM" once it is older than a minute. Other arguments, another time zone or
minimum group size, or no recent snapshot: the tool runs live as before.

The admin tools here answer the same for every admin (none reads the asker's
id in admin mode); the database serves a snapshot only in admin mode and only
the one made with the caller's own minimum group size.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel

from core.scope import Scope
from core.tools.base import Coverage, ToolError, ToolResult
from core.tools.catalogue import ToolCatalogue
from core.tools.database_wall import ToolDatabase

log = logging.getLogger(__name__)

# Admin tools whose default question reads a whole period of plays, or every item.
SNAPSHOT_TOOLS: tuple[str, ...] = (
    "power_users",
    "removal_candidates",
    "server_genres",
    "never_watched_content",
    "popular_content",
    "requests_watched_by_others",
    "content_discoverers",
    "trending",
    "most_active_users",
    "top_watchers",
    "requested_content_watchers",
    "requesters_who_skip_their_requests",
    "storage_by_library",
)
REFRESH_SECONDS = 300
# A snapshot older than this (a refresh failed or `marquee run` is not running) is not served.
MAX_AGE = timedelta(seconds=2 * REFRESH_SECONDS)
# Younger than this, an answer is as good as live and carries no "as of".
FRESH = timedelta(seconds=60)

_READ = "SELECT computed_at, result FROM analytics.tool_result_snapshot($1, $2, $3)"
_WRITE = """
INSERT INTO tool_result_snapshots (tool, params, timezone, min_group_size, computed_at, result)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tool, params, timezone, min_group_size)
DO UPDATE SET computed_at = excluded.computed_at, result = excluded.result
"""
_ANY_ADMIN = "SELECT id, username FROM users WHERE role = 'admin' AND removed_at IS NULL ORDER BY id LIMIT 1"


def params_key(params: BaseModel) -> str:
    """The validated arguments as canonical JSON text: the same question gives the same key."""
    return json.dumps(params.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def serves_snapshots(name: str, scope: Scope) -> bool:
    return scope.mode == "admin" and name in SNAPSHOT_TOOLS


def _encode(result: ToolResult) -> dict[str, Any]:
    return {"rows": result.rows, "coverage": dataclasses.asdict(result.coverage), "summary": result.summary}


def _decode(name: str, params: BaseModel, stored: dict[str, Any]) -> ToolResult:
    return ToolResult(
        name,
        params.model_dump(mode="json"),
        stored["rows"],
        Coverage(**stored["coverage"]),
        stored["summary"],
    )


async def stored_answer(
    conn: asyncpg.Connection, scope: Scope, name: str, params: BaseModel, now: datetime | None = None
) -> ToolResult | None:
    """The snapshot of this question for this scope, if recent enough to serve; None: run the tool live."""
    record = await conn.fetchrow(_READ, name, params_key(params), scope.timezone.key)
    if record is None:
        return None
    now = now or datetime.now(UTC)
    computed_at: datetime = record["computed_at"]
    age = now - computed_at
    if age > MAX_AGE or age < -FRESH:
        return None
    if computed_at.astimezone(scope.timezone).date() != now.astimezone(scope.timezone).date():
        return None  # another local day: the default period is not the same period any more
    result = _decode(name, params, record["result"])
    if age > FRESH:
        as_of = computed_at.astimezone(scope.timezone).strftime("%H:%M")
        result.summary["as_of"] = as_of
        result.coverage.gaps.append(
            f"figures as of {as_of} (recomputed every {REFRESH_SECONDS // 60} minutes)"
        )
    return result


async def refresh_snapshots(
    pool: asyncpg.Pool,
    tools: ToolDatabase,
    catalogue: ToolCatalogue,
    *,
    timezone: Any,
    min_group_size: int,
    names: tuple[str, ...] = SNAPSHOT_TOOLS,
) -> dict[str, float]:
    """Recompute the default answer of every snapshot tool; returns seconds per tool.

    The tools run live, exactly as an admin's question runs them (through the
    database wall, in admin mode). Without any admin there is no admin mode to
    answer, and nothing is stored.
    """
    from core.tools.scoped_connection import run_tool  # run_tool serves snapshots: imported late

    admin = await pool.fetchrow(_ANY_ADMIN)
    if admin is None:
        return {}
    scope = Scope(
        user_id=admin["id"],
        username=admin["username"],
        role="admin",
        mode="admin",
        timezone=timezone,
        min_group_size=min_group_size,
    )
    timings: dict[str, float] = {}
    for name in names:
        tool = catalogue.get(name)
        params = tool.params.model_validate({})
        computed_at = datetime.now(UTC)
        started = time.perf_counter()
        result = await run_tool(tools, scope, catalogue, name, {}, use_snapshots=False)
        timings[name] = time.perf_counter() - started
        await pool.execute(
            _WRITE, name, params_key(params), scope.timezone.key, min_group_size, computed_at, _encode(result)
        )
    return timings


async def run_snapshot_refresher(
    pool: asyncpg.Pool,
    tools: ToolDatabase,
    catalogue: ToolCatalogue,
    stop_event: asyncio.Event,
    *,
    timezone: Any,
    min_group_size: int,
    interval_seconds: float = REFRESH_SECONDS,
) -> None:
    """Refresh the snapshots every ``interval_seconds`` until ``stop_event`` is set."""
    while not stop_event.is_set():
        try:
            timings = await refresh_snapshots(
                pool, tools, catalogue, timezone=timezone, min_group_size=min_group_size
            )
            if timings:
                log.debug("tool snapshots refreshed in %.1f s", sum(timings.values()))
        except asyncio.CancelledError:
            raise
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ToolError) as exc:
            # The database went away or a tool timed out: the tools answer live meanwhile.
            log.warning("tool snapshots not refreshed: %s: %s", type(exc).__name__, exc)
        except Exception:  # a bug in one tool must not stop the others from being kept
            log.exception("tool snapshots not refreshed")
        try:
            await asyncio.wait_for(stop_event.wait(), timeout=interval_seconds)
        except TimeoutError:
            pass
