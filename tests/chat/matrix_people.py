"""Real matrix-nio people and the Marquee bot on the real Synapse (``synapse`` in conftest.py): what the
Matrix tests share. Every test has its own accounts, its own database and its own bot data directory."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
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

from adapters.chat.matrix_bot import MatrixBot
from bot.runtime import matrix_config
from bot.settings import Settings
from bot.wiring import build_assistant
from core.chat import ChatCore
from core.media_requests.notifications import Outbox
from core.media_requests.service import RequestService

from .synapse_server import SynapseServer

T = TypeVar("T")
WAIT_SECONDS = 45.0
QUESTION = "what did I watch this week?"


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
