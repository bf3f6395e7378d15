"""Date ranges of tool parameters, read in the asker's time zone.

A tool takes ``start``/``end`` as a date or a datetime. A date means the whole
day in the scope's time zone (``end`` is inclusive: ``end=2025-12-25`` covers
Christmas Day); a datetime without a zone is read in the scope's time zone.
Queries get a half-open UTC range ``[start, end)``.

In admin mode a period always covers whole days of the scope's time zone: its
start moves back to midnight and its end forward to the next midnight. A
narrow window (or the difference of two windows) of title counts next to the
per-user totals of the same window would otherwise say who watched what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, PlainSerializer, PlainValidator, WithJsonSchema

from core.scope import Scope


def _date_or_datetime(value: Any) -> date | datetime:
    """``YYYY-MM-DD`` is a whole day; anything with a time is a moment.

    pydantic's own ``date | datetime`` union reads ``2025-12-27T00:00:00+00:00``
    as the *date* 2025-12-27, which turns an exclusive end moment into an
    inclusive whole day; this keeps the two apart.
    """
    if isinstance(value, date):  # datetime is a subclass of date: both pass as they are
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time")


DateOrDateTime = Annotated[
    date | datetime,
    PlainValidator(_date_or_datetime),
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}
    ),
]

DefaultPeriod = Literal[
    "today",
    "last_24_hours",
    "last_7_days",
    "last_30_days",
    "last_90_days",
    "this_month",
    "last_12_months",
    "all_time",
]

# Far enough back for "all time" without an unbounded range.
_EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


class PeriodParams(BaseModel):
    start: DateOrDateTime | None = Field(
        default=None, description="First day (YYYY-MM-DD) or moment of the period, in the server's time zone."
    )
    end: DateOrDateTime | None = Field(
        default=None, description="Last day (inclusive, YYYY-MM-DD) or moment (exclusive) of the period."
    )


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    label: str

    @property
    def comparable(self) -> bool:
        """Whether the window of the same length just before this one is worth comparing with.

        Not for "all time" (nothing comes before it) nor for spans over a year ("since 1990").
        """
        return self.start - _EPOCH > timedelta(days=1) and self.end - self.start <= timedelta(days=366)

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


def _moment(value: DateOrDateTime, tz: ZoneInfo, *, is_end: bool) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    day = value + timedelta(days=1) if is_end else value
    return datetime.combine(day, time.min, tzinfo=tz)


def _default_start(default: DefaultPeriod, now: datetime) -> tuple[datetime, str]:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if default == "today":
        return midnight, "today"
    if default == "last_24_hours":
        return now - timedelta(hours=24), "the last 24 hours"
    if default == "last_7_days":
        return now - timedelta(days=7), "the last 7 days"
    if default == "last_30_days":
        return now - timedelta(days=30), "the last 30 days"
    if default == "last_90_days":
        return now - timedelta(days=90), "the last 90 days"
    if default == "this_month":
        return midnight.replace(day=1), "this month"
    if default == "last_12_months":
        return now - timedelta(days=365), "the last 12 months"
    return _EPOCH, "all time"


def resolve_period(
    scope: Scope,
    start: DateOrDateTime | None,
    end: DateOrDateTime | None,
    default: DefaultPeriod,
    now: datetime | None = None,
) -> Period:
    """The UTC range a tool queries, with a label for sentences."""
    tz = scope.timezone
    now = (now or datetime.now(tz)).astimezone(tz)
    if start is None and end is None:
        begin, label = _default_start(default, now)
        finish = now
    else:
        begin = _moment(start, tz, is_end=False) if start is not None else _EPOCH
        finish = _moment(end, tz, is_end=True) if end is not None else now
        if finish <= begin:
            finish = begin + timedelta(days=1)
        label = ""
    if scope.mode == "admin":
        whole_begin, whole_finish = whole_days(begin, finish, tz)
        # "All time" needs no note: only its end moves, to the end of today.
        if label and begin != _EPOCH and (whole_begin, whole_finish) != (begin, finish):
            label = f"{label}, counted in whole days"
        begin, finish = whole_begin, whole_finish
    if not label:
        label = range_label(begin, finish, tz)
    return Period(begin, finish, label)


def range_label(begin: datetime, finish: datetime, tz: ZoneInfo) -> str:
    """``[begin, finish)`` as people write it: "24–26 Dec 2025", "1 Nov – 1 Dec 2026, 07:53", "25 Dec 2025"."""
    first, finish = begin.astimezone(tz), finish.astimezone(tz)
    # An end at midnight closes the day before; any other end is the moment itself ("…, 07:53").
    last = finish - timedelta(microseconds=1) if finish.time() == time.min else finish
    if first.time() == time.min and last.time() == time.max and first.date() == last.date():
        return _day(first)
    if first.time() == last.time() and last.date() > first.date():
        # A rolling window ("the last 30 days" up to now) reads as its days: "1 Nov – 1 Dec 2026".
        first, last = datetime.combine(first.date(), time.min), datetime.combine(last.date(), time.max)
    end = _day(last) if last.time() == time.max else f"{_day(last)}, {last:%H:%M}"
    if first.time() != time.min:
        return f"{_day(first)}, {first:%H:%M} – {end}"
    if first.year != last.year:
        return f"{_day(first)} – {end}"
    if first.month != last.month:
        return f"{first.day} {first:%b} – {end}"
    return f"{first.day}–{end}"


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


def whole_days(begin: datetime, finish: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """``[begin, finish)`` widened to local midnights: at least one whole day, never a part of one."""
    first = begin.astimezone(tz).date()
    local_finish = finish.astimezone(tz)
    last = local_finish.date() if local_finish.time() == time.min else local_finish.date() + timedelta(days=1)
    last = max(last, first + timedelta(days=1))
    return datetime.combine(first, time.min, tzinfo=tz), datetime.combine(last, time.min, tzinfo=tz)
