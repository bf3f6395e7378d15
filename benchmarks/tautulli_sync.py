"""Benchmark: a first Tautulli sync from the real Tautulli 2.17.2, then a no-change re-sync.

Run through ``python benchmarks/sync.py --service tautulli [--plays 1000000] ...``.
Tautulli is unpacked from ``../shared/peers/`` and started as the tests start it;
its database is seeded directly, in large ``executemany`` transactions, with
rows shaped as its activity processor writes them (every play a finished,
ungrouped stream: half movies, half episodes, spread evenly over two years).
Printed: both sync times, the plays each side counts, and the peak resident
memory (VmHWM) of Tautulli's process and of this one (Marquee's sync).

Measured on the shared 2-core machine, other helpers' tests running alongside
(300 users, 20,000 movies, 2,000 shows, 40,000 episodes; default settings):

- before (pages of 1,000 over the whole history, 30 s timeout), 100,000 plays:
  first sync 280.1 s, no-change re-sync 0.7 s, Tautulli 1,775 MB, Marquee 111 MB.
- after (date windows of ≤ 10,000 plays from get_plays_by_date, 0.5 s pause),
  100,000 plays: 32.7 s, 2.3 s, Tautulli 928 MB, Marquee 232 MB;
  1,000,000 plays (three runs; the third with less else running): 381.5 / 362.8 /
  259.4 s, 9.7 / 8.6 / 7.9 s, Tautulli 822 / 820 / 819 MB, Marquee 226 / 225 / 225 MB;
  every play in Marquee (1,000,000 = Tautulli's count).
"""

from __future__ import annotations

import contextlib
import resource
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from adapters.media.tautulli import TautulliSettings, TautulliSyncJob
from core.sync.jobs import run_job
from tests.media.real_tautulli import TautulliInstaller, TautulliProcess

TWO_YEARS = 2 * 365 * 86_400
END = 1_764_000_000  # late November 2025
BATCH = 50_000


@dataclass(frozen=True)
class TautulliSize:
    users: int = 300
    movies: int = 20_000
    shows: int = 2_000
    episodes: int = 40_000
    plays: int = 1_000_000


def _seed(datadir: Path, size: TautulliSize) -> None:
    """Users, the two libraries (Tautulli's graphs only count plays of library types it knows) and the plays."""
    with contextlib.closing(sqlite3.connect(datadir / "tautulli.db")) as db:
        db.execute("PRAGMA journal_mode=WAL")
        with db:
            db.executemany(
                "INSERT INTO users (user_id, username, friendly_name, email, is_admin, is_active) VALUES (?,?,?,?,?,1)",
                [(10_000 + u, f"user{u}", f"User {u}", f"user{u}@example.com", int(u == 0)) for u in range(size.users)],
            )
            db.executemany(
                "INSERT INTO library_sections (server_id, section_id, section_name, section_type) VALUES (?,?,?,?)",
                [("bench", 1, "Movies", "movie"), ("bench", 2, "TV Shows", "show")],
            )
        step = TWO_YEARS / max(size.plays, 1)
        start = END - TWO_YEARS
        for first in range(0, size.plays, BATCH):
            history, metadata, media = [], [], []
            for i in range(first, min(first + BATCH, size.plays)):
                row_id = i + 1
                user = 10_000 + (i * 7) % size.users
                started = int(start + i * step)
                if i % 2:
                    episode = (i // 2) % size.episodes
                    key, show = 200_000 + episode, 300_000 + episode % size.shows
                    kind, title, show_title, index, season = "episode", f"Episode {episode}", f"Show {show}", episode, 1
                    length = 2_400
                else:
                    key, show = 100_000 + (i // 2) % size.movies, ""
                    kind, title, show_title, index, season = "movie", f"Movie {key}", "", "", ""
                    length = 6_000
                history.append((row_id, row_id, started, started + length, key, show, kind, user, f"user{user - 10_000}",
                                length * 900))  # fmt: skip
                metadata.append((row_id, key, show, title, show_title,
                                 f"{show_title} - {title}" if show_title else title, index, season, kind,
                                 length * 1000, f"plex://{kind}/{key}"))  # fmt: skip
                media.append((row_id, key, length * 1000))
            with db:
                db.executemany(
                    "INSERT INTO session_history (id, reference_id, started, stopped, rating_key, grandparent_rating_key, "
                    "media_type, user_id, user, view_offset, ip_address, paused_counter, player, product, platform, "
                    "bandwidth, location, secure, relayed, section_id) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,'192.168.1.20',0,'Living Room','Plex for LG','webOS',20000,'lan',1,0,1)",
                    history,
                )
                db.executemany(
                    "INSERT INTO session_history_metadata (id, rating_key, grandparent_rating_key, title, grandparent_title, "
                    "full_title, media_index, parent_media_index, media_type, duration, guid, year, live) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,2016,0)",
                    metadata,
                )
                db.executemany(
                    "INSERT INTO session_history_media_info (id, rating_key, transcode_decision, duration) "
                    "VALUES (?,?,'direct play',?)",
                    media,
                )


def peak_rss_mb(pid: int | None = None) -> float:
    """VmHWM (peak resident set) of a process, in MB; this process's own from getrusage."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def seeded_tautulli(size: TautulliSize, zone: str = "UTC") -> Iterator[TautulliProcess]:
    with tempfile.TemporaryDirectory(prefix="marquee-tautulli-bench-") as root:
        installer = TautulliInstaller(Path(root) / "install")
        installer.root.mkdir()
        installer.prepare()
        started = time.perf_counter()
        datadir = Path(root) / "server" / "tautulli-data"
        datadir.parent.mkdir()
        import shutil

        shutil.copytree(installer.template, datadir)
        _seed(datadir, size)
        print(f"seeded {size} in {time.perf_counter() - started:.1f} s", flush=True)
        server = TautulliProcess(installer.source, datadir, installer.api_key, zone)
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def run(pool: asyncpg.Pool, size: TautulliSize, settings: dict[str, float]) -> int:
    with seeded_tautulli(size) as server:
        assert server._process is not None
        pid = server._process.pid
        job = TautulliSyncJob(TautulliSettings(url=server.url, api_key=server.api_key, **settings))  # type: ignore[arg-type]
        started = time.perf_counter()
        first = await run_job(pool, job)
        first_seconds = time.perf_counter() - started
        if not first.ok:
            print(f"first sync failed after {first_seconds:.1f} s: {first.error}")
            return 1
        print(f"first sync:     {first_seconds:7.1f} s  {first.counts}", flush=True)
        started = time.perf_counter()
        again = await run_job(pool, job)
        again_seconds = time.perf_counter() - started
        print(f"no-change sync: {again_seconds:7.1f} s  {again.counts}", flush=True)
        tautulli_peak = peak_rss_mb(pid)
        # Tautulli's own count of its plays (get_history's grouped recordsFiltered), from its
        # database: asking its API would load the whole history once more.
        with contextlib.closing(sqlite3.connect(server.datadir / "tautulli.db")) as db:
            in_tautulli = db.execute(
                "SELECT count(DISTINCT reference_id) FROM session_history WHERE media_type IN ('movie', 'episode')"
            ).fetchone()[0]
        in_marquee = await pool.fetchval("SELECT count(*) FROM watch_history")
    print(f"plays: Tautulli {in_tautulli:,}, Marquee {in_marquee:,}")
    print(f"peak RSS: Tautulli {tautulli_peak:,.0f} MB, Marquee {peak_rss_mb():,.0f} MB")
    return 0 if in_marquee == in_tautulli and again.ok else 1
