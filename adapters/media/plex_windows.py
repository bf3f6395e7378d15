"""Windows of ``viewedAt`` for reading a large Plex history in calls that stay cheap for Plex.

Plex sorts and pages ``/status/sessions/history/all`` in its SQLite database:
a page deep into a million views costs Plex the whole offset. Its ``viewedAt``
filter (unix seconds) runs on the index instead, so a first sync walks the
history in windows of time, ``viewedAt>=first`` and ``viewedAt<=last`` (both
inclusive), each read with container paging (``X-Plex-Container-Start/Size``)
that never goes deeper than one window.

Plex gives no per-day counts, so two one-entry probes (oldest and newest view
from the start) and the total it reports size the windows: equal spans of
time that would each hold ``per_window`` views if views were spread evenly. A
busy span only makes its window longer to page through. The windows tile the
seconds exactly (each starts the second after the previous one ends; the last
is open), so every view falls in one and only one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ViewedWindow:
    """Views with ``first <= viewedAt <= last`` (``last`` None: no upper bound)."""

    first: int
    last: int | None = None

    def query(self) -> dict[str, str]:
        # Plex reads the operator from the query string literally: "viewedAt>=N", "viewedAt<=N".
        bounds = {"viewedAt>": f"={self.first}"}
        if self.last is not None:
            bounds["viewedAt<"] = f"={self.last}"
        return bounds


def plan_windows(first: int, oldest: int, newest: int, total: int, per_window: int) -> list[ViewedWindow]:
    """Windows from ``first`` on, over views from ``oldest`` to ``newest``, about ``per_window`` views each."""
    start = max(first, oldest)
    count = -(-total // max(per_window, 1))
    if count <= 1 or newest <= start:
        return [ViewedWindow(first)]
    span = max(1, -(-(newest - start + 1) // count))
    windows = [ViewedWindow(first, start + span - 1)]
    start += span
    while start + span <= newest:
        windows.append(ViewedWindow(start, start + span - 1))
        start += span
    windows.append(ViewedWindow(start))
    return windows
