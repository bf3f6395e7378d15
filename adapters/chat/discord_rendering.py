"""Discord messages for a structured answer: an embed for lists and reports, Markdown for prose.

A list or report answer becomes one embed: the leading heading (or a one-line
intro such as "Trending on the server this week:") is the title, the blocks
before the first sub-heading are the description, each later section is a
field, and the confidence is the footer. Everything is cut to Discord's
documented limits (title 256, description 4,096, 25 fields, field name 256
and value 1,024, 6,000 characters in all): a list that does not fit keeps its
first items and says how many more there were. Other answers are Markdown,
split at 2,000 characters. ``plain_messages`` is the fallback for a channel
where the bot may not embed links. All answer text is Markdown-escaped by
``core.answer``, so a title cannot format, link or mention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.chat.message_splitting import DISCORD_MESSAGE_LIMIT, split_markdown
from core.answer import (
    Answer,
    Block,
    Heading,
    ItemList,
    Paragraph,
    block_markdown,
    inline_markdown,
    inline_text,
    to_markdown,
)

EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELDS_LIMIT = 25
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
# Marquee's accent colour (a warm marquee-light amber).
EMBED_COLOUR = 0xF5A524


@dataclass(frozen=True)
class DiscordMessage:
    """One message to send: Markdown ``content``, or an ``embed`` (as Discord's JSON object)."""

    content: str | None = None
    embed: dict[str, Any] | None = None


def discord_messages(answer: Answer) -> list[DiscordMessage]:
    if answer.is_structured:
        return [DiscordMessage(embed=answer_embed(answer))]
    return plain_messages(answer)


def plain_messages(answer: Answer) -> list[DiscordMessage]:
    text = to_markdown(answer)
    if answer.confidence is not None:
        text += f"\n-# {confidence_line(answer.confidence)}"
    return [DiscordMessage(content=part) for part in split_markdown(text, DISCORD_MESSAGE_LIMIT) or ["…"]]


def confidence_line(confidence: float) -> str:
    return f"Confidence {confidence:.0%} · 👍 helpful · ❌ wrong"


def answer_embed(answer: Answer) -> dict[str, Any]:
    blocks = list(answer.blocks)
    title: str | None = None
    first = blocks[0] if blocks else None
    if isinstance(first, Heading):
        title = inline_text(first.text)
        blocks.pop(0)
    elif (
        isinstance(first, Paragraph)
        and len(blocks) > 1
        and len(first.lines) == 1
        and isinstance(blocks[1], ItemList)
        and inline_text(first.lines[0]).rstrip().endswith(":")
    ):
        # "Trending on the server this week:" followed by its list reads as the list's title.
        title = inline_text(first.lines[0]).rstrip().rstrip(":")
        blocks.pop(0)
    intro, sections = _sections(blocks)
    embed: dict[str, Any] = {"type": "rich", "color": EMBED_COLOUR}
    if title:
        embed["title"] = _cut(title, EMBED_TITLE_LIMIT)
    description = _fit(intro, EMBED_DESCRIPTION_LIMIT)
    if description:
        embed["description"] = description
    if answer.confidence is not None:
        embed["footer"] = {"text": _cut(confidence_line(answer.confidence), EMBED_FOOTER_LIMIT)}
    fields: list[dict[str, Any]] = []
    for heading, section in sections:
        if len(fields) == EMBED_FIELDS_LIMIT:
            break
        value = _fit(section, EMBED_FIELD_VALUE_LIMIT) or "—"
        fields.append({"name": _cut(heading, EMBED_FIELD_NAME_LIMIT) or "—", "value": value, "inline": False})
    embed["fields"] = fields
    while embed_size(embed) > EMBED_TOTAL_LIMIT and fields:
        fields.pop()
    # Title, description and footer alone stay far below the total: 256 + 4,096 + the short footer.
    if not fields:
        del embed["fields"]
    return embed


def embed_size(embed: dict[str, Any]) -> int:
    """Characters that count towards Discord's 6,000 total: title, description, fields, footer, author."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    return total + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))


def _sections(blocks: list[Block]) -> tuple[list[Block], list[tuple[str, list[Block]]]]:
    intro: list[Block] = []
    sections: list[tuple[str, list[Block]]] = []
    for block in blocks:
        if isinstance(block, Heading):
            sections.append((inline_text(block.text), []))
        elif sections:
            sections[-1][1].append(block)
        else:
            intro.append(block)
    return intro, sections


def _fit(blocks: list[Block], limit: int) -> str:
    """Blocks as Markdown within ``limit``: a list that overflows keeps its first items and counts the rest."""
    parts: list[str] = []
    used = 0
    for block in blocks:
        text = block_markdown(block)
        separator = 2 if parts else 0
        if used + separator + len(text) <= limit:
            parts.append(text)
            used += separator + len(text)
            continue
        if isinstance(block, ItemList):
            lines: list[str] = []
            for number, item in enumerate(block.items, 1):
                line = f"{number}. " if block.ordered else "- "
                line += inline_markdown(item)
                more = f"\n… and {len(block.items) - number} more"
                if used + separator + len("\n".join([*lines, line])) + len(more) > limit:
                    break
                lines.append(line)
            rest = len(block.items) - len(lines)
            if lines:
                parts.append("\n".join(lines) + (f"\n… and {rest} more" if rest else ""))
        else:
            room = limit - used - separator
            if room > 20:
                parts.append(_cut(text, room))
        break
    return "\n\n".join(parts)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Do not leave a dangling escape backslash before the ellipsis.
    if cut.endswith("\\") and not cut.endswith("\\\\"):
        cut = cut[:-1]
    return cut.rstrip() + "…"
