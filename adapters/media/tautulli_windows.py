"""Date windows for reading a large Tautulli history in calls that are each cheap for Tautulli.

Tautulli's ``get_history`` loads every row its filter matches into Python and
only then cuts out the page asked for, so paging a whole history costs the
whole history on every call. Its ``after``/``before`` filters, though, run in
SQL, on the server's local day and both inclusive (``day >= after``,
``day <= before``). A first sync therefore walks the history in windows of
consecutive local days, each sized from Tautulli's own per-day counts
(``get_plays_by_date``) to hold about one page, and fetches each whole.

The windows tile the days exactly: each one starts the day after the previous
one ends, the first has no ``after`` and the last no ``before``, so a play on a
day the counts did not cover still falls in one, and only one. The counts only
size the windows. The day a window reads up to is its cursor: an interrupted
first sync resumes from the day after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DayWindow:
    """Local days ``first <= day <= last`` (an unset bound is open); ``plays``: how many Tautulli counted in it."""

    first: date | None
    last: date | None
    plays: int = 0

    def query(self) -> dict[str, str]:
        bounds = {"after": self.first, "before": self.last}
        return {name: day.isoformat() for name, day in bounds.items() if day is not None}


def plan_windows(days: Sequence[tuple[date, int]], plays_per_window: int, first: date | None) -> list[DayWindow]:
    """Windows over the days from ``first`` on (None: from the beginning), each of at most ``plays_per_window`` plays.

    ``days`` are (local day, plays that day) in any order; a day busier than a
    window gets a window of its own.
    """
    windows: list[DayWindow] = []
    start, in_window = first, 0
    for day, plays in sorted(d for d in days if first is None or d[0] >= first):
        if in_window and in_window + plays > plays_per_window:
            windows.append(DayWindow(start, day - ONE_DAY, in_window))
            start, in_window = day, 0
        in_window += plays
    windows.append(DayWindow(start, None, in_window))
    return windows
