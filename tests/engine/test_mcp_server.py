"""``marquee mcp``: an MCP client session from the ``mcp`` package against the real command over stdio,
on the test database, with the same privacy rules as chat."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from .doubles import People
from .test_real_stack import seed_bobs_secret

ROOT = Path(__file__).resolve().parents[2]


def marquee_mcp(database_url: str, *args: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARQUEE_")}
    env.update(MARQUEE_DATABASE_URL=database_url, MARQUEE_ENGINE="offline", MARQUEE_LOG_LEVEL="WARNING")
    return StdioServerParameters(
        command=sys.executable, args=["-m", "bot.cli", "mcp", *args], env=env, cwd=ROOT
    )


@asynccontextmanager
async def session(database_url: str, *args: str) -> AsyncIterator[ClientSession]:
    async with stdio_client(marquee_mcp(database_url, *args)) as (read, write):
        async with ClientSession(read, write) as client:
            await client.initialize()
            yield client


async def test_a_member_gets_their_own_tools_and_only_their_own_viewing(
    db_pool: asyncpg.Pool, people: People, database_url: str
) -> None:
    await seed_bobs_secret(db_pool, people)

    async with session(database_url, "--as", "alice") as alice:
        names = [t.name for t in (await alice.list_tools()).tools]
        history = await alice.call_tool("watch_history", {})
        refused = await alice.call_tool("most_active_users", {})
        invalid = await alice.call_tool("watch_history", {"limit": 100000})

    assert "watch_history" in names and "most_active_users" not in names
    alice_text = history.content[0].text  # type: ignore[union-attr]
    assert not history.is_error and "Bobs Secret Documentary" not in alice_text
    assert json.loads(alice_text)["rows_total"] == 0
    assert refused.is_error and invalid.is_error

    async with session(database_url, "--as", "bob") as bob:
        bob_history = await bob.call_tool("watch_history", {})
    assert "Bobs Secret Documentary" in bob_history.content[0].text  # type: ignore[union-attr]


async def test_admin_mode_needs_an_admin_and_the_admin_flag(
    db_pool: asyncpg.Pool, people: People, database_url: str
) -> None:
    async with session(database_url, "--as", "root", "--admin") as root:
        admin_names = [t.name for t in (await root.list_tools()).tools]
    async with session(database_url, "--as", "root") as root_personal:
        personal_names = [t.name for t in (await root_personal.list_tools()).tools]
    assert "most_active_users" in admin_names and "most_active_users" not in personal_names

    with pytest.raises(Exception):  # noqa: B017 - the server exits before the handshake
        async with session(database_url, "--as", "alice", "--admin"):
            pass
