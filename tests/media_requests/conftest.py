"""A member base with Overseerr ids, the fake Overseerr, and the real wiring (offline engine)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import pytest

from bot.integrations import request_service
from bot.settings import load_settings
from bot.wiring import build_assistant
from core.assistant import Assistant

from .fake_overseerr import API_KEY, AUTO_APPROVE, REQUEST, FakeOverseerr, FakeUser, sample_catalogue, serving


@dataclass(frozen=True)
class Members:
    alice: UUID  # Overseerr user 2, console "alice", Discord 111…
    bob: UUID  # Overseerr user 3 (auto-approved), console "bob"
    carol: UUID  # no Overseerr account, console "carol"


@pytest.fixture
async def members(db_pool: asyncpg.Pool) -> Members:
    async with db_pool.acquire() as conn:
        ids = {}
        for name in ("alice", "bob", "carol"):
            ids[name] = await conn.fetchval(
                "INSERT INTO users (username, role) VALUES ($1, 'user') RETURNING id", name
            )
            await conn.execute(
                "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ('console', $1, $2)",
                name,
                ids[name],
            )
        await conn.execute(
            "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ('discord', '111111111111111111', $1)",
            ids["alice"],
        )
        await conn.executemany(
            "INSERT INTO user_external_ids (service, external_id, user_id) VALUES ('overseerr', $1, $2)",
            [("2", ids["alice"]), ("3", ids["bob"])],
        )
    return Members(ids["alice"], ids["bob"], ids["carol"])


@pytest.fixture
def overseerr() -> FakeOverseerr:
    return FakeOverseerr(
        users={
            1: FakeUser(1, permissions=2),
            2: FakeUser(2, REQUEST, movie_limit=3, tv_limit=10),
            3: FakeUser(3, REQUEST | AUTO_APPROVE),
        },
        titles=sample_catalogue(),
    )


@pytest.fixture
async def assistant(
    db_pool: asyncpg.Pool, database_url: str, members: Members, overseerr: FakeOverseerr
) -> AsyncIterator[Assistant]:
    async with serving(overseerr) as url:
        settings = load_settings(
            database_url=database_url, engine="offline", overseerr_url=url, overseerr_api_key=API_KEY
        )
        client = request_service(settings)
        assert client is not None
        try:
            yield await build_assistant(settings, db_pool, requests=client)
        finally:
            await client.close()
