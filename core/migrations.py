"""Bring a database's schema up to the code's, from the SQL files shipped in ``core/schema/``.

The files are package data, read with ``importlib.resources``, so a Marquee
installed from a wheel migrates without its source tree. There are two kinds:

``migrations/NNN_what_changed.sql``
    Tables, columns, indexes, grants, policies: the shape the data lives in.
    Each is applied once, in version order, and recorded in
    ``schema_migrations`` with a SHA-256 checksum. An applied file that was
    edited afterwards is refused, and so is a database that has a migration
    this code does not know (a newer Marquee migrated it).

``functions/name.sql``
    Function definitions (``CREATE OR REPLACE FUNCTION`` with their grants, and
    the triggers that call them as ``CREATE OR REPLACE TRIGGER``). A file is
    applied again, in name order, whenever its checksum differs from the one
    recorded in ``schema_functions``. Functions hold no data, so the database's
    definitions follow the code that runs against it, and changing a function
    is an edit of its file, not a new copy in a new migration.

One run applies the pending migrations, then the new or changed function files,
in one transaction (a failure leaves the database as it was, never a table
without its triggers), under an advisory lock so that concurrent migrators wait
for each other instead of racing.

Adding to the schema (the README's "Adding a migration" says the same):

* A table, column, index, grant or policy: a new ``migrations/NNN_what.sql``
  with the next number after the highest one; never edit an applied file.
* A new function, or a change to one: add or edit its file in ``functions/``.
  Migrations run before function files, and a fresh database has none of them
  yet, so a migration never calls or triggers a function from ``functions/``;
  a trigger is created in its function's file.
* A function whose arguments or result columns change: ``CREATE OR REPLACE``
  cannot do that, so the file first drops the old signature
  (``DROP FUNCTION IF EXISTS ...(old argument types)``).
* A function that goes away: delete its file and drop it in a new migration.
* A migration that rewrites a table (a stored generated column, a column type
  change) has a line ``-- vacuum after: table_name``: the table is vacuumed
  once the migration is committed, or its index-only scans read the heap
  until autovacuum happens to come by.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

import asyncpg

log = logging.getLogger(__name__)

# An arbitrary constant; every Marquee process migrating the same database
# takes this lock first.
MIGRATION_LOCK_KEY = 7_311_524_019

_MIGRATION_NAME = re.compile(r"^(?P<version>\d{3,})_(?P<name>[a-z0-9_]+)\.sql$")
_FUNCTION_NAME = re.compile(r"^[a-z0-9_]+\.sql$")
# A migration that rewrites a table (ALTER TABLE ... ADD COLUMN ... STORED) leaves its visibility map
# empty, and no count autovacuum watches goes up: index-only scans of it read the heap again until
# someone vacuums. Such a migration says so in a line of its own, and is followed by a VACUUM.
_VACUUM_AFTER = re.compile(r"^-- vacuum after: ([a-z_][a-z0-9_]*(?:, [a-z_][a-z0-9_]*)*)\s*$", re.MULTILINE)


class MigrationError(Exception):
    """The schema files and the database disagree; the message says how, in one line."""


@dataclass(frozen=True)
class SchemaFile:
    """One SQL file of ``core/schema``; ``path`` is relative to it, e.g. ``functions/learning_priority.sql``."""

    path: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Migration(SchemaFile):
    version: int
    name: str

    @property
    def vacuum_after(self) -> list[str]:
        """The tables this migration rewrites, from its ``-- vacuum after: table, ...`` lines."""
        return [table for line in _VACUUM_AFTER.findall(self.sql) for table in line.split(", ")]


def default_schema() -> Traversable:
    return files("core.schema")


def _sql_files(schema: Traversable, kind: str) -> list[Traversable]:
    directory = schema / kind
    if not directory.is_dir():
        raise MigrationError(f"{kind} directory not found in {schema}")
    return sorted((f for f in directory.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)


def discover_migrations(schema: Traversable | None = None) -> list[Migration]:
    migrations: dict[int, Migration] = {}
    for file in _sql_files(schema or default_schema(), "migrations"):
        match = _MIGRATION_NAME.match(file.name)
        if not match:
            raise MigrationError(f"{file.name}: migration files are named NNN_what_changed.sql")
        version = int(match["version"])
        if version in migrations:
            raise MigrationError(f"{file.name}: version {version} is used by {migrations[version].path} too")
        migrations[version] = Migration(
            f"migrations/{file.name}", file.read_text(encoding="utf-8"), version, match["name"]
        )
    return [migrations[v] for v in sorted(migrations)]


def discover_functions(schema: Traversable | None = None) -> list[SchemaFile]:
    found = []
    for file in _sql_files(schema or default_schema(), "functions"):
        if not _FUNCTION_NAME.match(file.name):
            raise MigrationError(f"{file.name}: function files are named in lower case, e.g. analytics_x.sql")
        found.append(SchemaFile(f"functions/{file.name}", file.read_text(encoding="utf-8")))
    return found


_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS schema_functions (
    path        text PRIMARY KEY,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
"""


def _refuse_a_history_that_is_not_ours(
    migrations: list[Migration], applied: dict[int, asyncpg.Record]
) -> None:
    for migration in migrations:
        row = applied.get(migration.version)
        if row is not None and row["name"] != migration.name:
            raise MigrationError(
                f"the database's migration {migration.version:03d} is {row['name']!r}, this Marquee's is "
                f"{migration.name!r}: the database was made by another (pre-release) Marquee; migrate a new "
                "database (for the embedded one, remove the postgres directory in MARQUEE_DATA_DIR)"
            )
    unknown = sorted(set(applied) - {m.version for m in migrations})
    if unknown:
        raise MigrationError(
            f"the database has migration {unknown[-1]:03d} ({applied[unknown[-1]]['name']}) that this version "
            "of Marquee does not know; it was migrated by a newer Marquee"
        )
    for migration in migrations:
        row = applied.get(migration.version)
        if row is not None and row["checksum"] != migration.checksum:
            raise MigrationError(
                f"{migration.path} was edited after it was applied; "
                "add a new migration instead of changing an applied one"
            )


async def apply_migrations(conn: asyncpg.Connection, schema: Traversable | None = None) -> list[SchemaFile]:
    """Apply pending migrations and new or changed function files on ``conn``.

    Returns the files applied now, in order (empty when the schema is up to date).
    """
    migrations = discover_migrations(schema)
    functions = discover_functions(schema)
    done: list[SchemaFile] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(_BOOKKEEPING)
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        applied = {row["version"]: row for row in rows}
        _refuse_a_history_that_is_not_ours(migrations, applied)
        for migration in migrations:
            if migration.version in applied:
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
            done.append(migration)
        recorded = {
            row["path"]: row["checksum"] for row in await conn.fetch("SELECT * FROM schema_functions")
        }
        for function in functions:
            if recorded.get(function.path) == function.checksum:
                continue
            await conn.execute(function.sql)
            await conn.execute(
                "INSERT INTO schema_functions (path, checksum) VALUES ($1, $2) "
                "ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, applied_at = now()",
                function.path,
                function.checksum,
            )
            done.append(function)
        # A file this code no longer ships describes nothing; if it comes back, it is applied again.
        await conn.execute(
            "DELETE FROM schema_functions WHERE NOT path = ANY ($1::text[])", [f.path for f in functions]
        )
    for file in done:
        log.info("applied %s", file.path)
    # Outside the transaction (VACUUM cannot run in one); a concurrent migrator may vacuum too, harmlessly.
    for migration in (file for file in done if isinstance(file, Migration)):
        for table in migration.vacuum_after:
            await conn.execute(f'VACUUM (ANALYZE) "{table}"')
            log.info("vacuumed %s, rewritten by %s", table, migration.path)
    return done
