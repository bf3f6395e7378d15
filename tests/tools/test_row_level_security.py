"""The second wall: hand-written SQL under the engine role sees only what the scope allows.

Nothing here goes through a tool: these are the queries a buggy or tricked tool
could run, and PostgreSQL's row-level security must still hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest

from core.scope import Scope
from core.tools.database_wall import ToolDatabase

from .fixture_server import FixtureServer

# Each per-user table and the column naming its owner.
PER_USER_TABLES = {
    "watch_history": "user_id",
    "user_stats": "user_id",
    "content_requests": "requested_by_user_id",
    "bandwidth_logs": "user_id",
    "chat_history": "user_id",
    "ai_conversation_feedback": "user_id",
}
# Chat text is never visible to admin mode, not even of users who share their viewing.
CHAT_TABLES = {"chat_history", "ai_conversation_feedback"}


@asynccontextmanager
async def scoped(tools: ToolDatabase, scope: Scope | None) -> AsyncIterator[asyncpg.Connection]:
    """A transaction on the engine's own connection, in ``scope`` (or in none)."""
    async with tools.connection() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            if scope is not None:
                await tools.enter(conn, scope)
            yield conn
        finally:
            await tx.rollback()


async def owners(conn: asyncpg.Connection, table: str) -> list:
    rows = await conn.fetch(f"SELECT {PER_USER_TABLES[table]} AS owner FROM {table}")
    return [r["owner"] for r in rows]


@pytest.mark.parametrize("table", sorted(PER_USER_TABLES))
async def test_personal_scope_sees_only_own_rows(
    seeded_pool: asyncpg.Pool,
    tool_database: ToolDatabase,
    server: FixtureServer,
    scope_of: Callable[..., Scope],
    table: str,
) -> None:
    for username in ("alice", "bob"):
        expected = await seeded_pool.fetchval(
            f"SELECT count(*) FROM {table} WHERE {PER_USER_TABLES[table]} = $1", server.users[username]
        )
        async with scoped(tool_database, scope_of(username)) as conn:
            seen = await owners(conn, table)
        assert expected > 0
        assert seen == [server.users[username]] * expected


@pytest.mark.parametrize("table", sorted(PER_USER_TABLES))
async def test_admin_scope_sees_only_users_who_opted_in_and_never_chat(
    tool_database: ToolDatabase, server: FixtureServer, scope_of: Callable[..., Scope], table: str
) -> None:
    async with scoped(tool_database, scope_of("root", "admin")) as conn:
        seen = set(await owners(conn, table))
    if table in CHAT_TABLES:
        assert seen == set()
    else:
        assert seen == {server.users["bob"]}  # the only one with share_activity_with_admins


@pytest.mark.parametrize("table", sorted(PER_USER_TABLES))
async def test_no_scope_sees_nothing(tool_database: ToolDatabase, table: str) -> None:
    async with scoped(tool_database, None) as conn:
        assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0


async def test_another_users_rows_stay_hidden_even_when_asked_for_by_id(
    tool_database: ToolDatabase, server: FixtureServer, scope_of: Callable[..., Scope]
) -> None:
    async with scoped(tool_database, scope_of("alice")) as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM watch_history WHERE user_id = $1", server.users["bob"])
            == 0
        )
        assert await conn.fetchval("SELECT count(*) FROM watch_history") == 7


async def test_aggregate_functions_respect_the_mode(
    tool_database: ToolDatabase, scope_of: Callable[..., Scope]
) -> None:
    since = "now() - interval '1000 days'"
    async with scoped(tool_database, scope_of("alice")) as conn:
        # Per-user totals are for admin mode only.
        assert await conn.fetchval(f"SELECT count(*) FROM analytics.user_activity({since}, now())") == 0
        assert await conn.fetchval(f"SELECT count(*) FROM analytics.requester_influence({since}, now())") == 0
    async with scoped(tool_database, None) as conn:
        assert await conn.fetchval(f"SELECT count(*) FROM analytics.title_popularity({since}, now(), 1)") == 0
    async with scoped(tool_database, scope_of("root", "admin")) as conn:
        assert await conn.fetchval(f"SELECT count(*) FROM analytics.user_activity({since}, now())") == 6


async def test_personal_popularity_cannot_lower_min_group_size(
    tool_database: ToolDatabase, scope_of: Callable[..., Scope]
) -> None:
    async with scoped(tool_database, scope_of("bob")) as conn:
        rows = await conn.fetch(
            "SELECT title, viewers FROM analytics.title_popularity(now() - interval '7 days', now(), 1)"
        )
    assert [(r["title"], r["viewers"]) for r in rows] == [("The Office", 2)]


# Its own writable clone: the refusal must come from the role, not from the shared read-only copy.
@pytest.mark.writes_database
async def test_engine_role_cannot_read_emails_or_write(
    tool_database: ToolDatabase, scope_of: Callable[..., Scope]
) -> None:
    async with scoped(tool_database, scope_of("alice")) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT email FROM users")
    async with scoped(tool_database, scope_of("alice")) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM watch_history")
    async with scoped(tool_database, scope_of("alice")) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT user_id FROM api_logs")
