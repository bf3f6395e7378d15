"""Telling requesters how their request went: Overseerr's webhook → outbox → a Discord DM (the real
discord.py against the fake Discord), once per event, surviving a restart, switchable per member."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from chat.fake_discord import FakeDiscord, user_payload
from rich.console import Console

from adapters.chat.console import ConsoleChat
from adapters.chat.discord_bot import DiscordBot, DiscordConfig
from adapters.http.server import WebhookConfig, build_app
from core.assistant import Assistant
from core.chat import THUMBS_UP, WRONG
from core.media_requests.notifications import Outbox

from .conftest import Members
from .fake_overseerr import FakeOverseerr

PAYLOAD = Path(__file__).parent.parent / "media" / "payloads" / "overseerr-webhook-media-approved.json"
ALICE_DISCORD = 111111111111111111
ALICE = user_payload(ALICE_DISCORD, "alice")
ALICE_DM = ALICE_DISCORD + 7


def webhook(event: str, request_id: str = "42", **extra: Any) -> dict[str, Any]:
    body = json.loads(PAYLOAD.read_text(encoding="utf-8"))
    body["notification_type"] = event
    body["request"]["request_id"] = request_id
    body["subject"] = "Arrival **bold** (2016)"  # a title is whatever TMDB (or an admin) wrote
    body.update(extra)
    return body


@pytest.fixture
async def hooks(db_pool: asyncpg.Pool, members: Members) -> AsyncIterator[TestClient]:
    # The request the sync learned, with its requester by Overseerr user id.
    await db_pool.execute(
        "INSERT INTO content_requests (title, media_type, requested_by_user_id, status, requested_at, source, "
        "source_request_id, tmdb_id) VALUES ('Arrival **bold**', 'movie', $1, 'pending', now(), 'overseerr', '42', 329865)",
        members.alice,
    )
    app = build_app(db_pool, WebhookConfig(secrets={"overseerr": "hook-secret"}, max_body_bytes=65536))
    async with TestClient(TestServer(app)) as client:
        yield client


async def deliver(client: TestClient, body: dict[str, Any]) -> int:
    response = await client.post(
        "/webhooks/overseerr?token=hook-secret",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    return response.status


async def outbox(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT platform, platform_user_id, body, sent_at FROM notification_outbox ORDER BY created_at"
    )


async def test_a_webhook_delivered_twice_queues_one_message_per_chat_account(
    hooks: TestClient, db_pool: asyncpg.Pool
) -> None:
    assert await deliver(hooks, webhook("MEDIA_APPROVED")) == 200
    assert await deliver(hooks, webhook("MEDIA_APPROVED")) == 200
    rows = await outbox(db_pool)
    # Alice's Discord account; the console is not a place to be told later.
    assert [(r["platform"], r["platform_user_id"]) for r in rows] == [("discord", str(ALICE_DISCORD))]
    assert rows[0]["body"].startswith("👍 Your request for **Arrival \\*\\*bold\\*\\*** was approved.")
    # The same event again in a delivery that differs (Overseerr re-sent it after an edit): still one.
    assert await deliver(hooks, webhook("MEDIA_APPROVED", message="A linguist (edited)")) == 200
    assert len(await outbox(db_pool)) == 1
    await deliver(hooks, webhook("MEDIA_AVAILABLE"))
    assert "is ready to watch" in (await outbox(db_pool))[-1]["body"]


async def test_a_decline_carries_its_reason(hooks: TestClient, db_pool: asyncpg.Pool) -> None:
    extra = [{"name": "Decline Reason", "value": "not enough space"}]
    await deliver(hooks, webhook("MEDIA_DECLINED", extra=extra))
    assert (await outbox(db_pool))[0][
        "body"
    ] == "Your request for **Arrival \\*\\*bold\\*\\*** was declined: not enough space"


async def test_a_request_unknown_to_the_sync_tells_nobody(hooks: TestClient, db_pool: asyncpg.Pool) -> None:
    # The webhook names alice's Discord id, which the requester edits: not a reason to DM anyone.
    assert await deliver(hooks, webhook("MEDIA_AVAILABLE", request_id="77")) == 200
    assert await outbox(db_pool) == []


async def test_notify_off_in_the_console_stops_the_messages(
    hooks: TestClient, db_pool: asyncpg.Pool, assistant: Assistant
) -> None:
    typed = iter(["/notify", "/notify off", "/quit"])

    async def read_line(prompt: str) -> str | None:
        return next(typed)

    output = Console(record=True, width=200, force_terminal=False)
    await ConsoleChat(assistant, "alice", console=output, read_line=read_line).run()
    text = output.export_text()
    assert "Request updates are on" in text and "Request updates are off: I won't DM you" in text
    await deliver(hooks, webhook("MEDIA_APPROVED"))
    assert await outbox(db_pool) == []


# --- Discord ---------------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(known_users={ALICE_DISCORD: ALICE})
    await server.start()
    yield server
    await server.stop()


def discord_bot(fake: FakeDiscord, assistant: Assistant, pool: asyncpg.Pool) -> DiscordBot:
    config = DiscordConfig(
        token="test-token", admin_channel_id=fake.admin_channel_id, guild_ready_timeout=0.05
    )
    return DiscordBot(assistant, config, Outbox(pool, interval_seconds=0.05))


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 15) -> Any:
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.05)


async def test_the_requester_gets_a_dm_with_reactions_even_after_a_restart(
    fake: FakeDiscord, hooks: TestClient, db_pool: asyncpg.Pool, assistant: Assistant
) -> None:
    # The webhook arrives while the Discord adapter is down: the message waits in the database.
    await deliver(hooks, webhook("MEDIA_AVAILABLE"))
    await deliver(hooks, webhook("MEDIA_AVAILABLE"))
    assert [r["sent_at"] for r in await outbox(db_pool)] == [None]

    bot = discord_bot(fake, assistant, db_pool)
    await bot.start()
    try:
        sent = await fake.wait_for(
            lambda r: r.method == "POST" and r.path == f"/channels/{ALICE_DM}/messages"
        )
        assert "is ready to watch" in (sent[0].body.get("content") or json.dumps(sent[0].body.get("embeds")))
        reactions = await fake.wait_for(lambda r: r.method == "PUT" and "/reactions/" in r.path, count=2)
        assert [r.path.split("/")[-2] for r in reactions] == [THUMBS_UP, WRONG]
        await eventually(lambda: db_pool.fetchval("SELECT sent_at FROM notification_outbox"))

        # Alice's 👍 on the notification is recorded like on an answer; someone else's ❌ is not.
        message_id = sent[0].response["id"]
        await fake.react(ALICE_DISCORD, ALICE_DM, message_id, THUMBS_UP)
        await fake.react(ALICE_DISCORD + 1, ALICE_DM, message_id, WRONG)
        await eventually(lambda: db_pool.fetchval("SELECT thumbs_up FROM notification_feedback"))
        await fake.react(ALICE_DISCORD, ALICE_DM, message_id, WRONG)
        await eventually(lambda: db_pool.fetchval("SELECT reported_wrong FROM notification_feedback"))
        await fake.react(ALICE_DISCORD, ALICE_DM, message_id, THUMBS_UP, removed=True)
        await eventually(lambda: db_pool.fetchval("SELECT NOT thumbs_up FROM notification_feedback"))
        row = await db_pool.fetchrow("SELECT event_key, body, reply_message_id FROM notification_feedback")
        assert row["event_key"] == "overseerr:42:MEDIA_AVAILABLE" and "is ready to watch" in row["body"]
        assert row["reply_message_id"] == str(message_id)
        # A notification is not an answer: no answer feedback row, nothing for the learning queue.
        assert await db_pool.fetchval("SELECT count(*) FROM ai_conversation_feedback") == 0
        assert await db_pool.fetchval("SELECT count(*) FROM ai_learning_queue") == 0
    finally:
        await bot.stop()
    assert len(fake.calls("POST", f"/channels/{ALICE_DM}/messages")) == 1


async def test_an_expired_notification_is_dropped(
    fake: FakeDiscord, hooks: TestClient, db_pool: asyncpg.Pool, assistant: Assistant
) -> None:
    await deliver(hooks, webhook("MEDIA_APPROVED"))
    await db_pool.execute("UPDATE notification_outbox SET expires_at = now() - interval '1 minute'")
    bot = discord_bot(fake, assistant, db_pool)
    await bot.start()
    try:
        await asyncio.wait_for(bot.client.connected.wait(), timeout=15)
        await eventually(lambda: _count_zero(db_pool))
    finally:
        await bot.stop()
    assert fake.calls("POST", f"/channels/{ALICE_DM}/messages") == []


async def _count_zero(pool: asyncpg.Pool) -> bool:
    return await pool.fetchval("SELECT count(*) FROM notification_outbox") == 0


async def test_a_member_requests_on_discord_by_replying_with_a_number(
    fake: FakeDiscord, db_pool: asyncpg.Pool, assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    bot = discord_bot(fake, assistant, db_pool)
    await bot.start()
    try:
        await asyncio.wait_for(bot.client.connected.wait(), timeout=15)
        for count, text in enumerate(["can you get Dune Part Three for me?", "1", "yes"], start=1):
            await fake.send_dm(ALICE, text)
            await fake.wait_for(
                lambda r: r.method == "POST" and r.path == f"/channels/{ALICE_DM}/messages", count=count
            )
        replies = [call.body for call in fake.calls("POST", f"/channels/{ALICE_DM}/messages")]
    finally:
        await bot.stop()
    shown = json.dumps(replies, ensure_ascii=False)
    assert "Dune: Part Three" in shown and "Reply with a number from 1 to 1" in shown
    assert "Requested **Dune: Part Three** (2026) and it's waiting for an admin's approval." in shown
    assert overseerr.posted == [{"mediaType": "movie", "mediaId": 8000001}] and overseerr.posted_as == [2]


async def test_a_member_requests_on_discord_with_buttons(
    fake: FakeDiscord, db_pool: asyncpg.Pool, assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    bot = discord_bot(fake, assistant, db_pool)
    await bot.start()
    try:
        await asyncio.wait_for(bot.client.connected.wait(), timeout=15)
        await fake.send_dm(ALICE, "request Dune")
        listed = await fake.wait_for(
            lambda r: r.method == "POST" and r.path == f"/channels/{ALICE_DM}/messages"
        )
        buttons = [c["custom_id"] for row in listed[0].body["components"] for c in row["components"]]
        assert buttons == ["marquee:say:1", "marquee:say:2", "marquee:say:3", "marquee:say:cancel"]

        await fake.press_button(ALICE, listed[0].response, "marquee:say:1")
        summary = (await fake.wait_for(lambda r: r.method == "POST" and r.path.startswith("/webhooks/")))[0]
        assert "as you?" in json.dumps(summary.body, ensure_ascii=False)
        confirm = [c["custom_id"] for row in summary.body["components"] for c in row["components"]]
        assert confirm == ["marquee:say:yes", "marquee:say:cancel"]

        await fake.press_button(ALICE, summary.response, "marquee:say:yes")
        done = await fake.wait_for(lambda r: r.method == "POST" and r.path.startswith("/webhooks/"), count=2)
        assert "Requested" in json.dumps(done[1].body, ensure_ascii=False)
    finally:
        await bot.stop()
    assert overseerr.posted == [{"mediaType": "movie", "mediaId": 8000001}] and overseerr.posted_as == [2]


async def test_a_request_made_from_chat_is_told_about_before_the_next_sync(
    hooks: TestClient, db_pool: asyncpg.Pool, assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    typed = iter(["request Dune Part Three", "1", "yes", "/quit"])

    async def read_line(prompt: str) -> str | None:
        return next(typed)

    await ConsoleChat(assistant, "alice", console=Console(record=True), read_line=read_line).run()
    created = str(overseerr.requests[0]["id"])
    assert await deliver(hooks, webhook("MEDIA_APPROVED", request_id=created)) == 200
    rows = await outbox(db_pool)
    assert [(r["platform"], r["platform_user_id"]) for r in rows] == [("discord", str(ALICE_DISCORD))]
