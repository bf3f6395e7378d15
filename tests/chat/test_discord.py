"""Marquee on Discord: the real discord.py client against the local fake Discord, the real Assistant
(offline engine) and a real database."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg
import discord.http
import pytest

from adapters.chat.discord_bot import (
    LINK_CONSENT_ID,
    DiscordBot,
    DiscordConfig,
    discord_intents,
)
from bot.cli import main
from bot.runtime import run_marquee
from bot.settings import Settings
from bot.wiring import build_assistant
from core.chat import ADMIN_COMMANDS, NOT_ADMIN, NOT_ADMIN_CHANNEL, THUMBS_UP, WRONG
from core.ingest.records import UserRecord
from core.ingest.users import upsert_user

from .fake_discord import (
    EPHEMERAL,
    FakeDiscord,
    RecordedRequest,
    invalid_message_body,
    start_marquee_run,
    user_payload,
)

ALICE_ID = 1_600_000_000_000_000_001  # a linked member
BOB_ID = 1_600_000_000_000_000_002  # another linked member
ADMIN_ID = 1_600_000_000_000_000_003  # a linked admin
STRANGER_ID = 1_600_000_000_000_000_004  # not linked
ALICE = user_payload(ALICE_ID, "alice")
BOB = user_payload(BOB_ID, "bob")
ADMIN = user_payload(ADMIN_ID, "ada")
STRANGER = user_payload(STRANGER_ID, "stranger")


async def seed_member(pool: asyncpg.Pool, username: str, discord_id: int, role: str = "user") -> UUID:
    async with pool.acquire() as conn:
        user_id: UUID = await conn.fetchval(
            "INSERT INTO users (username, role) VALUES ($1, $2) RETURNING id", username, role
        )
        await conn.execute(
            "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ('discord', $1, $2)",
            str(discord_id),
            user_id,
        )
    return user_id


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 15) -> Any:
    """Poll ``check`` (a database read) until it returns something truthy."""
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.05)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeDiscord, db_pool: asyncpg.Pool) -> AsyncIterator[DiscordBot]:
    await seed_member(db_pool, "alice", ALICE_ID)
    await seed_member(db_pool, "bob", BOB_ID)
    await seed_member(db_pool, "ada", ADMIN_ID, role="admin")
    assistant = await build_assistant(Settings(_env_file=None, engine="offline"), db_pool)  # type: ignore[call-arg]
    config = DiscordConfig(
        token="test-token",
        admin_channel_id=fake.admin_channel_id,
        allowed_channel_ids=frozenset({fake.allowed_channel_id}),
        guild_ready_timeout=0.05,
        reidentify_delay_seconds=0.0,
    )
    discord_bot = DiscordBot(assistant, config)
    await discord_bot.start()
    await asyncio.wait_for(discord_bot.client.connected.wait(), timeout=15)
    yield discord_bot
    await discord_bot.stop()


def posted_to(channel_id: int) -> Callable[[RecordedRequest], bool]:
    return lambda r: r.method == "POST" and r.path == f"/channels/{channel_id}/messages"


def followups(r: RecordedRequest) -> bool:
    return r.method == "POST" and r.path.startswith("/webhooks/")


async def feedback_row(pool: asyncpg.Pool, reply_message_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT user_rating, user_reported_wrong, reply_message_id FROM ai_conversation_feedback "
        "WHERE platform = 'discord' AND reply_message_id = $1",
        reply_message_id,
    )


async def test_the_bot_identifies_with_only_the_intents_it_needs(fake: FakeDiscord, bot: DiscordBot) -> None:
    assert fake.identify is not None
    assert fake.identify["intents"] == discord_intents().value
    assert not discord_intents().message_content and not discord_intents().members
    registered = fake.calls("PUT", f"/applications/{fake.application_id}/commands")[0].body
    by_name = {command["name"]: command for command in registered}
    # Every admin command of core.chat is a slash command.
    assert set(by_name) == {"ask", "link", "privacy", "notify", *ADMIN_COMMANDS}
    for admin_only in ("link", *ADMIN_COMMANDS):
        # Hidden from members without Manage Server until a server admin changes it.
        assert by_name[admin_only]["default_member_permissions"] == 32
    assert by_name["ask"]["default_member_permissions"] is None


async def test_a_dm_gets_an_answer_with_both_reactions_and_the_reply_is_remembered(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    question = await fake.send_dm(ALICE, "how many movies are in the library?")
    channel_id = int(question["channel_id"])

    reactions = await fake.wait_for(lambda r: r.method == "PUT" and "/reactions/" in r.path, count=2)
    answers = fake.calls("POST", f"/channels/{channel_id}/messages")
    assert len(answers) == 1 and answers[0].body["content"].strip()
    answer_id = answers[0].response["id"]
    assert [r.path for r in reactions] == [
        f"/channels/{channel_id}/messages/{answer_id}/reactions/{THUMBS_UP}/@me",
        f"/channels/{channel_id}/messages/{answer_id}/reactions/{WRONG}/@me",
    ]
    # The typing indicator was on while the answer was built.
    first_typing = fake.requests.index(fake.calls("POST", f"/channels/{channel_id}/typing")[0])
    assert first_typing < fake.requests.index(answers[0])
    row = await eventually(lambda: feedback_row(db_pool, answer_id))
    assert row["user_rating"] is None and row["user_reported_wrong"] is False


async def test_reactions_of_the_asker_rate_the_answer_and_removing_them_undoes_it(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    question = await fake.send_dm(ALICE, "what did I watch last week?")
    channel_id = int(question["channel_id"])
    await fake.wait_for(lambda r: r.method == "PUT" and "/reactions/" in r.path, count=2)
    answer_id = fake.calls("POST", f"/channels/{channel_id}/messages")[0].response["id"]

    # Bob's 👍 (someone else) changes nothing; the bot's own reactions changed nothing either.
    await fake.react(BOB_ID, channel_id, answer_id, THUMBS_UP)
    await fake.react(bot.client.user.id, channel_id, answer_id, WRONG)  # type: ignore[union-attr]
    # Alice's 👍 (a skin tone is still a 👍) counts.
    await fake.react(ALICE_ID, channel_id, answer_id, "👍🏽")
    row = await eventually(lambda: _with(db_pool, answer_id, lambda row: row["user_rating"] is not None))
    await bot.client.wait_idle()
    row = await feedback_row(db_pool, answer_id)
    assert row is not None and row["user_rating"] == 5 and row["user_reported_wrong"] is False

    await fake.react(ALICE_ID, channel_id, answer_id, WRONG)
    await eventually(lambda: _with(db_pool, answer_id, lambda row: row["user_reported_wrong"]))

    await fake.react(ALICE_ID, channel_id, answer_id, THUMBS_UP, removed=True)
    await fake.react(ALICE_ID, channel_id, answer_id, WRONG, removed=True)
    row = await eventually(
        lambda: _with(
            db_pool, answer_id, lambda row: row["user_rating"] is None and not row["user_reported_wrong"]
        )
    )


async def _with(pool: asyncpg.Pool, reply_id: str, condition: Callable[[asyncpg.Record], bool]) -> Any:
    row = await feedback_row(pool, reply_id)
    return row if row is not None and condition(row) else None


async def test_an_unlinked_member_gets_link_instructions_and_nothing_else(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    question = await fake.send_dm(STRANGER, "what should I watch tonight?")
    channel_id = int(question["channel_id"])
    [reply] = await fake.wait_for(posted_to(channel_id))
    await bot.client.wait_idle()

    assert str(STRANGER_ID) in reply.body["content"] and "link" in reply.body["content"].lower()
    assert not [r for r in fake.requests if "/reactions/" in r.path]
    assert await db_pool.fetchval("SELECT count(*) FROM ai_conversation_feedback") == 0
    assert await db_pool.fetchval("SELECT count(*) FROM chat_history") == 0


async def test_a_suggested_member_is_asked_in_a_dm_and_linked_by_the_button(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    async with db_pool.acquire() as conn:
        await upsert_user(conn, UserRecord("overseerr", "9", "stanley", discord_id=str(STRANGER_ID)))

    question = await fake.send_dm(STRANGER, "what should I watch tonight?")
    channel_id = int(question["channel_id"])
    [asked] = await fake.wait_for(posted_to(channel_id))
    await bot.client.wait_idle()
    assert "stanley" in asked.body["content"] and "yes" in asked.body["content"].lower()
    [row] = asked.body["components"]
    [button] = row["components"]
    assert button["custom_id"] == LINK_CONSENT_ID and button["label"] == "Yes, that's me"
    assert (
        await db_pool.fetchval(
            "SELECT count(*) FROM chat_accounts WHERE platform_user_id = $1", str(STRANGER_ID)
        )
        == 0
    )

    await fake.press_button(STRANGER, asked.response, LINK_CONSENT_ID)

    [done] = await fake.wait_for(followups)
    await bot.client.wait_idle()
    assert "stanley" in done.body["content"] and "Linked" in done.body["content"]
    assert (
        await db_pool.fetchval(
            "SELECT u.username FROM chat_accounts c JOIN users u ON u.id = c.user_id WHERE c.platform_user_id = $1",
            str(STRANGER_ID),
        )
        == "stanley"
    )


async def test_someone_else_pressing_the_button_links_nothing(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    async with db_pool.acquire() as conn:
        await upsert_user(conn, UserRecord("overseerr", "9", "stanley", discord_id=str(STRANGER_ID)))
    question = await fake.send_dm(STRANGER, "hi")
    [asked] = await fake.wait_for(posted_to(int(question["channel_id"])))

    intruder = user_payload(1_600_000_000_000_000_005, "intruder")
    await fake.press_button(intruder, asked.response, LINK_CONSENT_ID)

    [answer] = await fake.wait_for(followups)
    await bot.client.wait_idle()
    assert "stanley" not in answer.body["content"]
    assert await db_pool.fetchval("SELECT count(*) FROM chat_accounts WHERE user_id IN "
                                  "(SELECT id FROM users WHERE username = 'stanley')") == 0  # fmt: skip


async def test_mentions_are_answered_in_allowed_channels_only(fake: FakeDiscord, bot: DiscordBot) -> None:
    await fake.send_guild_message(fake.other_channel_id, ALICE, "how many shows are there?")
    await fake.send_guild_message(
        fake.allowed_channel_id, ALICE, "how many shows are there?", mention_bot=False
    )
    await fake.send_guild_message(fake.allowed_channel_id, ALICE, "how many shows are there?")

    [reply] = await fake.wait_for(posted_to(fake.allowed_channel_id))
    await bot.client.wait_idle()
    assert reply.body["content"].strip()
    quoted = reply.body["message_reference"]
    assert int(quoted["channel_id"]) == fake.allowed_channel_id and quoted["fail_if_not_exists"] is False
    assert not fake.calls("POST", f"/channels/{fake.other_channel_id}/")


async def test_health_by_an_admin_in_the_admin_channel_is_deferred_then_answered(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    interaction = await fake.slash_command("health", ADMIN, channel_id=fake.admin_channel_id)

    [followup] = await fake.wait_for(followups)
    [callback] = fake.calls("POST", f"/interactions/{interaction['id']}/{interaction['token']}/callback")
    assert callback.body == {"type": 5, "data": {"flags": EPHEMERAL}}  # deferred, ephemeral "thinking…"
    assert fake.requests.index(callback) < fake.requests.index(followup)
    assert followup.path == f"/webhooks/{fake.application_id}/{interaction['token']}"
    assert followup.body["flags"] == EPHEMERAL
    # A report is an embed: its heading the title, each fact on its own line.
    [embed] = followup.body["embeds"]
    assert embed["title"] == "Marquee health"
    assert "**Webhooks today:**" in embed["description"]
    assert "\n**Database:**" in embed["description"]
    assert invalid_message_body(followup.body) is None


@pytest.mark.parametrize(
    ("who", "where", "refusal"),
    [("member", "admin channel", NOT_ADMIN), ("admin", "another channel", NOT_ADMIN_CHANNEL)],
)
async def test_health_is_refused_to_members_and_outside_the_admin_channel(
    fake: FakeDiscord, bot: DiscordBot, who: str, where: str, refusal: str
) -> None:
    user = ADMIN if who == "admin" else BOB
    channel = fake.admin_channel_id if where == "admin channel" else fake.allowed_channel_id
    await fake.slash_command("health", user, channel_id=channel)

    [followup] = await fake.wait_for(followups)
    await bot.client.wait_idle()
    assert followup.body["content"] == refusal
    assert followup.body["flags"] == EPHEMERAL
    assert len(fake.calls("POST", "/interactions/")) == 1  # deferred first, as always


async def test_a_long_list_answer_is_one_embed_within_discords_limits(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    questions = [
        f"question {n:02d}: " + "which of my friends watched the same **obscure** film " * 2
        for n in range(20)
    ]
    await db_pool.executemany(
        "INSERT INTO ai_learning_queue (question, why_failed, priority) VALUES ($1, 'missing_data', 3)",
        [(q,) for q in questions],
    )
    await fake.slash_command(
        "learning",
        ADMIN,
        channel_id=fake.admin_channel_id,
        options=[{"name": "action", "type": 3, "value": "list"}],
    )

    [followup] = await fake.wait_for(followups)
    await bot.client.wait_idle()
    assert invalid_message_body(followup.body) is None
    [embed] = followup.body["embeds"]
    assert embed["title"] == "Learning queue (pending)"
    lines = embed["description"].splitlines()
    for n in range(20):
        # every entry arrives whole, as one list item, its Markdown shown as typed
        [line] = [line for line in lines if f"question {n:02d}: " in line]
        assert line.startswith("- ") and "\\*\\*obscure\\*\\*" in line
    assert followup.body["flags"] == EPHEMERAL
    assert len([r for r in fake.requests if followups(r)]) == 1


async def test_a_list_answer_overflowing_an_embed_keeps_its_first_items_and_counts_the_rest(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    await db_pool.executemany(
        "INSERT INTO media_items (title, media_type, year, added_at) VALUES ($1, 'movie', 2020, now())",
        [(f"A film with a very long title number {n:03d} " + "x" * 400,) for n in range(60)],
    )
    question = await fake.send_dm(ALICE, "what got added to the library recently?")
    channel_id = int(question["channel_id"])

    reactions = await fake.wait_for(lambda r: r.method == "PUT" and "/reactions/" in r.path, count=2)
    [answer] = fake.calls("POST", f"/channels/{channel_id}/messages")
    assert invalid_message_body(answer.body) is None
    [embed] = answer.body["embeds"]
    assert embed["footer"]["text"].startswith("Confidence ")
    assert "… and " in embed["description"] and " more" in embed["description"]
    # 👍/❌ go on the embed message, and rate it
    assert all(f"/messages/{answer.response['id']}/reactions/" in r.path for r in reactions)
    assert await eventually(lambda: feedback_row(db_pool, answer.response["id"]))


async def test_where_the_bot_may_not_embed_a_list_answer_arrives_as_plain_messages(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    await db_pool.executemany(
        "INSERT INTO media_items (title, media_type, year, added_at) VALUES ($1, 'movie', 2020, now())",
        [(f"Film {n}",) for n in range(3)],
    )
    fake.no_embed_channel_ids.add(fake.allowed_channel_id)
    await fake.send_guild_message(fake.allowed_channel_id, ALICE, "what got added to the library recently?")

    await fake.wait_for(lambda r: r.method == "PUT" and "/reactions/" in r.path, count=2)
    sent = fake.calls("POST", f"/channels/{fake.allowed_channel_id}/messages")
    assert sent[0].body.get("embeds") and not sent[0].response.get("id")  # refused: 403 Missing Permissions
    [plain] = sent[1:]
    assert not plain.body.get("embeds")
    assert "\n- Film 0 (2020)" in plain.body["content"]
    assert invalid_message_body(plain.body) is None


async def test_ask_answers_in_public_with_reactions_or_privately_without(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    await fake.slash_command(
        "ask",
        ALICE,
        channel_id=fake.allowed_channel_id,
        options=[{"name": "question", "type": 3, "value": "how many movies are there?"}],
    )
    [public] = await fake.wait_for(followups)
    await fake.wait_for(lambda r: r.method == "PUT" and "/reactions/" in r.path, count=2)
    assert public.body.get("flags", 0) & EPHEMERAL == 0
    assert await eventually(lambda: feedback_row(db_pool, public.response["id"]))

    await fake.slash_command(
        "ask",
        ALICE,
        channel_id=fake.allowed_channel_id,
        options=[
            {"name": "question", "type": 3, "value": "how many shows are there?"},
            {"name": "ephemeral", "type": 5, "value": True},
        ],
    )
    [_, private] = await fake.wait_for(followups, count=2)
    await bot.client.wait_idle()
    assert private.body["flags"] == EPHEMERAL
    assert len([r for r in fake.requests if "/reactions/" in r.path]) == 2  # none on the private answer


async def test_privacy_sets_the_members_choice(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    await fake.slash_command(
        "privacy", ALICE, channel_id=None, options=[{"name": "share", "type": 5, "value": True}]
    )
    [reply] = await fake.wait_for(followups)
    assert reply.body["flags"] == EPHEMERAL
    assert await db_pool.fetchval("SELECT share_activity_with_admins FROM users WHERE username = 'alice'")


async def test_an_admin_links_a_member(fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool) -> None:
    await db_pool.execute("INSERT INTO users (username) VALUES ('carol')")
    carol = user_payload(STRANGER_ID, "carol")
    await fake.slash_command(
        "link",
        ADMIN,
        channel_id=fake.admin_channel_id,
        options=[
            {"name": "member", "type": 6, "value": str(STRANGER_ID)},
            {"name": "username", "type": 3, "value": "carol"},
        ],
        resolved={"users": {str(STRANGER_ID): carol}},
    )
    [reply] = await fake.wait_for(followups)
    assert "carol" in reply.body["content"]
    linked = await db_pool.fetchval(
        "SELECT u.username FROM chat_accounts c JOIN users u ON u.id = c.user_id "
        "WHERE c.platform = 'discord' AND c.platform_user_id = $1",
        str(STRANGER_ID),
    )
    assert linked == "carol"


# --- marquee run ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_settings(database_url: str, fake: FakeDiscord, tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        data_dir=tmp_path,
        engine="offline",
        discord_token="test-token",
        discord_admin_channel_id=fake.admin_channel_id,
        http_host="127.0.0.1",
        http_port=free_port(),
    )


async def test_marquee_run_without_any_adapter_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("MARQUEE_DISCORD_TOKEN", "MARQUEE_MATRIX_HOMESERVER"):
        monkeypatch.delenv(name, raising=False)
    assert await asyncio.to_thread(main, ["run"]) == 2
    assert "MARQUEE_DISCORD_TOKEN" in capsys.readouterr().err


async def test_marquee_run_answers_on_discord_and_finishes_the_answer_in_flight_when_stopped(
    fake: FakeDiscord, database_url: str, db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await seed_member(db_pool, "alice", ALICE_ID)
    stopping = asyncio.Event()
    running = asyncio.create_task(run_marquee(run_settings(database_url, fake, tmp_path), stopping))
    await asyncio.wait_for(fake.ready.wait(), timeout=30)

    question = await fake.send_dm(ALICE, "how many movies are in the library?")
    channel_id = int(question["channel_id"])
    await fake.wait_for(lambda r: r.path == f"/channels/{channel_id}/typing")
    stopping.set()  # while the answer is being built

    assert await asyncio.wait_for(running, timeout=30) == 0
    assert len(fake.calls("POST", f"/channels/{channel_id}/messages")) == 1
    assert len([r for r in fake.requests if "/reactions/" in r.path]) == 2


async def test_marquee_run_with_a_refused_token_logs_one_line_and_keeps_the_rest_running(
    fake: FakeDiscord, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.refuse_token = True
    settings = run_settings(database_url, fake, tmp_path)
    stopping = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="marquee.run"):
        running = asyncio.create_task(run_marquee(settings, stopping))
        await eventually(lambda: _logged(caplog, "integrations: started"))
        await eventually(lambda: _logged(caplog, "discord: Discord refused the token"))
        # The webhook server is still up.
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{settings.http_port}/healthz") as response:
                assert response.status < 500
        stopping.set()
        assert await asyncio.wait_for(running, timeout=30) == 0
    errors = [
        r.getMessage() for r in caplog.records if r.name == "marquee.run" and r.levelno >= logging.ERROR
    ]
    assert errors == [
        "discord: Discord refused the token; check MARQUEE_DISCORD_TOKEN; it stays off until restarted"
    ]
    assert len(fake.calls("GET", "/users/@me")) == 1  # no retry loop against a refused token


async def test_marquee_run_keeps_retrying_quietly_while_discord_is_unreachable(
    fake: FakeDiscord, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = run_settings(database_url, fake, tmp_path)
    await fake.stop()  # nothing listens on its port any more
    discord.http.Route.BASE = f"http://127.0.0.1:{fake.port}/api/v10"
    stopping = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="marquee.run"):
        running = asyncio.create_task(run_marquee(settings, stopping))
        await eventually(lambda: _logged(caplog, "discord: cannot start"))
        stopping.set()
        assert await asyncio.wait_for(running, timeout=30) == 0
    warnings = [
        r.getMessage() for r in caplog.records if r.name == "marquee.run" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1 and warnings[0].startswith("discord: cannot start (")
    assert "retrying in the background" in warnings[0]


async def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in record.getMessage() for record in caplog.records)


async def test_marquee_run_stops_cleanly_on_sigterm(
    fake: FakeDiscord, database_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "MARQUEE_DATABASE_URL": database_url,
        "MARQUEE_DATA_DIR": str(tmp_path),
        "MARQUEE_ENGINE": "offline",
        "MARQUEE_DISCORD_TOKEN": "test-token",
        "MARQUEE_HTTP_HOST": "127.0.0.1",
        "MARQUEE_HTTP_PORT": str(free_port()),
    }
    env.pop("MARQUEE_MATRIX_HOMESERVER", None)
    process = await start_marquee_run(fake.port, cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    before_signal: list[str] = []
    try:
        async with asyncio.timeout(60):
            while "discord: connected as marquee" not in (line := (await process.stderr.readline()).decode()):
                assert line, "marquee run ended before connecting: " + "".join(before_signal)
                before_signal.append(line)
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
    log_lines = "".join(before_signal) + rest.decode()
    assert process.returncode == 0, log_lines
    assert "marquee: stopping" in log_lines and log_lines.rstrip().endswith("marquee: stopped")
    assert "Traceback" not in log_lines


async def test_after_a_network_loss_the_bot_reconnects_with_one_log_line(
    fake: FakeDiscord, bot: DiscordBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await fake.go_offline()
        await eventually(lambda: _logged(caplog, "discord: connection lost"), within=30)
        await fake.come_back()
        await asyncio.wait_for(fake.ready.wait(), timeout=60)
        await eventually(lambda: _logged(caplog, "discord: reconnected"), within=30)

    question = await fake.send_dm(ALICE, "how many movies are in the library?")
    await fake.wait_for(posted_to(int(question["channel_id"])))
    lost = [r for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(lost) == 1 and lost[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if r.name.startswith("discord") and r.exc_info]


async def test_a_follow_up_in_a_dm_reuses_the_last_understood_question(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    first = await fake.send_dm(ALICE, "what did I watch last month?")
    channel_id = int(first["channel_id"])
    await fake.wait_for(posted_to(channel_id), count=1)
    # The first exchange is stored before the next question reads the conversation.
    await eventually(
        lambda: db_pool.fetchval("SELECT count(*) FROM ai_conversation_feedback WHERE platform = 'discord'")
    )
    await fake.send_dm(ALICE, "and the month before?")
    answers = await fake.wait_for(posted_to(channel_id), count=2)
    follow_up = answers[1].body["content"]
    assert "the month before (" in follow_up
    assert "I can't answer" not in follow_up


async def seed_libraries(pool: asyncpg.Pool) -> None:
    await pool.executemany(
        "INSERT INTO media_items (title, media_type, year, library_name, file_size_bytes, added_at) "
        "VALUES ($1, 'movie', 2020, $2, $3, now())",
        [("Film A", "Movies", 3 * 1024**3), ("Film B", "Movies", 1024**3), ("Doc", "Documentaries", 1024**3)],
    )


async def test_an_answer_a_chart_says_better_arrives_with_the_png_attached_next_to_the_complete_text(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    await seed_libraries(db_pool)
    await fake.send_guild_message(fake.admin_channel_id, ADMIN, "What's the storage usage by library?")

    reactions = await fake.wait_for(lambda r: r.method == "PUT" and "/reactions/" in r.path, count=2)
    [answer] = fake.calls("POST", f"/channels/{fake.admin_channel_id}/messages")
    # discord.py sent multipart/form-data: the message in payload_json, the PNG in files[0].
    [upload] = answer.files
    assert (upload.part_name, upload.filename) == ("files[0]", "storage-by-library.png")
    assert upload.data.startswith(b"\x89PNG\r\n\x1a\n")
    [described] = answer.body["attachments"]
    assert described["id"] == 0 and described["description"].startswith("Horizontal bar chart")
    # The text is the whole answer on its own.
    text = (answer.body.get("content") or "") + str(answer.body.get("embeds"))
    assert "Movies" in text and "Documentaries" in text
    [attachment] = answer.response["attachments"]
    assert attachment["filename"] == "storage-by-library.png" and attachment["size"] == len(upload.data)
    assert attachment["content_type"] == "image/png"
    # 👍/❌ go on the message with the chart.
    assert all(f"/messages/{answer.response['id']}/reactions/" in r.path for r in reactions)


async def test_where_the_bot_may_not_attach_files_the_answer_arrives_without_the_chart(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    await seed_libraries(db_pool)
    fake.no_attach_channel_ids.add(fake.admin_channel_id)
    await fake.send_guild_message(fake.admin_channel_id, ADMIN, "What's the storage usage by library?")

    await fake.wait_for(lambda r: r.method == "PUT" and "/reactions/" in r.path, count=2)
    refused, sent = fake.calls("POST", f"/channels/{fake.admin_channel_id}/messages")
    assert refused.files and not refused.response.get("id")  # 403 Missing Permissions
    assert not sent.files and sent.response["id"]
    assert "Movies" in (sent.body.get("content") or "") + str(sent.body.get("embeds"))


async def test_a_slash_command_answer_carries_its_chart_too(
    fake: FakeDiscord, bot: DiscordBot, db_pool: asyncpg.Pool
) -> None:
    await seed_libraries(db_pool)
    await fake.slash_command(
        "ask",
        ADMIN,
        channel_id=fake.admin_channel_id,
        options=[{"name": "question", "type": 3, "value": "What's the storage usage by library?"}],
    )
    [followup] = await fake.wait_for(followups)
    await bot.client.wait_idle()
    [upload] = followup.files
    assert upload.filename == "storage-by-library.png" and upload.data.startswith(b"\x89PNG")
    assert followup.response["attachments"][0]["filename"] == "storage-by-library.png"
