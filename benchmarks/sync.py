"""Benchmark: a full Plex sync of 200,000 items and 1,000,000 plays into an empty database, then a no-change re-sync.

Targets (2-core machine): first sync ≤ 60 s, no-change re-sync ≤ 10 s.

    python benchmarks/sync.py [--items 200000] [--plays 1000000] [--page-size 5000]
    python benchmarks/sync.py --service tautulli [--plays 1000000] [--users 300] [--movies 20000]
        [--shows 2000] [--episodes 40000] [--page-size N] [--timeout S] [--pause S]

``--service tautulli`` runs the real Tautulli instead (benchmarks/tautulli_sync.py).

The fake Plex runs in its own process (a real server would not share our CPU
core) and answers like Plex's JSON API: /accounts, /library/sections/all,
/library/sections/{key}/all?type=1|2|4 and /status/sessions/history/all, all
paged with X-Plex-Container-Start/Size. The database is MARQUEE_DATABASE_URL's
server if set, else an embedded PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.media.plex import PlexSettings, PlexSyncJob
from benchmarks.scratch_postgres import create_scratch_database, drop_scratch_database, scratch_server
from benchmarks.tautulli_sync import TautulliSize
from benchmarks.tautulli_sync import run as run_tautulli
from bot.database import with_database
from core.db import create_pool
from core.migrations import apply_migrations
from core.sync.jobs import run_job

TOKEN = "benchmark-token"
ACCOUNTS = 200
BASE_TIME = 1_600_000_000
GENRES = ["Action", "Drama", "Comedy", "Thriller", "Documentary", "Animation", "Horror", "Romance"]


class Library:
    """Deterministic items: 25% movies, 5% shows, the rest episodes spread over the shows."""

    def __init__(self, items: int, plays: int) -> None:
        self.movies = items // 4
        self.shows = max(1, items // 20)
        self.episodes = items - self.movies - self.shows
        self.plays = plays

    def movie(self, i: int) -> dict:
        key = str(1_000_000 + i)
        return {
            "ratingKey": key, "key": f"/library/metadata/{key}", "guid": f"plex://movie/{key}", "type": "movie",
            "title": f"Movie {i}", "year": 1950 + i % 75, "audienceRating": round(5 + (i % 50) / 10, 1),
            "duration": 5_400_000 + (i % 60) * 60_000, "addedAt": BASE_TIME + i * 60,
            "Genre": [{"tag": GENRES[i % 8]}, {"tag": GENRES[(i // 8) % 8]}],
            "Guid": [{"id": f"tmdb://{500_000 + i}"}, {"id": f"imdb://tt{9_000_000 + i}"}],
            "Media": [{"id": i, "duration": 5_400_000, "Part": [{"id": i, "size": 2_000_000_000 + i * 1000}]}],
        }  # fmt: skip

    def show(self, i: int) -> dict:
        key = str(3_000_000 + i)
        return {
            "ratingKey": key, "key": f"/library/metadata/{key}/children", "guid": f"plex://show/{key}",
            "type": "show", "title": f"Show {i}", "year": 1990 + i % 35, "addedAt": BASE_TIME + i * 600,
            "Genre": [{"tag": GENRES[i % 8]}], "Guid": [{"id": f"tvdb://{700_000 + i}"}],
        }  # fmt: skip

    def episode(self, i: int) -> dict:
        key = str(5_000_000 + i)
        show = i % self.shows
        number = i // self.shows
        return {
            "ratingKey": key, "key": f"/library/metadata/{key}", "type": "episode", "title": f"Episode {number + 1}",
            "grandparentRatingKey": str(3_000_000 + show), "grandparentTitle": f"Show {show}",
            "parentIndex": number // 10 + 1, "index": number % 10 + 1, "year": 2000 + i % 25,
            "duration": 2_400_000, "addedAt": BASE_TIME + i * 30,
            "Media": [{"Part": [{"size": 500_000_000 + i}]}],
        }  # fmt: skip

    def play(self, i: int) -> dict:
        # Plays spread over all items, in viewedAt order.
        item = (i * 7919) % (self.movies + self.episodes)
        key = str(1_000_000 + item) if item < self.movies else str(5_000_000 + item - self.movies)
        return {
            "historyKey": f"/status/sessions/history/{i + 1}", "ratingKey": key,
            "accountID": 1 + i % ACCOUNTS, "viewedAt": BASE_TIME + 86_400 * 30 + i * 20, "type": "movie",
        }  # fmt: skip


def container(entries: list, name: str, total: int, start: int) -> web.Response:
    body = json.dumps(
        {"MediaContainer": {"size": len(entries), "totalSize": total, "offset": start, name: entries}}
    )
    return web.Response(body=body.encode(), content_type="application/json")


def make_app(library: Library) -> web.Application:
    async def accounts(request: web.Request) -> web.Response:
        rows = [{"id": 0, "name": ""}] + [{"id": i, "name": f"user{i}"} for i in range(1, ACCOUNTS + 1)]
        return container(rows, "Account", len(rows), 0)

    async def sections(request: web.Request) -> web.Response:
        rows = [
            {"key": "1", "title": "Movies", "type": "movie"},
            {"key": "2", "title": "TV Shows", "type": "show"},
        ]
        return container(rows, "Directory", 2, 0)

    def window(request: web.Request, total: int) -> range:
        start = int(request.query.get("X-Plex-Container-Start", 0))
        size = int(request.query.get("X-Plex-Container-Size", 50))
        return range(start, min(start + size, total))

    async def items(request: web.Request) -> web.Response:
        kind, section = int(request.query["type"]), request.match_info["key"]
        make, total = {
            ("1", 1): (library.movie, library.movies),
            ("2", 2): (library.show, library.shows),
            ("2", 4): (library.episode, library.episodes),
        }.get((section, kind), (library.movie, 0))
        rows = window(request, total)
        return container([make(i) for i in rows], "Metadata", total, rows.start)

    async def history(request: web.Request) -> web.Response:
        since = int(request.query.get("viewedAt>", "=0").lstrip("="))
        first = max(0, -(-(since - BASE_TIME - 86_400 * 30) // 20))  # first play with viewedAt >= since
        total = max(0, library.plays - first)
        rows = window(request, total)
        return container([library.play(first + i) for i in rows], "Metadata", total, rows.start)

    async def check_token(app: web.Application, handler):  # type: ignore[no-untyped-def]
        async def guarded(request: web.Request) -> web.StreamResponse:
            if request.headers.get("X-Plex-Token") != TOKEN:
                return web.Response(status=401)
            return await handler(request)

        return guarded

    app = web.Application(middlewares=[check_token])
    app.router.add_get("/accounts", accounts)
    app.router.add_get("/library/sections/all", sections)
    app.router.add_get("/library/sections/{key}/all", items)
    app.router.add_get("/status/sessions/history/all", history)
    return app


def serve_fake(items: int, plays: int, port: int) -> None:
    web.run_app(make_app(Library(items, plays)), host="127.0.0.1", port=port, print=None, access_log=None)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for_port(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("fake Plex did not start")


async def main(admin: str, items: int, plays: int, page_size: int) -> int:

    port = free_port()
    fake = multiprocessing.get_context("spawn").Process(
        target=serve_fake, args=(items, plays, port), daemon=True
    )
    fake.start()
    name = await create_scratch_database(admin)
    pool = await create_pool(with_database(admin, name), max_size=4)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn)
        await wait_for_port(port)
        job = PlexSyncJob(PlexSettings(url=f"http://127.0.0.1:{port}", token=TOKEN, page_size=page_size))

        started = time.perf_counter()
        first = await run_job(pool, job)
        first_seconds = time.perf_counter() - started
        if not first.ok:
            print(f"first sync failed: {first.error}")
            return 1
        started = time.perf_counter()
        again = await run_job(pool, job)
        again_seconds = time.perf_counter() - started
        counts = await pool.fetchrow(
            "SELECT (SELECT count(*) FROM media_items) AS items, (SELECT count(*) FROM watch_history) AS plays, "
            "(SELECT count(*) FROM user_stats) AS stats, (SELECT count(*) FROM users) AS users"
        )
    finally:
        await pool.close()
        await drop_scratch_database(admin, name)
        fake.terminate()
    print(f"first sync:     {first_seconds:6.1f} s  (target <= 60 s)  {first.counts}")
    print(f"no-change sync: {again_seconds:6.1f} s  (target <= 10 s)  {again.counts}")
    print(f"rows: {dict(counts)}")
    ok = first_seconds <= 60 and again_seconds <= 10 and counts["items"] == items and counts["plays"] == plays
    return 0 if ok else 1


async def main_tautulli(admin: str, size: TautulliSize, settings: dict[str, float]) -> int:
    name = await create_scratch_database(admin)
    pool = await create_pool(with_database(admin, name), max_size=4)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn)
        return await run_tautulli(pool, size, settings)
    finally:
        await pool.close()
        await drop_scratch_database(admin, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", choices=["plex", "tautulli"], default="plex")
    parser.add_argument("--items", type=int, default=200_000, help="plex: library items")
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=TautulliSize.users, help="tautulli")
    parser.add_argument("--movies", type=int, default=TautulliSize.movies, help="tautulli")
    parser.add_argument("--shows", type=int, default=TautulliSize.shows, help="tautulli")
    parser.add_argument("--episodes", type=int, default=TautulliSize.episodes, help="tautulli")
    parser.add_argument("--page-size", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=None, help="tautulli: seconds per call")
    parser.add_argument("--pause", type=float, default=None, help="tautulli: seconds between calls")
    arguments = parser.parse_args()
    with scratch_server() as admin_dsn:
        if arguments.service == "tautulli":
            size = TautulliSize(arguments.users, arguments.movies, arguments.shows, arguments.episodes, arguments.plays)
            options = {"page_size": arguments.page_size, "timeout_seconds": arguments.timeout,
                       "pause_seconds": arguments.pause}  # fmt: skip
            chosen = {key: value for key, value in options.items() if value is not None}
            code = asyncio.run(main_tautulli(admin_dsn, size, chosen))
        else:
            page_size = arguments.page_size or PlexSettings.page_size
            code = asyncio.run(main(admin_dsn, arguments.items, arguments.plays, page_size))
    sys.exit(code)
