"""Chat charts drawn from known tool results: axes, bar counts and heights read from the figures, not pixels."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from typing import Any

import pytest
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from core import chart_figures, charts
from core.tools.base import Coverage, ToolResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def result(tool: str, rows: list[dict[str, Any]], summary: dict[str, Any]) -> ToolResult:
    return ToolResult(tool, {}, rows, Coverage(), summary)


def bars(axes: Axes) -> list[Rectangle]:
    return [patch for patch in axes.patches if isinstance(patch, Rectangle)]


def heights(axes: Axes) -> list[float]:
    return [round(bar.get_height(), 2) for bar in bars(axes)]


def widths(axes: Axes) -> list[float]:
    return [round(bar.get_width(), 2) for bar in bars(axes)]


def tick_labels(labels: list[Any]) -> list[str]:
    return [label.get_text() for label in labels]


BY_HOUR = result(
    "watch_time_by_hour",
    [
        {"hour": 5, "sessions": 3, "watched_seconds": 14880},
        {"hour": 6, "sessions": 3, "watched_seconds": 3960},
        {"hour": 21, "sessions": 1, "watched_seconds": 2000},
    ],
    {
        "timezone": "Asia/Tokyo",
        "peak_hour": 5,
        "busiest_weekday": "Sunday",
        "sessions_by_weekday": [{"weekday": "Tuesday", "sessions": 2}, {"weekday": "Sunday", "sessions": 5}],
    },
)


def test_when_you_watch_has_24_hour_bars_and_7_weekday_bars() -> None:
    chart = chart_figures.chart_figure(BY_HOUR)
    assert chart is not None
    hours_axes, days_axes = chart.figure.axes
    assert len(bars(hours_axes)) == 24
    expected = [0.0] * 24
    expected[5], expected[6], expected[21] = 4.13, 1.1, 0.56
    assert heights(hours_axes) == expected
    assert hours_axes.get_xlabel() == "hour of the day (Asia/Tokyo)"
    assert hours_axes.get_ylabel() == "hours watched"
    assert heights(days_axes) == [0, 2, 0, 0, 0, 0, 5]
    assert tick_labels(days_axes.get_xticklabels()) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert days_axes.get_ylabel() == "plays"
    assert "05:00" in chart.alt_text and "Sunday" in chart.alt_text


def test_watch_time_over_months_draws_one_bar_a_month_and_none_for_a_single_month() -> None:
    months = [
        {"month": "2026-01", "sessions": 4, "watched_seconds": 7200},
        {"month": "2026-02", "sessions": 1, "watched_seconds": 1800},
        {"month": "2026-03", "sessions": 9, "watched_seconds": 36000},
    ]
    chart = chart_figures.chart_figure(result("watch_time", [], {"sessions": 14, "by_month": months}))
    assert chart is not None
    (axes,) = chart.figure.axes
    assert heights(axes) == [2.0, 0.5, 10.0]
    assert tick_labels(axes.get_xticklabels()) == ["2026-01", "2026-02", "2026-03"]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("month", "hours watched")
    assert "2026-03 (10 hours)" in chart.alt_text
    assert (
        chart_figures.chart_figure(result("watch_time", [], {"sessions": 4, "by_month": months[:1]})) is None
    )


def test_library_growth_stacks_movies_and_shows_and_draws_the_library_size() -> None:
    rows = [
        {"month": "2026-01", "movies": 3, "shows": 1, "episodes": 10, "bytes_added": 0},
        {"month": "2026-02", "movies": 0, "shows": 2, "episodes": 0, "bytes_added": 0},
    ]
    chart = chart_figures.chart_figure(result("library_growth", rows, {"titles_before": 100}))
    assert chart is not None
    axes, library_axes = chart.figure.axes
    # Movies first, then shows stacked on top of them.
    assert heights(axes) == [3, 0, 1, 2]
    assert [bar.get_y() for bar in bars(axes)] == [0, 0, 3, 0]
    (line,) = library_axes.get_lines()
    assert list(line.get_ydata()) == [104, 106]
    assert axes.get_ylabel() == "titles added" and library_axes.get_ylabel() == "titles in the library"
    assert "from 100 to 106" in chart.alt_text


def test_storage_by_library_draws_gibibytes_largest_at_the_top_with_names_as_typed() -> None:
    rows = [
        {"library_name": "Movies", "size_bytes": 3 * 1024**3, "files": 3, "files_with_size": 3},
        {"library_name": "$\\notacommand{x}$ <b>", "size_bytes": 1024**3 // 2, "files": 1, "files_with_size": 1},
    ]
    chart = chart_figures.chart_figure(result("storage_by_library", rows, {"size_bytes": 0}))
    assert chart is not None
    (axes,) = chart.figure.axes
    assert widths(axes) == [0.5, 3.0]  # barh: the first bar is the lowest
    labels = axes.get_yticklabels()
    assert tick_labels(labels) == ["$\\notacommand{x}$ <b>", "Movies"]
    assert not any(label.get_parse_math() for label in labels)
    assert axes.get_xlabel() == "size (GiB)"
    # A name that would be mathtext (and an error) is drawn as text.
    assert chart_figures.png_bytes(chart).startswith(PNG_SIGNATURE)


def test_a_long_library_name_is_shortened() -> None:
    rows = [{"library_name": "A" * 200, "size_bytes": 10, "files": 1, "files_with_size": 1}]
    chart = chart_figures.chart_figure(result("storage_by_library", rows, {}))
    assert chart is not None
    (label,) = tick_labels(chart.figure.axes[0].get_yticklabels())
    assert len(label) == chart_figures.MAX_LABEL_CHARS and label.endswith("…")


def test_request_turnaround_in_days_with_the_askers_own_next_to_the_servers() -> None:
    server = {
        "requests": 12,
        "median_hours_to_approve": 24.0,
        "avg_hours_to_approve": 48.0,
        "median_hours_to_available": 72.0,
        "avg_hours_to_available": 96.0,
    }
    mine = {"requests": 2, "median_hours_to_available": 48.0, "avg_hours_to_available": 60.0}
    chart = chart_figures.chart_figure(result("request_turnaround", [], {"server": server, "mine": mine}))
    assert chart is not None
    (axes,) = chart.figure.axes
    assert axes.get_xlabel() == "days"
    assert widths(axes) == [1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 2.0, 2.5]
    assert tick_labels(axes.get_yticklabels()) == [
        "median to approval",
        "average to approval",
        "median to available",
        "average to available",
    ]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["server", "your requests"]
    assert "3.0 days" in chart.alt_text


def test_request_turnaround_under_two_days_is_in_hours_and_nothing_without_requests() -> None:
    server = {"requests": 3, "median_hours_to_approve": 2.0, "avg_hours_to_approve": 3.0,
              "median_hours_to_available": None, "avg_hours_to_available": None}  # fmt: skip
    chart = chart_figures.chart_figure(result("request_turnaround", [], {"server": server}))
    assert chart is not None
    (axes,) = chart.figure.axes
    assert axes.get_xlabel() == "hours"
    assert widths(axes) == [2.0, 3.0]
    assert chart_figures.chart_figure(result("request_turnaround", [], {"server": {"requests": 0}})) is None


def test_tools_without_a_chart_and_empty_results_get_none() -> None:
    assert chart_figures.chart_figure(result("average_rating", [{"x": 1}], {"ratings": 3})) is None
    assert chart_figures.chart_figure(result("storage_by_library", [], {})) is None
    assert chart_figures.chart_figure(result("watch_time_by_hour", [], {"timezone": "UTC"})) is None


async def test_chart_for_draws_the_last_charted_result_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[threading.Thread] = []
    draw = charts.render_chart

    def recording(found: ToolResult) -> Any:
        threads.append(threading.current_thread())
        return draw(found)

    monkeypatch.setattr(charts, "render_chart", recording)
    storage = result("storage_by_library", [{"library_name": "TV", "size_bytes": 5, "files": 1,
                                             "files_with_size": 1}], {"size_bytes": 5})  # fmt: skip
    image = await charts.chart_for([BY_HOUR, None, storage, result("average_rating", [{"x": 1}], {})])
    assert image is not None
    assert image.filename == "storage-by-library.png"
    assert image.png.startswith(PNG_SIGNATURE)
    assert image.alt_text.startswith("Horizontal bar chart of the storage used by 1 library;")
    assert threads and threads[0] is not threading.main_thread()
    assert await charts.chart_for([result("average_rating", [{"x": 1}], {})]) is None


async def test_a_chart_that_fails_to_draw_costs_only_the_picture(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(found: ToolResult) -> Any:
        raise ValueError("no fonts")

    monkeypatch.setattr(charts, "render_chart", broken)
    assert await charts.chart_for([BY_HOUR]) is None
    assert "could not draw the watch_time_by_hour chart" in caplog.text
    await asyncio.sleep(0)


def test_every_charted_tool_has_a_figure_and_only_those() -> None:
    assert set(chart_figures.CHARTS) == charts.CHARTED_TOOLS


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    # About 40 MB and half a second: a bot that never draws a chart never pays for it.
    code = "import sys, core.assistant, bot.wiring; print('matplotlib' in sys.modules)"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert imported.stdout.strip() == "False"
