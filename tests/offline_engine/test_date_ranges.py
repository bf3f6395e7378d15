"""Time words in a question become a concrete half-open period, relative to a fixed clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.engines.offline.date_ranges import DateRangeParser

BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday 24 November 2026, evening, in Berlin.
NOW = datetime(2026, 11, 24, 21, 0, tzinfo=BERLIN)


@pytest.fixture(scope="module")
def parser() -> DateRangeParser:
    return DateRangeParser("US")


def day(y: int, m: int, d: int, hour: int = 0) -> datetime:
    return datetime(y, m, d, hour, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("How much have I watched this month?", day(2026, 11, 1), day(2026, 12, 1)),
        ("what did I watch last month", day(2026, 10, 1), day(2026, 11, 1)),
        ("What's new in my library this week?", day(2026, 11, 23), day(2026, 11, 30)),
        ("show my watch history for last week", day(2026, 11, 16), day(2026, 11, 23)),
        ("how many webhooks today?", day(2026, 11, 24), day(2026, 11, 25)),
        ("what did I watch yesterday", day(2026, 11, 23), day(2026, 11, 24)),
        ("what did I watch in March?", day(2026, 3, 1), day(2026, 4, 1)),
        # December has not come yet this year, so it is last year's.
        ("what did I watch in December", day(2025, 12, 1), day(2026, 1, 1)),
        ("what did I watch in 2024", day(2024, 1, 1), day(2025, 1, 1)),
        ("deletions last year", day(2025, 1, 1), day(2026, 1, 1)),
        ("anything since Monday?", day(2026, 11, 23), day(2026, 11, 25)),
        ("since March", day(2026, 3, 1), day(2026, 11, 25)),
        ("What did I watch last Christmas?", day(2025, 12, 24), day(2025, 12, 27)),
        ("what did we watch over Christmas 2024", day(2024, 12, 24), day(2024, 12, 27)),
        ("what did I watch over thanksgiving", day(2025, 11, 26), day(2025, 11, 29)),
        ("movies I watched on Halloween", day(2026, 10, 30), day(2026, 11, 2)),
        ("what did I watch on Valentine's Day", day(2026, 2, 13), day(2026, 2, 16)),
        ("what did I watch over the summer", day(2026, 6, 1), day(2026, 9, 1)),
        ("what did I watch last winter", day(2025, 12, 1), day(2026, 3, 1)),
        ("last weekend", day(2026, 11, 21), day(2026, 11, 23)),
        ("in the last 30 days", day(2026, 10, 25, 21), NOW),
        ("over the past two weeks", day(2026, 11, 10, 21), NOW),
        ("the past few months", day(2026, 8, 24, 21), NOW),
    ],
)
def test_time_words_become_periods(
    parser: DateRangeParser, question: str, start: datetime, end: datetime
) -> None:
    found = parser.find(question, NOW)
    assert found is not None, question
    assert (found.start, found.end) == (start, end)
    assert found.label


@pytest.mark.parametrize(
    "question",
    [
        "What should I watch tonight?",
        "May I see my watch history",
        "Recommend something like March of the Penguins",
        "Which users are most active?",
        "any good christmas movies?",
        "What did I watch on the 3rd",
    ],
)
def test_words_that_are_not_periods_are_left_alone(parser: DateRangeParser, question: str) -> None:
    assert parser.find(question, NOW) is None


def test_last_christmas_on_christmas_day_means_the_year_before(parser: DateRangeParser) -> None:
    christmas = datetime(2026, 12, 25, 20, 0, tzinfo=BERLIN)
    found = parser.find("what did I watch last christmas", christmas)
    assert found is not None and found.start == day(2025, 12, 24)


def test_periods_follow_the_askers_time_zone(parser: DateRangeParser) -> None:
    # 23:30 UTC on 31 October is already 1 November in Berlin.
    late = datetime(2026, 10, 31, 23, 30, tzinfo=ZoneInfo("UTC")).astimezone(BERLIN)
    found = parser.find("how much did I watch this month", late)
    assert found is not None and found.start == day(2026, 11, 1)


def test_holidays_come_from_the_configured_country() -> None:
    british = DateRangeParser("GB")
    found = british.find("what did I watch on boxing day", NOW)
    assert found is not None and found.start == day(2025, 12, 25)
    assert DateRangeParser("US").find("what did I watch on boxing day", NOW) is None


def test_southern_hemisphere_summer_is_december_to_february() -> None:
    found = DateRangeParser("AU", southern_hemisphere=True).find("what did I watch last summer", NOW)
    assert found is not None and (found.start, found.end) == (day(2025, 12, 1), day(2026, 3, 1))


def test_an_unknown_holiday_country_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown holiday country"):
        DateRangeParser("XX")
