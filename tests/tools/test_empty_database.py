"""On a freshly migrated, empty database every tool answers in words instead of failing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import asyncpg
import pytest

from core.scope import Scope
from core.tools.catalogue import build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool

if TYPE_CHECKING:
    from conftest import SeededDatabase

CATALOGUE = build_catalogue()

# Tools that need an argument to run at all.
REQUIRED_ARGUMENTS = {
    "similar_titles": {"title": "Inception"},
    "user_watch_activity": {"username": "alice"},
    "title_facts": {"title": "Inception"},
    "request_status": {"title": "Dune"},
    "search_library": {"query": "a slow-burn heist film"},
}

# Where the data is missing altogether, the coverage note says which.
EXPECTED_GAPS = {
    "recommend_tonight": "no viewing history",
    "similar_titles": "no title in the library looks like 'Inception'",
    "top_genres": "no plays",
    "storage_by_library": "no movies or episodes",
    "integration_health": "sync_schedule is empty",
    "webhook_counts": "webhook_log has no rows",
    "api_error_rate": "api_logs has no rows",
    "bandwidth_usage": "no stream was logged",
    "requests_watched_by_others": "no requests were made",
    "most_active_users": "no user has any sessions",
    "title_facts": "no movie or show in the library matches 'Inception'",
    "now_playing": "no service's live sessions are read",
    "search_library": "semantic search is not set up",
}


async def _only_an_admin(pool: asyncpg.Pool) -> Scope:
    user_id = await pool.fetchval("INSERT INTO users (username, role) VALUES ('root', 'admin') RETURNING id")
    return Scope(user_id=user_id, username="root", role="admin", mode="admin")


@pytest.fixture(scope="session")
def empty_server(seed_database: Callable[..., SeededDatabase]) -> SeededDatabase[Scope]:
    """A migrated database with nothing in it but its admin, shared read-only by these tests."""
    return seed_database(_only_an_admin)


@pytest.fixture
async def db_pool(empty_server: SeededDatabase[Scope]) -> AsyncIterator[asyncpg.Pool]:
    async with empty_server.pool() as pool:
        yield pool


@pytest.fixture
def seeded_pool(db_pool: asyncpg.Pool) -> asyncpg.Pool:
    """The tools here (``tool_database``) run on the empty server, not the hand-built one."""
    return db_pool


@pytest.fixture
def admin_scope(empty_server: SeededDatabase[Scope]) -> Scope:
    return empty_server.value


@pytest.mark.parametrize("name", sorted(t.name for t in CATALOGUE.for_mode("personal")))
async def test_personal_tools_answer_on_an_empty_database(tool_database: ToolDatabase, name: str) -> None:
    scope = Scope(user_id=uuid.uuid4(), username="ghost", role="user", mode="personal")
    result = await run_tool(tool_database, scope, CATALOGUE, name, REQUIRED_ARGUMENTS.get(name, {}))
    assert result.rows == []
    text = CATALOGUE.get(name).render(result)
    assert text.strip()
    if name in EXPECTED_GAPS:
        assert any(EXPECTED_GAPS[name] in gap for gap in result.coverage.gaps), result.coverage.gaps


@pytest.mark.parametrize("name", sorted(t.name for t in CATALOGUE.for_mode("admin")))
async def test_admin_tools_answer_on_an_empty_database(
    tool_database: ToolDatabase, admin_scope: Scope, name: str
) -> None:
    result = await run_tool(tool_database, admin_scope, CATALOGUE, name, REQUIRED_ARGUMENTS.get(name, {}))
    text = CATALOGUE.get(name).render(result)
    assert text.strip()
    if name in EXPECTED_GAPS:
        assert any(EXPECTED_GAPS[name] in gap for gap in result.coverage.gaps), result.coverage.gaps
