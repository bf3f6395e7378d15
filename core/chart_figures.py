"""The chat charts as matplotlib figures, one function per charted tool (see ``core.charts``).

matplotlib's object API on the Agg canvas: no pyplot, so no global figure state
and no GUI backend, and safe in a worker thread. Names from the media server
(library names) are hostile input: they are drawn as literal text (no mathtext)
and shortened. Only ``core.charts`` imports this module, on the first chart:
matplotlib costs about 40 MB and half a second to import.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from core.tools.base import ToolResult

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_LABEL_CHARS = 28
MAX_MONTH_LABELS = 12
_SIZE = (8.0, 4.5)
_DPI = 100
_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")
_GIB = 1024**3


@dataclass
class ChartFigure:
    """A drawn figure with what a screen reader (and a chat client's alt text) says about it."""

    figure: Figure
    alt_text: str
    filename: str


def _figure(
    rows: int = 1, *, left: float = 0.09, bottom: float = 0.13, right: float = 0.97
) -> tuple[Figure, list[Axes]]:
    # Fixed margins, sized for each chart's labels: a layout engine would double the drawing time.
    figure = Figure(figsize=_SIZE, dpi=_DPI)
    axes = figure.subplots(rows, 1, squeeze=False)
    figure.subplots_adjust(left=left, bottom=bottom, right=right, top=0.9, hspace=0.55)
    return figure, [row[0] for row in axes]


def _label(text: object) -> str:
    words = " ".join(str(text).split())
    return words if len(words) <= MAX_LABEL_CHARS else words[: MAX_LABEL_CHARS - 1] + "…"


def _literal_tick_labels(axes: Axes) -> None:
    # "$x$" in a library name must be drawn as typed, not parsed as mathtext.
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        label.set_parse_math(False)


def _month_ticks(axes: Axes, months: list[str]) -> None:
    """One label per month, or per 2nd, 3rd… month so that at most 12 are drawn (text is the slow part)."""
    step = -(-len(months) // MAX_MONTH_LABELS)
    shown = range(0, len(months), step)
    axes.set_xticks(list(shown), [months[i] for i in shown], rotation=45, ha="right")


def _hours(seconds: Any) -> float:
    return round(float(seconds or 0) / 3600, 2)


# -- the charts ---------------------------------------------------------------------------------


def watch_times_by_hour_and_weekday(result: ToolResult) -> ChartFigure | None:
    """Hours watched per hour of the day (0–23) and plays per weekday (Monday first)."""
    if not result.rows:
        return None
    by_hour = {int(r["hour"]): _hours(r["watched_seconds"]) for r in result.rows}
    weekdays = {str(r["weekday"]): int(r["sessions"]) for r in result.summary.get("sessions_by_weekday", [])}
    zone = result.summary.get("timezone", "UTC")
    figure, (hours_axes, days_axes) = _figure(2, bottom=0.11)
    hours_axes.bar(range(24), [by_hour.get(hour, 0.0) for hour in range(24)], color=_COLOURS[0])
    hours_axes.set_xticks(range(0, 24, 3), [f"{hour:02d}:00" for hour in range(0, 24, 3)])
    hours_axes.set_xlabel(f"hour of the day ({zone})")
    hours_axes.set_ylabel("hours watched")
    days_axes.bar(range(7), [weekdays.get(day, 0) for day in WEEKDAYS], color=_COLOURS[1])
    days_axes.set_xticks(range(7), [day[:3] for day in WEEKDAYS])
    days_axes.set_xlabel("day of the week")
    days_axes.set_ylabel("plays")
    figure.suptitle("When you watch")
    peak = result.summary.get("peak_hour")
    alt = "Bar charts of hours watched per hour of the day and plays per weekday"
    if peak is not None:
        alt += f"; the most around {int(peak):02d}:00"
    if result.summary.get("busiest_weekday"):
        alt += f", busiest on {result.summary['busiest_weekday']}"
    return ChartFigure(figure, alt + ".", "when-you-watch.png")


def watch_time_by_month(result: ToolResult) -> ChartFigure | None:
    """Hours watched per month; only for a period of two months or more (one bar says nothing)."""
    months = result.summary.get("by_month") or []
    if len(months) < 2:
        return None
    figure, (axes,) = _figure(bottom=0.22)
    axes.bar(range(len(months)), [_hours(m["watched_seconds"]) for m in months], color=_COLOURS[0])
    _month_ticks(axes, [str(m["month"]) for m in months])
    axes.set_xlabel("month")
    axes.set_ylabel("hours watched")
    axes.set_title("Watch time by month")
    busiest = max(months, key=lambda m: m["watched_seconds"])
    alt = (
        f"Bar chart of hours watched in each of {len(months)} months, from {months[0]['month']} to "
        f"{months[-1]['month']}; the most in {busiest['month']} ({_hours(busiest['watched_seconds']):g} hours)."
    )
    return ChartFigure(figure, alt, "watch-time-by-month.png")


def library_growth(result: ToolResult) -> ChartFigure | None:
    """Movies and shows added per month (stacked bars) and the titles in the library (line)."""
    if not result.rows:
        return None
    months = [str(r["month"]) for r in result.rows]
    movies = [int(r["movies"]) for r in result.rows]
    shows = [int(r["shows"]) for r in result.rows]
    figure, (axes,) = _figure(bottom=0.22, right=0.9)
    positions = range(len(months))
    axes.bar(positions, movies, color=_COLOURS[0], label="movies added")
    axes.bar(positions, shows, bottom=movies, color=_COLOURS[1], label="shows added")
    _month_ticks(axes, months)
    axes.set_xlabel("month")
    axes.set_ylabel("titles added")
    total = int(result.summary.get("titles_before") or 0)
    in_library: list[int] = []
    for added_movies, added_shows in zip(movies, shows, strict=True):
        total += added_movies + added_shows
        in_library.append(total)
    library_axes = axes.twinx()
    library_axes.plot(positions, in_library, color=_COLOURS[2], marker="o", label="titles in the library")
    library_axes.set_ylabel("titles in the library")
    library_axes.set_ylim(bottom=0)
    handles = axes.get_legend_handles_labels()[0] + library_axes.get_legend_handles_labels()[0]
    axes.legend(handles=handles, loc="upper left", fontsize="small")
    axes.set_title("Library growth")
    alt = (
        f"Bar chart of movies and shows added per month from {months[0]} to {months[-1]}, "
        f"{sum(movies) + sum(shows)} titles in all, with a line of the titles in the library "
        f"(from {in_library[0] - movies[0] - shows[0]} to {in_library[-1]})."
    )
    return ChartFigure(figure, alt, "library-growth.png")


def storage_by_library(result: ToolResult) -> ChartFigure | None:
    """Gigabytes per library, largest at the top."""
    if not result.rows:
        return None
    rows = sorted(result.rows, key=lambda r: int(r["size_bytes"]))  # barh draws the first at the bottom
    names = [_label(r["library_name"]) for r in rows]
    sizes = [round(int(r["size_bytes"]) / _GIB, 2) for r in rows]
    figure, (axes,) = _figure(left=0.3)
    axes.barh(range(len(rows)), sizes, color=_COLOURS[0])
    axes.set_yticks(range(len(rows)), names)
    _literal_tick_labels(axes)
    axes.set_xlabel("size (GiB)")
    axes.set_ylabel("library")
    axes.set_title("Storage by library")
    largest = rows[-1]
    alt = (
        f"Horizontal bar chart of the storage used by {len(rows)} "
        f"{'library' if len(rows) == 1 else 'libraries'}; the largest is "
        f"{_label(largest['library_name'])} with {sizes[-1]:g} GiB."
    )
    return ChartFigure(figure, alt, "storage-by-library.png")


_TURNAROUND_BARS = (
    ("median to approval", "median_hours_to_approve"),
    ("average to approval", "avg_hours_to_approve"),
    ("median to available", "median_hours_to_available"),
    ("average to available", "avg_hours_to_available"),
)


def request_turnaround(result: ToolResult) -> ChartFigure | None:
    """Hours (or days) from request to approval and to available: the server's, and the asker's own."""
    server = result.summary.get("server") or {}
    if not server.get("requests"):
        return None
    series: list[tuple[str, dict[str, Any]]] = [("server", server)]
    mine = result.summary.get("mine")
    if mine and mine.get("requests"):
        series.append(("your requests", mine))
    measured = [
        (label, key) for label, key in _TURNAROUND_BARS if any(s.get(key) is not None for _, s in series)
    ]
    if not measured:
        return None
    longest = max(float(s.get(key) or 0) for _, s in series for _, key in measured)
    in_days = longest >= 48
    unit, divisor = ("days", 24.0) if in_days else ("hours", 1.0)
    figure, (axes,) = _figure(left=0.25)
    height = 0.8 / len(series)
    for index, (name, values) in enumerate(series):
        positions = [row + index * height for row in range(len(measured))]
        widths = [round(float(values.get(key) or 0) / divisor, 2) for _, key in measured]
        axes.barh(positions, widths, height=height, color=_COLOURS[index], label=name)
    axes.set_yticks([row + height * (len(series) - 1) / 2 for row in range(len(measured))])
    axes.set_yticklabels([label for label, _ in measured])
    axes.invert_yaxis()  # the first measure at the top, as in the text
    axes.set_xlabel(unit)
    axes.set_ylabel("from request")
    if len(series) > 1:
        axes.legend(fontsize="small")
    axes.set_title("Request turnaround")
    median = server.get("median_hours_to_available")
    alt = f"Horizontal bar chart of request turnaround in {unit} over {server['requests']} requests"
    if median is not None:
        alt += f"; a median of {float(median) / divisor:.1f} {unit} to become available"
    return ChartFigure(figure, alt + ".", "request-turnaround.png")


CHARTS: dict[str, Callable[[ToolResult], ChartFigure | None]] = {
    "watch_time_by_hour": watch_times_by_hour_and_weekday,
    "watch_time": watch_time_by_month,
    "library_growth": library_growth,
    "storage_by_library": storage_by_library,
    "request_turnaround": request_turnaround,
}


# -- rendering ----------------------------------------------------------------------------------


def chart_figure(result: ToolResult) -> ChartFigure | None:
    """The figure for a result, or None when its tool has no chart or there is nothing to draw."""
    draw = CHARTS.get(result.tool)
    return draw(result) if draw is not None else None


def png_bytes(chart: ChartFigure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(chart.figure).print_png(buffer)
    return buffer.getvalue()


# -- inline SVG for the insights page ----------------------------------------------------------------

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", _SVG)
ET.register_namespace("xlink", _XLINK)
# Text as <text> (selectable, small, in the page's font), not as glyph paths; only SVG output reads these.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["svg.hashsalt"] = "marquee"
# The page's stylesheet recolours what matplotlib drew in these, for light and dark: the drawing colours
# stay as attributes (a fallback), and a class names what each one is.
_FOREGROUND = "#000000"
_BACKGROUND = "#ffffff"
_SERIES = {colour: index for index, colour in enumerate(_COLOURS)}
_PRESENTATION = {
    "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-linejoin", "stroke-linecap",
    "stroke-dasharray", "stroke-dashoffset", "stroke-miterlimit", "opacity", "text-anchor", "font-size",
    "font-family", "font-weight", "font-style", "clip-path", "dominant-baseline",
}
_FONT = re.compile(r"^(?:(?P<style>italic|oblique|normal)\s+)?(?:(?P<weight>bold|normal|\d{3})\s+)?(?P<size>[\d.]+)px")
_PAGE_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def _classes_for(prop: str, value: str) -> list[str]:
    colour = value.lower()
    if colour == _FOREGROUND:
        return [f"fg-{prop}"]
    if colour == _BACKGROUND:
        return [f"bg-{prop}"]
    if colour in _SERIES:
        return [f"s{_SERIES[colour]}-{prop}"]
    return []


def _presentation_attributes(element: ET.Element) -> None:
    """``style="fill: #000"`` becomes ``fill="#000"`` (a strict CSP blocks style attributes, not these)."""
    style = element.attrib.pop("style", "")
    classes = element.get("class", "").split()
    for declaration in style.split(";"):
        if ":" not in declaration:
            continue
        prop, value = (part.strip() for part in declaration.split(":", 1))
        if prop == "font":
            font = _FONT.match(value)
            if font:
                element.set("font-size", font["size"])
                if font["weight"] and font["weight"] != "normal":
                    element.set("font-weight", font["weight"])
                if font["style"] and font["style"] != "normal":
                    element.set("font-style", font["style"])
            element.set("font-family", _PAGE_FONT)
        elif prop == "font-family":
            element.set("font-family", _PAGE_FONT)
        elif prop in _PRESENTATION:
            element.set(prop, value)
            if prop in ("fill", "stroke"):
                classes += _classes_for(prop, value)
    if element.tag == f"{{{_SVG}}}text" and "fill" not in element.attrib:
        classes.append("fg-fill")  # matplotlib leaves black text unfilled (SVG's default fill is black)
    if classes:
        element.set("class", " ".join(dict.fromkeys(classes)))


def _prefixed(value: str, prefix: str) -> str:
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m[1]})", value)


def svg_markup(chart: ChartFigure, id_prefix: str) -> str:
    """The figure as an ``<svg>`` element for inline use in a page with a strict Content-Security-Policy.

    No ``<style>`` element, no ``style`` attribute, no script, no metadata: presentation attributes
    plus classes (``fg-fill``, ``bg-fill``, ``s0-fill``…) that the page's stylesheet recolours. Ids get
    ``id_prefix`` so that several charts on one page do not share clip paths. It scales to its
    container (a viewBox, no fixed size) and carries its alt text as ``aria-label`` and ``<title>``.
    """
    buffer = io.StringIO()
    FigureCanvasSVG(chart.figure).print_svg(buffer)
    root = ET.fromstring(buffer.getvalue())
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{_SVG}}}metadata", f"{{{_SVG}}}style", f"{{{_SVG}}}script"):
                parent.remove(child)
    for element in root.iter():
        _presentation_attributes(element)
        if "id" in element.attrib:
            element.set("id", id_prefix + element.attrib["id"])
        for name in ("clip-path", "mask", "fill", "stroke"):
            if name in element.attrib:
                element.set(name, _prefixed(element.attrib[name], id_prefix))
        href = element.attrib.pop(f"{{{_XLINK}}}href", None) or element.attrib.get("href")
        if href is not None:
            element.set("href", "#" + id_prefix + href[1:] if href.startswith("#") else "")
    for name in ("width", "height", "version"):
        root.attrib.pop(name, None)
    root.set("class", "mpl")
    root.set("role", "img")
    root.set("aria-label", chart.alt_text)
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    title = ET.Element(f"{{{_SVG}}}title")
    title.text = chart.alt_text
    root.insert(0, title)
    return ET.tostring(root, encoding="unicode")
