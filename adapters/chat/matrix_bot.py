"""Marquee on Matrix: answers DMs and admin-room commands, translated to and from ``core.chat.ChatCore``.

The connection (login, sync loop, keys, reconnecting) is ``matrix_connection``;
what goes out (retries, uploads, receipts) is ``matrix_sending``; this module
turns the events of each sync into core calls and core's replies into events:

- An invite is joined when it comes from an allowed user or homeserver
  (``MARQUEE_MATRIX_ALLOWED_USERS`` / ``MARQUEE_MATRIX_ALLOWED_HOMESERVERS``; with
  both empty, users of the bot's own homeserver) or is to a configured admin
  room; any other invite is declined.
- In a DM (a room of two) every message is a question; in a bigger room the
  bot answers when it is mentioned. ``!`` commands work everywhere; the admin
  ones (``!health``, ``!learning ...``, ``!insights``) are checked by core,
  which answers them only to an admin in an admin room.
- An answer is an ``m.text`` reply (``m.in_reply_to``) whose HTML and plain
  body are both rendered from the structured answer, then 👍 and ❌ annotations.
  A 👍/❌ by the asker becomes feedback; redacting it undoes the feedback.
- End-to-end encryption: a bot cannot do interactive verification, so it
  trusts on membership: it encrypts to every device of the members of a room
  it joined (and only joins rooms of allowed users) and decrypts from any
  device. The allow-list is the security boundary, not device verification.
- After a restart, messages that arrived while the bot was away are answered
  when they are younger than ``MARQUEE_MATRIX_CATCH_UP_SECONDS``; older ones
  get one short "I was offline" note per room.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Coroutine
from typing import Any

import aiohttp
from nio import (
    Api,
    InviteMemberEvent,
    JoinError,
    MatrixRoom,
    MegolmEvent,
    RedactionEvent,
    RoomMessageText,
)
from nio import ReactionEvent as MatrixReactionEvent
from nio.exceptions import LocalProtocolError

from adapters.chat.matrix_commands import (
    HELP,
    addressed_question,
    invite_allowed,
    parse_command,
)
from adapters.chat.matrix_config import MatrixConfig, MatrixSetupError
from adapters.chat.matrix_connection import MatrixConnection
from adapters.chat.matrix_rendering import (
    reaction_content,
    reply_content,
    strip_reply_fallback,
)
from adapters.chat.matrix_sending import mark_read, send_chart, send_event, set_typing
from adapters.chat.matrix_state import MatrixState
from core.answer import parse_answer, shortened
from core.chat import (
    ADMIN_COMMANDS,
    FEEDBACK_EMOJI,
    ChatCore,
    ChatRequest,
    Platform,
    ReactionEvent,
    Reply,
    normalise_emoji,
)
from core.media_requests.notifications import Outbox

__all__ = ["DECLINED_NOTICE", "OFFLINE_NOTE", "MatrixBot", "MatrixConfig", "MatrixSetupError"]

log = logging.getLogger(__name__)

# How long stop() waits for answers in flight before closing the connection.
DRAIN_TIMEOUT_SECONDS = 60.0
MAX_REPLY_CHARS = 8_000
OFFLINE_NOTE = (
    "I was offline when you sent this, so I did not answer it. Ask me again if you still want to know."
)
DECLINED_NOTICE = (
    "Sorry, I only talk with members of this media server. Ask one of its admins if you should have access."
)
_SEEN_EVENTS_KEPT = 2_000


class MatrixBot:
    def __init__(self, core: ChatCore, config: MatrixConfig, outbox: Outbox | None = None) -> None:
        self._core = core
        self._config = config
        # Request notifications, delivered while connected.
        self._outbox = outbox
        self._notifier: asyncio.Task[None] | None = None
        self._state = MatrixState(config.state_dir)
        self._connection = MatrixConnection(
            config,
            self._state,
            [
                (self._on_invite, InviteMemberEvent),
                (self._on_message, RoomMessageText),
                (self._on_reaction, MatrixReactionEvent),
                (self._on_redaction, RedactionEvent),
                (self._on_undecryptable, MegolmEvent),
            ],
            on_catch_up=self._offline_noted_clear,
        )
        # Rooms that got the "I was offline" note in this catch-up: one note per room is enough.
        self._offline_noted: set[str] = set()
        self._answers: set[asyncio.Task[None]] = set()
        self._seen_events: OrderedDict[str, None] = OrderedDict()
        # One answer at a time per room: replies come in the order of the questions, and each
        # question sees the previous exchange as its conversation history.
        self._room_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def user_id(self) -> str:
        return self._connection.user_id

    @property
    def device_id(self) -> str | None:
        return self._connection.device_id

    @property
    def connected(self) -> asyncio.Event:
        """Set while connected and syncing (after the first sync), cleared while reconnecting."""
        return self._connection.connected

    # --- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Connect (see ``MatrixConnection.start``), then deliver request notifications while connected.

        Raises ``MatrixSetupError`` for settings or credentials that cannot work, and a connection error
        when the homeserver cannot be reached: the caller retries with a fresh bot.
        """
        try:
            await self._connection.start()
        except asyncio.CancelledError:
            await self._shut_down()  # cancelled while starting: leave no open connection behind
            raise
        if self._outbox is not None:
            self._notifier = asyncio.create_task(
                self._outbox.run(
                    "matrix",
                    self.send_direct_message,
                    self.connected.is_set,
                    self.send_to_admin_room,
                    self.send_to_room,
                ),
                name="matrix-notifications",
            )

    async def stop(self) -> None:
        """Stop syncing, let the answers in flight finish, close the connection. Safe to call at any time."""
        if self._notifier is not None:
            self._notifier.cancel()
            await asyncio.gather(self._notifier, return_exceptions=True)
            self._notifier = None
        await self._connection.stop_syncing()
        await self._shut_down()

    async def _shut_down(self) -> None:
        was_connected = self._connection.was_started
        self.connected.clear()
        if self._answers:
            _done, pending = await asyncio.wait(set(self._answers), timeout=DRAIN_TIMEOUT_SECONDS)
            for task in pending:
                log.warning("Matrix: stopping with an answer still in flight; it is cancelled")
                task.cancel()
        if self._connection.is_open:
            await self._connection.close()
            if was_connected:
                log.info("Matrix: stopped")

    def _offline_noted_clear(self) -> None:
        self._offline_noted = set()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    def _first_time_seen(self, event_id: str) -> bool:
        if event_id in self._seen_events:
            return False
        self._seen_events[event_id] = None
        if len(self._seen_events) > _SEEN_EVENTS_KEPT:
            self._seen_events.popitem(last=False)
        return True

    async def _send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str | None:
        return await send_event(self._connection.client, room_id, event_type, content)

    # --- invites ------------------------------------------------------------------

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.user_id or event.membership != "invite":
            return
        client = self._connection.client
        try:
            if room.room_id in self._connection.admin_rooms or invite_allowed(
                event.sender,
                self._config.allowed_users,
                self._config.allowed_homeservers,
                self.user_id,
            ):
                joined = await client.join(room.room_id)
                if isinstance(joined, JoinError):
                    log.warning(
                        "Matrix: could not join %s (invited by %s): %s", room.room_id, event.sender, joined
                    )
                else:
                    log.info("Matrix: joined %s, invited by %s", room.room_id, event.sender)
            else:
                await self._decline(room.room_id)
                log.info(
                    "Matrix: declined the invite of %s to %s (not in MARQUEE_MATRIX_ALLOWED_USERS "
                    "or MARQUEE_MATRIX_ALLOWED_HOMESERVERS)",
                    event.sender,
                    room.room_id,
                )
        except Exception:
            log.exception("Matrix: handling the invite to %s failed", room.room_id)

    async def _decline(self, room_id: str) -> None:
        """Join just long enough to say why, then leave: a silent decline looks like a broken bot."""
        client = self._connection.client
        joined = await client.join(room_id)
        if not isinstance(joined, JoinError):
            # Sent as is, unencrypted: the room is not known to the client's crypto state until the next
            # sync, and the notice says nothing private.
            content = {"msgtype": "m.notice", "body": DECLINED_NOTICE}
            method, path, data = Api.room_send(
                client.access_token, room_id, "m.room.message", content, str(uuid.uuid4())
            )
            try:
                response = await client.send(method, path, data, headers={"Content-Type": "application/json"})
                response.release()
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("Matrix: could not tell %s why the invite was declined: %s", room_id, exc)
        await client.room_leave(room_id)

    # --- messages -----------------------------------------------------------------

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.user_id or not self._first_time_seen(event.event_id):
            return
        if not self._connection.handling_events:
            return
        relates_to = event.source.get("content", {}).get("m.relates_to") or {}
        if relates_to.get("rel_type") == "m.replace":
            return  # an edit of an earlier message, not a new question
        age_seconds = time.time() - event.server_timestamp / 1000
        if self._connection.catching_up and age_seconds > self._config.catch_up_seconds:
            log.info(
                "Matrix: not answering %s in %s: sent %.0f s ago", event.event_id, room.room_id, age_seconds
            )
            if room.room_id not in self._offline_noted and self._is_for_bot(room, event):
                self._offline_noted.add(room.room_id)
                self._spawn(self._send_reply(room.room_id, event, Reply(OFFLINE_NOTE)))
            return
        self._spawn(self._answer_in_turn(room, event))

    def _is_for_bot(self, room: MatrixRoom, event: RoomMessageText) -> bool:
        text = strip_reply_fallback(event.body).strip()
        return text.startswith("!") or self._question_for_bot(room, event, text) is not None

    async def _answer_in_turn(self, room: MatrixRoom, event: RoomMessageText) -> None:
        async with self._room_locks[room.room_id]:
            await self._answer(room, event)

    async def _answer(self, room: MatrixRoom, event: RoomMessageText) -> None:
        room_id = room.room_id
        text = strip_reply_fallback(event.body).strip()
        is_admin_room = room_id in self._connection.admin_rooms
        typing = False
        try:
            if text.startswith("!") or self._question_for_bot(room, event, text) is not None:
                await mark_read(self._connection.client, room_id, event.event_id)
            if text.startswith("!"):
                shared_room = room.member_count > 2 or is_admin_room
                command_reply = await self._run_command(
                    event.sender, room_id, text, is_admin_room, shared_room
                )
                if command_reply is None:
                    return
                reply = command_reply
            else:
                question = self._question_for_bot(room, event, text)
                if question is None:
                    return
                typing = await set_typing(self._connection.client, room_id, True)
                reply = await self._core.handle(
                    ChatRequest(
                        platform="matrix",
                        platform_user_id=event.sender,
                        conversation_id=room_id,
                        text=question,
                        is_admin_channel=is_admin_room,
                        # A room of two is a DM: only the sender reads the reply.
                        is_direct_message=room.member_count <= 2 and not is_admin_room,
                    )
                )
            # Core's calls are the error boundary: they return a reply, an apology at worst.
            await self._send_reply(room_id, event, reply)
        except Exception:
            log.exception("Matrix: answering %s in %s failed", event.event_id, room_id)  # a last resort
        finally:
            if typing:
                await set_typing(self._connection.client, room_id, False)

    def _question_for_bot(self, room: MatrixRoom, event: RoomMessageText, text: str) -> str | None:
        """The question in ``text``, or None when a message in a shared room is not addressed to the bot."""
        if room.member_count <= 2 and room.room_id not in self._connection.admin_rooms:
            return text
        mentions = (event.source.get("content", {}).get("m.mentions") or {}).get("user_ids", [])
        names = [self.user_id, room.user_name(self.user_id) or "", self.user_id[1:].split(":", 1)[0]]
        return addressed_question(text, names, mentioned=self.user_id in mentions)

    async def _run_command(
        self, sender: str, room_id: str, text: str, is_admin_room: bool, shared_room: bool
    ) -> Reply | None:
        """The reply to a ``!`` command; None for an unknown one in a shared room (it may be another bot's)."""
        name, args = parse_command(text)
        request = ChatRequest(
            platform="matrix",
            platform_user_id=sender,
            conversation_id=room_id,
            text=text,
            is_admin_channel=is_admin_room,
            explicit_admin=name in ADMIN_COMMANDS,
        )
        if name in ADMIN_COMMANDS:
            return await self._core.admin_command(request, name, args)
        if name == "ask" and args:
            return await self._core.handle(
                ChatRequest(
                    "matrix",
                    sender,
                    room_id,
                    " ".join(args),
                    is_admin_channel=is_admin_room,
                    is_direct_message=not shared_room,
                )
            )
        if name == "privacy" and len(args) == 1 and args[0].lower() in ("on", "off"):
            return await self._core.set_privacy(request, share_activity_with_admins=args[0].lower() == "on")
        if name == "notify" and len(args) <= 1:
            choice = args[0].lower() if args else None
            if choice in (None, "on", "off"):
                return await self._core.set_notifications(request, None if choice is None else choice == "on")
        if name == "link":
            if len(args) == 2 and args[0].startswith("@"):
                return await self._core.link_account(request, "matrix", args[0], args[1])
            if len(args) == 3 and args[0].lower() in ("discord", "matrix"):
                platform: Platform = "discord" if args[0].lower() == "discord" else "matrix"
                return await self._core.link_account(request, platform, args[1], args[2])
            return Reply(
                "Usage: `!link @user:server USERNAME` or `!link discord ID USERNAME`", kind="refused"
            )
        if shared_room and name != "help":
            return None
        return Reply(HELP)

    async def _send_reply(self, room_id: str, question: RoomMessageText, reply: Reply) -> None:
        relates_to = question.source.get("content", {}).get("m.relates_to") or {}
        thread_root = relates_to.get("event_id") if relates_to.get("rel_type") == "m.thread" else None
        # An event must stay under 64 KiB with both the plain and the HTML body.
        answer = shortened(reply.structured, MAX_REPLY_CHARS)
        content = reply_content(answer, question.event_id, thread_root=thread_root)
        reply_id = await self._send(room_id, "m.room.message", content)
        if reply_id is None:
            return
        if reply.chart is not None:
            await send_chart(self._connection.client, room_id, reply.chart, question.event_id, thread_root)
        if reply.feedback_id is not None:
            await self._core.attach_reply(reply.feedback_id, "matrix", reply_id)
        if reply.wants_feedback_reactions:
            for emoji in FEEDBACK_EMOJI:
                await self._send(room_id, "m.reaction", reaction_content(reply_id, emoji))

    async def send_direct_message(self, platform_user_id: str, text: str) -> str | bool:
        """One notification in the DM room shared with ``platform_user_id`` only, with 👍/❌ under it: its
        event id (the member's reactions on it are recorded); False when there is no such room (the
        member never opened one with the bot)."""
        if not self._connection.is_open:
            return False
        client = self._connection.client
        room_id = next(
            (
                rid
                for rid, room in client.rooms.items()
                if set(room.users) == {self.user_id, platform_user_id}
            ),
            None,
        )
        if room_id is None:
            log.info("Matrix: no direct room with %s for a notification", platform_user_id)
            return False
        event_id = await self._send(
            room_id, "m.room.message", reply_content(shortened(parse_answer(text), MAX_REPLY_CHARS), None)
        )
        if event_id is None:
            return False
        for emoji in FEEDBACK_EMOJI:
            await self._send(room_id, "m.reaction", reaction_content(event_id, emoji))
        return event_id

    async def send_to_room(self, room_id: str, text: str) -> bool:
        """One announcement (new media of a library) in the room the settings name for it, if the bot is in it."""
        if not self._connection.is_open or room_id not in self._connection.client.rooms:
            log.warning("Matrix: not in %s, so an announcement can't be posted there (invite the bot)", room_id)
            return False
        content = reply_content(shortened(parse_answer(text), MAX_REPLY_CHARS), None)
        return await self._send(room_id, "m.room.message", content) is not None

    async def send_to_admin_room(self, text: str) -> bool:
        """One alert (an integration failing or recovering) in the first admin room the bot is in."""
        if not self._connection.is_open:
            return False
        client = self._connection.client
        room_id = next((r for r in sorted(self._connection.admin_rooms) if r in client.rooms), None)
        if room_id is None:
            return False
        content = reply_content(shortened(parse_answer(text), MAX_REPLY_CHARS), None)
        return await self._send(room_id, "m.room.message", content) is not None

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        if not self._connection.handling_events or not self._first_time_seen(event.event_id):
            return
        log.warning(
            "Matrix: cannot decrypt %s from %s in %s (session %s); asking for the key",
            event.event_id,
            event.sender,
            room.room_id,
            event.session_id,
        )
        try:
            await self._connection.client.request_room_key(event)
        except (LocalProtocolError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Matrix: room key request failed: %s", exc)

    # --- feedback reactions -------------------------------------------------------

    async def _on_reaction(self, room: MatrixRoom, event: MatrixReactionEvent) -> None:
        if not self._connection.handling_events or event.sender == self.user_id:
            return
        emoji = normalise_emoji(event.key)
        if emoji not in FEEDBACK_EMOJI or not self._first_time_seen(event.event_id):
            return
        try:
            counted = await self._core.record_reaction(
                ReactionEvent(
                    platform="matrix",
                    reply_message_id=event.reacts_to,
                    reactor_platform_user_id=event.sender,
                    emoji=emoji,
                    action="added",
                )
            )
            if counted:
                await self._state.remember_reaction(
                    event.event_id, room.room_id, event.reacts_to, emoji, event.sender
                )
        except Exception:
            log.exception("Matrix: recording the reaction %s failed", event.event_id)

    async def _on_redaction(self, room: MatrixRoom, event: RedactionEvent) -> None:
        if not self._connection.handling_events:
            return
        remembered = self._state.reaction(event.redacts)
        if remembered is None:
            return
        try:
            await self._core.record_reaction(
                ReactionEvent(
                    platform="matrix",
                    reply_message_id=remembered.reply_event_id,
                    reactor_platform_user_id=remembered.sender,
                    emoji=remembered.emoji,
                    action="removed",
                )
            )
            await self._state.forget_reaction(event.redacts)
        except Exception:
            log.exception("Matrix: undoing the reaction %s failed", event.redacts)
