"""A structured answer: what every surface renders, instead of hand-glued Markdown.

An ``Answer`` is a short sequence of blocks — a heading, paragraphs (whose
lines stay separate lines), bulleted or numbered lists, key–value rows, a
note, a code block — plus the confidence of the answer. Each chat surface has
one renderer (Matrix HTML, Discord Markdown/embeds, the terminal); this module
holds the two platform-free ones: plain text (Matrix ``body``, ``marquee ask
--json``) and Markdown with every block separated by a blank line.

Answers are written by tools, reports and the model as Markdown-ish text, so
``parse_answer`` reads that text tolerantly: a list may start right after its
intro line (no blank line needed, which is how the tools phrase it), ``*``,
``•`` and ``+`` bullets count, ``**Key:** value`` lines are key–value rows,
"Note:" starts a note, and anything unrecognised is a paragraph line. Inline
marks (``**strong**``, ``_em_``, ```code```) become styled spans; a mark that
is not closed stays literal text. All text is kept as data: renderers escape it
for their surface (titles and user names are hostile input).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

SpanStyle = Literal["plain", "strong", "em", "code", "link"]


@dataclass(frozen=True)
class Span:
    text: str
    style: SpanStyle = "plain"


Inline = tuple[Span, ...]


@dataclass(frozen=True)
class Heading:
    text: Inline


@dataclass(frozen=True)
class Paragraph:
    # Each line is shown on its own line (answers write one fact per line).
    lines: tuple[Inline, ...]


@dataclass(frozen=True)
class ItemList:
    items: tuple[Inline, ...]
    ordered: bool = False


@dataclass(frozen=True)
class KeyValues:
    rows: tuple[tuple[str, Inline], ...]


@dataclass(frozen=True)
class Note:
    text: Inline


@dataclass(frozen=True)
class CodeBlock:
    text: str


Block = Heading | Paragraph | ItemList | KeyValues | Note | CodeBlock


@dataclass(frozen=True)
class Answer:
    blocks: tuple[Block, ...] = ()
    # 0–1 when the answer is a self-assessed answer; None for reports, notices and errors.
    confidence: float | None = None

    def with_confidence(self, confidence: float | None) -> Answer:
        return replace(self, confidence=confidence)

    @property
    def title(self) -> str | None:
        """The text of a leading heading, if the answer starts with one."""
        if self.blocks and isinstance(self.blocks[0], Heading):
            return inline_text(self.blocks[0].text)
        return None

    @property
    def is_structured(self) -> bool:
        """A list or a report (a list, key–value rows or several sections), not just prose."""
        return any(isinstance(b, (ItemList, KeyValues)) for b in self.blocks)


# -- building ------------------------------------------------------------------------------------


def plain(text: str) -> Inline:
    """Text shown exactly as given (no inline marks are read from it)."""
    return (Span(text),) if text else ()


def strong(text: str) -> Span:
    return Span(text, "strong")


def code(text: str) -> Span:
    return Span(text, "code")


def em(text: str) -> Span:
    return Span(text, "em")


def link(url: str) -> Span:
    """An address shown and followed as it is: Markdown's escapes would break its ``_`` and ``*``."""
    return Span(url, "link")


@dataclass
class AnswerBuilder:
    """Blocks appended in order; ``answer()`` freezes them."""

    blocks: list[Block] = field(default_factory=list)

    def heading(self, text: str | Inline) -> AnswerBuilder:
        self.blocks.append(Heading(_inline(text)))
        return self

    def paragraph(self, *lines: str | Inline) -> AnswerBuilder:
        self.blocks.append(Paragraph(tuple(_inline(line) for line in lines)))
        return self

    def items(self, items: Iterable[str | Inline], *, ordered: bool = False) -> AnswerBuilder:
        self.blocks.append(ItemList(tuple(_inline(item) for item in items), ordered))
        return self

    def rows(self, rows: Iterable[tuple[str, str | Inline]]) -> AnswerBuilder:
        self.blocks.append(KeyValues(tuple((key, _inline(value)) for key, value in rows)))
        return self

    def note(self, text: str | Inline) -> AnswerBuilder:
        self.blocks.append(Note(_inline(text)))
        return self

    def answer(self, confidence: float | None = None) -> Answer:
        return Answer(tuple(b for b in self.blocks if not _is_empty(b)), confidence)


def _inline(text: str | Inline) -> Inline:
    return parse_inline(text) if isinstance(text, str) else text


def _is_empty(block: Block) -> bool:
    if isinstance(block, ItemList):
        return not block.items
    if isinstance(block, KeyValues):
        return not block.rows
    if isinstance(block, Paragraph):
        return not any(block.lines)
    return False


# -- parsing -------------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(```+|~~~+)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*•+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)\d{1,3}[.)]\s+(.*)$")
_KEY_VALUE = re.compile(r"^\s*\*\*([^*\n]{1,80}?):\*\*\s*(.*)$|^\s*\*\*([^*\n]{1,80}?)\*\*:\s*(.*)$")
_STRONG_LINE = re.compile(r"^\s*\*\*((?:\\.|[^*\\\n])+?)\*\*:?\s*$")
_NOTE = re.compile(r"^\s*[_*]?(?:Note|NB|N\.B\.)\s*:[_*]?\s*(.*?)\s*$", re.IGNORECASE)
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
# Inside marks, a backslash escape is one character, so "**\\***" is a strong "*".
_INNER = r"(?:\\.|[^\\])"
_INLINE = re.compile(
    r"\\(?P<escaped>[^A-Za-z0-9\s])"
    r"|<(?P<link>https?://[^\s<>]+)>"
    r"|(?P<code>`+)(?P<code_text>.+?)(?P=code)"
    rf"|\*\*(?P<strong>(?=\S){_INNER}+?(?<=\S))\*\*"
    rf"|__(?P<strong2>(?=\S){_INNER}+?(?<=\S))__"
    r"|(?<![\w*\\])\*(?P<em>(?=[^\s*])(?:\\.|[^\\*])+?)(?<!\s)\*(?![\w*])"
    r"|(?<![\w_\\])_(?P<em2>(?=[^\s_])(?:\\.|[^\\_])+?)(?<!\s)_(?![\w_])"
)


def parse_inline(text: str) -> Inline:
    """``text`` as spans: ``**strong**``, ``_em_``/``*em*``, ```code```, ``<https://…>``; unclosed marks stay literal."""
    spans: list[Span] = []
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            spans.append(Span(text[position : match.start()]))
        if match.group("escaped") is not None:
            spans.append(Span(match.group("escaped")))
        elif match.group("link") is not None:
            spans.append(link(match.group("link")))
        elif match.group("code") is not None:
            spans.append(Span(match.group("code_text").strip() or match.group("code_text"), "code"))
        elif match.group("strong") is not None or match.group("strong2") is not None:
            inner = match.group("strong") or match.group("strong2")
            spans.extend(_restyle(parse_inline(inner), "strong"))
        else:
            spans.extend(_restyle(parse_inline(match.group("em") or match.group("em2")), "em"))
        position = match.end()
    if position < len(text):
        spans.append(Span(text[position:]))
    return _merge(spans)


def _restyle(spans: Inline, style: SpanStyle) -> Inline:
    # Code inside bold stays code; everything else takes the outer style.
    return tuple(span if span.style in ("code", "link") else Span(span.text, style) for span in spans)


def _merge(spans: Iterable[Span]) -> Inline:
    merged: list[Span] = []
    for span in spans:
        if not span.text:
            continue
        if merged and merged[-1].style == span.style:
            merged[-1] = Span(merged[-1].text + span.text, span.style)
        else:
            merged.append(span)
    return tuple(merged)


def parse_answer(text: str, confidence: float | None = None) -> Answer:
    """Tolerantly read Markdown-ish ``text`` (tools' phrasing, reports, the model's prose) into blocks."""
    blocks: list[Block] = []
    paragraph: list[Inline] = []
    note: list[str] | None = None
    items: list[str] = []
    ordered = False
    rows: list[tuple[str, Inline]] = []
    table: list[list[str]] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def flush() -> None:
        nonlocal note, ordered
        if paragraph:
            blocks.append(Paragraph(tuple(paragraph)))
            paragraph.clear()
        if note is not None:
            blocks.append(Note(parse_inline(" ".join(note))))
            note = None
        if items:
            blocks.append(ItemList(tuple(parse_inline(item) for item in items), ordered))
            items.clear()
        if rows:
            blocks.append(KeyValues(tuple(rows)))
            rows.clear()
        if table:
            blocks.extend(_table_block(table))
            table.clear()

    index = 0
    while index < len(lines):
        line = lines[index].rstrip()
        index += 1
        if _FENCE.match(line):
            flush()
            fence = _FENCE.match(line)
            assert fence is not None
            body: list[str] = []
            while index < len(lines) and not lines[index].strip().startswith(fence.group(1)):
                body.append(lines[index])
                index += 1
            index += 1  # the closing fence (or the end)
            blocks.append(CodeBlock("\n".join(body)))
            continue
        if not line.strip() or _RULE.match(line):
            flush()
            continue
        if line.lstrip().startswith("|") and line.rstrip().endswith("|"):
            if not table:
                flush()
            if not _TABLE_SEPARATOR.match(line):
                table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
            continue
        if table:
            flush()
        heading = _HEADING.match(line)
        strong_line = _STRONG_LINE.match(line) if heading is None else None
        if heading or strong_line:
            flush()
            # "**Top genres:**" is a heading "Top genres"; a Markdown heading keeps what it says.
            words = heading.group(1) if heading else strong_line.group(1).rstrip(":")  # type: ignore[union-attr]
            blocks.append(Heading(_restyle(parse_inline(words), "plain")))
            continue
        bullet = _BULLET.match(line)
        numbered = _NUMBERED.match(line) if bullet is None else None
        listed = bullet or numbered
        if listed is not None and not _RULE.match(line):
            is_ordered = numbered is not None
            if items and is_ordered != ordered and not listed.group(1):
                flush()
            if not items:
                flush()
                ordered = is_ordered
            items.append(listed.group(2).strip())
            continue
        if items and (line.startswith(("  ", "\t"))):
            items[-1] = f"{items[-1]} {line.strip()}"  # a wrapped item continues
            continue
        key_value = _KEY_VALUE.match(line)
        if key_value:
            if not rows:
                flush()
            key = key_value.group(1) or key_value.group(3)
            value = key_value.group(2) if key_value.group(1) else key_value.group(4)
            rows.append((inline_text(parse_inline(key.strip())), parse_inline(value.strip())))
            continue
        note_start = _NOTE.match(line)
        if note_start and note is None and not paragraph:
            flush()
            note = [note_start.group(1)]
            continue
        if note is not None:
            note.append(line.strip())
            continue
        if items or rows:
            flush()
        # A quoted line ("> ...") is shown as its text.
        paragraph.append(parse_inline(line.strip().removeprefix("> ").lstrip(">")))
    flush()
    return Answer(tuple(blocks), confidence)


def _table_block(table: list[list[str]]) -> list[Block]:
    """A Markdown table as a list: two columns read as key–value rows, wider ones as one item per row."""
    header, *body = table
    if not body:
        return [Paragraph((parse_inline(" · ".join(header)),))]
    if all(len(row) == 2 for row in table):
        return [KeyValues(tuple((row[0], parse_inline(row[1])) for row in body))]
    items = tuple(
        parse_inline(
            " · ".join(f"{name}: {cell}" if name else cell for name, cell in zip(header, row, strict=False))
        )
        for row in body
    )
    return [ItemList(items)]


# -- platform-free renderers ---------------------------------------------------------------------


def inline_text(spans: Inline) -> str:
    return "".join(span.text for span in spans)


def to_plain_text(answer: Answer) -> str:
    """Readable without any formatting: one blank line between blocks, ``- `` bullets, ``Key: value``."""
    parts: list[str] = []
    for block in answer.blocks:
        if isinstance(block, Heading):
            parts.append(inline_text(block.text))
        elif isinstance(block, Paragraph):
            parts.append("\n".join(inline_text(line) for line in block.lines))
        elif isinstance(block, ItemList):
            parts.append(
                "\n".join(
                    f"{number}. {inline_text(item)}" if block.ordered else f"- {inline_text(item)}"
                    for number, item in enumerate(block.items, 1)
                )
            )
        elif isinstance(block, KeyValues):
            parts.append("\n".join(f"{key}: {inline_text(value)}" for key, value in block.rows))
        elif isinstance(block, Note):
            parts.append(f"Note: {inline_text(block.text)}")
        else:
            parts.append(block.text)
    return "\n\n".join(part for part in parts if part)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|>\[\]#<])")


def escape_markdown(text: str) -> str:
    """``text`` with Markdown's marks escaped, so a title like ``**x**`` or ``[a](b)`` is shown as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


_NOT_IN_AUTOLINK = re.compile(r"[\s<>]")
_ONLY_DASHES = re.compile(r"^[\s-]+$")


def inline_markdown(spans: Inline) -> str:
    out: list[str] = []
    for span in spans:
        if span.style == "code":
            fence = "``" if "`" in span.text else "`"
            out.append(f"{fence}{span.text.replace('``', '`​`')}{fence}")
        elif span.style == "strong":
            out.append(f"**{escape_markdown(span.text)}**")
        elif span.style == "em":
            out.append(f"_{escape_markdown(span.text)}_")
        elif span.style == "link":
            # <url>: Markdown's autolink (nothing inside is read as a mark); no space or > can end it early.
            out.append("<" + _NOT_IN_AUTOLINK.sub("", span.text) + ">")
        else:
            out.append(escape_markdown(span.text))
    text = "".join(out)
    # A line that starts like a list or a heading would become one.
    # Markdown escapes a bullet's mark ("\\- x") and an ordered item's "." or ")" ("1\\. x"), never a digit.
    if "-" in text and _ONLY_DASHES.match(text):
        # Dashes alone ("--", "- -") would make the line, or a bullet's, a thematic break.
        text = text.replace("-", "\\-")
    else:
        text = re.sub(r"^(\s*)([-+])(\s)", r"\1\\\2\3", text)
    return re.sub(r"^(\s*)(\d+)([.)])(\s)", r"\1\2\\\3\4", text)


def block_markdown(block: Block) -> str:
    if isinstance(block, Heading):
        text = inline_markdown(block.text)
        return f"### {text}" if text.endswith(":") else f"**{text}**"
    if isinstance(block, Paragraph):
        # One line per line: Discord shows line breaks as typed, and parse_answer keeps them as lines.
        return "\n".join(inline_markdown(line) for line in block.lines)
    if isinstance(block, ItemList):
        return "\n".join(
            f"{number}. {inline_markdown(item)}" if block.ordered else f"- {inline_markdown(item)}"
            for number, item in enumerate(block.items, 1)
        )
    if isinstance(block, KeyValues):
        return "\n".join(f"**{escape_markdown(key)}:** {inline_markdown(value)}" for key, value in block.rows)
    if isinstance(block, Note):
        return f"_Note:_ {inline_markdown(block.text)}"
    return "```\n" + block.text.replace("```", "`​``") + "\n```"


def to_markdown(answer: Answer) -> str:
    """Markdown that any CommonMark renderer (and Discord) reads back as the same blocks."""
    return "\n\n".join(block_markdown(block) for block in answer.blocks)


def shortened(answer: Answer, max_chars: int) -> Answer:
    """The leading blocks (and list items) whose plain text fits in ``max_chars``, then "… (shortened)"."""
    if len(to_plain_text(answer)) <= max_chars:
        return answer
    kept: list[Block] = []
    budget = max_chars - 20  # room for the closing note
    for block in answer.blocks:
        size = len(to_plain_text(Answer((block,)))) + 2
        if size <= budget:
            kept.append(block)
            budget -= size
            continue
        if isinstance(block, ItemList):
            items: list[Inline] = []
            for item in block.items:
                budget -= len(inline_text(item)) + 6
                if budget < 0:
                    break
                items.append(item)
            if items:
                kept.append(ItemList(tuple(items), block.ordered))
        break
    kept.append(Paragraph((plain("… (shortened)"),)))
    return Answer(tuple(kept), answer.confidence)
