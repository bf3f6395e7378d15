"""Running a tool for one scope, behind the database wall.

Every tool runs on the engine's own pool (``core.tools.database_wall``): a
login role without superuser or BYPASSRLS and no way back to the owner, in a
read-only transaction whose scope the database verified from a signed token.
The row-level-security policies of migrations 002 and 016 apply to whatever SQL
the tool runs; SQL on that connection cannot change the scope or the role.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import asyncpg
from pydantic import ValidationError

from core.scope import Scope
from core.tools.base import ToolError, ToolInputError, ToolNotAllowed, ToolResult
from core.tools.catalogue import ToolCatalogue
from core.tools.database_wall import ToolDatabase
from core.tools.snapshots import serves_snapshots, snapshots_allowed, stored_answer

log = logging.getLogger(__name__)

# A tool is a handful of indexed queries; anything slower is a bug or a huge server.
STATEMENT_TIMEOUT = "15s"
# Tools look up a few hundred rows by index. With the default random_page_cost (4, tuned for spinning
# disks) the planner prefers hashing all of media_items over a few hundred index probes.
RANDOM_PAGE_COST = 1.1


def _readable(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


async def run_tool(
    tools: ToolDatabase,
    scope: Scope,
    catalogue: ToolCatalogue,
    name: str,
    arguments: dict[str, Any],
    *,
    use_snapshots: bool = True,
) -> ToolResult:
    """Validate, check the mode, and run one tool under row-level security; the result carries its name and parameters.

    A slow server-wide admin tool asked its default question answers from its
    recent snapshot when there is one (``core.tools.snapshots``); ``use_snapshots=False``
    always runs it live (the refresher does).
    """
    tool = catalogue.get(name)
    if scope.mode not in tool.modes:
        raise ToolNotAllowed(f"{name} is not available in {scope.mode} mode")
    try:
        params = tool.params.model_validate(arguments or {})
    except ValidationError as error:
        raise ToolInputError(f"invalid arguments for {name}: {_readable(error)}") from error
    async with tools.scoped(
        scope, statement_timeout=STATEMENT_TIMEOUT, random_page_cost=RANDOM_PAGE_COST
    ) as conn:
        if use_snapshots and serves_snapshots(name, scope):
            stored = await stored_answer(conn, scope, name, params)
            if stored is not None:
                log.debug("tool %s answered from its snapshot", name)
                return replace(stored, tool=tool.name, params=params.model_dump(mode="json"))
        allowed = snapshots_allowed.set(use_snapshots)
        try:
            result = await tool.run(conn, scope, params)
        except asyncpg.QueryCanceledError as error:
            log.warning("tool %s timed out for mode %s", name, scope.mode)
            raise ToolError(f"{name} took too long on this server") from error
        finally:
            snapshots_allowed.reset(allowed)
    log.debug("tool %s returned %d rows", name, len(result.rows))
    # The name and the parameters as validated (defaults filled in), whatever the tool put there.
    return replace(result, tool=tool.name, params=params.model_dump(mode="json"))


class ScopedToolRunner:
    """The catalogue bound to one asker's scope (``core.engines.base.ToolRunner``)."""

    def __init__(self, tools: ToolDatabase, scope: Scope, catalogue: ToolCatalogue) -> None:
        self.tools = tools
        self.scope = scope
        self.catalogue = catalogue

    def definitions(self) -> list[dict[str, Any]]:
        return self.catalogue.definitions(self.scope.mode)

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        return await run_tool(self.tools, self.scope, self.catalogue, name, arguments)
