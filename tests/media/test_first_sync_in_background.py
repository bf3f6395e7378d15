"""``marquee run`` on a server whose first sync has not completed: the sync runs in the background.

The bot answers members meanwhile, and an admin's ``/health`` shows how far the
first sync is (plays done / total, rate, time left), then when it finished.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from chat.fake_discord import FakeDiscord, RecordedRequest, user_payload

from bot.runtime import run_marquee
from bot.settings import Settings

from .fakes import FakeTautulli, serve, tautulli_play

ALICE_ID = 1_600_000_000_000_000_001  # a linked member
ADMIN_ID = 1_600_000_000_000_000_003  # a linked admin
ALICE = user_payload(ALICE_ID, "alice")
ADMIN = user_payload(ADMIN_ID, "ada")
DAYS = 4
PLAYS_A_DAY = 100  # the smallest page size Marquee allows


class HeldTautulli(FakeTautulli):
    """A Tautulli whose history after the first date window is only answered once ``release`` is set.

    That is a big server's first sync, mid-way: each window takes Tautulli a while.
    """

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.windows_asked = 0

    async def api_handler(self, request: web.Request) -> web.Response:
        if request.query.get("cmd") == "get_history" and "reference_id" not in request.query:
            self.windows_asked += 1
            if self.windows_asked > 1:
                await self.release.wait()
        return await super().api_handler(request)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def seed_member(pool: asyncpg.Pool, username: str, discord_id: int, role: str = "user") -> None:
    async with pool.acquire() as conn:
        user_id = await conn.fetchval(
            "INSERT INTO users (username, role) VALUES ($1, $2) RETURNING id", username, role
        )
        await conn.execute(
            "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ('discord', $1, $2)",
            str(discord_id),
            user_id,
        )


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 30) -> Any:
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.1)


@pytest.fixture
async def discord_server() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


def followups(r: RecordedRequest) -> bool:
    return r.method == "POST" and r.path.startswith("/webhooks/")


async def admin_health(fake: FakeDiscord) -> str:
    """What ``/health`` answers the admin in the admin channel."""
    before = len([r for r in fake.requests if followups(r)])
    await fake.slash_command("health", ADMIN, channel_id=fake.admin_channel_id)
    answers = await fake.wait_for(followups, count=before + 1)
    [embed] = answers[-1].body["embeds"]
    description: str = embed["description"]
    return description


async def test_a_first_sync_runs_in_the_background_of_marquee_run_and_health_shows_it(
    discord_server: FakeDiscord, database_url: str, db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await seed_member(db_pool, "alice", ALICE_ID)
    await seed_member(db_pool, "ada", ADMIN_ID, role="admin")
    tautulli = HeldTautulli()
    user = tautulli.users[1]
    first_day = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(
        days=DAYS + 1
    )
    tautulli.history = [
        tautulli_play(
            100 + n, user["user_id"], user["username"], 5000 + n,
            int((first_day + timedelta(days=n // PLAYS_A_DAY, minutes=n % PLAYS_A_DAY * 10)).timestamp()),
        )
        for n in range(DAYS * PLAYS_A_DAY)
    ]  # fmt: skip
    total = DAYS * PLAYS_A_DAY
    async with serve(tautulli) as tautulli_url:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=database_url,
            data_dir=tmp_path,
            engine="offline",
            discord_token="test-token",
            discord_admin_channel_id=discord_server.admin_channel_id,
            http_host="127.0.0.1",
            http_port=free_port(),
            tautulli_url=tautulli_url,
            tautulli_api_key=tautulli.api_key,
            # A window a day, read without pauses.
            tautulli_page_size=PLAYS_A_DAY,
            tautulli_pause_seconds=0,
        )
        stopping = asyncio.Event()
        running = asyncio.create_task(run_marquee(settings, stopping))
        try:
            await asyncio.wait_for(discord_server.ready.wait(), timeout=30)
            # Mid-first-sync: the first window is written, Tautulli is still on the second.
            await eventually(lambda: db_pool.fetchval("SELECT count(*) = $1 FROM watch_history", PLAYS_A_DAY))
            assert tautulli.windows_asked == 2

            question = await discord_server.send_dm(ALICE, "how many movies are in the library?")
            [reply] = await discord_server.wait_for(
                lambda r: r.method == "POST" and r.path == f"/channels/{question['channel_id']}/messages"
            )
            assert reply.body["content"].strip()

            async def health_shows_progress() -> str | None:
                text = await admin_health(discord_server)
                return text if f"play history {PLAYS_A_DAY}/{total} (" in text else None

            during = await eventually(health_shows_progress)
            line = next(line for line in during.splitlines() if line.lstrip("-• ").startswith("tautulli"))
            assert f"first sync running: play history {PLAYS_A_DAY}/{total} (" in line
            assert "/s" in line and "left" in line
            assert not tautulli.release.is_set()

            tautulli.release.set()
            await eventually(
                lambda: db_pool.fetchval(
                    "SELECT first_sync_done_at IS NOT NULL FROM sync_schedule WHERE integration = 'tautulli'"
                )
            )
            after = await admin_health(discord_server)
            line = next(line for line in after.splitlines() if line.lstrip("-• ").startswith("tautulli"))
            assert "first sync finished just now" in line
            assert "first sync running" not in line
            assert await db_pool.fetchval("SELECT count(DISTINCT source_id) FROM watch_history") == total
        finally:
            tautulli.release.set()
            stopping.set()
            assert await asyncio.wait_for(running, timeout=30) == 0
