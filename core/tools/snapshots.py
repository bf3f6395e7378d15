"""Answers of the slow server-wide tools, computed ahead of time.

The cross-user rankings (power users, popular content, what to remove, ...)
read every play of their period or every item on each call: 0.3-0.9 s on a
server with 5,000,000 plays, and seconds of waiting for the pool under many
conversations. ``marquee run`` recomputes their default questions every
``MARQUEE_SNAPSHOT_REFRESH_MINUTES`` (default 5) with the tools' own code (``refresh_snapshots``) and
stores the answers (``tool_result_snapshots``, migration 013). A tool asked
exactly that question in the same mode then serves the stored answer when it
is at most twice that old and from the same local day (in admin mode every
default period covers whole days, so it is the same period), and says "as of
HH:MM" once it is older than a minute: the answer, period included, is the
one of that moment. Other arguments, another time zone or minimum group size,
or no recent snapshot: the tool runs live as before.

The admin tools here answer the same for every admin (none reads the asker's
id in admin mode); the members' ones are library-wide (new in the library,
library growth, the item counts of the library), the same for every member. The database serves only a
snapshot made in the caller's mode and with the caller's own minimum group size.

Members' "what others watch" and "trending" leave the member's own plays out,
so no stored answer fits everyone: each refresh stores the server-wide counts
per title of the last 7 days and of the 7 days before
(``title_popularity_snapshots``), and the member's tool takes their own plays
off (``analytics.title_popularity_top_as_of``), for the period of the refresh.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
from pydantic import BaseModel

from core.scope import Mode, Scope
from core.tools.base import Coverage, ToolError, ToolResult
from core.tools.database_wall import ToolDatabase
from core.tools.periods import Period

if TYPE_CHECKING:  # the catalogue imports the tools, which import this module
    from core.tools.catalogue import ToolCatalogue

log = logging.getLogger(__name__)

# Admin tools whose default question reads a whole period of plays, every item or every rating.
ADMIN_SNAPSHOT_TOOLS: tuple[str, ...] = (
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
    # Library-wide and lifetime figures that still read every item or every rating.
    "new_in_library",
    "library_growth",
    "top_raters",
    "library_lookup",  # asked nothing in particular: how many items per library
)
# Members' tools whose answer is library-wide (it reads nothing of the asker's): the same for every member.
PERSONAL_SNAPSHOT_TOOLS: tuple[str, ...] = ("new_in_library", "library_growth", "library_lookup")
SNAPSHOT_TOOLS: dict[Mode, tuple[str, ...]] = {
    "admin": ADMIN_SNAPSHOT_TOOLS,
    "personal": PERSONAL_SNAPSHOT_TOOLS,
}
REFRESH_SECONDS = 300  # the default of MARQUEE_SNAPSHOT_REFRESH_MINUTES


@dataclasses.dataclass
class RefreshInterval:
    """How often this process's ``marquee run`` refreshes the snapshots, and so how old one may be served."""

    seconds: float = REFRESH_SECONDS

    @property
    def max_age(self) -> timedelta:
        """Older than this (a refresh failed or `marquee run` is not running), a snapshot is not served."""
        return timedelta(seconds=2 * self.seconds)


# Set once at start from the setting (configure_refresh_interval); the default elsewhere.
refresh_interval = RefreshInterval()


def configure_refresh_interval(minutes: float) -> None:
    """Refresh every ``minutes`` (MARQUEE_SNAPSHOT_REFRESH_MINUTES) and serve snapshots up to twice that old."""
    refresh_interval.seconds = minutes * 60


# Younger than this, an answer is as good as live and carries no "as of".
FRESH = timedelta(seconds=60)

_READ = "SELECT computed_at, result FROM analytics.tool_result_snapshot($1, $2, $3)"
_WRITE = """
INSERT INTO tool_result_snapshots (tool, mode, params, timezone, min_group_size, computed_at, result)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tool, mode, params, timezone, min_group_size)
DO UPDATE SET computed_at = excluded.computed_at, result = excluded.result
"""
# The default period of the members' tools that read everyone's plays.
MEMBER_WINDOW = timedelta(days=7)
_MEMBER_WINDOWS = "SELECT window_start, window_end, computed_at FROM analytics.title_popularity_windows()"
_CLEAR_MEMBER_WINDOWS = "DELETE FROM title_popularity_windows"
_ADD_MEMBER_WINDOW = (
    "INSERT INTO title_popularity_windows (window_start, window_end, computed_at) VALUES ($1, $2, $3)"
)
# Server-wide counts per title (a show's episodes count for the show), as analytics.title_popularity
# counts them before it leaves the asker out and applies the minimum group size.
_COUNT_MEMBER_WINDOW = """
INSERT INTO title_popularity_snapshots (window_start, window_end, title_id, title, media_type, year, library_name,
                                        genres, viewers, sessions, watched_seconds)
SELECT $1, $2, t.id, t.title, t.media_type, t.year, t.library_name, coalesce(t.metadata -> 'genres', '[]'::jsonb),
       p.viewers, p.sessions, p.watched_seconds
FROM (SELECT coalesce(mi.parent_id, mi.id) AS top_id, count(DISTINCT wh.user_id) AS viewers, count(*) AS sessions,
             sum(wh.watched_seconds)::bigint AS watched_seconds
      FROM watch_history wh
      JOIN media_items mi ON mi.id = wh.media_item_id
      WHERE wh.started_at >= $1 AND wh.started_at < $2
      GROUP BY coalesce(mi.parent_id, mi.id)) p
JOIN media_items t ON t.id = p.top_id
"""
_ANY_ADMIN = "SELECT id, username FROM users WHERE role = 'admin' AND removed_at IS NULL ORDER BY id LIMIT 1"


def params_key(params: BaseModel) -> str:
    """The validated arguments as canonical JSON text: the same question gives the same key."""
    return json.dumps(params.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


# Off while a tool must run live: the refresher's own runs, and tests comparing with live answers.
snapshots_allowed: ContextVar[bool] = ContextVar("snapshots_allowed", default=True)


def serves_snapshots(name: str, scope: Scope) -> bool:
    return name in SNAPSHOT_TOOLS[scope.mode]


def _servable(computed_at: datetime, now: datetime) -> bool:
    age = now - computed_at
    return -FRESH <= age <= refresh_interval.max_age


def note_as_of(
    coverage: Coverage, summary: dict[str, Any], computed_at: datetime, scope: Scope, now: datetime
) -> None:
    """Say when the figures were computed, once that is more than a minute ago."""
    if now - computed_at > FRESH:
        as_of = computed_at.astimezone(scope.timezone).strftime("%H:%M")
        summary["as_of"] = as_of
        minutes = round(refresh_interval.seconds / 60)
        coverage.gaps.append(f"figures as of {as_of} (recomputed every {minutes} minutes)")


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
    if not _servable(computed_at, now):
        return None
    if computed_at.astimezone(scope.timezone).date() != now.astimezone(scope.timezone).date():
        return None  # another local day: the default period is not the same period any more
    result = _decode(name, params, record["result"])
    note_as_of(result.coverage, result.summary, computed_at, scope, now)
    return result


@dataclasses.dataclass(frozen=True)
class MemberWindow:
    """The last 7 days before the last refresh (and the 7 before those), as stored for members' tools."""

    period: Period
    previous_start: datetime
    computed_at: datetime


async def member_window(
    conn: asyncpg.Connection, scope: Scope, label: str, now: datetime | None = None
) -> MemberWindow | None:
    """The stored window a member's default "last 7 days" is answered from, if recent; None: run live."""
    if scope.mode != "personal" or not snapshots_allowed.get():
        return None
    now = now or datetime.now(UTC)
    windows = {
        (r["window_start"], r["window_end"]): r["computed_at"] for r in await conn.fetch(_MEMBER_WINDOWS)
    }
    for (start, end), computed_at in windows.items():
        previous = (start - MEMBER_WINDOW, start)
        if end - start == MEMBER_WINDOW and previous in windows and _servable(computed_at, now):
            return MemberWindow(Period(start, end, label), previous[0], computed_at)
    return None


async def refresh_member_windows(pool: asyncpg.Pool, now: datetime | None = None) -> None:
    """Store the server-wide counts per title of the last 7 days and the 7 before, replacing the last ones."""
    end = now or datetime.now(UTC)
    windows = [(end - MEMBER_WINDOW, end), (end - 2 * MEMBER_WINDOW, end - MEMBER_WINDOW)]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(_CLEAR_MEMBER_WINDOWS)
        for start, stop in windows:
            await conn.execute(_ADD_MEMBER_WINDOW, start, stop, end)
            await conn.execute(_COUNT_MEMBER_WINDOW, start, stop)


async def refresh_snapshots(
    pool: asyncpg.Pool,
    tools: ToolDatabase,
    catalogue: ToolCatalogue,
    *,
    timezone: Any,
    min_group_size: int,
    names: dict[Mode, tuple[str, ...]] = SNAPSHOT_TOOLS,
) -> dict[str, float]:
    """Recompute the default answer of every snapshot tool and the members' counts; returns seconds each.

    The tools run live, exactly as a question runs them (through the database
    wall, in each mode). They run as the first admin (in personal mode too:
    those tools read nothing of the asker's); without any admin, only the
    members' counts are stored.
    """
    from core.tools.scoped_connection import run_tool  # run_tool serves snapshots: imported late

    timings: dict[str, float] = {}
    started = time.perf_counter()
    await refresh_member_windows(pool)
    timings["members' last 7 days"] = time.perf_counter() - started
    admin = await pool.fetchrow(_ANY_ADMIN)
    if admin is None:
        return timings
    for mode, mode_names in names.items():
        scope = Scope(
            user_id=admin["id"],
            username=admin["username"],
            role="admin",
            mode=mode,
            timezone=timezone,
            min_group_size=min_group_size,
        )
        for name in mode_names:
            tool = catalogue.get(name)
            params = tool.params.model_validate({})
            computed_at = datetime.now(UTC)
            started = time.perf_counter()
            result = await run_tool(tools, scope, catalogue, name, {}, use_snapshots=False)
            timings[f"{name} ({mode})"] = time.perf_counter() - started
            await pool.execute(
                _WRITE,
                name,
                mode,
                params_key(params),
                timezone.key,
                min_group_size,
                computed_at,
                _encode(result),
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
    interval_seconds: float | None = None,
) -> None:
    """Refresh the snapshots every ``interval_seconds`` (the configured interval) until ``stop_event`` is set."""
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
            await asyncio.wait_for(stop_event.wait(), timeout=interval_seconds or refresh_interval.seconds)
        except TimeoutError:
            pass
