"""``/requests`` on Discord: the real discord.py against the fake Discord, approve/decline by button."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from chat.fake_discord import FakeDiscord, RecordedRequest, user_payload

from adapters.chat.discord_bot import DiscordBot, DiscordConfig
from core.assistant import Assistant

from .conftest import Members
from .fake_overseerr import MANAGE_REQUESTS, REQUEST, FakeOverseerr, FakeUser

DANA_DISCORD = 222222222222222222
DANA = user_payload(DANA_DISCORD, "dana")
ALICE = user_payload(111111111111111111, "alice")
BREAKING_BAD, DUNE_THREE = 1396, 8000001


@pytest.fixture
async def dana(db_pool: asyncpg.Pool, members: Members, overseerr: FakeOverseerr) -> None:
    overseerr.users[4] = FakeUser(4, REQUEST | MANAGE_REQUESTS)
    user_id = await db_pool.fetchval(
        "INSERT INTO users (username, role) VALUES ('dana', 'admin') RETURNING id"
    )
    await db_pool.execute(
        "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ('discord', $1, $2)",
        str(DANA_DISCORD),
        user_id,
    )
    await db_pool.execute(
        "INSERT INTO user_external_ids (service, external_id, user_id) VALUES ('overseerr', '4', $1)", user_id
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeDiscord, assistant: Assistant, dana: None) -> AsyncIterator[DiscordBot]:
    config = DiscordConfig(
        token="test-token", admin_channel_id=fake.admin_channel_id, guild_ready_timeout=0.05
    )
    discord_bot = DiscordBot(assistant, config)
    await discord_bot.start()
    await asyncio.wait_for(discord_bot.client.connected.wait(), timeout=15)
    yield discord_bot
    await discord_bot.stop()


def followups(r: RecordedRequest) -> bool:
    return r.method == "POST" and r.path.startswith("/webhooks/")


def buttons(call: RecordedRequest) -> list[str]:
    return [c["custom_id"] for row in call.body.get("components", []) for c in row["components"]]


def shown(call: RecordedRequest) -> str:
    return json.dumps({k: call.body.get(k) for k in ("content", "embeds")}, ensure_ascii=False)


async def test_an_admin_approves_and_declines_from_the_requests_buttons(
    fake: FakeDiscord, bot: DiscordBot, overseerr: FakeOverseerr
) -> None:
    overseerr.add_request(2, DUNE_THREE)  # alice
    overseerr.add_request(3, BREAKING_BAD)  # bob
    await fake.slash_command("requests", DANA, channel_id=fake.admin_channel_id)
    [listing] = await fake.wait_for(followups)
    assert "Dune: Part Three" in shown(listing) and "requested by alice" in shown(listing)
    assert buttons(listing) == [
        "marquee:say:approve 1",
        "marquee:say:approve 2",
        "marquee:say:decline 1",
        "marquee:say:decline 2",
    ]
    labels = [c["label"] for row in listing.body["components"] for c in row["components"]]
    assert labels[:2] == ["Approve 1", "Approve 2"]

    await fake.press_button(DANA, listing.response, "marquee:say:decline 2", in_guild=True)
    summary = (await fake.wait_for(followups, count=2))[1]
    assert "Decline **Breaking Bad**" in shown(summary) or "Decline Breaking Bad" in shown(summary)
    assert buttons(summary) == ["marquee:say:confirm", "marquee:say:cancel"]
    assert overseerr.decided == []

    # A member pressing the admin's button decides nothing.
    await fake.press_button(ALICE, summary.response, "marquee:say:confirm", in_guild=True)
    await fake.wait_for(followups, count=3)
    assert overseerr.decided == []

    await fake.press_button(DANA, summary.response, "marquee:say:confirm", in_guild=True)
    done = (await fake.wait_for(followups, count=4))[3]
    assert "Declined" in shown(done) and "as you" in shown(done)
    assert overseerr.decided == [(501, "decline", 4)]


async def test_requests_is_refused_to_a_member(
    fake: FakeDiscord, bot: DiscordBot, overseerr: FakeOverseerr
) -> None:
    overseerr.add_request(2, DUNE_THREE)
    await fake.slash_command("requests", ALICE, channel_id=fake.admin_channel_id)
    [refusal] = await fake.wait_for(followups)
    body: dict[str, Any] = refusal.body
    assert "Dune" not in json.dumps(body) and "admins" in json.dumps(body)
