"""Matrix event content for Marquee's replies and reactions.

A reply is an ``m.text`` message whose ``body`` is the answer as plain text
(readable on its own, for clients and notifications that show no HTML) and
whose ``formatted_body`` is the same structured answer as HTML: real
``<ul>/<ol>/<li>`` lists, ``<strong>``, ``<em>``, ``<code>``. Every piece of
text is escaped: answers quote titles and user input, and clients should not
have to sanitise us.
"""

from __future__ import annotations

import html
from typing import Any

from core.answer import (
    Answer,
    Block,
    CodeBlock,
    Heading,
    Inline,
    ItemList,
    KeyValues,
    Note,
    Paragraph,
    parse_answer,
    to_plain_text,
)
from core.chat import ChartImage

_SPAN_TAGS = {"strong": "strong", "em": "em", "code": "code"}


def inline_html(spans: Inline) -> str:
    out: list[str] = []
    for span in spans:
        text = html.escape(span.text, quote=False)
        if span.style == "link":
            out.append(f'<a href="{html.escape(span.text, quote=True)}">{text}</a>')
            continue
        tag = _SPAN_TAGS.get(span.style)
        out.append(f"<{tag}>{text}</{tag}>" if tag else text)
    return "".join(out)


def block_html(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h4>{inline_html(block.text)}</h4>"
    if isinstance(block, Paragraph):
        return "<p>" + "<br>".join(inline_html(line) for line in block.lines) + "</p>"
    if isinstance(block, ItemList):
        tag = "ol" if block.ordered else "ul"
        return f"<{tag}>" + "".join(f"<li>{inline_html(item)}</li>" for item in block.items) + f"</{tag}>"
    if isinstance(block, KeyValues):
        rows = (
            f"<strong>{html.escape(key, quote=False)}:</strong> {inline_html(value)}"
            for key, value in block.rows
        )
        return "<p>" + "<br>".join(rows) + "</p>"
    if isinstance(block, Note):
        return f"<p><em>Note:</em> {inline_html(block.text)}</p>"
    assert isinstance(block, CodeBlock)
    return f"<pre><code>{html.escape(block.text, quote=False)}</code></pre>"


def answer_html(answer: Answer) -> str:
    return "".join(block_html(block) for block in answer.blocks)


def reply_content(
    answer: Answer | str, in_reply_to: str | None, *, thread_root: str | None = None
) -> dict[str, Any]:
    """An ``m.room.message`` answering the event ``in_reply_to`` (no reply fallback: Matrix 1.13).

    A question asked in a thread is answered in that thread.
    """
    structured = parse_answer(answer) if isinstance(answer, str) else answer
    content: dict[str, Any] = {
        "msgtype": "m.text",
        "body": to_plain_text(structured) or "…",
        "format": "org.matrix.custom.html",
        "formatted_body": answer_html(structured) or "…",
    }
    relates_to = _relates_to(in_reply_to, thread_root)
    if relates_to:
        content["m.relates_to"] = relates_to
    return content


def _relates_to(in_reply_to: str | None, thread_root: str | None) -> dict[str, Any]:
    relates_to: dict[str, Any] = {}
    if thread_root is not None:
        relates_to = {"rel_type": "m.thread", "event_id": thread_root, "is_falling_back": False}
    if in_reply_to is not None:
        relates_to["m.in_reply_to"] = {"event_id": in_reply_to}
    return relates_to


def image_content(
    chart: ChartImage,
    content_uri: str,
    in_reply_to: str | None,
    *,
    thread_root: str | None = None,
    decryption_keys: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``m.image`` of an uploaded chart; ``body`` is its alt text, what clients without images show.

    In an encrypted room the upload is encrypted and the event carries ``file`` (URL and keys) instead
    of ``url``.
    """
    info: dict[str, Any] = {"mimetype": "image/png", "size": len(chart.png)}
    size = png_size(chart.png)
    if size is not None:
        info["w"], info["h"] = size
    content: dict[str, Any] = {
        "msgtype": "m.image",
        "body": chart.alt_text,
        "filename": chart.filename,
        "info": info,
    }
    if decryption_keys is not None:
        content["file"] = {**decryption_keys, "url": content_uri, "mimetype": "image/png"}
    else:
        content["url"] = content_uri
    relation = _relates_to(in_reply_to, thread_root)
    if relation:
        content["m.relates_to"] = relation
    return content


def png_size(png: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk (the first one, right after the signature)."""
    if len(png) < 24 or not png.startswith(b"\x89PNG\r\n\x1a\n") or png[12:16] != b"IHDR":
        return None
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def reaction_content(event_id: str, emoji: str) -> dict[str, Any]:
    """An ``m.reaction`` annotating ``event_id`` with ``emoji``."""
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": emoji}}


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted "> <@user> ..." lines older clients put before the text of a reply."""
    lines = body.splitlines()
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)
