"""The engine's side of the database wall (migration 005_database_wall.sql): its own login and signed scopes.

The tools never run on the owner's connection. ``ToolDatabase`` opens a second
pool that logs in as the per-database engine role (no superuser, no member of
the owner, row-level security on every table it can read), and enters each
scope by handing ``analytics.enter_scope`` a token signed with a key only the
owner can read. Nothing SQL does on that connection can forge a scope, widen
it, or become another role.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from core.db import init_connection
from core.scope import Scope
from core.tools.base import ToolError

log = logging.getLogger(__name__)

# Long enough for any tool's transaction; the token is bound to one backend anyway.
SCOPE_TOKEN_LIFETIME_SECONDS = 600
_PASSWORD_LABEL = "engine login password:"


@dataclass(frozen=True)
class EngineLogin:
    """What the owner knows about the engine role: its name and the key that signs scopes."""

    role_name: str
    signing_key: bytes

    @property
    def password(self) -> str:
        """The role's password, as ``marquee_wall.engine_login_password()`` computes it."""
        message = (_PASSWORD_LABEL + self.role_name).encode("utf-8")
        return hmac.new(self.signing_key, message, hashlib.sha256).hexdigest()

    def scope_token(self, scope: Scope, backend_pid: int, *, now: float | None = None) -> str:
        """A token ``analytics.enter_scope`` accepts on that backend only, for a few minutes."""
        expires = int((time.time() if now is None else now) + SCOPE_TOKEN_LIFETIME_SECONDS)
        signed = f"{scope.user_id}.{scope.mode}.{scope.min_group_size}.{backend_pid}.{expires}"
        signature = hmac.new(self.signing_key, signed.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{signed}.{signature}"


async def read_engine_login(owner: asyncpg.Pool | asyncpg.Connection) -> EngineLogin:
    row = await owner.fetchrow("SELECT role_name, signing_key FROM marquee_wall.engine_login")
    if row is None:
        raise RuntimeError("marquee_wall.engine_login is empty: the database was not migrated by Marquee")
    return EngineLogin(row["role_name"], bytes(row["signing_key"]))


class EngineLoginFailed(ToolError):
    """The engine role cannot log in, so no tool can run; the log says why."""


def _connect_arguments(owner: asyncpg.Pool) -> tuple[list[Any], dict[str, Any]]:
    """How the owner's pool connects (asyncpg keeps these, without a public getter)."""
    return list(owner._connect_args), dict(owner._connect_kwargs)


class ToolDatabase:
    """The engine's pool, opened on first use from the owner's pool, and scoped transactions on it."""

    def __init__(
        self, owner: asyncpg.Pool, *, max_size: int = 5, session_settings: dict[str, str] | None = None
    ) -> None:
        self._owner = owner
        self._max_size = max_size
        # Extra server settings for the engine's sessions, over the owner's (tests lift a
        # read-only database default with it: the engine still writes its scope).
        self._session_settings = session_settings or {}
        self._pool: asyncpg.Pool | None = None
        self._login: EngineLogin | None = None
        self._opening = asyncio.Lock()

    async def _connect(self, login: EngineLogin) -> asyncpg.Pool:
        args, kwargs = _connect_arguments(self._owner)
        kwargs.update(user=login.role_name, password=login.password)
        if self._session_settings:
            kwargs["server_settings"] = {**(kwargs.get("server_settings") or {}), **self._session_settings}
        pool = await asyncpg.create_pool(
            *args, min_size=1, max_size=self._max_size, init=init_connection, **kwargs
        )
        assert pool is not None
        return pool

    async def _open(self) -> tuple[asyncpg.Pool, EngineLogin]:
        async with self._opening:
            if self._pool is None or self._login is None:
                login = await read_engine_login(self._owner)
                try:
                    pool = await self._connect(login)
                except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
                    # A restored dump or a new server: the role is missing or has another password.
                    log.info("engine role %s cannot log in; creating or resetting it", login.role_name)
                    await self._owner.execute("SELECT marquee_wall.ensure_engine_login()")
                    try:
                        pool = await self._connect(login)
                    except (asyncpg.PostgresError, OSError) as error:
                        # e.g. pg_hba.conf lets only the owner in (README, "Database wall").
                        log.error(
                            "the engine role %s cannot log in to the database: %s", login.role_name, error
                        )
                        raise EngineLoginFailed(
                            "the analytics tools cannot log in to the database"
                        ) from error
                self._pool, self._login = pool, login
            return self._pool, self._login

    async def role_name(self) -> str:
        return (await self._open())[1].role_name

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A bare engine-role connection with no scope (what SQL sees before ``enter``)."""
        pool, _ = await self._open()
        async with pool.acquire() as conn:
            yield conn

    async def enter(self, conn: asyncpg.Connection, scope: Scope) -> None:
        """Inside an open transaction on an engine connection: enter this scope (verified by the database)."""
        _, login = await self._open()
        await conn.execute(
            "SELECT analytics.enter_scope($1)", login.scope_token(scope, conn.get_server_pid())
        )

    @asynccontextmanager
    async def scoped(
        self, scope: Scope, *, statement_timeout: str, random_page_cost: float
    ) -> AsyncIterator[asyncpg.Connection]:
        """A read-only transaction on an engine connection, in this scope."""
        async with self.connection() as conn, conn.transaction():
            await self.enter(conn, scope)
            # The scope row is the transaction's only write; the rest is read-only.
            # A commit need not wait for the disk: the row is worthless after the transaction.
            await conn.execute(
                "SET TRANSACTION READ ONLY; SET LOCAL synchronous_commit = off;"
                f" SET LOCAL statement_timeout = '{statement_timeout}'; SET LOCAL random_page_cost = {random_page_cost}"
            )
            yield conn

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
