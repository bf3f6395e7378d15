"""The Matrix bot against a real Synapse, driven by real matrix-nio clients, answering with the real Assistant.

One Synapse serves the whole run (see ``synapse_server.py``); every test has its
own accounts, its own database and its own bot data directory.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import asyncpg
import pytest
from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    DownloadResponse,
    LoginError,
    MatrixRoom,
    ReactionEvent,
    ReceiptEvent,
    RoomCreateError,
    RoomEncryptedImage,
    RoomMemberEvent,
    RoomMessageImage,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendError,
    RoomSendResponse,
    TypingNoticeEvent,
)
from nio.crypto.attachments import decrypt_attachment

from adapters.chat.matrix_bot import DECLINED_NOTICE, OFFLINE_NOTE, MatrixBot, MatrixSetupError
from adapters.chat.matrix_commands import addressed_question, invite_allowed, parse_command
from adapters.chat.matrix_rendering import reply_content, strip_reply_fallback
from bot.runtime import matrix_config
from bot.settings import Settings
from bot.wiring import build_assistant
from core.chat import ChatCore
from core.media_requests.notifications import Outbox
from core.media_requests.service import RequestService

from .synapse_server import SynapseServer, free_port, running_synapse

T = TypeVar("T")
WAIT_SECONDS = 45.0
QUESTION = "what did I watch this week?"


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    with running_synapse(tmp_path_factory.mktemp("synapse")) as server:
        yield server


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll ``check`` until it returns something other than None (the bot works asynchronously)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = await check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


class Person:
    """A human on Matrix: a real nio client that records what it sees."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.messages: list[tuple[str, RoomMessageText]] = []
        self.reactions: list[tuple[str, ReactionEvent]] = []
        self.memberships: list[tuple[str, RoomMemberEvent]] = []
        self.notices: list[tuple[str, RoomMessageNotice]] = []
        self.images: list[tuple[str, RoomMessageImage | RoomEncryptedImage]] = []
        self.read_by: dict[str, set[str]] = {}  # event id -> users whose read receipt is on it
        client.add_event_callback(
            self._record,
            (
                RoomMessageText,
                RoomMessageNotice,
                ReactionEvent,
                RoomMemberEvent,
                RoomMessageImage,
                RoomEncryptedImage,
            ),  # type: ignore[arg-type]
        )
        self.typing_seen: set[str] = set()  # users seen typing in any room
        client.add_ephemeral_callback(self._record_receipts, ReceiptEvent)  # type: ignore[arg-type]
        client.add_ephemeral_callback(self._record_typing, TypingNoticeEvent)  # type: ignore[arg-type]

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def _record(self, room: MatrixRoom, event: Any) -> None:
        if isinstance(event, RoomMessageText):
            self.messages.append((room.room_id, event))
        elif isinstance(event, RoomMessageNotice):
            self.notices.append((room.room_id, event))
        elif isinstance(event, ReactionEvent):
            self.reactions.append((room.room_id, event))
        elif isinstance(event, RoomMessageImage | RoomEncryptedImage):
            self.images.append((room.room_id, event))
        else:
            self.memberships.append((room.room_id, event))

    async def _record_receipts(self, room: MatrixRoom, event: ReceiptEvent) -> None:
        for receipt in event.receipts:
            self.read_by.setdefault(receipt.event_id, set()).add(receipt.user_id)

    async def _record_typing(self, room: MatrixRoom, event: TypingNoticeEvent) -> None:
        self.typing_seen.update(event.users)

    async def sync_until(self, found: Callable[[], T | None], what: str) -> T:
        async def step() -> T | None:
            result = found()
            if result is not None:
                return result
            await self.client.sync(timeout=500)
            if self.client.olm is not None:
                await self.client.send_to_device_messages()
                if self.client.should_upload_keys:
                    await self.client.keys_upload()
                if self.client.should_query_keys:
                    await self.client.keys_query()
                if self.client.should_claim_keys:
                    await self.client.keys_claim(self.client.get_users_for_key_claiming())
            return found()

        return await eventually(step, what)

    async def send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        response = await self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        assert not isinstance(response, RoomSendError), response
        return str(response.event_id)

    async def say(self, room_id: str, text: str) -> str:
        return await self.send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})

    async def react(self, room_id: str, event_id: str, emoji: str) -> str:
        relation = {"rel_type": "m.annotation", "event_id": event_id, "key": emoji}
        return await self.send(room_id, "m.reaction", {"m.relates_to": relation})

    async def react_encrypted(self, room_id: str, event_id: str, emoji: str) -> str:
        """A reaction sent encrypted, as Element sends it in an encrypted room (nio itself would not)."""
        relation = {"rel_type": "m.annotation", "event_id": event_id, "key": emoji}
        event_type, content = self.client.encrypt(room_id, "m.reaction", {"m.relates_to": relation})
        assert event_type == "m.room.encrypted" and "ciphertext" in content
        method, path, data = Api.room_send(
            self.client.access_token, room_id, event_type, content, str(uuid.uuid4())
        )
        response = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def open_room(self, invite: list[str], *, direct: bool = True, encrypted: bool = False) -> str:
        initial_state = (
            [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
            if encrypted
            else []
        )
        response = await self.client.room_create(is_direct=direct, invite=invite, initial_state=initial_state)
        assert not isinstance(response, RoomCreateError), response
        return str(response.room_id)

    async def open_dm_with(self, bot_id: str, *, encrypted: bool = False) -> str:
        """A direct room with the bot, once the bot has accepted the invite."""
        room = await self.open_room([bot_id], encrypted=encrypted)
        await self.sync_until(self.has_joined(room, bot_id), "the bot to accept the DM invite")
        return room

    def replies_to(self, event_id: str, sender: str) -> list[RoomMessageText]:
        return [
            event
            for _, event in self.messages
            if event.sender == sender
            and (event.source["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")
            == event_id
        ]

    def reply_to(self, event_id: str, sender: str) -> Callable[[], RoomMessageText | None]:
        return lambda: next(iter(self.replies_to(event_id, sender)), None)

    def has_joined(self, room_id: str, user_id: str) -> Callable[[], bool | None]:
        def joined() -> bool | None:
            room = self.client.rooms.get(room_id)
            return True if room and user_id in room.users and user_id not in room.invited_users else None

        return joined

    def membership_of(self, room_id: str, user_id: str, membership: str) -> Callable[[], bool | None]:
        return lambda: next(
            (
                True
                for room, event in self.memberships
                if room == room_id and event.state_key == user_id and event.membership == membership
            ),
            None,
        )


@asynccontextmanager
async def person(
    synapse: SynapseServer, name: str, tmp_path: Path, *, encrypted: bool = False
) -> AsyncIterator[Person]:
    localpart = f"{name}-{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    user_id = await synapse.register(localpart, password)
    store = tmp_path / f"store-{localpart}"
    store.mkdir()
    client = AsyncClient(
        synapse.base_url,
        user_id,
        store_path=str(store),
        # A 429 fails the test at once instead of sleeping; network trouble is not retried forever.
        config=AsyncClientConfig(max_limit_exceeded=0, max_timeouts=2, encryption_enabled=encrypted),
    )
    login = await client.login(password, device_name=name)
    assert not isinstance(login, LoginError), login
    await client.sync(timeout=0, full_state=True)
    if encrypted and client.should_upload_keys:
        await client.keys_upload()
    try:
        yield Person(client)
    finally:
        await client.close()


async def bot_account(synapse: SynapseServer) -> tuple[str, str]:
    localpart = f"marquee-{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    return await synapse.register(localpart, password), password


def bot_settings(
    synapse: SynapseServer, account: tuple[str, str], data_dir: Path, database_url: str, **matrix: Any
) -> Settings:
    user_id, password = account
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        database_url=database_url,
        engine="offline",
        matrix_homeserver=synapse.base_url,
        matrix_user_id=user_id,
        matrix_password=password,
        **matrix,
    )


@asynccontextmanager
async def running_bot(
    settings: Settings,
    pool: asyncpg.Pool,
    *,
    core: ChatCore | None = None,
    requests: RequestService | None = None,
    outbox: Outbox | None = None,
    **config: Any,
) -> AsyncIterator[MatrixBot]:
    """The Matrix bot as ``marquee run`` builds it (the real Assistant unless ``core`` is given), started
    and connected; stopped on the way out, also when starting failed. ``config``: MatrixConfig fields
    that have no setting."""
    assistant = core if core is not None else await build_assistant(settings, pool, requests=requests)
    bot = MatrixBot(assistant, replace(matrix_config(settings), **config), outbox)
    try:
        await bot.start()
        assert bot.connected.is_set()
        yield bot
    finally:
        await bot.stop()


async def link(pool: asyncpg.Pool, username: str, matrix_id: str, role: str = "user") -> None:
    await pool.execute(
        """
        WITH new_user AS (INSERT INTO users (username, role) VALUES ($1, $3) RETURNING id)
        INSERT INTO chat_accounts (platform, platform_user_id, user_id)
        SELECT 'matrix', $2, id FROM new_user
        """,
        username,
        matrix_id,
        role,
    )


async def feedback_of(pool: asyncpg.Pool, reply_event_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        "SELECT user_rating, user_reported_wrong, user_message, ai_response FROM ai_conversation_feedback "
        "WHERE platform = 'matrix' AND reply_message_id = $1",
        reply_event_id,
    )
    return row


def rating_becomes(
    pool: asyncpg.Pool, reply_event_id: str, rating: int | None
) -> Callable[[], Awaitable[bool | None]]:
    async def check() -> bool | None:
        row = await feedback_of(pool, reply_event_id)
        return True if row is not None and row["user_rating"] == rating else None

    return check


def wrong_becomes(
    pool: asyncpg.Pool, reply_event_id: str, wrong: bool
) -> Callable[[], Awaitable[bool | None]]:
    async def check() -> bool | None:
        row = await feedback_of(pool, reply_event_id)
        return True if row is not None and row["user_reported_wrong"] is wrong else None

    return check


async def test_a_dm_is_answered_as_a_formatted_reply_and_the_askers_reactions_are_feedback(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice, person(synapse, "bob", tmp_path) as bob:
        await link(db_pool, "alice", alice.user_id)
        await link(db_pool, "bob", bob.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id)

            question = await alice.say(room, QUESTION)
            answer = await alice.sync_until(alice.reply_to(question, bot_id), "the answer")
            content = answer.source["content"]
            assert content["msgtype"] == "m.text"
            assert content["format"] == "org.matrix.custom.html"
            assert content["formatted_body"].startswith("<")
            assert content["body"] and "<p>" not in content["body"]
            row = await feedback_of(db_pool, answer.event_id)
            assert row is not None and row["user_message"] == QUESTION
            assert content["body"] == row["ai_response"]

            bot_reactions = await alice.sync_until(
                lambda: (
                    found
                    if len(
                        found := {
                            event.key
                            for _, event in alice.reactions
                            if event.sender == bot_id and event.reacts_to == answer.event_id
                        }
                    )
                    == 2
                    else None
                ),
                "the bot's 👍 and ❌",
            )
            assert bot_reactions == {"👍", "❌"}

            sharing = await alice.say(room, "!privacy on")
            await alice.sync_until(alice.reply_to(sharing, bot_id), "the privacy confirmation")
            assert await db_pool.fetchval(
                "SELECT share_activity_with_admins FROM users WHERE username = 'alice'"
            )

            # Someone else's 👍 is not feedback. The bot handles a sync's events in order, so once it
            # has replied to a later command it has seen the reaction.
            await alice.client.room_invite(room, bob.user_id)
            await bob.sync_until(lambda: room if room in bob.client.invited_rooms else None, "bob's invite")
            await bob.client.join(room)
            await bob.react(room, answer.event_id, "👍")
            barrier = await alice.say(room, "!help")
            await alice.sync_until(alice.reply_to(barrier, bot_id), "the reply to !help")
            row = await feedback_of(db_pool, answer.event_id)
            assert row is not None and row["user_rating"] is None

            # Element's 👍 carries a variation selector; it is the same 👍.
            thumbs_up = await alice.react(room, answer.event_id, "👍\ufe0f")
            await eventually(
                rating_becomes(db_pool, answer.event_id, 5), "the 👍 to land on the feedback row"
            )

            await alice.client.room_redact(room, thumbs_up)
            await eventually(rating_becomes(db_pool, answer.event_id, None), "the redaction to undo the 👍")


async def test_a_list_answer_arrives_in_element_as_a_real_list(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    await db_pool.executemany(
        "INSERT INTO media_items (title, media_type, year, added_at) VALUES ($1, 'movie', 2024, now())",
        [("Alien <Romulus>",), ("**Heat**",), ("- Up",)],
    )
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id)
            question = await alice.say(room, "what got added to the library recently?")
            answer = await alice.sync_until(alice.reply_to(question, bot_id), "the answer")
    html = answer.source["content"]["formatted_body"]
    assert html.count("<ul>") == 1 and html.count("<li>") == 3
    assert "<li>Alien &lt;Romulus&gt; (2024) (movie)</li>" in html
    assert "<li>**Heat** (2024) (movie)</li>" in html and "<li>- Up (2024) (movie)</li>" in html
    # The plain body reads on its own: the list starts on a line of its own, after a blank line.
    assert "movies and 0 episodes across 0 shows.\n\n- " in answer.body and "**" in answer.body


async def test_admin_commands_answer_admins_in_the_admin_room_and_refuse_members(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    await db_pool.execute(
        "INSERT INTO ai_learning_queue (question, why_failed) VALUES ('how much bandwidth did I use?', 'no_data')"
    )
    async with person(synapse, "admin", tmp_path) as admin, person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "admin", admin.user_id, role="admin")
        await link(db_pool, "alice", alice.user_id)
        admin_room = await admin.open_room([bot_id, alice.user_id], direct=False)
        await alice.sync_until(
            lambda: admin_room if admin_room in alice.client.invited_rooms else None, "invite"
        )
        await alice.client.join(admin_room)
        settings = bot_settings(
            synapse,
            account,
            tmp_path / "data",
            database_url,
            matrix_admin_rooms=[admin_room],
            matrix_allowed_users=[admin.user_id, alice.user_id],
        )
        async with running_bot(settings, db_pool):
            await admin.sync_until(admin.has_joined(admin_room, bot_id), "the bot to join the admin room")

            command = await admin.say(admin_room, "!learning")
            listing = await admin.sync_until(admin.reply_to(command, bot_id), "the learning queue")
            assert "how much bandwidth did I use?" in listing.body

            refused = await alice.say(admin_room, "!learning")
            refusal = await alice.sync_until(alice.reply_to(refused, bot_id), "the refusal")
            assert "only for admins" in refusal.body
            assert "bandwidth" not in refusal.body

            # In the admin room a question must address the bot; it is then asked in admin mode.
            localpart = bot_id[1:].split(":")[0]
            question = await admin.send(
                admin_room,
                "m.room.message",
                {
                    "msgtype": "m.text",
                    "body": f"{localpart}: who watched the most this month?",
                    "m.mentions": {"user_ids": [bot_id]},
                },
            )
            answer = await admin.sync_until(admin.reply_to(question, bot_id), "the admin-mode answer")
            mode = await db_pool.fetchval(
                "SELECT mode FROM ai_conversation_feedback WHERE reply_message_id = $1", answer.event_id
            )
            assert mode == "admin"

            await db_pool.execute("INSERT INTO users (username) VALUES ('carol')")
            linking = await admin.say(admin_room, "!link @carol:elsewhere.example carol")
            await admin.sync_until(admin.reply_to(linking, bot_id), "the link confirmation")
            linked = await db_pool.fetchval(
                "SELECT u.username FROM chat_accounts c JOIN users u ON u.id = c.user_id "
                "WHERE c.platform = 'matrix' AND c.platform_user_id = '@carol:elsewhere.example'"
            )
            assert linked == "carol"


async def test_invites_from_users_and_homeservers_not_allowed_are_declined(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice, person(synapse, "mallory", tmp_path) as mallory:
        settings = bot_settings(
            synapse,
            account,
            tmp_path / "data",
            database_url,
            matrix_allowed_users=[alice.user_id],
            matrix_allowed_homeservers=["friends.example"],
        )
        async with running_bot(settings, db_pool):
            room = await mallory.open_room([bot_id])
            await mallory.sync_until(mallory.membership_of(room, bot_id, "leave"), "the bot to decline")
            # A short notice says why, before the bot leaves.
            [(_, notice)] = [(r, e) for r, e in mallory.notices if r == room and e.sender == bot_id]
            assert notice.body == DECLINED_NOTICE
            allowed_room = await alice.open_room([bot_id])
            await alice.sync_until(alice.has_joined(allowed_room, bot_id), "the bot to join alice's DM")
    assert not any(room_id == room for room_id, _ in mallory.messages if _.sender == bot_id)


def test_the_invite_rule_allows_listed_users_and_homeservers_and_by_default_the_bots_own() -> None:
    bot = "@marquee:home.example"
    assert invite_allowed("@alice:home.example", [], [], bot)
    assert not invite_allowed("@eve:elsewhere.example", [], [], bot)
    assert invite_allowed("@bob:friends.example", ["@alice:home.example"], ["friends.example"], bot)
    assert invite_allowed("@alice:home.example", ["@alice:home.example"], ["friends.example"], bot)
    assert not invite_allowed("@carol:home.example", ["@alice:home.example"], ["friends.example"], bot)


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


async def test_an_encrypted_dm_is_decrypted_and_answered_encrypted(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path, encrypted=True) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id, encrypted=True)
            question = await alice.say(room, QUESTION)
            answer = await alice.sync_until(alice.reply_to(question, bot_id), "the encrypted answer")
            assert answer.decrypted
            assert answer.source["content"]["formatted_body"]
            assert await feedback_of(db_pool, answer.event_id) is not None
            # The bot's read receipt is on the question.
            await alice.sync_until(
                lambda: True if bot_id in alice.read_by.get(question, set()) else None, "the read receipt"
            )

            # Element encrypts reactions in an encrypted room: they count, and redacting one undoes it.
            wrong = await alice.react_encrypted(room, answer.event_id, "❌")
            await eventually(wrong_becomes(db_pool, answer.event_id, True), "the encrypted ❌ to count")
            await alice.client.room_redact(room, wrong)
            await eventually(wrong_becomes(db_pool, answer.event_id, False), "the redaction to undo the ❌")
            thumbs_up = await alice.react_encrypted(room, answer.event_id, "👍\ufe0f")
            await eventually(rating_becomes(db_pool, answer.event_id, 5), "the encrypted 👍 to count")
            await alice.client.room_redact(room, thumbs_up)
            await eventually(rating_becomes(db_pool, answer.event_id, None), "the redaction to undo the 👍")
        assert (tmp_path / "data" / "matrix" / "store").is_dir()


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
    """The real Assistant, with a pause before each answer: long enough to stop the bot mid-answer."""

    def __init__(self, assistant: Any) -> None:
        self._assistant = assistant
        self.answering = asyncio.Event()

    async def handle(self, request: Any) -> Any:
        self.answering.set()
        await asyncio.sleep(1.0)
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
        core = SlowToAnswer(await build_assistant(settings, db_pool))
        async with running_bot(settings, db_pool, core=core):
            room = await alice.open_dm_with(bot_id)
            question = await alice.say(room, QUESTION)
            await alice.sync_until(lambda: True if bot_id in alice.typing_seen else None, "the typing notice")
            await alice.sync_until(
                lambda: True if bot_id in alice.read_by.get(question, set()) else None, "the read receipt"
            )
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


def test_replies_render_markdown_as_html_and_never_pass_raw_html_through() -> None:
    # The shape real answers have: the list right after its intro line.
    content = reply_content("**Alien** <script>alert(1)</script>:\n- one\n- two", "$question")
    assert content["body"] == "Alien <script>alert(1)</script>:\n\n- one\n- two"
    assert content["formatted_body"] == (
        "<p><strong>Alien</strong> &lt;script&gt;alert(1)&lt;/script&gt;:</p><ul><li>one</li><li>two</li></ul>"
    )
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$question"}}

    in_thread = reply_content("yes", "$question", thread_root="$root")
    assert in_thread["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$question"},
    }


def test_replies_and_commands_are_read_the_way_clients_send_them() -> None:
    assert strip_reply_fallback("> <@bob:example.org> earlier\n> text\n\nand what about this?") == (
        "and what about this?"
    )
    assert parse_command("!learning resolve 3f2a added the bandwidth table") == (
        "learning",
        ["resolve", "3f2a", "added the bandwidth table"],
    )
    assert parse_command("!Health") == ("health", [])
    assert parse_command("!link @carol:example.org carol") == ("link", ["@carol:example.org", "carol"])


def test_in_a_shared_room_only_messages_addressed_to_the_bot_are_questions() -> None:
    names = ["@marquee:home.example", "Marquee", "marquee"]
    assert addressed_question("Marquee: what is new?", names, mentioned=False) == "what is new?"
    assert (
        addressed_question("hey marquee, what is new?", names, mentioned=False) == "hey marquee, what is new?"
    )
    assert addressed_question("what is new?", names, mentioned=True) == "what is new?"
    assert addressed_question("what is new?", names, mentioned=False) is None
    assert addressed_question("marqueeing is fun", names, mentioned=False) is None


async def test_a_follow_up_in_a_matrix_dm_reuses_the_last_understood_question(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id)
            first = await alice.say(room, "what did I watch last month?")
            answer = await alice.sync_until(alice.reply_to(first, bot_id), "the answer")
            # The first exchange is stored before the follow-up reads the conversation.
            await eventually(lambda: feedback_of(db_pool, answer.event_id), "the stored exchange")
            follow_up = await alice.say(room, "and the month before?")
            reply = await alice.sync_until(alice.reply_to(follow_up, bot_id), "the follow-up answer")
            body = reply.source["content"]["body"]
            assert "the month before (" in body
            assert "I can't answer" not in body


async def seed_plays(pool: asyncpg.Pool, username: str) -> None:
    """Three evenings of plays (20:00 UTC) and one morning (08:00 UTC)."""
    await pool.execute(
        """
        WITH film AS (INSERT INTO media_items (title, media_type, year) VALUES ('Arrival', 'movie', 2016) RETURNING id)
        INSERT INTO watch_history (user_id, media_item_id, started_at, stopped_at, watched_seconds, percent_complete)
        SELECT u.id, film.id, day + interval '20 hours', day + interval '22 hours', 7200, 100
        FROM users u, film, generate_series(now()::date - 3, now()::date - 1, interval '1 day') AS day
        WHERE u.username = $1
        UNION ALL
        SELECT u.id, film.id, now()::date - 2 + interval '8 hours', now()::date - 2 + interval '9 hours', 3600, 50
        FROM users u, film WHERE u.username = $1
        """,
        username,
    )


def image_reply_to(person: Person, event_id: str, sender: str) -> Callable[[], Any]:
    def found() -> Any:
        return next(
            (
                image
                for _, image in person.images
                if image.sender == sender
                and (image.source["content"].get("m.relates_to") or {})
                .get("m.in_reply_to", {})
                .get("event_id")
                == event_id
            ),
            None,
        )

    return found


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain DM", "encrypted DM"])
async def test_an_answer_a_chart_says_better_comes_with_an_m_image_after_the_complete_text(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path, encrypted: bool
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path, encrypted=encrypted) as alice:
        await link(db_pool, "alice", alice.user_id)
        await seed_plays(db_pool, "alice")
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id, encrypted=encrypted)
            question = await alice.say(room, "when do I watch the most?")
            answer = await alice.sync_until(alice.reply_to(question, bot_id), "the text answer")
            image = await alice.sync_until(image_reply_to(alice, question, bot_id), "the chart")

            assert "20:00" in answer.body  # the text says it all on its own
            content = image.source["content"]
            assert content["msgtype"] == "m.image"
            assert content["filename"] == "when-you-watch.png"
            assert content["body"].startswith("Bar charts of hours watched per hour of the day")
            assert content["info"]["mimetype"] == "image/png" and content["info"]["w"] == 800
            assert isinstance(image, RoomEncryptedImage if encrypted else RoomMessageImage)
            downloaded = await alice.client.download(image.url)
            assert isinstance(downloaded, DownloadResponse), downloaded
            png = downloaded.body
            if encrypted:
                assert not png.startswith(b"\x89PNG")  # the homeserver holds only ciphertext
                png = decrypt_attachment(png, image.key["k"], image.hashes["sha256"], image.iv)
            assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == content["info"]["size"]
            # 👍/❌ stay on the text answer, which is what feedback rates.
            assert await feedback_of(db_pool, answer.event_id) is not None


async def test_with_chat_charts_off_the_answer_comes_alone(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        await seed_plays(db_pool, "alice")
        settings = bot_settings(synapse, account, tmp_path / "data", database_url, chat_charts=False)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id)
            question = await alice.say(room, "when do I watch the most?")
            answer = await alice.sync_until(alice.reply_to(question, bot_id), "the text answer")

            def bot_reactions() -> bool | None:
                on_answer = [
                    e for _, e in alice.reactions if e.sender == bot_id and e.reacts_to == answer.event_id
                ]
                return True if len(on_answer) >= 2 else None

            # The bot reacts after it would have sent a chart.
            await alice.sync_until(bot_reactions, "the bot's reactions")
            assert "20:00" in answer.body and not alice.images
