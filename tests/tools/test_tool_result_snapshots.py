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
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from core.scope import Scope
from core.tools.catalogue import ToolCatalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool
from core.tools.snapshots import (
    MAX_AGE,
    SNAPSHOT_TOOLS,
    refresh_snapshots,
    run_snapshot_refresher,
    stored_answer,
)

from .fixture_server import FixtureServer

pytestmark = pytest.mark.writes_database

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
    assert await seeded_pool.fetchval("SELECT count(*) FROM tool_result_snapshots") == len(SNAPSHOT_TOOLS)
    found_rows = 0
    for name in SNAPSHOT_TOOLS:
        served = await run_tool(tool_database, scope, catalogue, name, {})
        live = await run_tool(tool_database, scope, catalogue, name, {}, use_snapshots=False)
        assert served == live, name
        found_rows += len(served.rows)
    assert found_rows > 20, "the hand-built server should give the tools something to answer"


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
    await _mark_snapshots(seeded_pool, datetime.now(UTC) - MAX_AGE - timedelta(seconds=5))
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


async def test_the_engine_reads_snapshots_in_admin_mode_only(
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
            if await seeded_pool.fetchval("SELECT count(*) FROM tool_result_snapshots") == len(
                SNAPSHOT_TOOLS
            ):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the refresher stored no snapshots")
    finally:
        stop.set()
        await asyncio.wait_for(refresher, 10)
