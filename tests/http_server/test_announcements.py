"""New media announced per library: a season added episode by episode is one message, in the library's
channel (the real discord.py against the fake Discord); unmapped libraries are not announced."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient
from chat.fake_discord import FakeDiscord

from adapters.chat.discord_bot import DiscordBot, DiscordConfig
from bot.settings import Settings
from bot.wiring import build_assistant
from core.announcements import AnnouncementConfig, flush_announcements
from core.media_requests.notifications import Outbox

from .test_webhooks import plex_form, plex_library_new, url


def plex_episode(number: int) -> dict[str, Any]:
    body = copy.deepcopy(plex_library_new())
    body["Metadata"].update(
        {"type": "episode", "title": f"Episode {number}", "ratingKey": f"70{number:02d}", "index": number,
         "parentIndex": 2, "grandparentRatingKey": "6900", "grandparentTitle": "Severance *2*",
         "librarySectionTitle": "TV Shows", "Guid": [], "year": 2025}
    )  # fmt: skip
    return body


async def channel_messages(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT platform, platform_user_id, body FROM notification_outbox WHERE audience = 'channel' "
        "ORDER BY platform"
    )


async def test_a_season_added_is_one_announcement_in_its_librarys_channel(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    fake = FakeDiscord()
    config = AnnouncementConfig(
        targets={"discord": {"TV Shows": str(fake.allowed_channel_id)}, "matrix": {"TV Shows": "!tv:example.org"}},
        quiet=timedelta(minutes=5),
    )
    for number in (1, 2, 3):
        response = await client.post(url("plex"), data=plex_form(plex_episode(number)))
        assert response.status == 200, await response.text()
    movie = plex_library_new()
    movie["Metadata"]["librarySectionTitle"] = "Movies"  # not mapped: never announced
    await client.post(url("plex"), data=plex_form(movie))
    await client.post(url("plex"), data=plex_form(plex_episode(2)))  # delivered twice

    now = datetime.now(UTC)
    assert await flush_announcements(db_pool, config, now) == 0  # the season may still be arriving
    assert await flush_announcements(db_pool, config, now + timedelta(minutes=6)) == 2  # discord, matrix
    assert await flush_announcements(db_pool, config, now + timedelta(minutes=20)) == 0
    rows = await channel_messages(db_pool)
    assert [(r["platform"], r["platform_user_id"]) for r in rows] == [
        ("discord", str(fake.allowed_channel_id)),
        ("matrix", "!tv:example.org"),
    ]
    assert rows[0]["body"] == "🍿 New in TV Shows:\n- **Severance \\*2\\***, season 2 (3 episodes)"

    await fake.start()
    assistant = await build_assistant(Settings(_env_file=None, engine="offline"), db_pool)  # type: ignore[call-arg]
    bot = DiscordBot(
        assistant,
        DiscordConfig(token="test-token", admin_channel_id=fake.admin_channel_id, guild_ready_timeout=0.05),
        Outbox(db_pool, interval_seconds=0.05),
    )
    await bot.start()
    try:
        posted = await fake.wait_for(
            lambda r: r.method == "POST" and r.path == f"/channels/{fake.allowed_channel_id}/messages"
        )
        await asyncio.sleep(0.3)  # a few more delivery rounds: nothing else may arrive
    finally:
        await bot.stop()
        await fake.stop()
    assert len(fake.calls("POST", f"/channels/{fake.allowed_channel_id}/messages")) == 1
    assert "Severance" in json.dumps(posted[0].body, ensure_ascii=False)


async def test_nothing_is_announced_without_a_mapped_library(client: TestClient, db_pool: asyncpg.Pool) -> None:
    await client.post(url("plex"), data=plex_form(plex_episode(1)))
    later = datetime.now(UTC) + timedelta(hours=1)
    assert await flush_announcements(db_pool, AnnouncementConfig(), later) == 0
    assert await channel_messages(db_pool) == []
    # Unannounced arrivals do not pile up.
    await flush_announcements(db_pool, AnnouncementConfig(), later + timedelta(days=3))
    assert await db_pool.fetchval("SELECT count(*) FROM media_arrivals") == 0
