"""The scoped tool catalogue as an MCP server (stdio), for one server user chosen when it starts.

An assistant on the host (Claude Desktop, an IDE, a local agent) lists and calls
the same tools the answer engines use, through the same ``ToolRunner`` bound to
one scope: row-level security, the mode's tools only, group-size thresholds and
each member's privacy choices apply exactly as in chat. Nothing in a call can
change who the user is; the scope is fixed before the first message.
"""

from __future__ import annotations

import logging
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from core.engines.base import ToolRunner
from core.engines.tool_loop import tool_result_payload
from core.scope import Scope
from core.tools.base import ToolError

log = logging.getLogger(__name__)


def build_server(tools: ToolRunner, scope: Scope) -> Server[Any]:
    definitions = tools.definitions()

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=d["name"], description=d["description"], input_schema=d["input_schema"])
                for d in definitions
            ]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        arguments = params.arguments or {}
        try:
            result = await tools.run(params.name, dict(arguments))
        except ToolError as exc:
            return _error(str(exc))
        except Exception:
            log.exception("MCP call of %s failed", params.name)
            return _error("the tool failed unexpectedly")
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=tool_result_payload(result))]
        )

    return Server(
        "marquee",
        instructions=(
            f"Marquee's media-server analytics as {scope.username} ({scope.mode} mode). "
            "Answer only from the tools' results; results list data gaps."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _error(message: str) -> types.CallToolResult:
    # tool errors go back in the result, so the assistant can read them and correct its call
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


async def serve_stdio(tools: ToolRunner, scope: Scope) -> None:
    server = build_server(tools, scope)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
