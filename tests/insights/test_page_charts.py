"""The chat charts on the insights page: server-wide figures on known data, CSP-safe inline SVG, one drawing per data version."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from uuid import UUID
from xml.etree import ElementTree as ET

import aiohttp
import asyncpg

from adapters.http.insights_page import InsightsPageConfig
from adapters.http.server import RunningServer, WebhookConfig, build_app, start_http_server
from core import chart_figures, insights_access, page_charts
from core.page_charts import PageCharts
from core.tools.catalogue import build_catalogue
from core.tools.database_wall import ToolDatabase

from .conftest import GIB, HOSTILE_LIBRARY, PLAYS, Seeded, base_url, berlin_moment

SVG = "{http://www.w3.org/2000/svg}"
ZONE = "Europe/Berlin"


def texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


async def charts_for(
    pool: asyncpg.Pool, tools: ToolDatabase, days: int = 30
) -> dict[str, page_charts.PageChart]:
    charts = PageCharts(pool, tools, build_catalogue(), ZONE)
    return {c.key: c for c in await charts.charts(days, None)}


async def test_plays_by_hour_and_weekday_count_every_members_plays_in_the_window(
    db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo(ZONE))
    async with db_pool.acquire() as conn:
        result = await page_charts.server_plays_by_hour(conn, now - timedelta(days=30), now, ZONE)

    assert {r["hour"]: r["watched_seconds"] for r in result.rows} == {20: 7200, 21: 1800}
    expected_days = Counter(berlin_moment(d, h).strftime("%A") for d, h, _, _ in PLAYS if d <= 30)
    assert {w["weekday"]: w["sessions"] for w in result.summary["sessions_by_weekday"]} == expected_days
    assert result.summary["peak_hour"] == 20

    figure = chart_figures.chart_figure(result)
    assert figure is not None
    hours_axes, days_axes = figure.figure.axes
    assert [p.get_height() for p in hours_axes.patches][20:22] == [2.0, 0.5]
    assert sum(p.get_height() for p in hours_axes.patches) == 2.5
    assert [t.get_text() for t in days_axes.get_xticklabels()] == [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
        "Sat",
        "Sun",
    ]
    assert sum(p.get_height() for p in days_axes.patches) == 3
    assert hours_axes.get_xlabel() == f"hour of the day ({ZONE})"


async def test_watch_time_per_month_covers_twelve_months_of_every_members_plays(
    db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo(ZONE))
    async with db_pool.acquire() as conn:
        result = await page_charts.server_watch_time_by_month(
            conn, page_charts._months_ago(now, 11), now, ZONE
        )
    by_month: Counter[str] = Counter()
    for days, hour, seconds, _ in PLAYS:
        by_month[berlin_moment(days, hour).strftime("%Y-%m")] += seconds
    assert {m["month"]: m["watched_seconds"] for m in result.summary["by_month"]} == by_month


async def test_the_page_charts_are_the_chat_figures_as_csp_safe_inline_svg(
    db_pool: asyncpg.Pool, seeded: Seeded, tool_database: ToolDatabase
) -> None:
    charts = await charts_for(db_pool, tool_database)

    assert list(charts) == [
        "watch_time_by_hour", "watch_time", "library_growth", "storage_by_library", "request_turnaround",
    ]  # fmt: skip
    ids: list[str] = []
    for chart in charts.values():
        root = ET.fromstring(chart.svg)
        assert root.get("viewBox") and root.get("width") is None  # scales with the page
        assert root.get("aria-label") == chart.alt_text
        assert "style=" not in chart.svg and "<style" not in chart.svg and "<script" not in chart.svg
        ids += [e.get("id") or "" for e in root.iter() if e.get("id")]
        for reference in re.findall(r'(?:url\(#|href="#)([^)"]+)', chart.svg):
            assert reference in ids  # every clip path or marker refers to an id of the same chart
    assert len(ids) == len(set(ids))  # no two charts share an id

    storage = texts(charts["storage_by_library"].svg)
    assert HOSTILE_LIBRARY[:27] in " ".join(storage)  # drawn as typed: escaped, not parsed as maths
    assert "size (GiB)" in storage and "Films" in storage
    assert charts["storage_by_library"].alt_text.endswith(f"with {20 * GIB / GIB:g} GiB.")
    assert "hours watched" in texts(charts["watch_time_by_hour"].svg)
    assert "over 2 requests" in charts["request_turnaround"].alt_text
    assert "titles in the library" in texts(charts["library_growth"].svg)
    assert "3 titles in all" in charts["library_growth"].alt_text


async def test_an_empty_server_gets_no_pictures_but_says_so(
    db_pool: asyncpg.Pool, tool_database: ToolDatabase
) -> None:
    charts = await charts_for(db_pool, tool_database)
    assert [c.svg for c in charts.values()] == [""] * 5


async def test_charts_are_drawn_once_per_data_version_and_redrawn_behind_the_page(
    db_pool: asyncpg.Pool, seeded: Seeded, tool_database: ToolDatabase
) -> None:
    charts = PageCharts(db_pool, tool_database, build_catalogue(), ZONE)
    first = await charts.charts(30, None)
    again = await charts.charts(30, None)
    assert charts.drawn == 1 and again is first

    # New data: the view gets the charts it has at once, and one redraw runs in the background.
    await db_pool.execute(
        "INSERT INTO webhook_log (source, event_type, status) VALUES ('plex', 'media.stop', 'processed')"
    )
    stale = [await charts.charts(30, None) for _ in range(3)]
    assert all(s is first for s in stale)
    await charts.settle()
    fresh = await charts.charts(30, None)
    assert charts.drawn == 2 and fresh is not first
    await charts.charts(7, seeded.admin)  # another period: drawn for it
    assert charts.drawn == 3


async def test_the_page_shows_the_charts_inline(
    db_pool: asyncpg.Pool, seeded: Seeded, server: RunningServer
) -> None:
    async with db_pool.acquire() as conn:
        token = await insights_access.issue_sign_in_link(conn, user_id=seeded.admin, actor="root (discord)")
    async with aiohttp.ClientSession(base_url(server), cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(insights_access.SIGN_IN_PATH, data={"token": token}) as signed_in:
            assert signed_in.status == 200
        async with http.get(insights_access.PAGE_PATH) as page:
            html = await page.text()
            csp = page.headers["Content-Security-Policy"]

    assert "script-src" not in csp and "style-src 'self'" in csp
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 5
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    for key in (
        "watch-time-by-hour",
        "watch-time",
        "library-growth",
        "storage-by-library",
        "request-turnaround",
    ):
        assert f'id="chart-{key}"' in html


class BrokenCharts(PageCharts):
    async def charts(self, days: int, admin: UUID | None) -> list[page_charts.PageChart]:
        raise asyncpg.PostgresConnectionError("connection lost")


async def test_charts_that_cannot_be_read_leave_the_rest_of_the_page(
    db_pool: asyncpg.Pool, seeded: Seeded, tool_database: ToolDatabase
) -> None:
    charts = BrokenCharts(db_pool, tool_database, build_catalogue(), ZONE)
    app = build_app(db_pool, WebhookConfig(), InsightsPageConfig(), charts=charts)
    server = await start_http_server(app, "127.0.0.1", 0)
    try:
        async with db_pool.acquire() as conn:
            token = await insights_access.issue_sign_in_link(
                conn, user_id=seeded.admin, actor="root (discord)"
            )
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(base_url(server), cookie_jar=jar) as http:
            async with http.post(insights_access.SIGN_IN_PATH, data={"token": token}) as page:
                html = await page.text()
                assert page.status == 200
    finally:
        await server.stop()
    assert 'id="queue"' in html and 'id="charts"' not in html
