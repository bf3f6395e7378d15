"""On a freshly migrated, empty database every tool answers in words instead of failing."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from core.scope import Scope
from core.tools.catalogue import build_catalogue
from core.tools.scoped_connection import run_tool

CATALOGUE = build_catalogue()

# Tools that need an argument to run at all.
REQUIRED_ARGUMENTS = {"similar_titles": {"title": "Inception"}, "user_watch_activity": {"username": "alice"}}


@pytest.fixture
async def admin_scope(db_pool: asyncpg.Pool) -> Scope:
    user_id = await db_pool.fetchval(
        "INSERT INTO users (username, role) VALUES ('root', 'admin') RETURNING id"
    )
    return Scope(user_id=user_id, username="root", role="admin", mode="admin")


@pytest.mark.parametrize("name", sorted(t.name for t in CATALOGUE.for_mode("personal")))
async def test_personal_tools_answer_on_an_empty_database(db_pool: asyncpg.Pool, name: str) -> None:
    scope = Scope(user_id=uuid.uuid4(), username="ghost", role="user", mode="personal")
    result = await run_tool(db_pool, scope, CATALOGUE, name, REQUIRED_ARGUMENTS.get(name, {}))
    assert result.rows == []
    text = CATALOGUE.get(name).render(result)
    assert text.strip()


@pytest.mark.parametrize("name", sorted(t.name for t in CATALOGUE.for_mode("admin")))
async def test_admin_tools_answer_on_an_empty_database(
    db_pool: asyncpg.Pool, admin_scope: Scope, name: str
) -> None:
    result = await run_tool(db_pool, admin_scope, CATALOGUE, name, REQUIRED_ARGUMENTS.get(name, {}))
    text = CATALOGUE.get(name).render(result)
    assert text.strip()
