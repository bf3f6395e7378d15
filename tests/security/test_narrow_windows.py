"""No inference by narrow windows: admin mode cannot learn what one member watched.

The attack (issue 10): over a one-second window, ``trending`` showed a title with
one viewer and ``most_active_users`` showed who had one session. Now admin-mode
title counts need ``min_group_size`` viewers (unless every viewer counted
shares their activity with admins), and every admin window covers whole days.
Per-user totals stay as they are.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from core.scope import Scope
from core.tools.catalogue import build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.periods import resolve_period
from core.tools.scoped_connection import run_tool

CATALOGUE = build_catalogue()
PARIS = ZoneInfo("Europe/Paris")
# Alice, who does not share her activity, watches Heat alone at this moment.
ALONE_AT = datetime(2025, 3, 10, 20, 0, 0, tzinfo=UTC)
TITLE_TOOLS = ["trending", "popular_content"]


@pytest.fixture
async def users(db_pool: asyncpg.Pool) -> dict[str, uuid.UUID]:
    ids: dict[str, uuid.UUID] = {}
    async with db_pool.acquire() as conn, conn.transaction():
        for name, role, shares in [
            ("alice", "user", False), ("bob", "user", True), ("carol", "user", False), ("dave", "user", False),
            ("root", "admin", False),
        ]:  # fmt: skip
            ids[name] = await conn.fetchval(
                "INSERT INTO users (username, role, share_activity_with_admins) VALUES ($1, $2, $3) RETURNING id",
                name, role, shares,
            )  # fmt: skip
        titles = {}
        for title, genre in [("Heat", "Crime"), ("Ronin", "Action"), ("Alien", "Horror")]:
            titles[title] = await conn.fetchval(
                "INSERT INTO media_items (title, media_type, metadata) VALUES ($1, 'movie', $2) RETURNING id",
                title, {"genres": [genre]},
            )  # fmt: skip
        for who, title, minutes_later in [
            ("alice", "Heat", 0),  # alone, and she does not share
            ("bob", "Ronin", 30),  # alone, but he shares his activity with admins
            ("carol", "Alien", 40), ("dave", "Alien", 50),  # two people: a group
        ]:  # fmt: skip
            await conn.execute(
                "INSERT INTO watch_history (user_id, media_item_id, started_at, watched_seconds)"
                " VALUES ($1, $2, $3, 3600)",
                ids[who], titles[title], ALONE_AT + timedelta(minutes=minutes_later),
            )  # fmt: skip
    return ids


def admin(users: dict[str, uuid.UUID], timezone: ZoneInfo = PARIS) -> Scope:
    return Scope(users["root"], "root", "admin", "admin", timezone=timezone)


def one_second_around(moment: datetime) -> dict[str, str]:
    return {
        "start": (moment - timedelta(milliseconds=500)).isoformat(),
        "end": (moment + timedelta(milliseconds=500)).isoformat(),
    }


@pytest.mark.parametrize("tool", TITLE_TOOLS)
async def test_a_one_second_window_does_not_show_what_one_member_watched(
    tool_database: ToolDatabase, users: dict[str, uuid.UUID], tool: str
) -> None:
    result = await run_tool(tool_database, admin(users), CATALOGUE, tool, one_second_around(ALONE_AT))
    titles = {r["title"]: r["viewers"] for r in result.rows}
    assert "Heat" not in titles  # alice alone, not shared
    assert titles["Alien"] == 2  # two people: a group of min_group_size
    assert titles["Ronin"] == 1  # bob alone, but every viewer counted shares with admins


async def test_genre_totals_leave_out_titles_one_member_watched_alone(
    tool_database: ToolDatabase, users: dict[str, uuid.UUID]
) -> None:
    result = await run_tool(
        tool_database, admin(users), CATALOGUE, "server_genres", one_second_around(ALONE_AT)
    )
    assert {r["genre"] for r in result.rows} == {"Horror", "Action"}


async def test_a_narrow_admin_window_covers_the_whole_day(
    tool_database: ToolDatabase, users: dict[str, uuid.UUID]
) -> None:
    result = await run_tool(
        tool_database, admin(users), CATALOGUE, "most_active_users", one_second_around(ALONE_AT)
    )
    period = result.summary["period"]
    # 20:00 UTC is 21:00 in Paris: the window is that whole day in Paris, midnight to midnight.
    assert (period["start"], period["end"]) == ("2025-03-10T00:00:00+01:00", "2025-03-11T00:00:00+01:00")
    # Per-user totals stay as they are: everyone who played that day, alice included.
    assert {r["username"]: r["sessions"] for r in result.rows} == {
        "alice": 1,
        "bob": 1,
        "carol": 1,
        "dave": 1,
    }


def test_two_windows_a_second_apart_cover_the_same_days() -> None:
    """Differencing two long windows gives whole days, never the second between them."""
    scope = Scope(uuid.uuid4(), "root", "admin", "admin", timezone=PARIS)
    start = datetime(2025, 3, 1, tzinfo=PARIS)
    wide = resolve_period(scope, start, ALONE_AT, "last_30_days")
    wider = resolve_period(scope, start, ALONE_AT + timedelta(seconds=1), "last_30_days")
    assert (wide.start, wide.end) == (wider.start, wider.end) == (start, datetime(2025, 3, 11, tzinfo=PARIS))


def test_a_window_across_midnight_covers_both_days_and_dst_is_respected() -> None:
    scope = Scope(uuid.uuid4(), "root", "admin", "admin", timezone=PARIS)
    # Paris moves its clocks forward on 2025-03-30: that day has 23 hours.
    period = resolve_period(
        scope,
        datetime(2025, 3, 29, 23, 30, tzinfo=PARIS),
        datetime(2025, 3, 30, 0, 30, tzinfo=PARIS),
        "today",
    )
    assert (period.start, period.end) == (
        datetime(2025, 3, 29, tzinfo=PARIS),
        datetime(2025, 3, 31, tzinfo=PARIS),
    )
    assert period.end.astimezone(UTC) - period.start.astimezone(UTC) == timedelta(hours=47)


def test_default_admin_periods_are_whole_days_and_say_so() -> None:
    scope = Scope(uuid.uuid4(), "root", "admin", "admin", timezone=PARIS)
    now = datetime(2025, 3, 10, 21, 15, tzinfo=PARIS)
    period = resolve_period(scope, None, None, "last_24_hours", now=now)
    assert (period.start, period.end) == (
        datetime(2025, 3, 9, tzinfo=PARIS),
        datetime(2025, 3, 11, tzinfo=PARIS),
    )
    assert period.label == "the last 24 hours, counted in whole days"


def test_personal_windows_stay_as_asked() -> None:
    """A member may look at their own evening hour by hour; their own rows only, and no one else's titles."""
    scope = Scope(uuid.uuid4(), "alice", "user", "personal", timezone=PARIS)
    start, end = datetime(2025, 3, 10, 20, tzinfo=PARIS), datetime(2025, 3, 10, 21, tzinfo=PARIS)
    period = resolve_period(scope, start, end, "today")
    assert (period.start, period.end) == (start, end)
    assert resolve_period(scope, date(2025, 3, 10), date(2025, 3, 10), "today").end == datetime(
        2025, 3, 11, tzinfo=PARIS
    )
