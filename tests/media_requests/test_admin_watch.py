"""Admin watch: a webhook source going silent and coming back is exactly two admin messages, and the
digest of requests waiting for approval is one message per period (off unless set)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import asyncpg
from chat.fake_discord import FakeDiscord

from adapters.chat.discord_bot import DiscordBot, DiscordConfig
from bot.integrations import watch_config
from bot.settings import load_settings
from core.admin_watch import check_webhook_silence, queue_pending_digest
from core.assistant import Assistant
from core.media_requests.notifications import Outbox

from .conftest import Members

T0 = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def delivered(pool: asyncpg.Pool, source: str, at: datetime, status: str = "processed") -> None:
    await pool.execute(
        "INSERT INTO webhook_log (source, event_type, status, received_at) VALUES ($1, 'media.play', $2, $3)",
        source,
        status,
        at,
    )


async def admin_messages(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT body FROM notification_outbox WHERE audience = 'admins' AND platform = 'discord' ORDER BY created_at"
    )
    return [row["body"] for row in rows]


async def test_a_silent_then_recovering_webhook_source_is_two_admin_messages(
    db_pool: asyncpg.Pool, assistant: Assistant
) -> None:
    limit = 2 * HOUR
    await delivered(db_pool, "plex", T0)
    await delivered(db_pool, "tautulli", T0 + 3 * HOUR)
    assert await check_webhook_silence(db_pool, limit, T0 + HOUR) == 0
    # Silent past the limit: told once, however often it is checked.
    for minutes in (121, 150, 240, 600):
        await check_webhook_silence(db_pool, limit, T0 + timedelta(minutes=minutes))
    # A rejected delivery (wrong token) is not the source being heard from.
    await delivered(db_pool, "plex", T0 + 11 * HOUR, status="rejected")
    await check_webhook_silence(db_pool, limit, T0 + 11 * HOUR)
    await delivered(db_pool, "plex", T0 + 12 * HOUR)
    for hours in (12, 12.5, 13):
        await check_webhook_silence(db_pool, limit, T0 + timedelta(hours=hours))
    messages = await admin_messages(db_pool)
    plex = [m for m in messages if "Plex" in m]
    assert plex == [
        "⚠️ No Plex webhook for more than 2 hours: check that Plex still sends them to Marquee.",
        "✅ Plex webhooks arrive again (silent for 12 hours).",
    ]
    # Tautulli went silent too in that time (its own single message); nothing else.
    assert [m for m in messages if "Plex" not in m] == [
        "⚠️ No Tautulli webhook for more than 2 hours: check that Tautulli still sends them to Marquee."
    ]

    fake = FakeDiscord()
    await fake.start()
    config = DiscordConfig(
        token="test-token", admin_channel_id=fake.admin_channel_id, guild_ready_timeout=0.05
    )
    bot = DiscordBot(assistant, config, Outbox(db_pool, interval_seconds=0.05))
    await bot.start()
    try:
        await fake.wait_for(
            lambda r: r.method == "POST" and r.path == f"/channels/{fake.admin_channel_id}/messages", count=3
        )
        await asyncio.sleep(0.3)  # a few more delivery rounds: nothing else may arrive
    finally:
        await bot.stop()
        await fake.stop()
    posted = fake.calls("POST", f"/channels/{fake.admin_channel_id}/messages")
    assert len(posted) == 3
    assert "arrive again" in json.dumps([call.body for call in posted], ensure_ascii=False)


async def pending(
    pool: asyncpg.Pool, title: str, user_id: object, at: datetime, status: str = "pending"
) -> None:
    await pool.execute(
        "INSERT INTO content_requests (title, media_type, requested_by_user_id, status, requested_at, source, "
        "source_request_id) VALUES ($1, 'movie', $2, $3, $4, 'overseerr', $1)",
        title,
        user_id,
        status,
        at,
    )


async def test_the_pending_digest_lists_the_periods_waiting_requests_once(
    db_pool: asyncpg.Pool, members: Members
) -> None:
    every = 6 * HOUR
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a period boundary (from the epoch, in UTC)
    await pending(db_pool, "Arrival *bold*", members.alice, start + HOUR)
    await pending(db_pool, "Heat", members.bob, start + 2 * HOUR)
    await pending(db_pool, "Cats", members.bob, start + 3 * HOUR, status="declined")
    await pending(db_pool, "Later", members.bob, start + 7 * HOUR)  # the next period
    assert await queue_pending_digest(db_pool, every, start + 5 * HOUR) is False  # period not over
    assert await queue_pending_digest(db_pool, every, start + 6 * HOUR + timedelta(minutes=1)) is True
    assert await queue_pending_digest(db_pool, every, start + 8 * HOUR) is False  # same period: once
    [digest] = await admin_messages(db_pool)
    assert digest.startswith("📋 2 new requests waiting for approval:\n")
    assert (
        "- **Arrival \\*bold\\*** (movie), requested by alice\n- **Heat** (movie), requested by bob" in digest
    )
    assert "Cats" not in digest and "Later" not in digest
    # A period with nothing waiting sends nothing.
    assert await queue_pending_digest(db_pool, every, start + 30 * HOUR) is False


def test_both_checks_are_off_unless_set(database_url: str) -> None:
    off = watch_config(load_settings(database_url=database_url))
    assert off.webhook_silence is None and off.pending_digest_every is None
    on = watch_config(
        load_settings(
            database_url=database_url, webhook_silence_alert_minutes=90, pending_request_digest_hours=6
        )
    )
    assert on.webhook_silence == timedelta(minutes=90) and on.pending_digest_every == 6 * HOUR
