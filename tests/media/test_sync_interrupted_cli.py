"""Ctrl-C during ``marquee sync tautulli`` (the installed command, against a real Tautulli), then the same command again.

The first sync stops with one clear line and the conventional exit code of an
interrupted command (130), no traceback; run again, it resumes where it
stopped and Marquee then holds every play Tautulli lists, each once.

Tautulli is reached through a proxy that holds the second date window until the
signal was sent: the sync is then surely mid-way, however fast or slow the
machine, instead of racing the test to its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestServer

from core import admin_reports

from .real_tautulli import TautulliInstaller, TautulliProcess, tautulli_installer
from .test_real_tautulli import PLAYS_AN_EVENING, USERS, evening_plays, tautulli_count

__all__ = ["tautulli_installer"]  # the session fixture, used below

MARQUEE = Path(sys.executable).with_name("marquee")
ZONE = "America/Los_Angeles"
# Windows of 100 plays (the smallest page size): three and a bit of them.
EVENINGS = 110
PAGE_SIZE = 100


def sync_environment(database_url: str, server: TautulliProcess, data_dir: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARQUEE_")}
    return {
        **env,
        "MARQUEE_DATABASE_URL": database_url,
        "MARQUEE_DATA_DIR": str(data_dir),
        "MARQUEE_TAUTULLI_URL": url,
        "MARQUEE_TAUTULLI_API_KEY": server.api_key,
        "MARQUEE_TAUTULLI_PAGE_SIZE": str(PAGE_SIZE),
        "MARQUEE_TAUTULLI_PAUSE_SECONDS": "0",
    }


class WindowHoldingProxy:
    """Passes calls on to the real Tautulli, but holds history windows after the first until ``release``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.windows_asked = 0
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def forward(self, request: web.Request) -> web.Response:
        if request.query.get("cmd") == "get_history" and "reference_id" not in request.query:
            self.windows_asked += 1
            if self.windows_asked > 1:
                self.holding.set()
                await self.release.wait()
        async with aiohttp.ClientSession() as session, session.get(
            f"{self.upstream}{request.path}", params=request.query
        ) as answer:
            return web.Response(status=answer.status, body=await answer.read(), content_type=answer.content_type)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_get("/api/v2", self.forward)
        server = TestServer(app)
        await server.start_server()
        try:
            yield str(server.make_url("")).rstrip("/")
        finally:
            self.release.set()
            await server.close()


@contextlib.contextmanager
def children_take_sigint() -> Iterator[None]:
    """Commands started here get SIGINT at its default, as one typed at a terminal does.

    A process started in the background of a script (``cmd &``) ignores SIGINT, and
    its children inherit that: an ignored signal would test nothing.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


async def first_window_saved(pool: asyncpg.Pool) -> bool:
    cursor = await pool.fetchval("SELECT cursor FROM sync_schedule WHERE integration = 'tautulli'")
    return bool(cursor and "backfill_through" in cursor)


async def test_ctrl_c_stops_a_first_sync_cleanly_and_the_next_run_resumes_it(
    database_url: str, db_pool: asyncpg.Pool, tautulli_installer: TautulliInstaller, tmp_path: Path
) -> None:
    today = datetime.now(ZoneInfo(ZONE)).date()
    with tautulli_installer.server(tmp_path, ZONE) as server:
        server.add_users(USERS)
        server.add_libraries()
        for evening in range(EVENINGS):
            for play in evening_plays(
                today - timedelta(days=EVENINGS + 1 - evening), ZONE, 1000 + 10 * evening
            ):
                server.add_play(play)
        in_tautulli = await tautulli_count(server)
        assert in_tautulli == EVENINGS * PLAYS_AN_EVENING
        proxy = WindowHoldingProxy(server.url)
        async with proxy.serving() as proxy_url:
            env = sync_environment(database_url, server, tmp_path, proxy_url)
            with children_take_sigint():
                process = await asyncio.create_subprocess_exec(
                    MARQUEE, "sync", "tautulli", cwd=tmp_path, env=env,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                )  # fmt: skip
            try:
                # The first window is written with its cursor; the second is being read, and held.
                async with asyncio.timeout(120):
                    while not (proxy.holding.is_set() and await first_window_saved(db_pool)):
                        assert process.returncode is None, "the sync ended before its first window was saved"
                        await asyncio.sleep(0.05)
                process.send_signal(signal.SIGINT)
                out, err = await asyncio.wait_for(process.communicate(), timeout=60)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        assert proxy.windows_asked == 2
        stdout, stderr = out.decode(), err.decode()
        assert process.returncode == 130, (stdout, stderr)
        assert "Traceback" not in stderr and "Exception" not in stderr, stderr
        assert "Task was destroyed" not in stderr, stderr
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert lines[-1] == "marquee: sync interrupted; run it again to resume where it stopped", stderr
        assert "ok in" not in stdout and "FAILED" not in stdout, stdout
        written = await db_pool.fetchval("SELECT count(*) FROM watch_history")
        assert 0 < written < in_tautulli
        async with db_pool.acquire() as conn:
            health = admin_reports.render_health(await admin_reports.health(conn))
        assert f"first sync stopped at play history {written}/{in_tautulli} (" in health
        assert "; the next run resumes it" in health

        again = await asyncio.create_subprocess_exec(
            MARQUEE, "sync", "tautulli", cwd=tmp_path, env={**env, "MARQUEE_TAUTULLI_URL": server.url},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(again.communicate(), timeout=180)
        assert again.returncode == 0, (out.decode(), err.decode())
        assert out.decode().startswith("tautulli: ok in ")
        assert await tautulli_count(server) == in_tautulli

    assert await db_pool.fetchval("SELECT count(*) FROM watch_history") == in_tautulli
    assert await db_pool.fetchval("SELECT count(DISTINCT source_id) FROM watch_history") == in_tautulli
    cursor = await db_pool.fetchval("SELECT cursor FROM sync_schedule WHERE integration = 'tautulli'")
    assert "quiet_at" in cursor and "backfill_through" not in cursor
