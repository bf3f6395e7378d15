"""Running a tool for one scope, behind PostgreSQL row-level security.

Every tool runs in a read-only transaction that switches to the
``marquee_engine`` role (no BYPASSRLS) and sets the asker's id, mode and
min_group_size with ``set_config(..., true)`` (transaction-local), so the
policies of migration 002 apply to whatever SQL the tool runs: even a tool bug
cannot read rows outside the scope.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from pydantic import ValidationError

from core.scope import Scope
from core.tools.base import ToolError, ToolInputError, ToolNotAllowed, ToolResult
from core.tools.catalogue import ToolCatalogue

log = logging.getLogger(__name__)

ENGINE_ROLE = "marquee_engine"
# A tool is a handful of indexed queries; anything slower is a bug or a huge server.
STATEMENT_TIMEOUT = "15s"
RANDOM_PAGE_COST = 1.1


def _readable(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


async def enter_scope(conn: asyncpg.Connection, scope: Scope) -> None:
    """Inside an open transaction: become the engine role with this scope's settings."""
    await conn.execute(f"SET LOCAL ROLE {ENGINE_ROLE}")
    await conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
    # Tools look up a few hundred rows by index. With the default random_page_cost (4, tuned for spinning
    # disks) the planner prefers hashing all of media_items over a few hundred index probes.
    await conn.execute(f"SET LOCAL random_page_cost = {RANDOM_PAGE_COST}")
    await conn.execute(
        "SELECT set_config('marquee.user_id', $1, true), set_config('marquee.mode', $2, true),"
        " set_config('marquee.min_group_size', $3, true)",
        str(scope.user_id),
        scope.mode,
        str(scope.min_group_size),
    )


async def run_tool(
    pool: asyncpg.Pool, scope: Scope, catalogue: ToolCatalogue, name: str, arguments: dict[str, Any]
) -> ToolResult:
    """Validate, check the mode, and run one tool under row-level security."""
    tool = catalogue.get(name)
    if scope.mode not in tool.modes:
        raise ToolNotAllowed(f"{name} is not available in {scope.mode} mode")
    try:
        params = tool.params.model_validate(arguments or {})
    except ValidationError as error:
        raise ToolInputError(f"invalid arguments for {name}: {_readable(error)}") from error
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await enter_scope(conn, scope)
        try:
            result = await tool.run(conn, scope, params)
        except asyncpg.QueryCanceledError as error:
            log.warning("tool %s timed out for mode %s", name, scope.mode)
            raise ToolError(f"{name} took too long on this server") from error
    log.debug("tool %s returned %d rows", name, len(result.rows))
    return result


class ScopedToolRunner:
    """The catalogue bound to one asker's scope (``core.engines.base.ToolRunner``)."""

    def __init__(self, pool: asyncpg.Pool, scope: Scope, catalogue: ToolCatalogue) -> None:
        self.pool = pool
        self.scope = scope
        self.catalogue = catalogue

    def definitions(self) -> list[dict[str, Any]]:
        return self.catalogue.definitions(self.scope.mode)

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        return await run_tool(self.pool, self.scope, self.catalogue, name, arguments)
