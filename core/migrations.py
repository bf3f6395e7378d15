"""Apply the numbered plain-SQL files of ``core/schema/migrations/`` exactly once each.

The files are package data, read with ``importlib.resources``, so a Marquee
installed from a wheel migrates without its source tree.

Each file runs in its own transaction and is recorded in ``schema_migrations``
with a SHA-256 checksum. An applied file that was edited afterwards, or a
database that knows a migration this code does not, is refused with a clear
error. A session-level advisory lock makes concurrent migrators wait for each
other instead of racing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

import asyncpg

log = logging.getLogger(__name__)

# An arbitrary constant; every Marquee process migrating the same database
# takes this lock first.
MIGRATION_LOCK_KEY = 7_311_524_019

_FILE_PATTERN = re.compile(r"^(?P<version>\d{3,})_(?P<name>[a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    """The migrations on disk and in the database disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Traversable
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def default_migrations_dir() -> Traversable:
    return files("core.schema") / "migrations"


def discover_migrations(directory: Traversable | None = None) -> list[Migration]:
    directory = directory or default_migrations_dir()
    if not directory.is_dir():
        raise MigrationError(f"migrations directory not found: {directory}")
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".sql"):
            continue
        match = _FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNN_what_changed.sql")
        version = int(match["version"])
        if version in migrations:
            raise MigrationError(
                f"{path.name}: version {version} is used by {migrations[version].path.name} too"
            )
        migrations[version] = Migration(version, match["name"], path, path.read_text(encoding="utf-8"))
    return [migrations[v] for v in sorted(migrations)]


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


async def apply_migrations(
    conn: asyncpg.Connection,
    directory: Traversable | None = None,
    on_applied: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Apply pending migrations on ``conn``; return the ones applied now (empty when up to date)."""
    migrations = discover_migrations(directory)
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        applied = {row["version"]: row for row in rows}
        known = {m.version for m in migrations}
        unknown = sorted(set(applied) - known)
        if unknown:
            raise MigrationError(
                f"the database has migration {unknown[-1]} ({applied[unknown[-1]]['name']}) that this version "
                "of Marquee does not know; it was migrated by a newer Marquee"
            )
        for migration in migrations:
            row = applied.get(migration.version)
            if row is not None and row["checksum"] != migration.checksum:
                raise MigrationError(
                    f"{migration.path.name} was edited after it was applied; "
                    "add a new migration instead of changing an applied one"
                )
        done: list[Migration] = []
        for migration in migrations:
            if migration.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            log.info("applied migration %s", migration.path.name)
            done.append(migration)
            if on_applied:
                on_applied(migration)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
