"""What the Matrix bot keeps in ``<data_dir>/matrix`` between runs.

- ``session.json``: the device and access token of a password login, so a
  restart reuses the same device (and its encryption keys) instead of
  creating a new one. Written with mode 0600: it is a credential.
- ``sync_token.json``: the ``next_batch`` of the last sync whose events were
  handled, so a restart resumes there and never answers old messages again.
- ``reactions.json``: reaction event id → (room, reply, emoji, sender) of the
  feedback reactions that counted. A redaction names only the id of the
  reaction it removes, and a redacted event has lost its content, so this map
  is the only way to know which feedback a redaction undoes.
- ``store/``: matrix-nio's encryption key store (olm account, megolm sessions),
  pickled with a key of its own (``MARQUEE_MATRIX_STORE_PICKLE_KEY``, or else the
  random key generated once into ``store_pickle_key``, mode 0600).

Files are small; they are rewritten whole (write to a temporary file, then
rename) off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Reactions older than this can still be redacted, but nobody does: keep the file small.
REACTION_RETENTION_SECONDS = 90 * 24 * 3600
MAX_REMEMBERED_REACTIONS = 20_000
# What matrix-nio pickles its store with when given no key. A store created before Marquee
# had a key of its own keeps this one: another key could not open it.
NIO_DEFAULT_PICKLE_KEY = "DEFAULT_KEY"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return None


def _write_json(path: Path, value: Any, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(value, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@dataclass(frozen=True)
class MatrixSession:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str

    def __repr__(self) -> str:  # the token never reaches a log line
        return f"MatrixSession(homeserver={self.homeserver!r}, user_id={self.user_id!r}, device_id={self.device_id!r})"


@dataclass(frozen=True)
class RememberedReaction:
    room_id: str
    reply_event_id: str
    emoji: str
    sender: str
    remembered_at: float


class MatrixState:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.store_path = directory / "store"
        self._session_file = directory / "session.json"
        self._sync_token_file = directory / "sync_token.json"
        self._reactions_file = directory / "reactions.json"
        self._pickle_key_file = directory / "store_pickle_key"
        self._reactions: dict[str, RememberedReaction] = {}
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        """Create the directories (private: they hold keys and a login) and load the reaction map."""
        await asyncio.to_thread(self.directory.mkdir, mode=0o700, parents=True, exist_ok=True)
        await asyncio.to_thread(self.store_path.mkdir, mode=0o700, exist_ok=True)
        raw = await asyncio.to_thread(_read_json, self._reactions_file)
        cutoff = time.time() - REACTION_RETENTION_SECONDS
        self._reactions = {}
        for event_id, entry in (raw or {}).items():
            try:
                reaction = RememberedReaction(**entry)
            except TypeError:
                continue
            if reaction.remembered_at >= cutoff:
                self._reactions[event_id] = reaction

    # --- the key store's pickle key ------------------------------------------------

    async def pickle_key(self, configured: str | None) -> str:
        """The key the encryption store is pickled with: the setting, else the one kept in the data directory."""
        if configured:
            return configured
        return await asyncio.to_thread(self._kept_pickle_key)

    def _kept_pickle_key(self) -> str:
        try:
            kept = self._pickle_key_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            kept = ""
        if kept:
            return kept
        if any(self.store_path.glob("*.db")):
            log.warning(
                "Matrix: the key store in %s was created with matrix-nio's default pickle key and keeps it; "
                "to get a random key, stop Marquee, delete that directory and %s, and start again "
                "(the bot gets a new device)",
                self.store_path,
                self.directory / "session.json",
            )
            key = NIO_DEFAULT_PICKLE_KEY
        else:
            key = secrets.token_urlsafe(32)
        descriptor = os.open(self._pickle_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key

    # --- session ------------------------------------------------------------------

    async def load_session(self, homeserver: str, user_id: str) -> MatrixSession | None:
        raw = await asyncio.to_thread(_read_json, self._session_file)
        if not isinstance(raw, dict):
            return None
        try:
            session = MatrixSession(**raw)
        except TypeError:
            return None
        if session.homeserver != homeserver or session.user_id != user_id:
            return None
        return session

    async def save_session(self, session: MatrixSession) -> None:
        value = {
            "homeserver": session.homeserver,
            "user_id": session.user_id,
            "device_id": session.device_id,
            "access_token": session.access_token,
        }
        async with self._write_lock:
            await asyncio.to_thread(_write_json, self._session_file, value, private=True)

    async def forget_session(self) -> None:
        await asyncio.to_thread(self._session_file.unlink, missing_ok=True)

    # --- sync token ---------------------------------------------------------------

    async def load_sync_token(self, user_id: str) -> str | None:
        raw = await asyncio.to_thread(_read_json, self._sync_token_file)
        if isinstance(raw, dict) and raw.get("user_id") == user_id and isinstance(raw.get("next_batch"), str):
            return str(raw["next_batch"])
        return None

    async def save_sync_token(self, user_id: str, next_batch: str) -> None:
        async with self._write_lock:
            await asyncio.to_thread(
                _write_json, self._sync_token_file, {"user_id": user_id, "next_batch": next_batch}
            )

    # --- feedback reactions -------------------------------------------------------

    def reaction(self, reaction_event_id: str) -> RememberedReaction | None:
        return self._reactions.get(reaction_event_id)

    async def remember_reaction(
        self, reaction_event_id: str, room_id: str, reply_event_id: str, emoji: str, sender: str
    ) -> None:
        self._reactions[reaction_event_id] = RememberedReaction(
            room_id, reply_event_id, emoji, sender, remembered_at=time.time()
        )
        if len(self._reactions) > MAX_REMEMBERED_REACTIONS:
            oldest = min(self._reactions, key=lambda key: self._reactions[key].remembered_at)
            del self._reactions[oldest]
        await self._save_reactions()

    async def forget_reaction(self, reaction_event_id: str) -> None:
        if self._reactions.pop(reaction_event_id, None) is not None:
            await self._save_reactions()

    async def _save_reactions(self) -> None:
        snapshot = {
            event_id: {
                "room_id": reaction.room_id,
                "reply_event_id": reaction.reply_event_id,
                "emoji": reaction.emoji,
                "sender": reaction.sender,
                "remembered_at": reaction.remembered_at,
            }
            for event_id, reaction in self._reactions.items()
        }
        async with self._write_lock:
            await asyncio.to_thread(_write_json, self._reactions_file, snapshot)
