"""Title look-ups run as functions that use the title indexes, and see what the engine may see.

Under row-level security the planner may not apply lower(title) or the trigram
operator before the policy's check, so the look-ups of core/tools/title_lookup.py
run as analytics functions: the engine in a verified scope sees every title, as
the policy lets it; without a scope, nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from core.scope import Scope
from core.tools.database_wall import ToolDatabase
from core.tools.title_lookup import find_title

LOOKUPS = [
    "SELECT title FROM analytics.title_exact('inception', '{movie,show}')",
    "SELECT title FROM analytics.title_fuzzy('inceptoin', '{movie,show}', '%inceptoin%', 0.4)",
    "SELECT title FROM analytics.title_near('Incpetion', '{movie,show}', 0.15)",
]


async def test_the_engine_finds_titles_in_a_scope_and_nothing_without_one(
    tool_database: ToolDatabase, scope_of: Callable[..., Scope]
) -> None:
    async with tool_database.scoped(scope_of("bob"), statement_timeout="5s", random_page_cost=1.1) as conn:
        for lookup in LOOKUPS:
            assert [r["title"] for r in await conn.fetch(lookup)][:1] == ["Inception"], lookup
        for typo, title in [("the ofice", "The Office"), ("Arrvial", "Arrival"), ("MATRIX", "The Matrix")]:
            found = await find_title(conn, typo)
            assert found is not None and found["title"] == title
    async with tool_database.connection() as conn, conn.transaction():
        for lookup in LOOKUPS:
            assert await conn.fetch(lookup) == [], lookup


async def test_the_owner_finds_titles_as_before(seeded_pool: asyncpg.Pool) -> None:
    async with seeded_pool.acquire() as conn, conn.transaction():
        found = await find_title(conn, "inceptoin")
    assert found is not None and found["title"] == "Inception"
