"""The Matrix bot's connection: login, the sync loop, encryption keys and reconnecting.

It knows nothing of questions and answers: each sync's events go to the
callbacks it was given (``matrix_bot``), in order, and only once they were
handled is the sync token saved, so a restart resumes there and never
delivers a message twice; the first start skips the history of the rooms the
bot is already in.

- Login: an access token (``MARQUEE_MATRIX_ACCESS_TOKEN``) is used as is; a
  password login is kept in ``session.json`` so a restart reuses the same
  device and its keys, and is redone when the homeserver revoked it.
- End-to-end encryption: the key store lives in ``<state_dir>/store``, pickled
  with the configured key or a random one kept beside it (never nio's
  default). Between syncs the connection does what nio's ``sync_forever``
  would: to-device messages, key upload, query and claim.
- A lost connection is retried with growing delays, one warning line per
  outage; a setup error (a revoked access token) stops the bot with one error
  line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    Event,
    JoinError,
    LoginError,
    MatrixRoom,
    RoomResolveAliasError,
    SyncError,
    SyncResponse,
    WhoamiError,
)

from adapters.chat.matrix_config import MatrixConfig, MatrixSetupError
from adapters.chat.matrix_state import MatrixSession, MatrixState

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
MAX_RECONNECT_DELAY_SECONDS = 300.0

EventCallback = Callable[[MatrixRoom, Any], Awaitable[None]]


class HomeserverUnavailable(Exception):
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


class MatrixConnection:
    """One logged-in matrix-nio client, kept syncing until ``stop_syncing``; ``close`` ends it."""

    def __init__(
        self,
        config: MatrixConfig,
        state: MatrixState,
        callbacks: Sequence[tuple[EventCallback, type[Event]]],
        on_catch_up: Callable[[], None] = lambda: None,
    ) -> None:
        self._config = config
        self._state = state
        self._callbacks = callbacks
        # Called before each first sync after (re)connecting.
        self._on_catch_up = on_catch_up
        self._client: _MarqueeNioClient | None = None
        self._stopping = asyncio.Event()
        # Set while connected and syncing (after the first sync), cleared while reconnecting.
        self.connected = asyncio.Event()
        self._logged_in = False
        self._sync_loop: asyncio.Task[None] | None = None
        self._sync_task: asyncio.Task[Any] | None = None
        # False while the first sync of a first start delivers history that is not to be answered.
        self.handling_events = False
        # True while the first sync after (re)connecting delivers what arrived while the bot was away.
        self.catching_up = False
        # Admin rooms by room id (aliases in the config are resolved at login).
        self.admin_rooms: set[str] = set()

    @property
    def user_id(self) -> str:
        return self._config.user_id or ""

    @property
    def device_id(self) -> str | None:
        return self._client.device_id if self._client is not None else None

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            raise RuntimeError("MatrixConnection.start() has not been called")
        return self._client

    @property
    def is_open(self) -> bool:
        """True from the start until ``close``, including while reconnecting."""
        return self._client is not None

    @property
    def was_started(self) -> bool:
        return self._sync_loop is not None or self.connected.is_set()

    async def start(self) -> None:
        """Log in (or restore the saved device) and sync once, then keep syncing in the background.

        Returns once connected. Raises ``MatrixSetupError`` for settings or credentials that cannot
        work, and a connection error (``aiohttp.ClientError``, ``TimeoutError``, ``OSError``) when the
        homeserver cannot be reached: the caller retries with a fresh bot.
        """
        homeserver, user_id = self._config.checked()
        await self._state.open()
        pickle_key = await self._state.pickle_key(self._config.store_pickle_key)
        self._client = self.build_client(homeserver, user_id, pickle_key)
        await self._connect(homeserver)
        self.connected.set()
        self._sync_loop = asyncio.create_task(self._sync_forever(homeserver), name="matrix-sync")

    async def stop_syncing(self) -> None:
        """Stop the sync loop; a sync whose events are being handled finishes first."""
        self._stopping.set()
        client = self._client
        task = self._sync_task
        # A sync still waiting on the network is cancelled; one whose events are being handled finishes.
        if task is not None and not task.done() and not (client is not None and client.handling_sync):
            task.cancel()
        if self._sync_loop is not None:
            await asyncio.gather(self._sync_loop, return_exceptions=True)

    async def close(self) -> None:
        self.connected.clear()
        self._sync_loop = None
        if self._client is not None:
            await self._client.close()
            self._client = None

    def build_client(self, homeserver: str, user_id: str, pickle_key: str) -> AsyncClient:
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
        for callback, event_type in self._callbacks:
            client.add_event_callback(callback, event_type)
        return client

    def _require_client(self) -> _MarqueeNioClient:
        if self._client is None:
            raise RuntimeError("MatrixConnection.start() has not been called")
        return self._client

    async def _sync_forever(self, homeserver: str) -> None:
        delay = self._config.reconnect_delay_seconds
        lost_since: float | None = None
        while not self._stopping.is_set():
            try:
                if lost_since is not None:
                    await self._connect(homeserver)
                    log.info(
                        "Matrix: reconnected to %s after %.0f s", homeserver, time.monotonic() - lost_since
                    )
                    lost_since, delay = None, self._config.reconnect_delay_seconds
                    self.connected.set()
                await self._sync_once(timeout_ms=SYNC_TIMEOUT_MS)
            except (aiohttp.ClientError, TimeoutError, OSError, HomeserverUnavailable) as exc:
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

    async def _connect(self, homeserver: str) -> None:
        client = self._require_client()
        if not self._logged_in:
            await self._log_in(homeserver)
            self._logged_in = True
            # Known before the first sync, so that an invite to an admin room is never declined.
            await self._resolve_admin_rooms()
        token = await self._state.load_sync_token(self.user_id)
        # The first start has nothing to resume: the rooms' history is skipped, not answered.
        self.handling_events = token is not None
        self.catching_up = True
        self._on_catch_up()
        try:
            await self._sync_once(timeout_ms=0, since=token, full_state=True)
        finally:
            self.catching_up = False
        self.handling_events = True
        await self._join_admin_rooms()
        log.info(
            "Matrix: connected to %s as %s (device %s, %d rooms, admin rooms: %s)",
            homeserver,
            self.user_id,
            client.device_id,
            len(client.rooms),
            ", ".join(sorted(self.admin_rooms)) or "none",
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
                raise HomeserverUnavailable(str(whoami))
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
            raise HomeserverUnavailable(str(response))
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
            raise HomeserverUnavailable(str(whoami))
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
            raise HomeserverUnavailable(str(response))
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
                self.admin_rooms.add(configured)
                continue
            resolved = await client.room_resolve_alias(configured)
            if isinstance(resolved, RoomResolveAliasError):
                log.warning("Matrix: admin room %s not found: %s", configured, resolved.message)
            else:
                self.admin_rooms.add(resolved.room_id)

    async def _join_admin_rooms(self) -> None:
        client = self._require_client()
        for room_id in sorted(self.admin_rooms - set(client.rooms)):
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
