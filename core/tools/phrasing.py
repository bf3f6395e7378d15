"""Small wording helpers shared by the tools' ``render`` functions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from core.tools.base import ToolResult


def hours(seconds: float | int | None) -> str:
    value = (seconds or 0) / 3600
    if value < 1:
        return f"{round((seconds or 0) / 60)} minutes"
    return f"{value:.1f} hours"


def size(num_bytes: float | int | None) -> str:
    value = float(num_bytes or 0)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PB"


def plural(count: int | float, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def listing(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def title_of(row: dict[str, Any]) -> str:
    year = row.get("year")
    return f"{row['title']} ({year})" if year else str(row["title"])


def with_gaps(text: str, result: ToolResult) -> str:
    """Append the coverage gaps as one short note."""
    if not result.coverage.gaps:
        return text
    return f"{text}\n\nNote: " + " ".join(gap.rstrip(".") + "." for gap in result.coverage.gaps)


def period_label(result: ToolResult) -> str:
    period = result.summary.get("period")
    return str(period["label"]) if isinstance(period, dict) else "the period"


# Labels that already say when, and need no "in" before them ("today", not "in today").
_SELF_STANDING = ("today", "yesterday", "this ", "last week", "last month", "last year")
# One whole day as ``core.tools.periods.range_label`` writes it: "1 Dec 2026".
_ONE_DAY = re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}")


def in_period(result: ToolResult) -> str:
    """The period as it follows a verb: "today", "this month", "so far", "in the last 7 days"."""
    label = period_label(result)
    if label.startswith(_SELF_STANDING):
        return label
    if label == "all time":
        return "so far"
    if _ONE_DAY.fullmatch(label):
        return f"on {label}"
    return f"in {label}"


def in_period_opening(result: ToolResult) -> str:
    """``in_period`` to start a sentence: "Today", "So far", "In the last 7 days"."""
    phrase = in_period(result)
    return phrase[0].upper() + phrase[1:]
