"""The slow server-wide admin tools answer their default questions from snapshots.

``marquee run`` recomputes each one on a schedule (``refresh_snapshots``); a
snapshot is the tool's own answer at that moment, served while it is recent
and from the same local day, with "as of HH:MM" once older than a minute.
Anything else runs live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from core.demo_data import DemoConfig, generate_demo_data
from core.scope import Scope
from core.tools.catalogue import ToolCatalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool
from core.tools.snapshots import (
    MEMBER_WINDOW,
    REFRESH_SECONDS,
    SNAPSHOT_TOOLS,
    RefreshInterval,
    configure_refresh_interval,
    refresh_interval,
    refresh_member_windows,
    refresh_snapshots,
    run_snapshot_refresher,
    stored_answer,
)

from .fixture_server import FixtureServer

pytestmark = pytest.mark.writes_database

STORED = sum(len(names) for names in SNAPSHOT_TOOLS.values())
# What a served snapshot is recognised by in the tests that must tell it from a live answer.
MARKER = {"rows": [{"marker": "from the snapshot"}], "coverage": {}, "summary": {}}


async def _refresh(pool: asyncpg.Pool, tools: ToolDatabase, catalogue: ToolCatalogue, scope: Scope) -> None:
    await refresh_snapshots(
        pool, tools, catalogue, timezone=scope.timezone, min_group_size=scope.min_group_size
    )


async def _mark_snapshots(pool: asyncpg.Pool, computed_at: datetime | None = None) -> None:
    await pool.execute(
        "UPDATE tool_result_snapshots SET result = $1, computed_at = coalesce($2, computed_at)",
        MARKER,
        computed_at,
    )


@pytest.mark.parametrize(
    ("timezone", "min_group_size"), [("UTC", 2), ("America/Los_Angeles", 2), ("Asia/Kolkata", 1)]
)
async def test_every_snapshot_answers_exactly_as_the_tool_runs_live(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
    timezone: str,
    min_group_size: int,
) -> None:
    scope = scope_of("root", "admin", timezone=timezone, min_group_size=min_group_size)
    await _refresh(seeded_pool, tool_database, catalogue, scope)
    assert await seeded_pool.fetchval("SELECT count(*) FROM tool_result_snapshots") == STORED
    found_rows = 0
    for name in SNAPSHOT_TOOLS["admin"]:
        served = await run_tool(tool_database, scope, catalogue, name, {})
        live = await run_tool(tool_database, scope, catalogue, name, {}, use_snapshots=False)
        assert served == live, name
        found_rows += len(served.rows)
    assert found_rows > 20, "the hand-built server should give the tools something to answer"

    # Members' library-wide answers: the same for every member; a member's period ends at "now",
    # so the live answer's ends a moment after the stored one's.
    for member in ("bob", "root"):
        member_scope = scope_of(member, "personal", timezone=timezone, min_group_size=min_group_size)
        for name in SNAPSHOT_TOOLS["personal"]:
            served = await run_tool(tool_database, member_scope, catalogue, name, {})
            live = await run_tool(tool_database, member_scope, catalogue, name, {}, use_snapshots=False)
            assert (served.rows, served.coverage) == (live.rows, live.coverage), name
            assert _without_period(served.summary) == _without_period(live.summary), name
            if "period" in live.summary:
                served_end = datetime.fromisoformat(served.summary["period"]["end"])
                live_end = datetime.fromisoformat(live.summary["period"]["end"])
                assert timedelta(0) <= live_end - served_end < timedelta(minutes=1)
            found_rows += len(served.rows)


def _without_period(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in summary.items() if key != "period"}


async def test_an_answer_is_served_from_the_snapshot_of_its_own_question_only(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
) -> None:
    admin = scope_of("root", "admin")
    await _refresh(seeded_pool, tool_database, catalogue, admin)
    await _mark_snapshots(seeded_pool)

    served = await run_tool(tool_database, admin, catalogue, "popular_content", {})
    assert served.rows == MARKER["rows"]
    # Explicitly the default arguments: the same question.
    same = await run_tool(tool_database, admin, catalogue, "popular_content", {"limit": 10})
    assert same.rows == MARKER["rows"]
    # Another admin asks the same question of the same server.
    other_admin = await run_tool(tool_database, scope_of("mia", "admin"), catalogue, "popular_content", {})
    assert other_admin.rows == MARKER["rows"]

    live = [
        await run_tool(tool_database, admin, catalogue, "popular_content", {"limit": 3}),
        await run_tool(tool_database, admin, catalogue, "popular_content", {"start": "2020-01-01"}),
        # Another minimum group size: the snapshot's could show titles this scope may not see.
        await run_tool(
            tool_database, scope_of("root", "admin", min_group_size=1), catalogue, "popular_content", {}
        ),
        await run_tool(
            tool_database, scope_of("root", "admin", timezone="Asia/Tokyo"), catalogue, "popular_content", {}
        ),
        # Members never read snapshots: their trending leaves out their own plays.
        await run_tool(tool_database, scope_of("bob", "personal"), catalogue, "trending", {}),
    ]
    for result in live:
        assert result.rows != MARKER["rows"]

    # A member reads members' snapshots only, never an admin's answer of the same tool.
    member = scope_of("bob", "personal")
    assert (await run_tool(tool_database, member, catalogue, "new_in_library", {})).rows == MARKER["rows"]
    await seeded_pool.execute("DELETE FROM tool_result_snapshots WHERE mode = 'personal'")
    assert (await run_tool(tool_database, member, catalogue, "new_in_library", {})).rows != MARKER["rows"]
    assert (await run_tool(tool_database, admin, catalogue, "new_in_library", {})).rows == MARKER["rows"]


async def test_an_answer_older_than_a_minute_says_as_of_when(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
) -> None:
    scope = scope_of("root", "admin", timezone="Asia/Kolkata")
    await _refresh(seeded_pool, tool_database, catalogue, scope)
    fresh = await run_tool(tool_database, scope, catalogue, "most_active_users", {})
    assert "as_of" not in fresh.summary
    assert not any("as of" in gap for gap in fresh.coverage.gaps)

    now = datetime.now(UTC)
    computed_at = now - timedelta(minutes=3)
    if computed_at.astimezone(scope.timezone).date() != now.astimezone(scope.timezone).date():
        computed_at = now - timedelta(seconds=61)  # just after local midnight: still today
    await seeded_pool.execute("UPDATE tool_result_snapshots SET computed_at = $1", computed_at)

    older = await run_tool(tool_database, scope, catalogue, "most_active_users", {})
    as_of = computed_at.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%H:%M")
    assert older.summary["as_of"] == as_of
    assert older.rows == fresh.rows
    text = catalogue.get("most_active_users").render(older)
    assert f"as of {as_of}" in text


async def test_an_old_snapshot_or_one_from_another_local_day_is_not_served(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
) -> None:
    scope = scope_of("root", "admin", timezone="America/Los_Angeles")
    await _refresh(seeded_pool, tool_database, catalogue, scope)
    await _mark_snapshots(seeded_pool, datetime.now(UTC) - RefreshInterval().max_age - timedelta(seconds=5))
    stale = await run_tool(tool_database, scope, catalogue, "popular_content", {})
    assert stale.rows != MARKER["rows"]

    params = catalogue.get("popular_content").params.model_validate({})
    tz = scope.timezone
    before_midnight = datetime(2026, 3, 7, 23, 58, tzinfo=tz)
    after_midnight = datetime(2026, 3, 8, 0, 3, tzinfo=tz)
    await seeded_pool.execute("UPDATE tool_result_snapshots SET computed_at = $1", before_midnight)
    async with tool_database.scoped(scope, statement_timeout="5s", random_page_cost=1.1) as conn:
        same_day = await stored_answer(
            conn, scope, "popular_content", params, now=before_midnight + timedelta(seconds=30)
        )
        next_day = await stored_answer(conn, scope, "popular_content", params, now=after_midnight)
    assert same_day is not None and same_day.rows == MARKER["rows"]
    assert next_day is None


async def test_a_longer_refresh_interval_serves_older_snapshots_and_says_so(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
) -> None:
    scope = scope_of("root", "admin")
    params = catalogue.get("popular_content").params.model_validate({})
    computed_at = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    await _refresh(seeded_pool, tool_database, catalogue, scope)
    await _mark_snapshots(seeded_pool, computed_at)
    later = computed_at + timedelta(minutes=45)  # older than 2 x 5 minutes, younger than 2 x 30
    try:
        async with tool_database.scoped(scope, statement_timeout="5s", random_page_cost=1.1) as conn:
            by_default = await stored_answer(conn, scope, "popular_content", params, now=later)
            configure_refresh_interval(30)
            configured = await stored_answer(conn, scope, "popular_content", params, now=later)
    finally:
        configure_refresh_interval(REFRESH_SECONDS / 60)
    assert by_default is None
    assert configured is not None and configured.rows == MARKER["rows"]
    assert "figures as of 12:00 (recomputed every 30 minutes)" in configured.coverage.gaps
    assert refresh_interval.seconds == REFRESH_SECONDS


async def test_a_snapshot_keeps_its_moment_until_the_next_refresh(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
    server: FixtureServer,
) -> None:
    scope = scope_of("root", "admin")
    await _refresh(seeded_pool, tool_database, catalogue, scope)
    before = await run_tool(tool_database, scope, catalogue, "most_active_users", {})
    await seeded_pool.execute(
        "INSERT INTO watch_history (user_id, media_item_id, started_at, watched_seconds, percent_complete)"
        " SELECT $1, $2, now() - interval '1 hour', 600, 10 FROM generate_series(1, 5)",
        server.users["carol"],
        server.items["Old Flop"],
    )
    live = await run_tool(tool_database, scope, catalogue, "most_active_users", {}, use_snapshots=False)
    assert live.rows != before.rows
    assert await run_tool(tool_database, scope, catalogue, "most_active_users", {}) == before

    await _refresh(seeded_pool, tool_database, catalogue, scope)
    assert await run_tool(tool_database, scope, catalogue, "most_active_users", {}) == live


async def _every_answer(tools: ToolDatabase, catalogue: ToolCatalogue, scopes: list[Scope]) -> list[Any]:
    answers = []
    for scope in scopes:
        names = SNAPSHOT_TOOLS[scope.mode] + (
            ("what_others_watch", "trending") if scope.mode == "personal" else ()
        )
        for name in names:
            result = await run_tool(tools, scope, catalogue, name, {})
            answers.append(
                (scope.username, name, result.rows, result.coverage, _without_period(result.summary))
            )
    return answers


async def test_after_plays_are_added_changed_and_removed_a_refresh_answers_as_live(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
    server: FixtureServer,
) -> None:
    scopes = [scope_of("root", "admin"), scope_of("bob", "personal", min_group_size=1)]
    await _refresh(seeded_pool, tool_database, catalogue, scopes[0])
    changes = [
        # New plays, on titles already played and not.
        "INSERT INTO watch_history (user_id, media_item_id, started_at, watched_seconds, percent_complete)"
        " SELECT u.id, m.id, now() - interval '2 days', 900, 95 FROM users u, media_items m"
        " WHERE u.username IN ('alice', 'dave', 'mia') AND m.title IN ('Old Flop', 'Arrival')",
        # Changed plays: moved in time, to another viewer, to another title.
        "UPDATE watch_history SET started_at = started_at - interval '3 days', watched_seconds = watched_seconds + 60"
        " WHERE started_at > now() - interval '10 days'",
        "UPDATE watch_history SET user_id = (SELECT id FROM users WHERE username = 'carol')"
        " WHERE id IN (SELECT id FROM watch_history ORDER BY started_at DESC LIMIT 3)",
        # Removed plays.
        "DELETE FROM watch_history WHERE id IN (SELECT id FROM watch_history ORDER BY started_at DESC LIMIT 4)",
    ]
    for change in changes:
        await seeded_pool.execute(change)
        await _refresh(seeded_pool, tool_database, catalogue, scopes[0])
        await refresh_member_windows(seeded_pool, datetime.now(UTC))
        served = await _every_answer(tool_database, catalogue, scopes)
        # Without snapshots every tool runs live (its period a moment later: no play sits at its edges).
        await seeded_pool.execute("DELETE FROM tool_result_snapshots; DELETE FROM title_popularity_windows")
        live = await _every_answer(tool_database, catalogue, scopes)
        assert served == live, change


async def test_the_engine_reads_snapshots_of_its_own_mode_only(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
) -> None:
    admin = scope_of("root", "admin")
    await _refresh(seeded_pool, tool_database, catalogue, admin)
    async with tool_database.scoped(
        scope_of("bob", "personal"), statement_timeout="5s", random_page_cost=1.1
    ) as conn:
        assert (
            await conn.fetch(
                "SELECT * FROM analytics.tool_result_snapshot('popular_content', '{\"end\":null,\"limit\":10,\"start\":null}', 'UTC')"
            )
            == []
        )
    async with tool_database.scoped(admin, statement_timeout="5s", random_page_cost=1.1) as conn:
        assert (
            await conn.fetch(
                "SELECT * FROM analytics.tool_result_snapshot('popular_content', '{\"end\":null,\"limit\":10,\"start\":null}', 'UTC')"
            )
            != []
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT * FROM tool_result_snapshots")


async def test_the_refresher_of_marquee_run_keeps_the_snapshots(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
) -> None:
    stop = asyncio.Event()
    refresher = asyncio.create_task(
        run_snapshot_refresher(
            seeded_pool, tool_database, catalogue, stop, timezone=ZoneInfo("UTC"), min_group_size=2
        )
    )
    try:
        for _ in range(200):
            if await seeded_pool.fetchval("SELECT count(*) FROM tool_result_snapshots") == STORED:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the refresher stored no snapshots")
    finally:
        stop.set()
        await asyncio.wait_for(refresher, 10)


MEMBER_TOOLS = ("what_others_watch", "trending")


async def _member_answers(
    tools: ToolDatabase, catalogue: ToolCatalogue, scopes: list[Scope], arguments: dict[str, Any]
) -> list[tuple[str, str, int, list[dict[str, Any]]]]:
    answers = []
    for scope in scopes:
        for name in MEMBER_TOOLS:
            # Short lists too: the stored path reads only the leading titles of the week.
            for limit in ({}, {"limit": 1}, {"limit": 3}):
                result = await run_tool(tools, scope, catalogue, name, {**arguments, **limit})
                answers.append((scope.username, name, scope.min_group_size, result.rows))
    return answers


async def assert_members_stored_week_answers_as_live(
    pool: asyncpg.Pool, tools: ToolDatabase, catalogue: ToolCatalogue, scopes: list[Scope]
) -> None:
    computed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    await refresh_member_windows(pool, computed_at)
    served = await _member_answers(tools, catalogue, scopes, {})
    # The same week asked explicitly is computed live (analytics.title_popularity).
    week = {"start": (computed_at - MEMBER_WINDOW).isoformat(), "end": computed_at.isoformat()}
    live = await _member_answers(tools, catalogue, scopes, week)
    assert sum(len(rows) for *_, rows in served) > 5, "the members should see something to compare"
    assert served == live
    for scope in scopes:
        result = await run_tool(tools, scope, catalogue, "trending", {})
        assert result.summary["period"]["end"] == computed_at.isoformat()
        assert "as_of" not in result.summary


async def test_members_answers_from_the_stored_week_equal_live_answers_for_that_week(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
    server: FixtureServer,
) -> None:
    # More plays in the last two weeks: titles shared by several members, some by the asker too.
    plays = [
        ("alice", "Inception", 1), ("bob", "Inception", 2), ("carol", "Inception", 3), ("dave", "Inception", 9),
        ("alice", "The Office E1", 2), ("bob", "The Office E2", 4), ("bob", "The Office E3", 4),
        ("carol", "Arrival", 5), ("dave", "Arrival", 6), ("alice", "Arrival", 10), ("bob", "Arrival", 12),
        ("mia", "Breaking Bad E2", 1), ("dave", "Breaking Bad E3", 8), ("carol", "Paddington", 13),
    ]  # fmt: skip
    for username, item, days_ago in plays:
        await seeded_pool.execute(
            "INSERT INTO watch_history (user_id, media_item_id, started_at, watched_seconds, percent_complete)"
            " VALUES ($1, $2, $3, 1200, 50)",
            server.users[username],
            server.items[item],
            server.ago(days_ago),
        )
    scopes = [
        scope_of(username, "personal", min_group_size=size)
        for username in ("alice", "bob", "carol", "dave", "root")
        for size in (1, 2, 3)
    ]
    await assert_members_stored_week_answers_as_live(seeded_pool, tool_database, catalogue, scopes)


async def test_members_answers_from_the_stored_week_on_a_generated_server(
    db_pool: asyncpg.Pool, catalogue: ToolCatalogue
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await generate_demo_data(db_pool, DemoConfig(seed=5, users=30, items=400, days=60, now=now))
    members = await db_pool.fetch("SELECT id, username, role FROM users ORDER BY username LIMIT 6")
    scopes = [
        Scope(user_id=m["id"], username=m["username"], role=m["role"], mode="personal", min_group_size=size)
        for m in members
        for size in (1, 2, 4)
    ]
    tools = ToolDatabase(db_pool, max_size=2, session_settings={"default_transaction_read_only": "off"})
    try:
        await assert_members_stored_week_answers_as_live(db_pool, tools, catalogue, scopes)
    finally:
        await tools.close()


async def test_a_members_stored_week_says_as_of_when_and_an_old_one_is_not_used(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
) -> None:
    scope = scope_of("alice", "personal", timezone="Asia/Kolkata", min_group_size=1)
    computed_at = datetime.now(UTC) - timedelta(minutes=4)
    await refresh_member_windows(seeded_pool, computed_at)
    older = await run_tool(tool_database, scope, catalogue, "what_others_watch", {})
    as_of = computed_at.astimezone(scope.timezone).strftime("%H:%M")
    assert older.summary["as_of"] == as_of
    assert f"as of {as_of}" in catalogue.get("what_others_watch").render(older)

    await refresh_member_windows(seeded_pool, datetime.now(UTC) - RefreshInterval().max_age - timedelta(seconds=5))
    for name in MEMBER_TOOLS:
        live = await run_tool(tool_database, scope, catalogue, name, {})
        assert "as_of" not in live.summary
        assert datetime.fromisoformat(live.summary["period"]["end"]) > datetime.now(UTC) - timedelta(
            seconds=30
        )


async def test_admins_never_read_the_members_counts(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
) -> None:
    await refresh_member_windows(seeded_pool)
    await seeded_pool.execute("UPDATE title_popularity_snapshots SET viewers = viewers + 100")
    admin = await run_tool(tool_database, scope_of("root", "admin"), catalogue, "trending", {})
    assert all(row["viewers"] < 100 for row in admin.rows)
    async with tool_database.scoped(
        scope_of("root", "admin"), statement_timeout="5s", random_page_cost=1.1
    ) as conn:
        assert await conn.fetch("SELECT * FROM analytics.title_popularity_windows()") == []
        assert (
            await conn.fetch(
                "SELECT * FROM analytics.title_popularity_top_as_of(now() - interval '7 days', now(), 1, 'viewers', 10)"
            )
            == []
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT * FROM title_popularity_snapshots")
