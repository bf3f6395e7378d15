"""Matrix event content for Marquee's replies and reactions.

A reply is an ``m.text`` message whose ``body`` is the Markdown as written (it
reads well as plain text) and whose ``formatted_body`` is that Markdown as
HTML. Raw HTML in an answer is shown as text, never passed through: answers
can quote titles and user input, and clients should not have to sanitise us.
"""

from __future__ import annotations

from typing import Any

import markdown

_MARKDOWN_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]

# Variation selectors and skin tones that clients add to the same emoji
# (Element's quick reaction is "👍" followed by U+FE0F).
_EMOJI_DECORATIONS = {"\ufe0e", "\ufe0f", *(chr(code) for code in range(0x1F3FB, 0x1F400))}


def markdown_to_html(text: str) -> str:
    converter = markdown.Markdown(extensions=_MARKDOWN_EXTENSIONS, output_format="html")
    # Without these two, raw HTML in the text is escaped instead of passed through.
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return converter.convert(text).strip()


def reply_content(text: str, in_reply_to: str | None, *, thread_root: str | None = None) -> dict[str, Any]:
    """An ``m.room.message`` answering the event ``in_reply_to`` (no reply fallback: Matrix 1.13).

    A question asked in a thread is answered in that thread.
    """
    content: dict[str, Any] = {
        "msgtype": "m.text",
        "body": text,
        "format": "org.matrix.custom.html",
        "formatted_body": markdown_to_html(text),
    }
    relates_to: dict[str, Any] = {}
    if thread_root is not None:
        relates_to = {"rel_type": "m.thread", "event_id": thread_root, "is_falling_back": False}
    if in_reply_to is not None:
        relates_to["m.in_reply_to"] = {"event_id": in_reply_to}
    if relates_to:
        content["m.relates_to"] = relates_to
    return content


def reaction_content(event_id: str, emoji: str) -> dict[str, Any]:
    """An ``m.reaction`` annotating ``event_id`` with ``emoji``."""
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": emoji}}


def normalize_emoji(key: str) -> str:
    """The reaction key without variation selectors or skin tones, so "👍️" and "👍🏽" count as "👍"."""
    return "".join(char for char in key if char not in _EMOJI_DECORATIONS)


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted "> <@user> ..." lines older clients put before the text of a reply."""
    lines = body.splitlines()
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)
