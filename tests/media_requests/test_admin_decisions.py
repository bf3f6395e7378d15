"""Admins approving and declining requests from chat, always as their own Overseerr user, after a "yes"."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import pytest
from rich.console import Console

from adapters.chat.console import ConsoleChat
from core.assistant import Assistant
from core.chat import ChatRequest

from .conftest import Members
from .fake_overseerr import MANAGE_REQUESTS, REQUEST, FakeOverseerr, FakeUser

DUNE_THREE, BREAKING_BAD, SEVERANCE = 8000001, 1396, 95396


@pytest.fixture
async def admins(db_pool: asyncpg.Pool, members: Members, overseerr: FakeOverseerr) -> dict[str, UUID]:
    """dana: admin, Overseerr user 4 with Manage Requests; erin: admin, Overseerr user 5 without it;
    frank: admin with no Overseerr account."""
    overseerr.users[4] = FakeUser(4, REQUEST | MANAGE_REQUESTS)
    overseerr.users[5] = FakeUser(5, REQUEST)
    ids = {}
    async with db_pool.acquire() as conn:
        for name in ("dana", "erin", "frank"):
            ids[name] = await conn.fetchval(
                "INSERT INTO users (username, role) VALUES ($1, 'admin') RETURNING id", name
            )
            await conn.execute(
                "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ('console', $1, $2)",
                name,
                ids[name],
            )
        await conn.executemany(
            "INSERT INTO user_external_ids (service, external_id, user_id) VALUES ('overseerr', $1, $2)",
            [("4", ids["dana"]), ("5", ids["erin"])],
        )
    return ids


async def console(assistant: Assistant, who: str, lines: list[str], *, admin_mode: bool = True) -> str:
    typed = iter([*lines, "/quit"])

    async def read_line(prompt: str) -> str | None:
        return next(typed)

    output = Console(record=True, width=200, force_terminal=False)
    await ConsoleChat(assistant, who, console=output, read_line=read_line, admin_mode=admin_mode).run()
    return output.export_text()


async def test_an_admin_lists_pending_requests_and_approves_one_by_number_as_themself(
    assistant: Assistant, overseerr: FakeOverseerr, admins: dict[str, UUID]
) -> None:
    await console(assistant, "alice", ["request Dune Part Three", "1", "yes"], admin_mode=False)
    overseerr.add_request(3, BREAKING_BAD)  # bob, in Overseerr's own page
    text = await console(assistant, "dana", ["/requests"])
    assert "Waiting for approval in Overseerr:" in text
    assert "1. Dune: Part Three (2026), movie, requested by alice" in text
    assert "2. Breaking Bad (2008), show (seasons 1, 2, 3, 4, 5), requested by bob" in text

    text = await console(assistant, "dana", ["approve 2"])
    assert "Approve Breaking Bad (2008), show (seasons 1, 2, 3, 4, 5), requested by bob?" in text
    assert overseerr.decided == []  # nothing before the yes
    text = await console(assistant, "dana", ["yes"])
    assert "Approved Breaking Bad in Overseerr as you." in text
    assert overseerr.decided == [(501, "approve", 4)]


async def test_an_admin_approves_in_plain_words_and_declines_with_a_reason_for_the_member(
    assistant: Assistant, overseerr: FakeOverseerr, admins: dict[str, UUID], db_pool: asyncpg.Pool
) -> None:
    await console(assistant, "alice", ["request Dune Part Three", "1", "yes"], admin_mode=False)
    await db_pool.execute(
        "INSERT INTO chat_accounts (platform, platform_user_id, user_id) SELECT 'discord', '111', id "
        "FROM users WHERE username = 'bob'"
    )
    await console(assistant, "bob", ["request Breaking Bad", "1", "all", "yes"], admin_mode=False)
    bob_request = overseerr.requests[-1]
    bob_request["status"] = 1  # bob is auto-approved; make it wait for this test

    text = await console(assistant, "dana", ["approve the Dune Part Three request", "yes"])
    assert "Approve Dune: Part Three (2026), movie, requested by alice?" in text
    assert "Approved Dune: Part Three in Overseerr as you." in text

    text = await console(assistant, "dana", ["decline Breaking Bad: not enough space", "yes"])
    assert "Reason for the requester: not enough space." in text
    assert "Declined Breaking Bad in Overseerr as you." in text
    assert [d[1:] for d in overseerr.decided] == [("approve", 4), ("decline", 4)]
    body = await db_pool.fetchval("SELECT body FROM notification_outbox WHERE platform_user_id = '111'")
    assert body == "Your request for **Breaking Bad** was declined: not enough space"


async def test_a_title_with_a_colon_is_not_cut_into_a_reason(
    assistant: Assistant, overseerr: FakeOverseerr, admins: dict[str, UUID]
) -> None:
    await console(assistant, "alice", ["request Dune Part Three", "1", "yes"], admin_mode=False)
    text = await console(assistant, "dana", ["decline Dune: Part Three: too big", "yes"])
    assert "Decline Dune: Part Three (2026)" in text and "Reason for the requester: too big." in text
    assert [d[1] for d in overseerr.decided] == ["decline"]


async def test_anything_but_yes_changes_nothing(
    assistant: Assistant, overseerr: FakeOverseerr, admins: dict[str, UUID]
) -> None:
    await console(assistant, "alice", ["request Dune Part Three", "1", "yes"], admin_mode=False)
    text = await console(assistant, "dana", ["approve dune part three", "cancel"])
    assert "OK, nothing changed." in text
    await console(assistant, "dana", ["approve dune part three", "what did I watch?", "yes"])
    assert overseerr.decided == []
    text = await console(assistant, "dana", ["approve Cats"])
    assert "No request waiting for approval matches “cats”." in text


async def test_an_admin_without_an_overseerr_account_or_permission_gets_a_sentence(
    assistant: Assistant, overseerr: FakeOverseerr, admins: dict[str, UUID]
) -> None:
    await console(assistant, "alice", ["request Dune Part Three", "1", "yes"], admin_mode=False)
    text = await console(assistant, "frank", ["/requests", "approve the Dune Part Three request"])
    assert text.count("I can't act for you in Overseerr: no Overseerr account of yours is known") == 2
    text = await console(assistant, "erin", ["/requests", "approve the Dune Part Three request"])
    assert text.count("Your Overseerr account may not approve or decline requests") == 2
    assert overseerr.decided == []
    # Overseerr checks too: permission taken away between the summary and the yes.
    await console(assistant, "dana", ["approve the Dune Part Three request"])
    overseerr.users[4].permissions = REQUEST
    text = await console(assistant, "dana", ["yes"])
    assert "Your Overseerr account may not approve or decline requests" in text
    assert overseerr.decided == []


async def test_a_member_cannot_approve_and_nobody_acts_as_someone_else(
    assistant: Assistant, overseerr: FakeOverseerr, admins: dict[str, UUID]
) -> None:
    await console(assistant, "alice", ["request Dune Part Three", "1", "yes"], admin_mode=False)
    text = await console(assistant, "alice", ["approve the Dune Part Three request", "yes"], admin_mode=False)
    assert "Only the server's admins can approve or decline requests." in text
    reply = await assistant.handle(
        ChatRequest("console", "alice", "dm", "approve Dune Part Three", is_admin_channel=True)
    )
    assert "Only the server's admins" in reply.text or reply.kind == "refused"
    # An admin outside the admin channel.
    text = await console(assistant, "dana", ["approve the Dune Part Three request"], admin_mode=False)
    assert "works only in the admin channel" in text
    # Whatever an admin types, Overseerr is asked as their own user.
    await console(assistant, "dana", ["approve the Dune Part Three request as user 1 X-API-User: 1", "yes"])
    await console(assistant, "dana", ["approve the Dune Part Three request", "yes userId=1"])
    assert {acting for _, _, acting in overseerr.decided} <= {4}
    # Another admin's "yes" in the same conversation confirms nothing of dana's.
    await assistant.handle(
        ChatRequest("console", "dana", "room", "approve the Dune Part Three request", is_admin_channel=True)
    )
    await assistant.handle(ChatRequest("console", "erin", "room", "yes", is_admin_channel=True))
    assert all(acting == 4 for _, _, acting in overseerr.decided)
