"""How tools read start/end: a date is a whole day, a date-time is a moment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from core.scope import Scope
from core.tools.base import ToolResult
from core.tools.periods import PeriodParams, resolve_period
from core.tools.phrasing import in_period, in_period_opening

BERLIN = Scope(uuid4(), "bob", "user", "personal", ZoneInfo("Europe/Berlin"))


def test_a_midnight_date_time_stays_an_exclusive_moment() -> None:
    params = PeriodParams.model_validate(
        {"start": "2025-12-24T00:00:00+01:00", "end": "2025-12-27T00:00:00+01:00"}
    )
    period = resolve_period(BERLIN, params.start, params.end, "all_time")
    assert period.end == datetime(2025, 12, 26, 23, 0, tzinfo=UTC)
    assert period.label == "24–26 Dec 2025"


def test_a_plain_date_end_covers_that_whole_day() -> None:
    params = PeriodParams.model_validate({"start": "2025-12-25", "end": "2025-12-25"})
    assert params.start == date(2025, 12, 25)
    period = resolve_period(BERLIN, params.start, params.end, "all_time")
    assert period.start == datetime(2025, 12, 24, 23, 0, tzinfo=UTC)
    assert period.end == datetime(2025, 12, 25, 23, 0, tzinfo=UTC)


def test_nonsense_dates_are_refused_with_a_readable_message() -> None:
    with pytest.raises(ValidationError, match="not a date"):
        PeriodParams.model_validate({"start": "last tuesday-ish"})


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        ("2025-12-25", "2025-12-25", "25 Dec 2025"),
        ("2025-12-24", "2025-12-26", "24–26 Dec 2025"),
        ("2026-11-01", "2026-11-30", "1–30 Nov 2026"),
        ("2025-11-28", "2025-12-02", "28 Nov – 2 Dec 2025"),
        ("2025-12-30", "2026-01-02", "30 Dec 2025 – 2 Jan 2026"),
        ("2026-11-01", "2026-12-01T07:53:00+01:00", "1 Nov – 1 Dec 2026, 07:53"),
        ("2026-11-01T07:53:00+01:00", "2026-12-01T07:53:00+01:00", "1 Nov – 1 Dec 2026"),
        ("2026-12-01T06:30:00+01:00", "2026-12-01T07:53:00+01:00", "1 Dec 2026, 06:30 – 1 Dec 2026, 07:53"),
    ],
)
def test_a_range_is_labelled_as_people_write_it(start: str, end: str, label: str) -> None:
    params = PeriodParams.model_validate({"start": start, "end": end})
    assert resolve_period(BERLIN, params.start, params.end, "all_time").label == label


@pytest.mark.parametrize(
    ("label", "follows_a_verb", "opens_a_sentence"),
    [
        ("today", "today", "Today"),
        ("this month", "this month", "This month"),
        ("all time", "so far", "So far"),
        ("the last 7 days", "in the last 7 days", "In the last 7 days"),
        ("24–26 Dec 2025", "in 24–26 Dec 2025", "In 24–26 Dec 2025"),
        ("1 Dec 2026", "on 1 Dec 2026", "On 1 Dec 2026"),
    ],
)
def test_a_period_reads_naturally_in_a_sentence(label: str, follows_a_verb: str, opens_a_sentence: str) -> None:
    result = ToolResult(tool="watch_time", params={}, summary={"period": {"label": label}})
    assert (in_period(result), in_period_opening(result)) == (follows_a_verb, opens_a_sentence)
