"""Windows of viewedAt for a large Plex history: they tile the seconds, so every view falls in exactly one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.media.plex_windows import ViewedWindow, plan_windows


def window_of(windows: list[ViewedWindow], viewed_at: int) -> list[ViewedWindow]:
    return [w for w in windows if w.first <= viewed_at and (w.last is None or viewed_at <= w.last)]


def test_a_history_within_one_window_is_read_as_one_open_window() -> None:
    assert plan_windows(0, 1_000, 2_000, total=50, per_window=100) == [ViewedWindow(0)]


def test_a_long_history_is_cut_into_equal_spans_with_an_open_last_window() -> None:
    windows = plan_windows(0, 1_000, 1_999, total=400, per_window=100)
    assert windows == [ViewedWindow(0, 1_249), ViewedWindow(1_250, 1_499), ViewedWindow(1_500, 1_749),
                       ViewedWindow(1_750)]  # fmt: skip
    assert windows[0].query() == {"viewedAt>": "=0", "viewedAt<": "=1249"}
    assert windows[-1].query() == {"viewedAt>": "=1750"}


@given(
    first=st.integers(0, 10_000),
    oldest=st.integers(0, 10_000),
    span=st.integers(0, 100_000),
    total=st.integers(1, 10_000),
    per_window=st.integers(1, 1_000),
    views=st.lists(st.integers(0, 200_000), max_size=50),
)
def test_every_view_from_the_start_on_falls_in_exactly_one_window(
    first: int, oldest: int, span: int, total: int, per_window: int, views: list[int]
) -> None:
    windows = plan_windows(first, oldest, oldest + span, total, per_window)
    for viewed_at in views:
        assert len(window_of(windows, viewed_at)) == (1 if viewed_at >= first else 0)
    assert len(windows) <= -(-total // per_window) + 1
