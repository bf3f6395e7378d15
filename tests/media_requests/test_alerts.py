"""Integration alerts: a sync failing then recovering is exactly two messages in the admin channel
(the real discord.py against the fake Discord), whatever the number of failures in between."""

from __future__ import annotations

import asyncio
import json

import asyncpg
from chat.fake_discord import FakeDiscord

from adapters.chat.discord_bot import DiscordBot, DiscordConfig
from core.assistant import Assistant
from core.media_requests.notifications import Outbox
from core.sync.jobs import SyncContext, SyncError, run_job


class FlakyOverseerr:
    name = "overseerr"
    interval_seconds = 900

    def __init__(self) -> None:
        self.failing = True

    async def run(self, context: SyncContext) -> dict[str, int]:
        if self.failing:
            raise SyncError("Overseerr is unreachable on /user: could not connect")
        return {"users": 0}


async def admin_alerts(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT body FROM notification_outbox WHERE audience = 'admins' AND platform = 'discord' ORDER BY created_at"
    )
    return [row["body"] for row in rows]


async def test_failing_then_recovering_is_two_admin_messages(
    db_pool: asyncpg.Pool, assistant: Assistant
) -> None:
    job = FlakyOverseerr()
    await run_job(db_pool, job)
    assert await admin_alerts(db_pool) == []  # one blip is not worth a message
    for _ in range(4):
        await run_job(db_pool, job)
    job.failing = False
    await run_job(db_pool, job)
    await run_job(db_pool, job)
    alerts = await admin_alerts(db_pool)
    assert alerts == [
        "⚠️ The Overseerr sync is failing (2 times in a row): Overseerr is unreachable on /user: could not connect",
        "✅ The Overseerr sync works again (after 5 failed runs).",
    ]

    fake = FakeDiscord()
    await fake.start()
    config = DiscordConfig(
        token="test-token", admin_channel_id=fake.admin_channel_id, guild_ready_timeout=0.05
    )
    bot = DiscordBot(assistant, config, Outbox(db_pool, interval_seconds=0.05))
    await bot.start()
    try:
        posted = await fake.wait_for(
            lambda r: r.method == "POST" and r.path == f"/channels/{fake.admin_channel_id}/messages", count=2
        )
        await asyncio.sleep(0.3)  # a few more delivery rounds: nothing else may arrive
    finally:
        await bot.stop()
        await fake.stop()
    sent = [json.dumps(call.body, ensure_ascii=False) for call in posted]
    assert "failing" in sent[0] and "works again" in sent[1]
    assert len(fake.calls("POST", f"/channels/{fake.admin_channel_id}/messages")) == 2
