"""What to generate, and what was generated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MIN_USERS = 4  # two admins, one ordinary user, one inactive user
MIN_ITEMS = 50  # a few movies and a few shows with their episodes
MIN_DAYS = 7

# Plays per user per day when ``watch_rows`` is not given: a household streams
# an episode or a film most evenings.
DEFAULT_PLAYS_PER_USER_DAY = 1.2


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 42
    users: int = 40
    items: int = 600  # media_items rows in total (movies + shows + episodes)
    days: int = 365  # history spans this many days back from `now`
    watch_rows: int | None = None  # None = a realistic number for the user count and days
    now: datetime | None = None  # fixed "now" for reproducibility; None = current time truncated to the hour
    timezone: str = "UTC"  # the server's time zone: evening peaks and weekends are local

    def __post_init__(self) -> None:
        if self.users < MIN_USERS:
            raise ValueError(f"users must be at least {MIN_USERS}")
        if self.items < MIN_ITEMS:
            raise ValueError(f"items must be at least {MIN_ITEMS}")
        if self.days < MIN_DAYS:
            raise ValueError(f"days must be at least {MIN_DAYS}")
        if self.watch_rows is not None and self.watch_rows < 0:
            raise ValueError("watch_rows must not be negative")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None

    def resolved_now(self) -> datetime:
        if self.now is not None:
            return self.now.astimezone(UTC)
        return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    def resolved_watch_rows(self) -> int:
        if self.watch_rows is not None:
            return self.watch_rows
        return round(self.users * self.days * DEFAULT_PLAYS_PER_USER_DAY)


@dataclass(frozen=True)
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)  # rows written per table
    elapsed_seconds: float = 0.0
    admin_usernames: tuple[str, ...] = ()
    user_usernames: tuple[str, ...] = ()  # the first few ordinary users, for "try --as bob"

    def __str__(self) -> str:
        c = self.counts
        return (
            f"{c.get('users', 0):,} users, {c.get('media_items', 0):,} media items, "
            f"{c.get('watch_history', 0):,} plays, {c.get('content_requests', 0):,} requests "
            f"in {self.elapsed_seconds:.1f}s"
        )
