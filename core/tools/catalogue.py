"""The list of every analytics tool, and how engines get them.

Engines never touch tables. They get ``definitions(mode)`` (the Anthropic
tool-definition shape) and run tools through ``run_tool``/``ScopedToolRunner``
(``core.tools.scoped_connection``), which applies the scope and row-level
security.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.scope import Mode
from core.tools import (
    admin_counts,
    content,
    discovery,
    library_lookup,
    now_playing,
    operations,
    personal,
    requests,
    semantic_search,
    social,
    system_health,
    title_facts,
    users,
)
from core.tools.base import Tool, UnknownTool

if TYPE_CHECKING:
    from core.semantic.embedder import Embedder


class ToolCatalogue:
    def __init__(self, tools: list[Tool[Any]]) -> None:
        self.tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            if tool.name in self.tools:
                raise ValueError(f"two tools are named {tool.name}")
            self.tools[tool.name] = tool

    def get(self, name: str) -> Tool[Any]:
        try:
            return self.tools[name]
        except KeyError:
            raise UnknownTool(f"there is no tool named {name!r}") from None

    def for_mode(self, mode: Mode) -> list[Tool[Any]]:
        return [tool for tool in self.tools.values() if mode in tool.modes]

    def definitions(self, mode: Mode) -> list[dict[str, Any]]:
        return [
            {
                "name": tool.name,
                "description": tool.description,
                "input_schema": tool.params.model_json_schema(),
            }
            for tool in self.for_mode(mode)
        ]


def build_catalogue(query_embedder: Embedder | None = None) -> ToolCatalogue:
    """Every tool; ``query_embedder`` embeds search_library's questions (None: it matches words)."""
    return ToolCatalogue(
        [
            *discovery.TOOLS,
            *personal.TOOLS,
            *requests.TOOLS,
            *users.TOOLS,
            *social.TOOLS,
            *content.TOOLS,
            *system_health.TOOLS,
            *operations.TOOLS,
            # The long tail of questions (issue 12).
            *title_facts.TOOLS,
            *library_lookup.TOOLS,
            *admin_counts.TOOLS,
            *now_playing.TOOLS,
            # Semantic search (issue 16).
            *semantic_search.tools(query_embedder),
        ]
    )
