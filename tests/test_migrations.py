"""The migration runner: applies each file once, refuses edited history, never races."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from core.migrations import MigrationError, apply_migrations, default_migrations_dir, discover_migrations


async def test_applies_every_migration_once_and_rerun_is_a_no_op(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        first = await apply_migrations(conn)
        assert [m.version for m in first] == [m.version for m in discover_migrations()]
        assert await apply_migrations(conn) == []
        recorded = await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["checksum"]) for r in recorded] == [(m.version, m.checksum) for m in first]
    finally:
        await conn.close()


async def test_concurrent_migrators_do_not_race(empty_database_url: str) -> None:
    conns = [await asyncpg.connect(empty_database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(apply_migrations(c) for c in conns))
        applied_counts = sorted(len(r) for r in results)
        assert applied_counts[-1] == len(discover_migrations())
        assert applied_counts[:-1] == [0, 0, 0]
        count = await conns[0].fetchval("SELECT count(*) FROM schema_migrations")
        assert count == len(discover_migrations())
    finally:
        for c in conns:
            await c.close()


def _copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    target.mkdir()
    for source in default_migrations_dir().iterdir():
        (target / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return target


async def test_an_applied_file_that_was_edited_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    directory = _copy_migrations(tmp_path)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await apply_migrations(conn, directory)
        first = sorted(directory.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await apply_migrations(conn, directory)
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_half_applied(
    empty_database_url: str, tmp_path: Path
) -> None:
    directory = _copy_migrations(tmp_path)
    (directory / "999_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n"
    )
    conn = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(asyncpg.PostgresError):
            await apply_migrations(conn, directory)
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") < 999
        (directory / "999_broken.sql").unlink()
        assert await apply_migrations(conn, directory) == []
    finally:
        await conn.close()


async def test_a_database_newer_than_the_code_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    directory = _copy_migrations(tmp_path)
    (directory / "998_from_the_future.sql").write_text("SELECT 1;\n")
    conn = await asyncpg.connect(empty_database_url)
    try:
        await apply_migrations(conn, directory)
        (directory / "998_from_the_future.sql").unlink()
        with pytest.raises(MigrationError, match="newer Marquee"):
            await apply_migrations(conn, directory)
    finally:
        await conn.close()


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "initial.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNN_what_changed"):
        discover_migrations(tmp_path)
