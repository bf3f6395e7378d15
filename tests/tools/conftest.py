"""Fixtures of the tool tests: the hand-built server and scopes on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from core.scope import Mode, Scope
from core.tools.base import ToolResult
from core.tools.catalogue import ToolCatalogue, build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool

from .fixture_server import FixtureServer, build_fixture_server

RunTool = Callable[..., Awaitable[ToolResult]]


@pytest.fixture(scope="session")
def catalogue() -> ToolCatalogue:
    return build_catalogue()


@pytest.fixture
async def server(db_pool: asyncpg.Pool) -> FixtureServer:
    return await build_fixture_server(db_pool)


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
