"""Fixtures of the engine tests: a local fake Messages API, a small server of users, a tool runner."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import asyncpg
import openai
import pytest
from aiohttp import web

from .doubles import People
from .fake_chat_completions import FakeChatCompletions
from .fake_messages_api import FakeMessagesAPI

# A scripted late answer still being "written" when its test ends is cancelled, not waited for.
SHUTDOWN_SECONDS = 0.1


@pytest.fixture
async def fake_api() -> AsyncIterator[tuple[FakeMessagesAPI, str]]:
    api = FakeMessagesAPI()
    app = web.Application()
    app.router.add_post("/v1/messages", api.handle)
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield api, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def anthropic_client(fake_api: tuple[FakeMessagesAPI, str]) -> AsyncIterator[anthropic.AsyncAnthropic]:
    _, base_url = fake_api
    client = anthropic.AsyncAnthropic(
        base_url=base_url, api_key="test", max_retries=0, _strict_response_validation=True
    )
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def fake_chat() -> AsyncIterator[tuple[FakeChatCompletions, str]]:
    """A scripted Chat Completions server on a free local port; yields it and its base URL (…/v1)."""
    server = FakeChatCompletions()
    runner = web.AppRunner(server.app(), shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield server, f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


@pytest.fixture
async def openai_client(fake_chat: tuple[FakeChatCompletions, str]) -> AsyncIterator[openai.AsyncOpenAI]:
    _, base_url = fake_chat
    client = openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def people(db_pool: asyncpg.Pool) -> People:
    """alice and bob (members, on Discord and Matrix), root (admin, Discord); carol exists but is unlinked."""
    async with db_pool.acquire() as conn:
        ids = {}
        for username, role in (("alice", "user"), ("bob", "user"), ("root", "admin"), ("carol", "user")):
            ids[username] = await conn.fetchval(
                "INSERT INTO users (username, role) VALUES ($1, $2) RETURNING id", username, role
            )
        await conn.executemany(
            "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ($1, $2, $3)",
            [
                ("discord", "111111111111111111", ids["alice"]),
                ("matrix", "@alice:example.org", ids["alice"]),
                ("discord", "222222222222222222", ids["bob"]),
                ("discord", "999999999999999999", ids["root"]),
            ],
        )
    return People(ids["alice"], ids["bob"], ids["root"])
