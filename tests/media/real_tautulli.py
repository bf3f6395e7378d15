"""A real Tautulli (2.17.2, from its own source) for the sync tests, seeded the way Tautulli writes plays.

The tarball sits beside the repository in ``shared/peers/`` (tests only, never
shipped). It is unpacked and started once per test session to let Tautulli
create its ``config.ini`` and database; that first-start data directory is then
copied for each server a test starts, with ``TZ`` set to the zone under test,
because Tautulli dates history (``after``/``before``) by the server's local day.
Starting a Tautulli takes seconds, so ``tautulli_servers`` keeps one running per
zone for the session and gives each test its first-start database back instead.

Rows are written like ``plexpy/activity_processor.py`` writes a finished
stream: one ``session_history`` row (auto id, ``reference_id`` grouping a
resumed play with the previous row of the same user and item when that one was
not yet watched), with its ``session_history_metadata`` and
``session_history_media_info`` rows under the same id. Without a Plex server,
Tautulli still answers ``get_users``, ``get_users_table`` and ``get_history``
from this database.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TARBALL_NAME = "tautulli-2.17.2.tar.gz"


def _find_tarball() -> Path:
    """``<repo>/../shared/peers/`` in a clone; a worktree nested deeper finds it further up."""
    for folder in REPO.parents:
        candidate = folder / "shared" / "peers" / TARBALL_NAME
        if candidate.exists():
            return candidate
    return REPO.parent / "shared" / "peers" / TARBALL_NAME


TARBALL = _find_tarball()

# Tautulli's defaults: an episode or movie is watched from 85 % on, or from its first
# credits marker if that comes earlier (WATCHED_MARKER = 3, plexpy/helpers.check_watched).
WATCHED_PERCENT = {"movie": 85, "episode": 85}


def tautulli_watched(
    media_type: str, view_offset_ms: int, duration_ms: int, credits_first_ms: int | None
) -> bool:
    """Whether Tautulli (default settings) counts a stream watched."""
    threshold = WATCHED_PERCENT.get(media_type, 0) / 100 * duration_ms
    if not threshold:
        return False
    if credits_first_ms:
        threshold = min(threshold, credits_first_ms)
    return view_offset_ms >= threshold


@dataclass(frozen=True)
class SeedUser:
    user_id: int
    username: str
    friendly_name: str | None = None
    email: str | None = None
    is_admin: int = 0
    is_active: int = 1


@dataclass(frozen=True)
class SeedPlay:
    """One finished stream, as Tautulli's activity processor records it.

    Plex attributes a stream lacks arrive as "" (Tautulli's get_xml_attr), and
    SQLite keeps that "" even in INTEGER columns, so "" is their default here.
    """

    user_id: int
    rating_key: int
    started: int
    stopped: int
    view_offset_ms: int
    duration_ms: int
    media_type: str = "movie"
    title: str = "Arrival"
    year: int | str = 2016
    parent_rating_key: int | str = ""
    grandparent_rating_key: int | str = ""
    grandparent_title: str = ""
    media_index: int | str = ""
    parent_media_index: int | str = ""
    paused_counter: int = 0
    # Where Plex's credits markers start (ms), as the activity processor stores them; None when none.
    marker_credits_first: int | None = None
    marker_credits_final: int | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _set_config(config: Path, values: dict[str, str]) -> None:
    """Set keys of the [General] section of Tautulli's config.ini (ConfigObj, one ``key = value`` a line)."""
    lines = config.read_text(encoding="utf-8").splitlines()
    seen: set[str] = set()
    section = ""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
            continue
        key = stripped.split("=", 1)[0].strip()
        if section == "[General]" and key in values:
            lines[index] = f"{key} = {values[key]}"
            seen.add(key)
    missing = set(values) - seen
    if missing:
        raise RuntimeError(f"Tautulli's config.ini has no {sorted(missing)}")
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


class TautulliProcess:
    """One running Tautulli: its data directory, port, API key and zone."""

    def __init__(self, source: Path, datadir: Path, api_key: str, zone: str) -> None:
        self.source = source
        self.datadir = datadir
        self.api_key = api_key
        self.zone = zone
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = datadir / "stdout.log"

    def start(self) -> None:
        env = {**os.environ, "TZ": self.zone}
        env.pop("PYTHONPATH", None)
        # Its unpacked copy is ours: the first start compiles it once and the others reuse the bytecode.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        with open(self._log, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, str(self.source / "Tautulli.py"), "--datadir", str(self.datadir),
                 "--nolaunch", "--port", str(self.port)],
                cwd=self.source, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self._wait_until_answering()

    def _wait_until_answering(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"Tautulli exited: {self._log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2?apikey={self.api_key}&cmd=arnold", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # answering, if not to this key
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"Tautulli did not answer within {timeout}s")

    def stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._process = None

    def reset(self, template: Path) -> None:
        """Put back the first-start database (rows and id sequences) of ``template``, with the server running.

        Tautulli reads its database on every API call and keeps nothing of it in memory,
        so the server then answers as a freshly started one.
        """
        with contextlib.closing(self._db()) as db:
            db.execute("ATTACH DATABASE ? AS first_start", (str(template / "tautulli.db"),))
            with db:
                tables = [
                    row[0]
                    for row in db.execute(
                        "SELECT name FROM first_start.sqlite_master WHERE type = 'table' "
                        "AND (name NOT LIKE 'sqlite_%' OR name = 'sqlite_sequence')"
                    )
                ]
                for table in tables:
                    db.execute(f'DELETE FROM main."{table}"')
                    db.execute(f'INSERT INTO main."{table}" SELECT * FROM first_start."{table}"')
            db.execute("DETACH DATABASE first_start")

    def api(self, cmd: str, *, apikey: str | None = None, **params: Any) -> tuple[int, Any]:
        """A raw API call, for recording what the real server answers."""
        query = urllib.parse.urlencode({"apikey": apikey or self.api_key, "cmd": cmd, **params})
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2?{query}", timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    # --- seeding, the way Tautulli writes rows --------------------------------------

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.datadir / "tautulli.db", timeout=30)

    def add_users(self, users: list[SeedUser]) -> None:
        with contextlib.closing(self._db()) as db, db:
            db.executemany(
                "INSERT INTO users (user_id, username, friendly_name, email, is_admin, is_active) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (u.user_id, u.username, u.friendly_name, u.email or "", u.is_admin, u.is_active)
                    for u in users
                ],
            )

    def add_libraries(self, types: tuple[str, ...] = ("movie", "show")) -> None:
        """The library sections Tautulli learns from its Plex server (its graphs count only plays of known types)."""
        with contextlib.closing(self._db()) as db, db:
            db.executemany(
                "INSERT INTO library_sections (server_id, section_id, section_name, section_type) VALUES (?, ?, ?, ?)",
                [("test-server", index + 1, kind.title(), kind) for index, kind in enumerate(types)],
            )

    def add_play(self, play: SeedPlay) -> int:
        """Write a finished stream like ActivityProcessor.write_session_history; returns its row id."""
        with contextlib.closing(self._db()) as db, db:
            cursor = db.execute(
                "INSERT INTO session_history (started, stopped, rating_key, parent_rating_key, "
                "grandparent_rating_key, media_type, user_id, user, ip_address, paused_counter, player, product, "
                "product_version, platform, platform_version, profile, machine_id, bandwidth, location, "
                "quality_profile, view_offset, section_id, secure, relayed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT username FROM users WHERE user_id = ?), '192.168.1.20', ?, "
                "'Living Room', 'Plex for LG', '1.4.0', 'webOS', '6.0', 'Original', 'lmd93nkn12k29j2lnm', 20000, "
                "'lan', 'Original', ?, 1, 1, 0)",
                (play.started, play.stopped, play.rating_key, play.parent_rating_key, play.grandparent_rating_key,
                 play.media_type, play.user_id, play.user_id, play.paused_counter, play.view_offset_ms),
            )  # fmt: skip
            row_id = int(cursor.lastrowid or 0)
            db.execute(
                "UPDATE session_history SET reference_id = ? WHERE id = ?",
                (self._reference_id(db, row_id, play), row_id),
            )
            db.execute(
                "INSERT INTO session_history_media_info (id, rating_key, transcode_decision, duration) "
                "VALUES (?, ?, 'direct play', ?)",
                (row_id, play.rating_key, play.duration_ms),
            )
            full_title = f"{play.grandparent_title} - {play.title}" if play.grandparent_title else play.title
            db.execute(
                "INSERT INTO session_history_metadata (id, rating_key, parent_rating_key, grandparent_rating_key, "
                "title, parent_title, grandparent_title, original_title, full_title, media_index, "
                "parent_media_index, thumb, media_type, year, originally_available_at, added_at, duration, guid, "
                "genres, live, marker_credits_first, marker_credits_final) "
                "VALUES (?, ?, ?, ?, ?, '', ?, '', ?, ?, ?, ?, ?, ?, '', ?, ?, ?, '', 0, ?, ?)",
                (row_id, play.rating_key, play.parent_rating_key, play.grandparent_rating_key, play.title,
                 play.grandparent_title, full_title, play.media_index, play.parent_media_index,
                 f"/library/metadata/{play.rating_key}/thumb/1700000000", play.media_type, play.year,
                 1700000000, play.duration_ms, f"plex://{play.media_type}/{play.rating_key}",
                 play.marker_credits_first, play.marker_credits_final),
            )  # fmt: skip
        return row_id

    @staticmethod
    def _reference_id(db: sqlite3.Connection, row_id: int, play: SeedPlay) -> int:
        """ActivityProcessor.group_history: resume the previous row of this user and item if it was not watched."""
        rows = db.execute(
            "SELECT id, view_offset, reference_id FROM session_history "
            "WHERE id <= ? AND user_id = ? AND rating_key = ? ORDER BY id DESC LIMIT 2",
            (row_id, play.user_id, play.rating_key),
        ).fetchall()
        if len(rows) < 2:
            return row_id
        (_, new_offset, _), (_, previous_offset, previous_reference) = rows
        previous_watched = tautulli_watched(
            play.media_type, previous_offset or 0, play.duration_ms, play.marker_credits_first
        )
        if not previous_watched and (previous_offset or 0) <= (new_offset or 0):
            return int(previous_reference)
        return row_id


class TautulliInstaller:
    """Unpacks Tautulli once and keeps the data directory of its first start, to copy per server."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.source = root / "tautulli"
        self.template = root / "first-start"
        self.api_key = secrets.token_hex(16)

    def prepare(self) -> None:
        with tarfile.open(TARBALL) as archive:
            archive.extractall(self.root, filter="data")
        first = TautulliProcess(self.source, self.template, self.api_key, "UTC")
        self.template.mkdir()
        first.start()
        first.stop()
        _set_config(
            self.template / "config.ini",
            {"api_enabled": "1", "api_key": self.api_key, "http_host": "127.0.0.1", "check_github": "0",
             "check_github_on_startup": "0", "launch_browser": "0"},
        )  # fmt: skip
        for name in ("logs", "cache", "backups", "stdout.log", "release.lock"):
            path = self.template / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    @contextlib.contextmanager
    def server(self, workdir: Path, zone: str) -> Iterator[TautulliProcess]:
        datadir = workdir / "tautulli-data"
        shutil.copytree(self.template, datadir)
        process = TautulliProcess(self.source, datadir, self.api_key, zone)
        process.start()
        try:
            yield process
        finally:
            process.stop()


class TautulliServers:
    """One running Tautulli per zone, started on first use; each test gets it back as freshly started."""

    def __init__(self, installer: TautulliInstaller, root: Path) -> None:
        self._installer = installer
        self._root = root
        self._running: dict[str, TautulliProcess] = {}

    @contextlib.contextmanager
    def server(self, zone: str) -> Iterator[TautulliProcess]:
        process = self._running.get(zone)
        if process is None:
            datadir = self._root / zone.replace("/", "-")
            shutil.copytree(self._installer.template, datadir)
            process = TautulliProcess(self._installer.source, datadir, self._installer.api_key, zone)
            process.start()
            self._running[zone] = process
        else:
            process.reset(self._installer.template)
        yield process

    def stop(self) -> None:
        for process in self._running.values():
            process.stop()
        self._running.clear()


@pytest.fixture(scope="session")
def tautulli_servers(
    tautulli_installer: TautulliInstaller, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TautulliServers]:
    servers = TautulliServers(tautulli_installer, tmp_path_factory.mktemp("tautulli-servers"))
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="session")
def tautulli_installer(tmp_path_factory: pytest.TempPathFactory) -> TautulliInstaller:
    if not TARBALL.exists():
        pytest.skip(
            f"no Tautulli source at {TARBALL}: the real-Tautulli tests need shared/peers/ beside the repo"
        )
    installer = TautulliInstaller(tmp_path_factory.mktemp("tautulli"))
    installer.prepare()
    return installer
