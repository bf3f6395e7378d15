"""Charts for chat answers: a PNG drawn from the ``ToolResult`` an answer was built on.

Only results where a picture says it better get one: plays by hour and weekday
(``watch_time_by_hour``), watch time over months (``watch_time`` over more than
one month), library growth, storage by library and request turnaround. The
chart repeats what the text answer says; the text stays complete without it.

Drawing takes tens of milliseconds of CPU, so ``chart_for`` runs it in a worker
thread: the event loop never waits on it. The figures themselves are in
``core.chart_figures``, imported on the first chart only (matplotlib is heavy,
and a bot with charts off never needs it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from core.chat import ChartImage
from core.tools.base import ToolResult

log = logging.getLogger(__name__)

# The tools core.chart_figures draws (a test keeps the two in step).
CHARTED_TOOLS = frozenset(
    {"watch_time_by_hour", "watch_time", "library_growth", "storage_by_library", "request_turnaround"}
)


def render_chart(result: ToolResult) -> ChartImage | None:
    """Draw and encode a chart (blocking: call it from a worker thread)."""
    from core import chart_figures  # matplotlib: only once a chart is wanted

    chart = chart_figures.chart_figure(result)
    if chart is None:
        return None
    return ChartImage(chart_figures.png_bytes(chart), chart.alt_text, chart.filename)


async def chart_for(results: Iterable[ToolResult | None]) -> ChartImage | None:
    """The chart of the last charted result an answer used, drawn off the event loop.

    A chart is a nicety next to a complete text answer: a failure to draw is logged and costs
    only the picture.
    """
    charted = [r for r in results if r is not None and r.tool in CHARTED_TOOLS and not r.is_empty]
    if not charted:
        return None
    try:
        return await asyncio.to_thread(render_chart, charted[-1])
    except Exception:
        log.exception("could not draw the %s chart", charted[-1].tool)
        return None
