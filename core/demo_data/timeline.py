"""The server's calendar: the history window, local days and the hours people watch at.

Generation works in "local seconds" (the wall clock of the server's time zone,
counted as if it were UTC) so that evenings and weekends are local, and
converts to real UTC instants with the offset of each local day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

DAY = 86_400
HOUR = 3_600

# Relative chance that a viewing session starts in each local hour: a long
# evening peak around 20-22h on weekdays, a flatter afternoon on weekends.
WEEKDAY_HOUR_WEIGHTS = np.array(
    [
        *(1.2, 0.6, 0.3, 0.15, 0.1, 0.1, 0.3, 0.7, 0.8, 0.7, 0.7, 0.9),
        *(1.2, 1.1, 1.0, 1.2, 1.6, 2.4, 3.6, 5.8, 8.0, 8.2, 6.0, 3.0),
    ]
)
WEEKEND_HOUR_WEIGHTS = np.array(
    [
        *(1.8, 1.0, 0.5, 0.2, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 2.2, 2.6),
        *(2.8, 2.9, 3.2, 3.4, 3.6, 3.8, 4.4, 5.8, 7.2, 7.4, 5.6, 3.2),
    ]
)
SATURDAY = 5


@dataclass(frozen=True)
class Timeline:
    now: int  # Unix seconds
    window_start: int  # the oldest play may start here
    library_start: int  # the oldest item was added here
    zone: ZoneInfo
    first_local_day: int  # local day number (days since 1970-01-01) of offsets[0]
    offsets: np.ndarray  # UTC offset in seconds of each local day

    @classmethod
    def build(cls, now: datetime, days: int, timezone: str) -> Timeline:
        zone = ZoneInfo(timezone)
        now_s = int(now.timestamp())
        window_start = now_s - days * DAY
        library_start = now_s - max(days + 365, 6 * 365) * DAY
        first_day = library_start // DAY - 2
        last_day = now_s // DAY + 2
        offsets = np.array(
            [_offset_at_noon(zone, day) for day in range(first_day, last_day + 1)],
            dtype=np.int64,
        )
        return cls(now_s, window_start, library_start, zone, first_day, offsets)

    def to_local(self, utc_seconds: np.ndarray) -> np.ndarray:
        days = np.clip(utc_seconds // DAY - self.first_local_day, 0, len(self.offsets) - 1)
        return utc_seconds + self.offsets[days]

    def to_utc(self, local_seconds: np.ndarray) -> np.ndarray:
        days = np.clip(local_seconds // DAY - self.first_local_day, 0, len(self.offsets) - 1)
        return local_seconds - self.offsets[days]

    def local_day_start(self, utc_seconds: int) -> int:
        """The UTC instant at which the local day containing ``utc_seconds`` began."""
        local = int(self.to_local(np.array([utc_seconds]))[0])
        return int(self.to_utc(np.array([local - local % DAY]))[0])


def weekday(local_day: np.ndarray) -> np.ndarray:
    """Monday = 0 ... Sunday = 6 of local day numbers (1970-01-01 was a Thursday)."""
    return (local_day + 3) % 7


def sample_hours(rng: np.random.Generator, weekend: np.ndarray) -> np.ndarray:
    """A start hour for each session, weekend sessions from the weekend curve."""
    weekday_cdf = np.cumsum(WEEKDAY_HOUR_WEIGHTS) / WEEKDAY_HOUR_WEIGHTS.sum()
    weekend_cdf = np.cumsum(WEEKEND_HOUR_WEIGHTS) / WEEKEND_HOUR_WEIGHTS.sum()
    draws = rng.random(len(weekend))
    hours = np.where(
        weekend,
        np.searchsorted(weekend_cdf, draws, side="right"),
        np.searchsorted(weekday_cdf, draws, side="right"),
    )
    return np.minimum(hours, 23).astype(np.int64)


def _offset_at_noon(zone: ZoneInfo, local_day: int) -> int:
    noon = datetime(1970, 1, 1, 12, tzinfo=UTC) + timedelta(days=local_day)
    offset = noon.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0
