"""Request notifications and ``!notify`` on Matrix: the real MatrixBot against the real Synapse."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from media_requests.fake_overseerr import (
    API_KEY,
    MANAGE_REQUESTS,
    REQUEST,
    FakeOverseerr,
    FakeUser,
    sample_catalogue,
    serving,
)

from bot.integrations import request_service
from core.media_requests.notifications import Outbox, RequestNotice, enqueue_notice

from .matrix_people import bot_account, bot_settings, link, person, running_bot
from .synapse_server import SynapseServer


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 15) -> Any:
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.05)


async def test_the_requester_is_told_in_their_dm_room_with_reactions_and_can_turn_it_off(
    synapse: SynapseServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        user_id = await db_pool.fetchval("SELECT id FROM users WHERE username = 'alice'")
        await db_pool.execute(
            "INSERT INTO content_requests (title, media_type, requested_by_user_id, status, requested_at, source, "
            "source_request_id) VALUES ('Arrival', 'movie', $1, 'approved', now(), 'overseerr', '42')",
            user_id,
        )
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool, outbox=Outbox(db_pool, interval_seconds=0.05)):
            room = await alice.open_dm_with(bot_id)
            question = await alice.say(room, "!notify")
            reply = await alice.sync_until(alice.reply_to(question, bot_id), "the notify answer")
            assert "Request updates are on" in reply.body

            async with db_pool.acquire() as conn:
                await enqueue_notice(conn, RequestNotice("overseerr", "42", "MEDIA_AVAILABLE"))
            told = await alice.sync_until(
                lambda: next(
                    (e for _, e in alice.messages if e.sender == bot_id and "ready to watch" in e.body), None
                ),
                "the notification",
            )
            assert told.body.startswith("🍿 Arrival is ready to watch")
            await alice.sync_until(
                lambda: (
                    True
                    if {
                        e.key
                        for _, e in alice.reactions
                        if e.sender == bot_id and e.reacts_to == told.event_id
                    }
                    == {"👍", "❌"}
                    else None
                ),
                "👍 and ❌ under the notification",
            )
            # Alice's 👍 on it is recorded.
            await alice.react(room, told.event_id, "👍")

            async def thumbs_up() -> bool | None:
                return await db_pool.fetchval(
                    "SELECT thumbs_up FROM notification_feedback WHERE reply_message_id = $1", told.event_id
                )

            await eventually(thumbs_up)

            question = await alice.say(room, "!notify off")
            reply = await alice.sync_until(alice.reply_to(question, bot_id), "the notify off answer")
            assert "Request updates are off" in reply.body
    async with db_pool.acquire() as conn:
        assert await enqueue_notice(conn, RequestNotice("overseerr", "42", "MEDIA_DECLINED")) == 0


async def test_a_member_requests_on_matrix_by_replying_with_a_number(
    synapse: SynapseServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
) -> None:
    # User 1 is the administrator every Overseerr has; the API key acts as it unless told otherwise.
    overseerr = FakeOverseerr(users={1: FakeUser(1, 2), 2: FakeUser(2, REQUEST)}, titles=sample_catalogue())
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice, serving(overseerr) as url:
        await link(db_pool, "alice", alice.user_id)
        await db_pool.execute(
            "INSERT INTO user_external_ids (service, external_id, user_id) "
            "SELECT 'overseerr', '2', id FROM users WHERE username = 'alice'"
        )
        settings = bot_settings(
            synapse, account, tmp_path / "data", database_url, overseerr_url=url, overseerr_api_key=API_KEY
        )
        client = request_service(settings)
        assert client is not None
        try:
            async with running_bot(settings, db_pool, requests=client):
                room = await alice.open_dm_with(bot_id)
                replies = []
                for text in ("can you get Dune Part Three for me?", "1", "yes"):
                    question = await alice.say(room, text)
                    replies.append(
                        await alice.sync_until(alice.reply_to(question, bot_id), f"the answer to {text}")
                    )
        finally:
            await client.close()
    assert "1. Dune: Part Three (2026), movie" in replies[0].body
    assert "<ol>" in replies[0].source["content"]["formatted_body"]
    assert "Request Dune: Part Three (2026) on Overseerr as you?" in replies[1].body
    assert replies[2].body.startswith("Requested Dune: Part Three (2026)")
    assert overseerr.posted == [{"mediaType": "movie", "mediaId": 8000001}] and overseerr.posted_as == [2]


async def test_an_admin_lists_and_approves_requests_in_the_matrix_admin_room(
    synapse: SynapseServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
) -> None:
    overseerr = FakeOverseerr(
        users={1: FakeUser(1, 2), 2: FakeUser(2, REQUEST), 4: FakeUser(4, REQUEST | MANAGE_REQUESTS)},
        titles=sample_catalogue(),
    )
    overseerr.add_request(2, 8000001)  # alice asked for Dune: Part Three in Overseerr's page
    account = await bot_account(synapse)
    bot_id = account[0]
    localpart = bot_id[1:].split(":")[0]
    async with person(synapse, "dana", tmp_path) as dana, serving(overseerr) as url:
        await link(db_pool, "dana", dana.user_id, role="admin")
        await db_pool.execute(
            "INSERT INTO user_external_ids (service, external_id, user_id) "
            "SELECT 'overseerr', '4', id FROM users WHERE username = 'dana'"
        )
        admin_room = await dana.open_room([bot_id], direct=False)
        settings = bot_settings(
            synapse,
            account,
            tmp_path / "data",
            database_url,
            matrix_admin_rooms=[admin_room],
            overseerr_url=url,
            overseerr_api_key=API_KEY,
        )
        client = request_service(settings)
        assert client is not None
        try:
            async with running_bot(settings, db_pool, requests=client):
                await dana.sync_until(dana.has_joined(admin_room, bot_id), "the bot to join the admin room")
                replies = []
                for text in ("!requests", f"{localpart}: approve 1", f"{localpart}: yes"):
                    question = await dana.say(admin_room, text)
                    replies.append(
                        await dana.sync_until(dana.reply_to(question, bot_id), f"the answer to {text}")
                    )
        finally:
            await client.close()
    assert "1. Dune: Part Three (2026), movie, requested by Overseerr user #2" in replies[0].body
    assert "Approve Dune: Part Three (2026), movie" in replies[1].body
    assert replies[2].body == "Approved Dune: Part Three in Overseerr as you."
    assert overseerr.decided == [(500, "approve", 4)]
