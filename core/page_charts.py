"""The chat charts on the AI-insights page, server-wide, as inline SVG.

The same figures as in chat (``core.chart_figures``), over the whole server: plays
by hour and weekday and watch time per month are aggregates of every member's
plays (counts and hours, never who); library growth, storage by library and request
turnaround are the admin-mode tools themselves, run behind the database wall.

Drawing takes a few hundred milliseconds of CPU, so it runs in a worker thread and
its result is kept per *data version*: the last sync, the last webhook and the
hour (the page's windows end now). A page view with nothing new reads the cache;
one lock makes concurrent views wait for a single drawing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from core.scope import Scope
from core.tools.base import Coverage, ToolError, ToolResult
from core.tools.catalogue import ToolCatalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool

log = logging.getLogger(__name__)

MONTHS = 12
_KEPT_PERIODS = 8


@dataclass(frozen=True)
class PageChart:
    """One chart of the page: inline SVG (empty when there is nothing to draw) and what it shows."""

    key: str
    title: str
    window: str
    svg: str
    alt_text: str


_BY_HOUR = """
SELECT extract(hour FROM started_at AT TIME ZONE $3)::int AS hour, count(*) AS sessions,
       coalesce(sum(watched_seconds), 0)::bigint AS watched_seconds
FROM watch_history WHERE started_at >= $1 AND started_at < $2
GROUP BY 1 ORDER BY 1
"""

_BY_WEEKDAY = """
SELECT extract(isodow FROM started_at AT TIME ZONE $3)::int AS isodow,
       to_char(started_at AT TIME ZONE $3, 'FMDay') AS weekday, count(*) AS sessions
FROM watch_history WHERE started_at >= $1 AND started_at < $2
GROUP BY 1, 2 ORDER BY 1
"""

_BY_MONTH = """
SELECT to_char(date_trunc('month', started_at AT TIME ZONE $3), 'YYYY-MM') AS month, count(*) AS sessions,
       coalesce(sum(watched_seconds), 0)::bigint AS watched_seconds
FROM watch_history WHERE started_at >= $1 AND started_at < $2
GROUP BY 1 ORDER BY 1
"""

# What the charts are drawn from changes with a sync or a webhook; the windows end now, so the hour too.
_DATA_VERSION = """
SELECT (SELECT max(last_success_at) FROM sync_schedule) AS synced,
       (SELECT max(received_at) FROM webhook_log) AS webhook,
       date_trunc('hour', now()) AS hour
"""


async def server_plays_by_hour(
    conn: asyncpg.Connection, start: datetime, end: datetime, timezone: str
) -> ToolResult:
    """Every member's plays by hour of the day and weekday, shaped like ``watch_time_by_hour``."""
    rows = await conn.fetch(_BY_HOUR, start, end, timezone)
    weekdays = await conn.fetch(_BY_WEEKDAY, start, end, timezone)
    summary: dict[str, Any] = {"timezone": timezone}
    if rows:
        peak = max(rows, key=lambda r: (r["watched_seconds"], r["sessions"]))
        summary["peak_hour"] = peak["hour"]
    if weekdays:
        summary["busiest_weekday"] = min(weekdays, key=lambda r: (-r["sessions"], r["isodow"]))["weekday"]
        summary["sessions_by_weekday"] = [
            {"weekday": r["weekday"], "sessions": int(r["sessions"])} for r in weekdays
        ]
    return ToolResult(
        "watch_time_by_hour", {}, [dict(r) for r in rows], Coverage(["watch_history.started_at"]), summary
    )


async def server_watch_time_by_month(
    conn: asyncpg.Connection, start: datetime, end: datetime, timezone: str
) -> ToolResult:
    """Every member's hours per month, shaped like ``watch_time``."""
    months = [dict(r) for r in await conn.fetch(_BY_MONTH, start, end, timezone)]
    summary = {"by_month": months, "sessions": sum(int(m["sessions"]) for m in months)}
    return ToolResult("watch_time", {}, [], Coverage(["watch_history.watched_seconds"]), summary)


def _months_ago(now: datetime, months: int) -> datetime:
    """The first moment of the month ``months`` before this one, in ``now``'s zone."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    year, month = divmod(first.year * 12 + first.month - 1 - months, 12)
    return first.replace(year=year, month=month + 1)


# Horizontal bar charts: the left margin their row labels need at the page's size.
_LABELLED_ROWS = {"storage_by_library": 0.36, "request_turnaround": 0.3}

_TITLES = {
    "watch_time_by_hour": "When people watch",
    "watch_time": "Watch time per month",
    "library_growth": "Library growth",
    "storage_by_library": "Storage by library",
    "request_turnaround": "Request turnaround",
}


def draw(result: ToolResult, title: str, window: str) -> PageChart:
    """The chart as inline SVG (blocking: call it from a worker thread)."""
    from core import chart_figures  # matplotlib: only once a chart is wanted

    figure = chart_figures.chart_figure(result) if not result.is_empty else None
    if figure is None:
        return PageChart(result.tool, title, window, "", "")
    figure.figure.set_size_inches(6.4, 4.2)  # narrower than in chat: the page puts two side by side
    if result.tool in _LABELLED_ROWS:  # the same labels in a narrower figure need a wider margin
        figure.figure.subplots_adjust(left=_LABELLED_ROWS[result.tool])
    if result.tool == "watch_time_by_hour":
        figure.figure.suptitle("When people watch (every member's plays)")
    svg = chart_figures.svg_markup(figure, f"chart-{result.tool.replace('_', '-')}-")
    return PageChart(result.tool, title, window, svg, figure.alt_text)


class PageCharts:
    """The page's five charts for a period, drawn off the event loop and cached per data version.

    A view after new data gets the charts already drawn and starts one redraw in the background
    (stale while revalidating): the page never waits for matplotlib except on the very first view
    of a period.
    """

    def __init__(
        self, pool: asyncpg.Pool, tools: ToolDatabase, catalogue: ToolCatalogue, timezone: str
    ) -> None:
        self.pool = pool
        self.tools = tools
        self.catalogue = catalogue
        self.timezone = timezone
        self._latest: dict[int, tuple[tuple[Any, ...], list[PageChart]]] = {}
        self._drawing = asyncio.Lock()
        self._refreshing: dict[int, asyncio.Task[None]] = {}
        self.drawn = 0  # how many times the charts were drawn (not read from the cache)

    async def charts(self, days: int, admin: UUID | None) -> list[PageChart]:
        """The charts for the last ``days``; the tools run in ``admin``'s admin scope (server-wide figures only,
        the same for every admin). The host operator's session has no user: any admin's scope then."""
        async with self.pool.acquire() as conn:
            version = tuple(await conn.fetchrow(_DATA_VERSION))
            if admin is None:
                admin = await conn.fetchval(
                    "SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1"
                )
        latest = self._latest.get(days)
        if latest is not None:
            if latest[0] != version and days not in self._refreshing:
                task = asyncio.create_task(self._refresh(days, version, admin))
                self._refreshing[days] = task
                task.add_done_callback(lambda _: self._refreshing.pop(days, None))
            return latest[1]
        await self._refresh(days, version, admin)
        return self._latest[days][1]

    async def _refresh(self, days: int, version: tuple[Any, ...], admin: UUID | None) -> None:
        async with self._drawing:  # one drawing at a time: it is CPU, and the machine may be small
            latest = self._latest.get(days)
            if latest is not None and latest[0] == version:
                return
            try:
                charts = await self._draw(days, admin)
            except (asyncpg.PostgresError, OSError):
                if latest is None:
                    raise
                log.exception("insights page: could not redraw the charts; showing the previous ones")
                return
            if len(self._latest) >= _KEPT_PERIODS and days not in self._latest:
                self._latest.clear()
            self._latest[days] = (version, charts)

    async def settle(self) -> None:
        """Wait for the redraws under way (tests, and a clean shutdown)."""
        while self._refreshing:
            await asyncio.gather(*self._refreshing.values(), return_exceptions=True)

    async def _results(self, days: int, admin: UUID | None) -> list[tuple[ToolResult, str]]:
        zone = ZoneInfo(self.timezone)
        now = datetime.now(zone)
        year_start = _months_ago(now, MONTHS - 1)
        async with self.pool.acquire() as conn:
            by_hour = await server_plays_by_hour(conn, now - timedelta(days=days), now, self.timezone)
            by_month = await server_watch_time_by_month(conn, year_start, now, self.timezone)
        results = [(by_hour, f"last {days} days"), (by_month, f"last {MONTHS} months")]
        windows = {
            "library_growth": "last 12 months",
            "storage_by_library": "now",
            "request_turnaround": "last 12 months",
        }
        for tool, window in windows.items():
            try:
                if admin is None:
                    raise ToolError("no admin on this server")
                scope = Scope(admin, "insights page", "admin", "admin", zone)
                results.append((await run_tool(self.tools, scope, self.catalogue, tool, {}), window))
            except (ToolError, asyncpg.PostgresError) as error:
                log.warning("insights page: the %s chart could not be read: %s", tool, error)
                results.append((ToolResult(tool, {}, [], Coverage()), window))
        return results

    async def _draw(self, days: int, admin: UUID | None) -> list[PageChart]:
        results = await self._results(days, admin)
        self.drawn += 1

        def draw_all() -> list[PageChart]:
            charts = []
            for result, window in results:
                try:
                    charts.append(draw(result, _TITLES[result.tool], window))
                except Exception:  # a picture is a nicety: the page shows the rest
                    log.exception("insights page: could not draw the %s chart", result.tool)
                    charts.append(PageChart(result.tool, _TITLES[result.tool], window, "", ""))
            return charts

        return await asyncio.to_thread(draw_all)
