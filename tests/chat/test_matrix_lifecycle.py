"""The Matrix bot's life cycle against a real Synapse: restarts, the catch-up window, a wrong password,
stopping while answering, typing and read receipts, a network outage.

One Synapse serves each test worker (``synapse`` in conftest.py); every test has its
own accounts, its own database and its own bot data directory.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginError,
)

from adapters.chat.matrix_bot import OFFLINE_NOTE, MatrixSetupError
from bot.wiring import build_assistant

from .matrix_people import (
    QUESTION,
    WAIT_SECONDS,
    bot_account,
    bot_settings,
    eventually,
    feedback_of,
    link,
    person,
    rating_becomes,
    running_bot,
)
from .synapse_server import SynapseServer, free_port


async def test_a_restart_resumes_where_it_stopped_without_answering_twice(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool) as first_run:
            room = await alice.open_dm_with(bot_id)
            before = await alice.say(room, QUESTION)
            answer = await alice.sync_until(alice.reply_to(before, bot_id), "the first answer")
            thumbs_up = await alice.react(room, answer.event_id, "👍")
            await eventually(rating_becomes(db_pool, answer.event_id, 5), "the 👍")
            first_device = first_run.device_id

        while_down = await alice.say(room, "what did I watch last week?")

        async with running_bot(settings, db_pool) as second_run:
            assert first_device and second_run.device_id == first_device  # same device, same keys
            await alice.sync_until(
                alice.reply_to(while_down, bot_id), "the answer to the message sent while down"
            )
            # The reaction map survived the restart: the redaction still finds its feedback.
            await alice.client.room_redact(room, thumbs_up)
            await eventually(rating_becomes(db_pool, answer.event_id, None), "the redaction to undo the 👍")
            after = await alice.say(room, "!help")
            await alice.sync_until(alice.reply_to(after, bot_id), "the reply after the restart")

        assert len(alice.replies_to(before, bot_id)) == 1
        assert len(alice.replies_to(while_down, bot_id)) == 1
        assert len(alice.replies_to(after, bot_id)) == 1


async def test_a_message_older_than_the_catch_up_window_gets_a_short_offline_note_instead(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id)
            first = await alice.say(room, "!help")
            await alice.sync_until(alice.reply_to(first, bot_id), "the first reply")

        long_ago = [await alice.say(room, QUESTION), await alice.say(room, "what did I watch last week?")]
        await asyncio.sleep(1.1)
        impatient = bot_settings(synapse, account, tmp_path / "data", database_url, matrix_catch_up_seconds=1)
        async with running_bot(impatient, db_pool):
            note = await alice.sync_until(alice.reply_to(long_ago[0], bot_id), "the offline note")
            assert note.body == OFFLINE_NOTE
            # Live messages are answered whatever the window.
            live = await alice.say(room, "!help")
            await alice.sync_until(alice.reply_to(live, bot_id), "the reply to a live message")

        # One note for the room, no answers to the old questions, no feedback rows for them.
        assert len(alice.replies_to(long_ago[0], bot_id)) == 1 and not alice.replies_to(long_ago[1], bot_id)
        assert await db_pool.fetchval("SELECT count(*) FROM ai_conversation_feedback") == 0


async def test_a_wrong_password_is_a_setup_error_and_an_unreachable_homeserver_a_connection_error(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    user_id, _ = await bot_account(synapse)
    wrong = bot_settings(synapse, (user_id, "not-the-password"), tmp_path / "a", database_url)
    with pytest.raises(MatrixSetupError, match="MARQUEE_MATRIX_PASSWORD"):
        async with running_bot(wrong, db_pool):
            pass

    unreachable = wrong.model_copy(update={"matrix_homeserver": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(aiohttp.ClientConnectionError):
        async with running_bot(unreachable, db_pool):
            pass

    missing = wrong.model_copy(update={"matrix_password": None})
    with pytest.raises(MatrixSetupError, match="MARQUEE_MATRIX_ACCESS_TOKEN or MARQUEE_MATRIX_PASSWORD"):
        async with running_bot(missing, db_pool):
            pass


async def test_the_first_start_skips_the_history_of_rooms_the_bot_is_already_in(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id, bot_password = account
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        room = await alice.open_room([bot_id])
        # Before Marquee ever ran, its owner joined the room with the bot account by hand.
        by_hand = AsyncClient(synapse.base_url, bot_id, config=AsyncClientConfig(max_limit_exceeded=0))
        assert not isinstance(await by_hand.login(bot_password), LoginError)
        await by_hand.join(room)
        await by_hand.close()
        old = await alice.say(room, "an old question from before the bot ran")

        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            new = await alice.say(room, QUESTION)
            await alice.sync_until(alice.reply_to(new, bot_id), "the answer to the new question")
        assert alice.replies_to(old, bot_id) == []


class SlowToAnswer:
    """The real Assistant, with a pause before each answer: long enough to stop the bot mid-answer,
    or, given ``until``, until the test has seen what happens while it answers."""

    def __init__(self, assistant: Any, until: asyncio.Event | None = None) -> None:
        self._assistant = assistant
        self._until = until
        self.answering = asyncio.Event()

    async def handle(self, request: Any) -> Any:
        self.answering.set()
        if self._until is None:
            await asyncio.sleep(1.0)
        else:
            await asyncio.wait_for(self._until.wait(), WAIT_SECONDS)
        return await self._assistant.handle(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._assistant, name)


async def test_stopping_lets_the_answer_in_flight_finish(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        core = SlowToAnswer(await build_assistant(settings, db_pool))
        async with running_bot(settings, db_pool, core=core):
            room = await alice.open_dm_with(bot_id)
            question = await alice.say(room, QUESTION)
            await asyncio.wait_for(core.answering.wait(), WAIT_SECONDS)
        # Stopped while answering.
        answer = await alice.sync_until(alice.reply_to(question, bot_id), "the answer that was in flight")
        assert await feedback_of(db_pool, answer.event_id) is not None


async def test_the_asker_sees_the_question_read_and_the_bot_typing_while_it_answers(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        seen = asyncio.Event()
        core = SlowToAnswer(await build_assistant(settings, db_pool), until=seen)
        async with running_bot(settings, db_pool, core=core):
            room = await alice.open_dm_with(bot_id)
            question = await alice.say(room, QUESTION)
            await alice.sync_until(lambda: True if bot_id in alice.typing_seen else None, "the typing notice")
            await alice.sync_until(
                lambda: True if bot_id in alice.read_by.get(question, set()) else None, "the read receipt"
            )
            assert not alice.replies_to(question, bot_id)  # all that while the answer was being made
            seen.set()
            await alice.sync_until(alice.reply_to(question, bot_id), "the answer")


class CuttableLink:
    """A TCP relay between the bot and Synapse that a test can cut and restore, like a network outage."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {client_writer, server_writer}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()
                self._writers.discard(writer)

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


async def test_after_a_network_outage_the_bot_reconnects_and_answers_what_was_sent_meanwhile(
    synapse: SynapseServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.chat")
    caplog.set_level(logging.DEBUG, logger="adapters.chat.matrix_connection")
    account = await bot_account(synapse)
    bot_id = account[0]
    link_to_synapse = CuttableLink(int(synapse.base_url.rsplit(":", 1)[1]))
    await link_to_synapse.restore()
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url).model_copy(
            update={"matrix_homeserver": f"http://127.0.0.1:{link_to_synapse.port}"}
        )
        async with running_bot(settings, db_pool, reconnect_delay_seconds=0.1) as bot:
            room = await alice.open_dm_with(bot_id)

            await link_to_synapse.cut()
            await eventually(lambda: _none_if(bot.connected.is_set()), "the bot to notice the outage")
            during = await alice.say(room, QUESTION)
            # a reconnect attempt or two fail while the link is down
            await eventually(lambda: _failed_reconnects(caplog, 2), "two reconnect attempts to fail")
            await link_to_synapse.restore()

            await alice.sync_until(alice.reply_to(during, bot_id), "the answer after the reconnect")
            assert bot.connected.is_set()
        await link_to_synapse.cut()
    lost = [r for r in caplog.records if r.levelname == "WARNING" and "lost the connection" in r.getMessage()]
    assert len(lost) == 1  # one line for the outage, not one per retry
    assert any("reconnected" in r.getMessage() for r in caplog.records)


async def _none_if(value: bool) -> bool | None:
    return None if value else True


async def _failed_reconnects(caplog: pytest.LogCaptureFixture, count: int) -> bool | None:
    failed = [r for r in caplog.records if "still cannot reach" in r.getMessage()]
    return True if len(failed) >= count else None
