"""The schema runner: migrations once each, function files whenever they change, never a refused history."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from importlib.resources.abc import Traversable
from pathlib import Path

import asyncpg
import pytest

from core.migrations import (
    MigrationError,
    apply_migrations,
    default_schema,
    discover_functions,
    discover_migrations,
)


def _copy(source: Traversable, target: Path) -> None:
    target.mkdir()
    for entry in source.iterdir():
        if entry.is_dir():
            _copy(entry, target / entry.name)
        elif entry.name.endswith(".sql"):
            (target / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    """A copy of core/schema that a test may edit."""
    _copy(default_schema(), tmp_path / "schema")
    return tmp_path / "schema"


def _every_file() -> list[str]:
    return [m.path for m in discover_migrations()] + [f.path for f in discover_functions()]


async def test_applies_every_migration_and_function_file_once_and_rerun_is_a_no_op(
    empty_database_url: str,
) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        first = await apply_migrations(conn)
        assert [f.path for f in first] == _every_file()
        assert await apply_migrations(conn) == []
        recorded = await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["checksum"]) for r in recorded] == [
            (m.version, m.checksum) for m in discover_migrations()
        ]
        functions = await conn.fetch("SELECT path, checksum FROM schema_functions ORDER BY path")
        assert [(r["path"], r["checksum"]) for r in functions] == [
            (f.path, f.checksum) for f in discover_functions()
        ]
    finally:
        await conn.close()


async def test_concurrent_migrators_do_not_race(empty_database_url: str) -> None:
    conns = [await asyncpg.connect(empty_database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(apply_migrations(c) for c in conns))
        applied_counts = sorted(len(r) for r in results)
        assert applied_counts == [0, 0, 0, len(_every_file())]
        count = await conns[0].fetchval("SELECT count(*) FROM schema_migrations")
        assert count == len(discover_migrations())
    finally:
        for c in conns:
            await c.close()


async def test_an_applied_migration_that_was_edited_is_refused(empty_database_url: str, schema: Path) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await apply_migrations(conn, schema)
        first = sorted((schema / "migrations").glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
        with pytest.raises(MigrationError, match=f"migrations/{first.name} was edited after it was applied"):
            await apply_migrations(conn, schema)
    finally:
        await conn.close()


async def test_a_changed_function_file_is_applied_again_and_keeps_its_grants(
    empty_database_url: str, schema: Path
) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await apply_migrations(conn, schema)
        priority = schema / "functions" / "learning_priority.sql"
        priority.write_text(priority.read_text().replace("interval '7 days'", "interval '14 days'"))
        declined = schema / "functions" / "analytics_declined_requests.sql"
        declined.write_text(declined.read_text().replace("never who asked", "never, ever who asked"))

        applied = await apply_migrations(conn, schema)

        assert [f.path for f in applied] == [
            "functions/analytics_declined_requests.sql",
            "functions/learning_priority.sql",
        ]
        definition = await conn.fetchval("SELECT pg_get_functiondef('marquee_learning_priority'::regproc)")
        assert "'14 days'" in definition
        signature = "analytics.declined_requests(timestamptz, timestamptz)"
        assert await conn.fetchval(
            "SELECT has_function_privilege('marquee_engine', $1, 'EXECUTE')", signature
        )
        public_may = await conn.fetchval(
            "SELECT coalesce(bool_or(a.grantee = 0), false) FROM pg_proc p, aclexplode(p.proacl) a "
            "WHERE p.oid = $1::regprocedure",
            signature,
        )
        assert public_may is False
        assert await apply_migrations(conn, schema) == []
    finally:
        await conn.close()


async def test_a_new_function_file_is_applied_and_a_removed_one_is_forgotten(
    empty_database_url: str, schema: Path
) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await apply_migrations(conn, schema)
        probe = schema / "functions" / "probe.sql"
        probe.write_text(
            "CREATE OR REPLACE FUNCTION probe() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;\n"
        )
        assert [f.path for f in await apply_migrations(conn, schema)] == ["functions/probe.sql"]
        assert await conn.fetchval("SELECT probe()") == 1

        probe.unlink()
        assert await apply_migrations(conn, schema) == []
        assert (
            await conn.fetchval("SELECT count(*) FROM schema_functions WHERE path = 'functions/probe.sql'")
            == 0
        )
    finally:
        await conn.close()


async def test_numbered_migrations_after_the_baseline_run_before_the_function_files(
    empty_database_url: str, schema: Path
) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await apply_migrations(conn, schema)
        last = discover_migrations(schema)[-1].version
        later = schema / "migrations" / f"{last + 1:03d}_watch_history_device.sql"
        later.write_text("ALTER TABLE watch_history ADD COLUMN device text;\n")
        # The function that reads the new column is edited in the same release.
        function = schema / "functions" / "probe_device.sql"
        function.write_text(
            "CREATE OR REPLACE FUNCTION probe_device() RETURNS bigint LANGUAGE sql\n"
            "AS $$ SELECT count(device) FROM watch_history $$;\n"
        )
        applied = await apply_migrations(conn, schema)
        assert [f.path for f in applied] == [f"migrations/{later.name}", "functions/probe_device.sql"]
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == last + 1
    finally:
        await conn.close()


async def test_a_failing_file_leaves_nothing_half_applied(empty_database_url: str, schema: Path) -> None:
    (schema / "migrations" / "999_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n"
    )
    conn = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(asyncpg.PostgresError):
            await apply_migrations(conn, schema)
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        assert await conn.fetchval("SELECT to_regclass('users')") is None
        (schema / "migrations" / "999_broken.sql").unlink()
        assert [f.path for f in await apply_migrations(conn, schema)] == _every_file()

        (schema / "functions" / "broken.sql").write_text("CREATE TABLE half_done (id int);\nSELECT nope();\n")
        (schema / "migrations" / "998_fine.sql").write_text("CREATE TABLE fine (id int);\n")
        with pytest.raises(asyncpg.PostgresError):
            await apply_migrations(conn, schema)
        assert await conn.fetchval("SELECT to_regclass('fine')") is None
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") < 998
    finally:
        await conn.close()


async def test_a_database_newer_than_the_code_is_refused(empty_database_url: str, schema: Path) -> None:
    (schema / "migrations" / "998_from_the_future.sql").write_text("SELECT 1;\n")
    conn = await asyncpg.connect(empty_database_url)
    try:
        await apply_migrations(conn, schema)
        (schema / "migrations" / "998_from_the_future.sql").unlink()
        with pytest.raises(MigrationError, match="newer Marquee"):
            await apply_migrations(conn, schema)
    finally:
        await conn.close()


async def test_a_database_of_another_history_is_refused_with_what_to_do(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        # What a database made before the baseline (migrations 001-014) looks like.
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now());"
            "INSERT INTO schema_migrations (version, name, checksum)"
            " SELECT v, 'pre_release_' || v, 'x' FROM generate_series(1, 14) v"
        )
        with pytest.raises(
            MigrationError, match=r"made by another \(pre-release\) Marquee; migrate a new database"
        ):
            await apply_migrations(conn)
    finally:
        await conn.close()


def test_the_cli_reports_a_refused_schema_in_one_line(database_url: str, tmp_path: Path) -> None:
    async def from_the_future() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'later', 'x')"
            )
        finally:
            await conn.close()

    asyncio.run(from_the_future())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARQUEE_")} | {
        "MARQUEE_DATABASE_URL": database_url
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1].startswith("marquee: cannot migrate the database: ")
    assert "Traceback" not in result.stderr


def test_badly_named_files_are_refused(schema: Path) -> None:
    (schema / "migrations" / "initial.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNN_what_changed"):
        discover_migrations(schema)
    (schema / "migrations" / "initial.sql").unlink()
    (schema / "functions" / "Analytics.X.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="lower case"):
        discover_functions(schema)


@pytest.mark.parametrize("says_vacuum_after", [True, False])
async def test_a_migration_that_rewrites_a_table_has_it_vacuumed_when_it_says_so(
    empty_database_url: str, schema: Path, says_vacuum_after: bool
) -> None:
    # The test server commits asynchronously, and VACUUM marks no page all-visible whose rows' commit
    # is not flushed yet: commit this connection's writes as a production server does.
    conn = await asyncpg.connect(empty_database_url, server_settings={"synchronous_commit": "on"})
    try:
        await apply_migrations(conn, schema)
        await conn.execute(
            "INSERT INTO media_items (title, media_type) SELECT 'Title ' || n, 'movie' FROM generate_series(1, 500) n"
        )
        await conn.execute("VACUUM media_items")
        all_visible = "SELECT relallvisible FROM pg_class WHERE oid = 'media_items'::regclass"
        assert await conn.fetchval(all_visible) > 0
        last = discover_migrations(schema)[-1].version
        # A stored generated column rewrites the table: a new file whose visibility map is empty.
        (schema / "migrations" / f"{last + 1:03d}_title_length.sql").write_text(
            "-- Rewrites media_items.\n"
            + ("-- vacuum after: media_items\n" if says_vacuum_after else "")
            + "ALTER TABLE media_items ADD COLUMN title_length integer GENERATED ALWAYS AS (length(title)) STORED;\n"
        )
        assert len(await apply_migrations(conn, schema)) == 1
        assert (await conn.fetchval(all_visible) > 0) is says_vacuum_after
    finally:
        await conn.close()


def test_a_migration_names_the_tables_it_rewrites() -> None:
    [search_text] = [m for m in discover_migrations() if m.name == "search_text"]
    assert search_text.vacuum_after == ["media_items"]
    assert [m.name for m in discover_migrations() if m.vacuum_after] == ["search_text"]
