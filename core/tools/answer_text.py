"""A tool's answer text with every value from the data shown as typed.

Tools phrase their answers as Markdown-ish text (``core.answer`` reads the
structure back), and interpolate titles, usernames, genres and the asker's own
words into it. Those values are hostile input: a title like ``**x**``,
``- not a list`` or one with a line break must not format the answer or add a
list item. ``render_text`` hands the tool's ``render`` a copy of the result in
which every such string is Markdown-escaped and kept on one line; the parser
turns the escapes back into plain characters.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from core.answer import escape_markdown
from core.tools.base import Tool, ToolResult

# Identifiers and enum values ('movie', 'wont_fix', 'processed') are compared by render code: keep them.
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")


def shown_as_typed(value: Any) -> Any:
    if isinstance(value, str):
        if _IDENTIFIER.match(value):
            return value
        return escape_markdown(_LINE_BREAKS.sub(" ", value))
    if isinstance(value, dict):
        return {key: shown_as_typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shown_as_typed(item) for item in value]
    if isinstance(value, tuple):
        return tuple(shown_as_typed(item) for item in value)
    return value


def render_text(tool: Tool[Any], result: ToolResult) -> str:
    """``tool.render`` of ``result`` with the data's strings escaped (see the module docstring)."""
    safe = replace(
        result,
        rows=[shown_as_typed(row) for row in result.rows],
        summary=shown_as_typed(result.summary),
        params=shown_as_typed(result.params),
    )
    return tool.render(safe)
