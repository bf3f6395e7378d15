"""A first Tautulli sync's date windows: they tile the days exactly and each holds about a page of plays."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from adapters.media.tautulli_windows import DayWindow, plan_windows
from bot.progress import pace

DAY = timedelta(days=1)
START = date(2025, 1, 1)


def days_with(plays: list[int]) -> list[tuple[date, int]]:
    return [(START + n * DAY, count) for n, count in enumerate(plays)]


def test_windows_hold_at_most_a_page_and_leave_no_day_out() -> None:
    windows = plan_windows(days_with([3, 4, 2, 0, 5, 1, 6]), plays_per_window=7, first=None)
    assert windows == [
        DayWindow(None, START + 1 * DAY, 7),
        DayWindow(START + 2 * DAY, START + 4 * DAY, 7),
        DayWindow(START + 5 * DAY, None, 7),
    ]
    # Consecutive: each starts the day after the previous ends; the ends are open.
    for before, after in itertools.pairwise(windows):
        assert before.last is not None and after.first == before.last + DAY


def test_a_day_busier_than_a_page_is_a_window_of_its_own() -> None:
    windows = plan_windows(days_with([2, 50, 2]), plays_per_window=10, first=None)
    assert [w.plays for w in windows] == [2, 50, 2]


def test_a_resumed_sync_plans_from_its_first_unread_day() -> None:
    windows = plan_windows(days_with([5, 5, 5, 5]), plays_per_window=10, first=START + 2 * DAY)
    assert windows == [DayWindow(START + 2 * DAY, None, 10)]
    assert windows[0].query() == {"after": (START + 2 * DAY).isoformat()}


def test_without_counts_the_history_is_one_open_window() -> None:
    assert plan_windows([], plays_per_window=10, first=None) == [DayWindow(None, None, 0)]


def test_progress_tells_the_rate_and_the_time_left() -> None:
    assert pace(1_000, 100_000, 10.0) == "100/s, about 16 min left"
    assert pace(50_000, 60_000, 10.0) == "5,000/s, under a minute left"
    assert pace(1_000, 10_000_000, 1.0) == "1,000/s, about 2.8 h left"
    assert pace(0, 10, 5.0) == ""
