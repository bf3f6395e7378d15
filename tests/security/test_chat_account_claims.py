"""Attacks on chat-account links: claiming an unlinked Discord id, relinking a linked one; and the consent flow.

A Discord id that Overseerr reports is a suggestion. Marquee asks the Discord account's
owner in a DM and links only on their "yes"; nothing links an account already linked,
and every link is in the audit trail.
"""

from __future__ import annotations

import asyncpg
import pytest
from engine.doubles import ScriptedEngine
from engine.test_assistant import Runners

from core import identity
from core.assistant import Assistant
from core.chat import ChatRequest
from core.ingest.records import UserRecord
from core.ingest.users import upsert_user

OWNER_DISCORD = "123456789012345678"
OTHER_DISCORD = "555555555555555555"


def dm(text: str, user: str = OWNER_DISCORD) -> ChatRequest:
    return ChatRequest("discord", user, f"dm-{user}", text, is_direct_message=True)


def overseerr_user(external_id: str, username: str, discord_id: str) -> UserRecord:
    return UserRecord("overseerr", external_id, username, discord_id=discord_id)


async def linked_to(pool: asyncpg.Pool, platform_user_id: str) -> str | None:
    username: str | None = await pool.fetchval(
        "SELECT u.username FROM chat_accounts c JOIN users u ON u.id = c.user_id "
        "WHERE c.platform = 'discord' AND c.platform_user_id = $1",
        platform_user_id,
    )
    return username


@pytest.fixture
def assistant(db_pool: asyncpg.Pool) -> Assistant:
    return Assistant(db_pool, ScriptedEngine(), Runners())


async def test_a_synced_discord_id_claims_no_unlinked_account(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        await upsert_user(conn, overseerr_user("5", "mallory", OTHER_DISCORD))

    assert await linked_to(db_pool, OTHER_DISCORD) is None


async def test_no_link_before_yes_and_a_yes_links(db_pool: asyncpg.Pool, assistant: Assistant) -> None:
    async with db_pool.acquire() as conn:
        await upsert_user(conn, overseerr_user("2", "alice", OWNER_DISCORD))

    question = await assistant.handle(dm("what did I watch last week?"))

    assert question.kind == "link_question"
    assert "alice" in question.text and "yes" in question.text.lower()
    assert await linked_to(db_pool, OWNER_DISCORD) is None

    answer = await assistant.handle(dm("Yes"))

    assert await linked_to(db_pool, OWNER_DISCORD) == "alice"
    assert "alice" in answer.text
    audit = await db_pool.fetchrow("SELECT * FROM chat_account_links_audit ORDER BY created_at DESC LIMIT 1")
    assert (audit["platform_user_id"], audit["method"], audit["actor"]) == (
        OWNER_DISCORD,
        "owner_consent",
        f"discord:{OWNER_DISCORD}",
    )


async def test_no_declines_the_suggestion(db_pool: asyncpg.Pool, assistant: Assistant) -> None:
    async with db_pool.acquire() as conn:
        await upsert_user(conn, overseerr_user("2", "alice", OWNER_DISCORD))
    await assistant.handle(dm("hi"))

    await assistant.handle(dm("no"))
    again = await assistant.handle(dm("yes"))

    assert await linked_to(db_pool, OWNER_DISCORD) is None
    assert again.kind == "link_instructions"


async def test_a_yes_without_having_been_asked_links_nothing(
    db_pool: asyncpg.Pool, assistant: Assistant
) -> None:
    async with db_pool.acquire() as conn:
        await upsert_user(conn, overseerr_user("2", "alice", OWNER_DISCORD))

    await assistant.handle(dm("yes"))

    assert await linked_to(db_pool, OWNER_DISCORD) is None


async def test_the_question_is_asked_only_in_a_direct_message(
    db_pool: asyncpg.Pool, assistant: Assistant
) -> None:
    async with db_pool.acquire() as conn:
        await upsert_user(conn, overseerr_user("2", "alice", OWNER_DISCORD))

    in_channel = ChatRequest("discord", OWNER_DISCORD, "general", "hi")
    reply = await assistant.handle(in_channel)

    assert reply.kind == "link_instructions" and "alice" not in reply.text


async def test_two_claimants_of_one_discord_id_get_no_question(
    db_pool: asyncpg.Pool, assistant: Assistant
) -> None:
    async with db_pool.acquire() as conn:
        await upsert_user(conn, overseerr_user("2", "alice", OWNER_DISCORD))
        await upsert_user(conn, overseerr_user("5", "mallory", OWNER_DISCORD))

    reply = await assistant.handle(dm("hi"))
    await assistant.handle(dm("yes"))

    assert reply.kind == "link_instructions"
    assert await linked_to(db_pool, OWNER_DISCORD) is None


async def test_a_user_with_a_linked_account_gets_no_second_one_by_suggestion(
    db_pool: asyncpg.Pool, assistant: Assistant
) -> None:
    async with db_pool.acquire() as conn:
        await upsert_user(conn, overseerr_user("2", "alice", OWNER_DISCORD))
        await identity.link_account(conn, "discord", OTHER_DISCORD, "alice", linked_by="cli")
        # Overseerr still (or again) names another Discord account for alice: a typo, or a stranger's.
        await upsert_user(conn, overseerr_user("2", "alice", OWNER_DISCORD))

    reply = await assistant.handle(dm("hi"))
    await assistant.handle(dm("yes"))

    assert reply.kind == "link_instructions"
    assert await linked_to(db_pool, OWNER_DISCORD) is None


async def test_an_already_linked_account_is_not_relinked(db_pool: asyncpg.Pool, assistant: Assistant) -> None:
    async with db_pool.acquire() as conn:
        await conn.execute("INSERT INTO users (username) VALUES ('bob')")
        await identity.link_account(conn, "discord", OWNER_DISCORD, "bob", linked_by="cli")
        # A later suggestion for the linked account is not even stored ...
        await upsert_user(conn, overseerr_user("2", "alice", OWNER_DISCORD))
        # ... and no admin link moves it to someone else.
        with pytest.raises(identity.AlreadyLinked):
            await identity.link_account(conn, "discord", OWNER_DISCORD, "alice", linked_by="cli")

    await assistant.handle(dm("yes"))

    assert await linked_to(db_pool, OWNER_DISCORD) == "bob"
    assert await db_pool.fetchval("SELECT count(*) FROM chat_link_suggestions") == 0
    assert await db_pool.fetchval(
        "SELECT array_agg(action ORDER BY id) FROM chat_account_links_audit WHERE method = 'admin' AND actor = 'cli'"
    ) == ["linked", "refused"]
