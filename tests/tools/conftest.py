"""Fixtures of the tool tests: the hand-built server and scopes on it.

Tools only read, so the hand-built server is seeded once per run and shared,
read-only. A test that writes is marked ``writes_database`` and gets a clone of
its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from core.scope import Mode, Scope
from core.tools.base import ToolResult
from core.tools.catalogue import ToolCatalogue, build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool

from .fixture_server import FixtureServer, build_fixture_server

if TYPE_CHECKING:
    from conftest import SeededDatabase

RunTool = Callable[..., Awaitable[ToolResult]]


@pytest.fixture(scope="session")
def catalogue() -> ToolCatalogue:
    return build_catalogue()


@pytest.fixture(scope="session")
def fixture_server_database(seed_database: Callable[..., SeededDatabase]) -> SeededDatabase[FixtureServer]:
    return seed_database(build_fixture_server)


@pytest.fixture
def server(fixture_server_database: SeededDatabase[FixtureServer]) -> FixtureServer:
    return fixture_server_database.value


@pytest.fixture
async def seeded_pool(
    request: pytest.FixtureRequest, fixture_server_database: SeededDatabase[FixtureServer]
) -> AsyncIterator[asyncpg.Pool]:
    """The hand-built server: shared and read-only, or this test's own clone when marked ``writes_database``."""
    async with fixture_server_database.pool_for(request) as pool:
        yield pool


@pytest.fixture
async def tool_database(seeded_pool: asyncpg.Pool) -> AsyncIterator[ToolDatabase]:
    """The engine's own pool on the hand-built server (see the root conftest's ``tool_database``)."""
    tools = ToolDatabase(seeded_pool, max_size=3, session_settings={"default_transaction_read_only": "off"})
    try:
        yield tools
    finally:
        await tools.close()


@pytest.fixture
def scope_of(server: FixtureServer) -> Callable[..., Scope]:
    def make(username: str, mode: Mode = "personal", timezone: str = "UTC", min_group_size: int = 2) -> Scope:
        role = "admin" if username in ("root", "mia") else "user"
        return Scope(
            user_id=server.users[username], username=username, role=role, mode=mode,
            timezone=ZoneInfo(timezone), min_group_size=min_group_size,
        )  # fmt: skip

    return make


@pytest.fixture
def ask(tool_database: ToolDatabase, catalogue: ToolCatalogue, scope_of: Callable[..., Scope]) -> RunTool:
    """ask(tool, as_user, mode="personal", scope=None, **arguments) -> ToolResult, through run_tool."""

    async def run(
        name: str, as_user: str, mode: Mode = "personal", /, *, scope: Scope | None = None, **arguments: Any
    ) -> ToolResult:
        return await run_tool(tool_database, scope or scope_of(as_user, mode), catalogue, name, arguments)

    return run
