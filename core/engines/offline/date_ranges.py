"""Turn the time words of a question into a concrete period.

"this week", "last month", "in March", "since Monday", "two weeks ago",
"in the last 30 days", "last Christmas", "over the summer", "in 2024": the
calendar reading comes from ``dateparser`` (which also says whether the words
name a day, a week, a month or a year) and the holidays from the ``holidays``
package for the configured country. This module only decides which words are
a time expression and widens the point dateparser returns to the whole period.

Periods are half-open ``[start, end)`` in the asker's time zone, relative to a
``now`` the caller passes in (so tests use a fixed clock). Weeks start on
Monday. Seasons are meteorological (summer = June–August) for the northern
hemisphere, or shifted by six months when ``southern_hemisphere`` is set.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from dateparser.date import DateDataParser
from dateparser.search import search_dates

# The holiday window: the day before through the day after, so "last Christmas"
# includes Christmas Eve and Boxing Day viewing.
HOLIDAY_PADDING_DAYS = 1

_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_RELATIVE_WORDS = {
    "today",
    "yesterday",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "ago",
}
# A bare month name is a date only after one of these words (or before a year or
# a day number): "may I see..." and "March of the Penguins" are not months.
_MONTH_CONTEXT = {
    "in",
    "during",
    "since",
    "of",
    "last",
    "this",
    "for",
    "from",
    "on",
    "over",
    "throughout",
    "back",
}
# Words before a holiday's short name ("christmas") that make it a time reference.
_HOLIDAY_CONTEXT = r"(?:last|this|past|previous|on|over|at|around|during|for|in|since|from)"

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "ninety": 90,
    "few": 3,
    "couple": 2,
    "couple of": 2,
}
_UNIT = r"(day|week|fortnight|month|year)s?"
_ROLLING = re.compile(
    r"\b(?:in\s+|over\s+|during\s+|for\s+)?(?:the\s+)?(?:last|past|previous)\s+"
    r"(?:(\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"thirty|ninety|few|couple(?: of)?)\s+)?" + _UNIT + r"\b"
)
_SINCE_START = re.compile(
    r"\b(?:since|from)\s+the\s+(?:start|beginning)\s+of\s+(?:the\s+|this\s+)?(week|month|year)\b"
)
_WEEKEND = re.compile(r"\b(this|last|past|previous)\s+weekend\b")
_SEASON = re.compile(
    r"\b(?:(last|this|past|previous)\s+|(?:in|over|during|through|throughout|for)\s+(?:the\s+)?)"
    r"(summer|winter|spring|autumn|fall)(?:\s+(?:of\s+)?(\d{4}))?\b"
    r"|\b(summer|winter|spring|autumn|fall)\s+(?:of\s+)?(\d{4})\b"
)
# A calendar date needs one of these: a number, a month or weekday (or its abbreviation), a relative day word.
_MIGHT_BE_A_DATE = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)|"
    r"\b(?:today|yesterday|tomorrow|tonight|week|weekend|month|year|day|days|ago|night|morning|noon|evening|"
    r"afternoon|now|last|this|next|past|previous|since)\b"
)


@lru_cache(maxsize=512)
def _search_dates(lowered: str, base: datetime) -> tuple[tuple[str, datetime], ...]:
    """dateparser's search, remembered: a follow-up re-reads the earlier questions with the same clock."""
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True}
    return tuple(search_dates(lowered, languages=["en"], settings=settings) or ())


_SEASON_START_MONTH = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}


@dataclass(frozen=True)
class DateRange:
    """A half-open period ``[start, end)`` with the words it came from and a readable label."""

    start: datetime
    end: datetime
    phrase: str
    label: str

    def as_params(self) -> dict[str, str]:
        """ISO timestamps for a tool's ``start``/``end`` parameters."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


_DayRange = Callable[[date, date, str, str], DateRange]


def _fmt_day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _span_label(first: date, last: date) -> str:
    """'3 Mar 2026' or '1 Mar 2026 – 31 Mar 2026' (inclusive days)."""
    return _fmt_day(first) if first == last else f"{_fmt_day(first)} – {_fmt_day(last)}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _normalise_holiday_name(name: str) -> str:
    name = name.lower().replace("’", "").replace("'", "")
    name = re.sub(r"\(.*?\)", " ", name)
    name = re.sub(r"[^a-z0-9 ]+", " ", name)
    return " ".join(name.split())


class DateRangeParser:
    """Finds the one period a question talks about, if any. Build once: dateparser is slow to warm up."""

    def __init__(
        self,
        holiday_country: str = "US",
        holiday_subdivision: str | None = None,
        *,
        southern_hemisphere: bool = False,
    ) -> None:
        self._country = holiday_country
        self._subdivision = holiday_subdivision
        self._southern = southern_hemisphere
        try:
            probe = holidays.country_holidays(holiday_country, subdiv=holiday_subdivision, years=2000)
        except NotImplementedError as error:
            # A settings mistake (MARQUEE_HOLIDAY_COUNTRY / MARQUEE_HOLIDAY_SUBDIVISION): say so in one line.
            raise ValueError(f"unknown holiday country or subdivision: {error}") from None
        # Every category the country knows (public, unofficial, ...): Halloween and Valentine's Day count.
        self._categories: tuple[str, ...] = tuple(getattr(probe, "supported_categories", ())) or ("public",)
        self._holiday_years: dict[int, dict[date, list[str]]] = {}
        # alias -> canonical holiday name, from two sample years (names are stable).
        self._full_aliases: dict[str, str] = {}
        self._short_aliases: dict[str, str] = {}
        for year in (2024, 2025):
            for names in self._holidays_of(year).values():
                for name in names:
                    self._register_holiday(name)
        self._full_pattern = self._alias_pattern(self._full_aliases)
        self._short_pattern = self._alias_pattern(self._short_aliases)
        # Warm dateparser up now: its first call loads language data (~100 ms).
        self._period_of("last month", datetime(2000, 6, 15, 12, 0))
        search_dates(
            "what did I watch last week", languages=["en"], settings=self._settings(datetime(2000, 6, 15))
        )

    # -- holidays ---------------------------------------------------------------
    def _holidays_of(self, year: int) -> dict[date, list[str]]:
        cached = self._holiday_years.get(year)
        if cached is None:
            table = holidays.country_holidays(
                self._country, subdiv=self._subdivision, years=year, categories=self._categories
            )
            cached = {}
            for day in table:
                cached[day] = [n for n in table.get_list(day) if "observed" not in n.lower()]
            self._holiday_years[year] = cached
        return cached

    def _register_holiday(self, name: str) -> None:
        if "observed" in name.lower():
            return
        for part in name.split(";"):
            normal = _normalise_holiday_name(part)
            if not normal:
                continue
            self._full_aliases.setdefault(normal, name)
            short = normal.removesuffix(" day")
            if short != normal:
                self._short_aliases.setdefault(short, name)
                if short.endswith("s"):
                    self._short_aliases.setdefault(short[:-1], name)

    @staticmethod
    def _alias_pattern(aliases: dict[str, str]) -> re.Pattern[str] | None:
        if not aliases:
            return None
        alternatives = "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
        return re.compile(
            rf"(?:\b(?P<rel>{_HOLIDAY_CONTEXT})\s+(?:the\s+)?)?\b(?P<name>{alternatives})\b"
            r"(?:\s+(?:of\s+)?(?P<year>\d{4}))?"
        )

    def _holiday(self, text: str, today: date) -> tuple[str, date, str] | None:
        """(phrase, day, name) of the holiday the text names, most recent occurrence unless a year is given."""
        match = None
        if self._full_pattern is not None:
            match = self._full_pattern.search(text)
        if match is None and self._short_pattern is not None:
            match = self._short_pattern.search(text)
            if match is not None and not (match.group("rel") or match.group("year")):
                match = None
        if match is None:
            return None
        alias = match.group("name")
        name = self._full_aliases.get(alias) or self._short_aliases[alias]
        rel = match.group("rel") or ""
        years = (
            [int(match.group("year"))]
            if match.group("year")
            else [today.year, today.year - 1, today.year - 2]
        )
        strictly_before = rel in {"last", "past", "previous"}
        for year in years:
            days = sorted(
                (d for d, names in self._holidays_of(year).items() if name in names),
                reverse=True,
            )
            for day in days:
                if match.group("year") or day < today or (day == today and not strictly_before):
                    return match.group(0), day, name.split(";")[0].strip()
        return None

    # -- dateparser ---------------------------------------------------------------
    @staticmethod
    def _settings(base: datetime) -> dict[str, Any]:
        return {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True}

    def _period_of(self, phrase: str, base: datetime) -> tuple[date, str] | None:
        parser = DateDataParser(languages=["en"], settings=self._settings(base))
        data = parser.get_date_data(phrase)
        if data.date_obj is None:
            return None
        return data.date_obj.date(), str(data.period or "day")

    @staticmethod
    def _looks_like_date(span: str, before: str, after: str) -> bool:
        words = re.findall(r"[a-z]+|\d+", span.lower())
        # "for 60 days" is a duration, not a date: "60 days ago" says when.
        if re.fullmatch(r"(?:for\s+|in\s+)?\d+\s+(?:day|week|month|year)s?", span.strip().lower()):
            return False
        if any(w in _RELATIVE_WORDS or w in _WEEKDAYS for w in words):
            return True
        if any(len(w) == 4 and w.isdigit() and 1900 <= int(w) <= 2100 for w in words):
            return True
        if any(w in _MONTHS for w in words):
            previous = re.findall(r"[a-z]+", before.lower())[-1:]
            following = re.match(r"\s*(\d{1,4})\b", after)
            has_number = any(w.isdigit() for w in words)
            has_context = bool(previous and previous[0] in _MONTH_CONTEXT) or words[0] in _MONTH_CONTEXT
            return has_context or has_number or following is not None
        return False

    # -- public -------------------------------------------------------------------------
    def find(self, text: str, now: datetime) -> DateRange | None:
        """The period named in ``text`` relative to ``now`` (an aware datetime in the asker's zone), or None."""
        tz = now.tzinfo or ZoneInfo("UTC")
        local_now = now.astimezone(tz)
        today = local_now.date()
        lowered = " ".join(text.lower().replace("’", "'").split())
        # "today's webhooks", "last month's plays"
        lowered = re.sub(r"\b(today|yesterday|tonight|week|weekend|month|year)'s\b", r"\1", lowered)

        def day_range(first: date, end_exclusive: date, phrase: str, label: str) -> DateRange:
            return DateRange(
                start=datetime.combine(first, time.min, tz),
                end=datetime.combine(end_exclusive, time.min, tz),
                phrase=phrase,
                label=label,
            )

        holiday = self._holiday(lowered.replace("'", ""), today)
        if holiday is not None:
            phrase, day, name = holiday
            first, last = (
                day - timedelta(days=HOLIDAY_PADDING_DAYS),
                day + timedelta(days=HOLIDAY_PADDING_DAYS),
            )
            return day_range(
                first,
                last + timedelta(days=1),
                phrase,
                f"around {name} {day.year} ({_span_label(first, last)})",
            )

        since_start = _SINCE_START.search(lowered)
        if since_start is not None:
            unit = since_start.group(1)
            if unit == "week":
                first = today - timedelta(days=today.weekday())
            elif unit == "month":
                first = today.replace(day=1)
            else:
                first = date(today.year, 1, 1)
            return day_range(
                first,
                today + timedelta(days=1),
                since_start.group(0),
                f"this {unit} so far ({_span_label(first, today)})",
            )

        season = _SEASON.search(lowered)
        if season is not None:
            return self._season(season, today, day_range)

        weekend = _WEEKEND.search(lowered)
        if weekend is not None:
            this_saturday = today + timedelta(days=5 - today.weekday())
            saturday = this_saturday if weekend.group(1) == "this" else this_saturday - timedelta(days=7)
            return day_range(
                saturday,
                saturday + timedelta(days=2),
                weekend.group(0),
                f"{weekend.group(1)} weekend ({_span_label(saturday, saturday + timedelta(days=1))})",
            )

        rolling = _ROLLING.search(lowered)
        if rolling is not None and (
            rolling.group(1) or not re.search(r"\blast\s+" + _UNIT, rolling.group(0))
        ):
            # "the last 30 days", "past week", "over the past few months": a window ending now.
            count = rolling.group(1) or "1"
            number = int(count) if count.isdigit() else _NUMBER_WORDS.get(count, 1)
            unit = rolling.group(2)
            if unit == "fortnight":
                number, unit = number * 2, "week"
            parsed = DateDataParser(languages=["en"], settings=self._settings(local_now.replace(tzinfo=None)))
            point = parsed.get_date_data(f"{number} {unit}s ago").date_obj
            if point is not None and number > 0:
                start = point.replace(tzinfo=tz)
                words = f"{number} {unit}s" if number != 1 else unit
                return DateRange(
                    start,
                    local_now,
                    rolling.group(0).strip(),
                    f"the past {words} ({_span_label(start.date(), today)})",
                )

        return self._calendar(text, lowered, local_now, day_range)

    def _season(self, season: re.Match[str], today: date, day_range: _DayRange) -> DateRange:
        rel = season.group(1) or ""
        name = season.group(2) or season.group(4)
        year_text = season.group(3) or season.group(5)
        start_month = _SEASON_START_MONTH[name]
        if self._southern:
            start_month = (start_month + 6 - 1) % 12 + 1
        if year_text:
            year = int(year_text)
            # "winter 2025" is the winter that starts in December 2025.
            first = date(year, start_month, 1)
        else:
            first = date(today.year, start_month, 1)
            while first > today:
                first = date(first.year - 1, start_month, 1)
            current = _add_months(first, 3) > today
            if rel in {"last", "past", "previous"} and current:
                first = date(first.year - 1, start_month, 1)
        end = _add_months(first, 3)
        label_name = "autumn" if name == "fall" else name
        return day_range(
            first,
            end,
            season.group(0).strip(),
            f"{label_name} {first.year} ({_span_label(first, end - timedelta(days=1))})",
        )

    def _calendar(
        self, text: str, lowered: str, local_now: datetime, day_range: _DayRange
    ) -> DateRange | None:
        base = local_now.replace(tzinfo=None)
        today = local_now.date()
        if not _MIGHT_BE_A_DATE.search(lowered):
            # dateparser's search costs milliseconds; most questions name no calendar date at all.
            return None
        found = _search_dates(lowered, base)
        for span, _point in found:
            position = lowered.find(span)
            before, after = lowered[: max(position, 0)], lowered[position + len(span) :]
            if not self._looks_like_date(span, before, after):
                continue
            cleaned = re.sub(r"^(?:in|on|during|for|from|of|since|over|throughout)\s+", "", span.strip())
            period = self._period_of(cleaned, base)
            if period is None:
                continue
            point, unit = period
            if unit == "week":
                first = point - timedelta(days=point.weekday())
                end = first + timedelta(days=7)
            elif unit == "month":
                first = point.replace(day=1)
                end = _add_months(first, 1)
            elif unit == "year":
                first = date(point.year, 1, 1)
                end = date(point.year + 1, 1, 1)
            elif unit == "day":
                first, end = point, point + timedelta(days=1)
            else:  # 'time' or 'part_of_day' ("tonight", "now"): not a period to filter on
                continue
            since = re.search(r"\bsince\s+" + re.escape(cleaned), lowered) is not None
            if since:
                end = today + timedelta(days=1)
            if first > today:
                continue
            words = f"since {cleaned}" if since else cleaned
            return day_range(
                first, end, span.strip(), f"{words} ({_span_label(first, end - timedelta(days=1))})"
            )
        return None
