"""Secrets never leave: not through a log line, a stored error, the health reports or the model.

The Tautulli API key travels in the query string, so every failure whose exception text names
the URL carried it into ``sync_schedule.last_error``, the log and what the admin tools hand to
the model. Each attack here makes Tautulli fail in one real way and looks everywhere for the key.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp import web
from media.fakes import FakeTautulli, serve

from adapters.media.tautulli import TautulliSettings, TautulliSyncJob
from bot.cli import configure_logging
from bot.database import DatabaseUnavailable, open_database
from bot.settings import SettingsError, load_settings
from core import admin_reports
from core.engines.anthropic_engine import tool_result_payload
from core.redaction import RedactingFilter, redact
from core.scope import Scope
from core.sync.jobs import run_job
from core.tools.system_health import IntegrationParams, integration_health

KEY = "s3cr3t-tautulli-key-0123456789"


class _Recorder(logging.Handler):
    """Every line as a handler configured by ``marquee`` would write it (after the redaction filter)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def log_lines() -> Iterator[_Recorder]:
    recorder = _Recorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    previous = root.level
    root.setLevel(logging.DEBUG)
    configure_logging("DEBUG")  # Marquee's own set-up: puts the redaction filter on every handler
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
        root.setLevel(previous)


class RedirectLoop(FakeTautulli):
    """A reverse proxy gone wrong: every request is sent back to itself."""

    api_key = KEY

    async def api_handler(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(str(request.rel_url))


class GarbageAnswer(FakeTautulli):
    """A login page in front of Tautulli that echoes the URL asked for, as many proxies' pages do."""

    api_key = KEY

    async def api_handler(self, request: web.Request) -> web.Response:
        return web.Response(
            text=f"<html><body>Please log in to reach {request.url}</body></html>", content_type="text/html"
        )


class WrongKey(FakeTautulli):
    """Tautulli's own answer to a wrong key: HTTP 400 with an error envelope."""

    api_key = "the-real-key"

    def authorized(self, request: web.Request) -> bool:
        return True

    async def api_handler(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"response": {"result": "error", "message": "Invalid apikey", "data": {}}}, status=400
        )


@asynccontextmanager
async def _served(fake: FakeTautulli) -> Any:
    async with serve(fake) as url:
        yield url


async def _stored_error(db_pool: asyncpg.Pool) -> str:
    return str(await db_pool.fetchval("SELECT last_error FROM sync_schedule WHERE integration = 'tautulli'"))


async def _everything_shown(db_pool: asyncpg.Pool) -> str:
    """``marquee health``/admin ``health``, and the health tool as the model gets it."""
    async with db_pool.acquire() as conn:
        report = admin_reports.render_health(await admin_reports.health(conn))
        admin = Scope(
            user_id=uuid.uuid4(), username="root", role="admin", mode="admin", timezone=ZoneInfo("UTC")
        )
        tool = tool_result_payload(await integration_health(conn, admin, IntegrationParams()))
    return "\n".join([report, tool])


@pytest.mark.parametrize(
    ("fake", "classified"),
    [
        (RedirectLoop, "Tautulli on /api/v2: too many redirects"),
        (GarbageAnswer, "Tautulli answered something that is not JSON"),
        (WrongKey, "Tautulli refused the API key"),
    ],
    ids=["redirect-loop", "garbage-answer", "wrong-key"],
)
async def test_a_failing_tautulli_never_leaks_its_key(
    db_pool: asyncpg.Pool, log_lines: _Recorder, fake: type[FakeTautulli], classified: str
) -> None:
    async with _served(fake()) as url:
        result = await run_job(
            db_pool, TautulliSyncJob(TautulliSettings(url=url, api_key=KEY, timeout_seconds=5, pause_seconds=0))
        )
    assert not result.ok
    assert result.error is not None and result.error.startswith(classified)
    shown = await _everything_shown(db_pool)
    assert (await _stored_error(db_pool)).startswith(classified)
    assert classified in shown
    assert KEY not in result.error
    assert KEY not in shown
    assert KEY not in log_lines.text
    assert "tautulli" in log_lines.text  # the failure was logged, just without the key


async def test_an_error_stored_before_redaction_is_redacted_when_shown(db_pool: asyncpg.Pool) -> None:
    await db_pool.execute(
        "INSERT INTO sync_schedule (integration, interval_seconds, last_error, consecutive_failures) "
        "VALUES ('tautulli', 900, $1, 3)",
        f"TooManyRedirects: 302, message='', url='http://tautulli:8181/api/v2?apikey={KEY}&cmd=get_users'",
    )
    assert KEY not in await _everything_shown(db_pool)


@pytest.mark.parametrize(
    "dsn",
    [
        f"postgresql://marquee@127.0.0.1:1/marquee?password={KEY}",
        f"postgresql://marquee:{KEY}@127.0.0.1:1/marquee",
        f"host=127.0.0.1 port=1 user=marquee password={KEY} dbname=marquee",
        f"host=127.0.0.1 port=1 user=marquee password='{KEY} with spaces' dbname=marquee",
    ],
    ids=["query-parameter", "user-info", "key-value", "key-value-quoted"],
)
async def test_a_database_password_in_any_form_never_reaches_the_log(
    dsn: str, log_lines: _Recorder, tmp_path: Path
) -> None:
    try:
        settings = load_settings(database_url=dsn, data_dir=tmp_path)
    except SettingsError as refused:
        # libpq's key=value form is refused as a setting, in words that never repeat it.
        assert KEY not in str(refused)
    else:
        with pytest.raises((DatabaseUnavailable, asyncpg.PostgresError, OSError, ValueError)) as raised:
            await open_database(settings)
        if isinstance(raised.value, DatabaseUnavailable):
            assert KEY not in str(raised.value)
    logging.getLogger("marquee").error("database at %s failed", dsn)
    assert KEY not in log_lines.text
    assert "database at" in log_lines.text and "***" in log_lines.text


def test_the_redaction_knows_every_form_a_secret_travels_in() -> None:
    cases = {
        f"GET /api/v2?cmd=get_users&APIKEY={KEY}": "APIKEY=***",
        f"https://plex.example/library?X-Plex-Token={KEY}&a=1": "X-Plex-Token=***&a=1",
        f"https://h/webhooks/plex?token={KEY}": "token=***",
        f"{{'api_key': '{KEY}', 'n': 1}}": "'api_key': '***'",
        f'{{"Password": "{KEY}"}}': '"Password": "***"',
        f"{{'Authorization': 'Bearer {KEY}'}}": "'Authorization': '***'",
        f'Authorization: MediaBrowser Client="Marquee", Token="{KEY}"': "Authorization: ***",
        f"X-Emby-Token: {KEY}": "X-Emby-Token: ***",
        f"Bearer {KEY}": "Bearer ***",
    }
    for text, expected in cases.items():
        assert KEY not in redact(text), text
        assert expected in redact(text), text
    # Ordinary words stay as they are.
    assert redact("input_tokens=5, missing or wrong token") == "input_tokens=5, missing or wrong token"


def test_a_traceback_is_redacted_too() -> None:
    try:
        raise RuntimeError(f"GET http://tautulli/api/v2?apikey={KEY} failed")
    except RuntimeError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed with apikey=%s", (KEY,), sys.exc_info()
        )
    RedactingFilter().filter(record)
    assert KEY not in record.getMessage()
    assert record.exc_text is not None and KEY not in record.exc_text and "apikey=***" in record.exc_text


def test_chatty_libraries_stay_quiet_even_at_debug() -> None:
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)  # what MARQUEE_LOG_LEVEL=DEBUG does
    try:
        configure_logging("DEBUG")
        # peewee logs the Matrix store's Olm account pickle with its queries at DEBUG.
        for name in ("peewee", "nio", "aiohttp.access", "aiohttp.client"):
            assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING, name
    finally:
        root.setLevel(previous)
