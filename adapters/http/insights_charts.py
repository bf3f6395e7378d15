"""Inline SVG charts for the insights page, drawn on the server (no JavaScript, no images to fetch).

Colours come from CSS classes (``series-0``…), so the charts follow the page's
light or dark scheme. Every text that comes from the database is escaped.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from core.insights_page import EngineCalibration

SERIES_CLASSES = 4
_W, _H = 340, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 12, 12, 36


def _x(value: float) -> float:
    return _LEFT + value * (_W - _LEFT - _RIGHT)


def _y(value: float) -> float:
    return _H - _BOTTOM - value * (_H - _TOP - _BOTTOM)


def bar_percent(share: float, css_class: str = "bar") -> Markup:
    """A tiny horizontal bar for a share in 0..1, sized with attributes (the page allows no inline styles)."""
    width = max(0.0, min(1.0, share)) * 100
    return Markup(
        '<svg class="minibar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">'
        '<rect class="track" width="100" height="6"></rect>'
        f'<rect class="{escape(css_class)}" width="{width:.1f}" height="6"></rect></svg>'
    )


def _axes(x_label: str, y_label: str) -> list[str]:
    parts = [f'<rect class="plot" x="{_LEFT}" y="{_TOP}" width="{_W - _LEFT - _RIGHT}" height="{_H - _TOP - _BOTTOM}"></rect>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line class="gridline" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_y(tick):.1f}" y2="{_y(tick):.1f}"></line>')
        parts.append(f'<text class="tick" x="{_LEFT - 4}" y="{_y(tick) + 3:.1f}" text-anchor="end">{tick:.0%}</text>')
        parts.append(f'<text class="tick" x="{_x(tick):.1f}" y="{_H - _BOTTOM + 13}" text-anchor="middle">{tick:.2g}</text>')
    parts.append(f'<text class="label" x="{(_LEFT + _W - _RIGHT) / 2}" y="{_H - 4}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(
        f'<text class="label" x="10" y="{(_TOP + _H - _BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 10 {(_TOP + _H - _BOTTOM) / 2})">{escape(y_label)}</text>'
    )
    return parts


def calibration_chart(engines: list[EngineCalibration]) -> Markup:
    """Reliability diagram: confidence bucket (x) against the share of answers not reported wrong (y).

    A well-calibrated engine follows the dashed diagonal; a dot's size grows with its answers.
    """
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-labelledby="calibration-title">',
        '<title id="calibration-title">Reliability: confidence against share of answers not reported wrong</title>',
        *_axes("confidence the engine gave", "not reported wrong"),
        f'<line class="ideal" x1="{_x(0):.1f}" y1="{_y(0):.1f}" x2="{_x(1):.1f}" y2="{_y(1):.1f}"></line>',
    ]
    for index, engine in enumerate(engines):
        css = f"series-{index % SERIES_CLASSES}"
        points = [(_x(b.low + 0.05), _y(b.share_not_wrong), b) for b in engine.buckets if b.answers]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            parts.append(f'<polyline class="line {css}" points="{path}"></polyline>')
        most = max((b.answers for _, _, b in points), default=1)
        for x, y, bucket in points:
            radius = 2.5 + 3.5 * (bucket.answers / most) ** 0.5
            parts.append(
                f'<circle class="dot {css}" cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}"><title>'
                f"{escape(engine.engine)}: confidence {bucket.low:.1f}–{bucket.low + 0.1:.1f}, "
                f"{bucket.answers} answers, {bucket.share_not_wrong:.0%} not reported wrong</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def confidence_vs_success_chart(engines: list[EngineCalibration]) -> Markup:
    """Per engine, two bars: the mean confidence it gave and the share of its answers not reported wrong."""
    row_height, label_width, width = 44, 90, _W
    height = max(1, len(engines)) * row_height + 10
    bar_space = width - label_width - 50
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="cvs-title">',
        '<title id="cvs-title">Mean confidence against success rate, per engine</title>',
    ]
    for index, engine in enumerate(engines):
        top = 6 + index * row_height
        parts.append(f'<text class="label" x="0" y="{top + 18}">{escape(engine.engine[:14])}</text>')
        for offset, value, css, name in (
            (0, engine.mean_confidence, "confidence", "mean confidence"),
            (18, engine.success_rate, "success", "not reported wrong"),
        ):
            length = max(0.0, min(1.0, value)) * bar_space
            parts.append(
                f'<rect class="{css}" x="{label_width}" y="{top + offset}" width="{length:.1f}" height="14">'
                f"<title>{escape(engine.engine)}: {name} {value:.0%}</title></rect>"
                f'<text class="tick" x="{label_width + length + 4:.1f}" y="{top + offset + 11}">{value:.0%}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
