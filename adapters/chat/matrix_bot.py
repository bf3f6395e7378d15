"""Marquee on Matrix: a matrix-nio client that answers DMs and admin-room commands.

A thin translator over ``core.chat.ChatCore``:

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
- End-to-end encryption: the key store lives in ``<data_dir>/matrix/store``, pickled with
  ``MARQUEE_MATRIX_STORE_PICKLE_KEY`` or a random key kept beside it (never nio's default).
  A bot cannot do interactive verification, so it trusts on membership: it
  encrypts to every device of the members of a room it joined (and only joins
  rooms of allowed users) and decrypts from any device. The allow-list is the
  security boundary, not device verification.
- The sync token is saved after each sync's events were handled, so a restart
  resumes there and never answers a message twice; the first start skips the
  history of the rooms it is already in.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Coroutine
from typing import Any

import aiohttp
from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinError,
    LoginError,
    MatrixRoom,
    MegolmEvent,
    RedactionEvent,
    RoomMessageText,
    RoomResolveAliasError,
    RoomSendError,
    SyncError,
    SyncResponse,
    UploadResponse,
    WhoamiError,
)
from nio import ReactionEvent as MatrixReactionEvent
from nio.exceptions import LocalProtocolError

from adapters.chat.matrix_commands import (
    ADMIN_COMMANDS,
    HELP,
    addressed_question,
    invite_allowed,
    parse_command,
)
from adapters.chat.matrix_config import MatrixConfig, MatrixSetupError
from adapters.chat.matrix_rendering import (
    image_content,
    normalize_emoji,
    reaction_content,
    reply_content,
    strip_reply_fallback,
)
from adapters.chat.matrix_state import MatrixSession, MatrixState
from core.answer import parse_answer, shortened
from core.chat import FEEDBACK_EMOJI, ChartImage, ChatCore, ChatRequest, Platform, ReactionEvent, Reply
from core.media_requests.notifications import Outbox

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
MAX_RECONNECT_DELAY_SECONDS = 300.0
# How long stop() waits for answers in flight before closing the connection.
DRAIN_TIMEOUT_SECONDS = 60.0
TYPING_TIMEOUT_MS = 60_000
SEND_ATTEMPTS = 4
MAX_REPLY_CHARS = 8_000
APOLOGY = "Sorry, something went wrong while answering. The admins can find the details in the log."
OFFLINE_NOTE = (
    "I was offline when you sent this, so I did not answer it. Ask me again if you still want to know."
)
DECLINED_NOTICE = (
    "Sorry, I only talk with members of this media server. Ask one of its admins if you should have access."
)
_SEEN_EVENTS_KEPT = 2_000


class _HomeserverUnavailable(Exception):
    """The homeserver answered with an error that a later retry may not get."""


class _MarqueeNioClient(AsyncClient):
    """Knows whether it is in the middle of handling a sync's events, so that stop() never cuts that short."""

    handling_sync = False

    async def receive_response(self, response: Any) -> None:
        if not isinstance(response, SyncResponse):
            await super().receive_response(response)
            return
        self.handling_sync = True
        try:
            await super().receive_response(response)
        finally:
            self.handling_sync = False


class MatrixBot:
    def __init__(self, core: ChatCore, config: MatrixConfig, outbox: Outbox | None = None) -> None:
        self._core = core
        self._config = config
        # Request notifications, delivered while connected.
        self._outbox = outbox
        self._notifier: asyncio.Task[None] | None = None
        self._state = MatrixState(config.state_dir)
        self._client: _MarqueeNioClient | None = None
        self._stopping = asyncio.Event()
        # Set while connected and syncing (after the first sync), cleared while reconnecting.
        self.connected = asyncio.Event()
        self._logged_in = False
        self._sync_loop: asyncio.Task[None] | None = None
        self._sync_task: asyncio.Task[Any] | None = None
        self._handling_events = False
        # True while the first sync after (re)connecting delivers what arrived while the bot was away.
        self._catching_up = False
        # Rooms that got the "I was offline" note in this catch-up: one note per room is enough.
        self._offline_noted: set[str] = set()
        self._answers: set[asyncio.Task[None]] = set()
        self._seen_events: OrderedDict[str, None] = OrderedDict()
        self._admin_rooms: set[str] = set()
        # One answer at a time per room: replies come in the order of the questions, and each
        # question sees the previous exchange as its conversation history.
        self._room_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def user_id(self) -> str:
        return self._config.user_id or ""

    @property
    def device_id(self) -> str | None:
        return self._client.device_id if self._client is not None else None

    # --- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Log in (or restore the saved device) and sync once, then keep syncing in the background.

        Returns once connected. Raises ``MatrixSetupError`` for settings or credentials that cannot
        work, and a connection error (``aiohttp.ClientError``, ``TimeoutError``, ``OSError``) when the
        homeserver cannot be reached: the caller retries with a fresh bot. Once connected, a lost
        connection is retried here with growing delays, one warning line until it is back.
        """
        homeserver, user_id = self._config.checked()
        await self._state.open()
        pickle_key = await self._state.pickle_key(self._config.store_pickle_key)
        self._client = self._build_client(homeserver, user_id, pickle_key)
        try:
            await self._connect(homeserver)
        except asyncio.CancelledError:
            await self._shut_down()  # cancelled while starting: leave no open connection behind
            raise
        self.connected.set()
        self._sync_loop = asyncio.create_task(self._sync_forever(homeserver), name="matrix-sync")
        if self._outbox is not None:
            self._notifier = asyncio.create_task(
                self._outbox.run(
                    "matrix", self.send_direct_message, self.connected.is_set, self.send_to_admin_room
                ),
                name="matrix-notifications",
            )

    async def stop(self) -> None:
        """Stop syncing, let the answers in flight finish, close the connection. Safe to call at any time."""
        self._stopping.set()
        if self._notifier is not None:
            self._notifier.cancel()
            await asyncio.gather(self._notifier, return_exceptions=True)
            self._notifier = None
        client = self._client
        task = self._sync_task
        # A sync still waiting on the network is cancelled; one whose events are being handled finishes.
        if task is not None and not task.done() and not (client is not None and client.handling_sync):
            task.cancel()
        if self._sync_loop is not None:
            await asyncio.gather(self._sync_loop, return_exceptions=True)
        await self._shut_down()
        self._sync_loop = None

    async def _sync_forever(self, homeserver: str) -> None:
        delay = 1.0
        lost_since: float | None = None
        while not self._stopping.is_set():
            try:
                if lost_since is not None:
                    await self._connect(homeserver)
                    log.info(
                        "Matrix: reconnected to %s after %.0f s", homeserver, time.monotonic() - lost_since
                    )
                    lost_since, delay = None, 1.0
                    self.connected.set()
                await self._sync_once(timeout_ms=SYNC_TIMEOUT_MS)
            except (aiohttp.ClientError, TimeoutError, OSError, _HomeserverUnavailable) as exc:
                if self._stopping.is_set():
                    break
                self.connected.clear()
                reason = str(exc) or type(exc).__name__
                if lost_since is None:
                    lost_since = time.monotonic()
                    log.warning("Matrix: lost the connection to %s (%s); reconnecting", homeserver, reason)
                else:
                    log.debug(
                        "Matrix: still cannot reach %s (%s); next try in %.0f s", homeserver, reason, delay
                    )
                await self._sleep_unless_stopped(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY_SECONDS)
            except MatrixSetupError as exc:
                self.connected.clear()
                log.error("Matrix: %s; the Matrix bot stops", exc)
                return
            except Exception:
                # A bug must not end the bot silently: log it, pause, carry on from the saved token.
                log.exception("Matrix: the sync loop failed; retrying")
                await self._sleep_unless_stopped(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY_SECONDS)

    def _build_client(self, homeserver: str, user_id: str, pickle_key: str) -> _MarqueeNioClient:
        config = AsyncClientConfig(
            encryption_enabled=True,
            pickle_key=pickle_key,
            store_sync_tokens=False,  # saved by us, only once a sync's events were handled
            # nio would retry a lost connection forever with a warning each time; we retry ourselves
            # (sends a few times, the sync loop with growing delays) and log once.
            max_timeouts=0,
            request_timeout=60,
        )
        client = _MarqueeNioClient(
            homeserver,
            user_id,
            device_id=self._config.device_id or "",
            store_path=str(self._state.store_path),
            config=config,
        )
        client.add_event_callback(self._on_invite, InviteMemberEvent)
        client.add_event_callback(self._on_message, RoomMessageText)
        client.add_event_callback(self._on_reaction, MatrixReactionEvent)
        client.add_event_callback(self._on_redaction, RedactionEvent)
        client.add_event_callback(self._on_undecryptable, MegolmEvent)
        return client

    async def _connect(self, homeserver: str) -> None:
        client = self._require_client()
        if not self._logged_in:
            await self._log_in(homeserver)
            self._logged_in = True
            # Known before the first sync, so that an invite to an admin room is never declined.
            await self._resolve_admin_rooms()
        token = await self._state.load_sync_token(self.user_id)
        # The first start has nothing to resume: the rooms' history is skipped, not answered.
        self._handling_events = token is not None
        self._catching_up, self._offline_noted = True, set()
        try:
            await self._sync_once(timeout_ms=0, since=token, full_state=True)
        finally:
            self._catching_up = False
        self._handling_events = True
        await self._join_admin_rooms()
        log.info(
            "Matrix: connected to %s as %s (device %s, %d rooms, admin rooms: %s)",
            homeserver,
            self.user_id,
            client.device_id,
            len(client.rooms),
            ", ".join(sorted(self._admin_rooms)) or "none",
        )

    async def _log_in(self, homeserver: str) -> None:
        client = self._require_client()
        config = self._config
        if config.access_token is not None:
            token = config.access_token
            device_id = config.device_id or await self._device_of_token(token)
            client.restore_login(self.user_id, device_id, token)
            return
        saved = await self._state.load_session(homeserver, self.user_id)
        if saved is not None:
            client.restore_login(saved.user_id, saved.device_id, saved.access_token)
            whoami = await client.whoami()
            if not isinstance(whoami, WhoamiError):
                return
            if whoami.status_code != "M_UNKNOWN_TOKEN":
                raise _HomeserverUnavailable(str(whoami))
            log.warning("Matrix: the saved login of device %s was revoked; logging in again", saved.device_id)
            await self._state.forget_session()
            client.access_token = ""
        assert config.password is not None  # MatrixConfig.checked
        response = await client.login(config.password, device_name=config.device_name)
        if isinstance(response, LoginError):
            if response.status_code in ("M_FORBIDDEN", "M_USER_DEACTIVATED", "M_INVALID_USERNAME"):
                raise MatrixSetupError(
                    f"Matrix login as {self.user_id} failed ({response.message}): "
                    "check MARQUEE_MATRIX_USER_ID and MARQUEE_MATRIX_PASSWORD"
                )
            raise _HomeserverUnavailable(str(response))
        await self._state.save_session(
            MatrixSession(homeserver, response.user_id, response.device_id, response.access_token)
        )
        log.info("Matrix: logged in as %s, new device %s", response.user_id, response.device_id)

    async def _device_of_token(self, token: str) -> str:
        client = self._require_client()
        client.access_token = token
        client.user_id = self.user_id
        whoami = await client.whoami()
        if isinstance(whoami, WhoamiError):
            if whoami.status_code == "M_UNKNOWN_TOKEN":
                raise MatrixSetupError("MARQUEE_MATRIX_ACCESS_TOKEN was rejected by the homeserver")
            raise _HomeserverUnavailable(str(whoami))
        if whoami.user_id != self.user_id:
            raise MatrixSetupError(
                f"MARQUEE_MATRIX_ACCESS_TOKEN belongs to {whoami.user_id}, not MARQUEE_MATRIX_USER_ID {self.user_id}"
            )
        if not whoami.device_id:
            raise MatrixSetupError(
                "set MARQUEE_MATRIX_DEVICE_ID: the homeserver does not say which device the token is"
            )
        return whoami.device_id

    async def _sync_once(
        self, *, timeout_ms: int, since: str | None = None, full_state: bool = False
    ) -> None:
        client = self._require_client()
        self._sync_task = asyncio.ensure_future(
            client.sync(timeout=timeout_ms, since=since, full_state=full_state)
        )
        try:
            response = await self._sync_task
        except asyncio.CancelledError:
            if self._stopping.is_set():
                return
            raise
        finally:
            self._sync_task = None
        if isinstance(response, SyncError):
            if response.status_code == "M_UNKNOWN_TOKEN":
                if self._config.access_token is not None:
                    raise MatrixSetupError(
                        f"the homeserver no longer accepts MARQUEE_MATRIX_ACCESS_TOKEN ({response.message})"
                    )
                # A revoked password login: log in again (same device) on the next attempt.
                await self._state.forget_session()
                self._logged_in = False
                client.access_token = ""
            raise _HomeserverUnavailable(str(response))
        if client.next_batch:
            await self._state.save_sync_token(self.user_id, client.next_batch)
        await self._exchange_keys()

    async def _exchange_keys(self) -> None:
        """What nio's sync_forever does between syncs: to-device messages and encryption keys."""
        client = self._require_client()
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    async def _resolve_admin_rooms(self) -> None:
        client = self._require_client()
        for configured in self._config.admin_rooms:
            if not configured.startswith("#"):
                self._admin_rooms.add(configured)
                continue
            resolved = await client.room_resolve_alias(configured)
            if isinstance(resolved, RoomResolveAliasError):
                log.warning("Matrix: admin room %s not found: %s", configured, resolved.message)
            else:
                self._admin_rooms.add(resolved.room_id)

    async def _join_admin_rooms(self) -> None:
        client = self._require_client()
        for room_id in sorted(self._admin_rooms - set(client.rooms)):
            joined = await client.join(room_id)
            if isinstance(joined, JoinError):
                log.warning(
                    "Matrix: cannot join admin room %s yet (invite the bot): %s", room_id, joined.message
                )

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def _shut_down(self) -> None:
        was_connected = self._sync_loop is not None or self.connected.is_set()
        self.connected.clear()
        if self._answers:
            _done, pending = await asyncio.wait(set(self._answers), timeout=DRAIN_TIMEOUT_SECONDS)
            for task in pending:
                log.warning("Matrix: stopping with an answer still in flight; it is cancelled")
                task.cancel()
        if self._client is not None:
            await self._client.close()
            self._client = None
            if was_connected:
                log.info("Matrix: stopped")

    def _require_client(self) -> _MarqueeNioClient:
        if self._client is None:
            raise RuntimeError("MatrixBot.start() has not been called")
        return self._client

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

    # --- invites ------------------------------------------------------------------

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.user_id or event.membership != "invite":
            return
        client = self._require_client()
        try:
            if room.room_id in self._admin_rooms or invite_allowed(
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
        client = self._require_client()
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
        if not self._handling_events:
            return
        relates_to = event.source.get("content", {}).get("m.relates_to") or {}
        if relates_to.get("rel_type") == "m.replace":
            return  # an edit of an earlier message, not a new question
        age_seconds = time.time() - event.server_timestamp / 1000
        if self._catching_up and age_seconds > self._config.catch_up_seconds:
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
        is_admin_room = room_id in self._admin_rooms
        typing = False
        try:
            if text.startswith("!") or self._question_for_bot(room, event, text) is not None:
                await self._mark_read(room_id, event.event_id)
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
                typing = await self._set_typing(room_id, True)
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
        except Exception:
            log.exception("Matrix: answering %s in %s failed", event.event_id, room_id)
            reply = Reply(APOLOGY, kind="error")
        try:
            await self._send_reply(room_id, event, reply)
        except Exception:
            log.exception("Matrix: sending the reply to %s in %s failed", event.event_id, room_id)
        finally:
            if typing:
                await self._set_typing(room_id, False)

    def _question_for_bot(self, room: MatrixRoom, event: RoomMessageText, text: str) -> str | None:
        """The question in ``text``, or None when a message in a shared room is not addressed to the bot."""
        if room.member_count <= 2 and room.room_id not in self._admin_rooms:
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
            await self._send_chart(room_id, reply.chart, question.event_id, thread_root)
        if reply.feedback_id is not None:
            await self._core.attach_reply(reply.feedback_id, "matrix", reply_id)
        if reply.wants_feedback_reactions:
            for emoji in FEEDBACK_EMOJI:
                await self._send(room_id, "m.reaction", reaction_content(reply_id, emoji))

    async def _send_chart(
        self, room_id: str, chart: ChartImage, in_reply_to: str, thread_root: str | None
    ) -> str | None:
        """Upload the chart (encrypted in an encrypted room), then send it as an ``m.image`` after the text.

        The text already said everything: a failed upload is logged and costs only the picture.
        """
        client = self._require_client()
        room = client.rooms.get(room_id)
        encrypted = bool(room is not None and room.encrypted)
        try:
            uploaded, keys = await client.upload(
                lambda *_: io.BytesIO(chart.png),
                content_type="image/png",
                filename=chart.filename,
                encrypt=encrypted,
                filesize=len(chart.png),
            )
        except (aiohttp.ClientError, TimeoutError, LocalProtocolError) as exc:
            log.warning("Matrix: uploading a chart for %s failed: %s", room_id, exc or type(exc).__name__)
            return None
        if not isinstance(uploaded, UploadResponse):
            log.warning("Matrix: uploading a chart for %s failed: %s", room_id, uploaded)
            return None
        content = image_content(
            chart, uploaded.content_uri, in_reply_to, thread_root=thread_root, decryption_keys=keys
        )
        return await self._send(room_id, "m.room.message", content)

    async def send_direct_message(self, platform_user_id: str, text: str) -> bool:
        """One notification in the DM room shared with ``platform_user_id`` only, with 👍/❌ under it;
        False when there is no such room (the member never opened one with the bot)."""
        client = self._client
        if client is None:
            return False
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
        return True

    async def send_to_admin_room(self, text: str) -> bool:
        """One alert (an integration failing or recovering) in the first admin room the bot is in."""
        client = self._client
        room_id = next((r for r in sorted(self._admin_rooms) if client and r in client.rooms), None)
        if room_id is None:
            return False
        content = reply_content(shortened(parse_answer(text), MAX_REPLY_CHARS), None)
        return await self._send(room_id, "m.room.message", content) is not None

    async def _send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str | None:
        client = self._require_client()
        transaction_id = str(uuid.uuid4())  # the same id on each retry: the homeserver keeps one event
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                # Trust on membership, see the module docstring.
                response = await client.room_send(
                    room_id, event_type, content, tx_id=transaction_id, ignore_unverified_devices=True
                )
                break
            except (aiohttp.ClientError, TimeoutError) as exc:
                if attempt == SEND_ATTEMPTS:
                    log.warning(
                        "Matrix: sending %s to %s failed: %s", event_type, room_id, exc or type(exc).__name__
                    )
                    return None
                await asyncio.sleep(2**attempt)
            except LocalProtocolError as exc:
                log.warning("Matrix: cannot send to %s: %s", room_id, exc)
                return None
        if isinstance(response, RoomSendError):
            log.warning("Matrix: sending %s to %s failed: %s", event_type, room_id, response)
            return None
        return str(response.event_id)

    async def _mark_read(self, room_id: str, event_id: str) -> None:
        """A read receipt (and the fully-read marker) on the question: the asker sees it was seen."""
        try:
            await self._require_client().room_read_markers(room_id, event_id, event_id)
        except (aiohttp.ClientError, TimeoutError, LocalProtocolError):
            pass  # a missing receipt is not worth more than this

    async def _set_typing(self, room_id: str, typing: bool) -> bool:
        try:
            await self._require_client().room_typing(room_id, typing, timeout=TYPING_TIMEOUT_MS)
        except (aiohttp.ClientError, TimeoutError, LocalProtocolError):
            return False  # a missing typing indicator is not worth more than this
        return True

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        if not self._handling_events or not self._first_time_seen(event.event_id):
            return
        log.warning(
            "Matrix: cannot decrypt %s from %s in %s (session %s); asking for the key",
            event.event_id,
            event.sender,
            room.room_id,
            event.session_id,
        )
        try:
            await self._require_client().request_room_key(event)
        except (LocalProtocolError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Matrix: room key request failed: %s", exc)

    # --- feedback reactions -------------------------------------------------------

    async def _on_reaction(self, room: MatrixRoom, event: MatrixReactionEvent) -> None:
        if not self._handling_events or event.sender == self.user_id:
            return
        emoji = normalize_emoji(event.key)
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
        if not self._handling_events:
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
