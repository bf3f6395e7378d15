"""A structured answer as rich renderables for the terminal (``marquee console``, ``health`` …).

Lists get a bullet (or number) column with a hanging indent, key–value rows a
bold key column, so every item and every row is its own line however wide the
terminal is. Answer text is passed to rich as ``Text`` (never as markup), so a
title like ``[bold]x[/]`` is shown as typed.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from core.answer import Answer, Block, CodeBlock, Heading, Inline, ItemList, KeyValues, Note, Paragraph

_STYLES = {"plain": "", "strong": "bold", "em": "italic", "code": "cyan", "link": "underline"}


def inline_rich(spans: Inline, base: str = "") -> Text:
    text = Text(style=base)
    for span in spans:
        text.append(span.text, style=_STYLES[span.style])
    return text


def block_rich(block: Block) -> RenderableType:
    if isinstance(block, Heading):
        return inline_rich(block.text, "bold underline")
    if isinstance(block, Paragraph):
        return Text("\n").join(inline_rich(line) for line in block.lines)
    if isinstance(block, ItemList):
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, justify="right")
        grid.add_column()
        for number, item in enumerate(block.items, 1):
            grid.add_row(Text(f"{number}." if block.ordered else "•"), inline_rich(item))
        return grid
    if isinstance(block, KeyValues):
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column()
        for key, value in block.rows:
            grid.add_row(Text(f"{key}:"), inline_rich(value))
        return grid
    if isinstance(block, Note):
        return Text.assemble(Text("Note: ", style="italic"), inline_rich(block.text, "dim"))
    assert isinstance(block, CodeBlock)
    return Text(block.text, style="cyan")


def answer_rich(answer: Answer) -> Group:
    """The blocks with one blank line between them."""
    parts: list[RenderableType] = []
    for block in answer.blocks:
        if parts:
            parts.append(Text(""))
        parts.append(block_rich(block))
    return Group(*parts)
