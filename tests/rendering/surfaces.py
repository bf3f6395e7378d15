"""Each surface's rendering of one answer, and the structural checks every rendering must pass."""

from __future__ import annotations

import io
import itertools
import re
from html.parser import HTMLParser

from chat.fake_discord import invalid_message_body
from rich.console import Console

from adapters.chat.console_rendering import answer_rich
from adapters.chat.discord_rendering import discord_messages, plain_messages
from adapters.chat.matrix_rendering import reply_content
from core.answer import Answer, ItemList, parse_answer, to_plain_text

# A line of the tools' own text that is a list item.
LIST_LINE = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)])\s+\S")


class MatrixStructure(HTMLParser):
    """The text of every ``<li>`` and every line (between ``<br>``) of every ``<p>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[str] = []
        self.paragraph_lines: list[str] = []
        self.tags: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "li":
            self.items.append("")
        elif tag == "p":
            self.paragraph_lines.append("")
        elif tag == "br" and self._in and self._in[-1] == "p":
            self.paragraph_lines.append("")
        if tag != "br":
            self._in.append(tag if tag in ("li", "p") else (self._in[-1] if self._in else ""))

    def handle_endtag(self, tag: str) -> None:
        if self._in:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if not self._in:
            return
        container = self._in[-1]
        if container == "li":
            self.items[-1] += data
        elif container == "p":
            self.paragraph_lines[-1] += data


def expected_items(text: str) -> int:
    """How many list items the tool's text holds, counted on its own lines."""
    return sum(1 for line in text.splitlines() if LIST_LINE.match(line))


def model_items(answer: Answer) -> int:
    return sum(len(block.items) for block in answer.blocks if isinstance(block, ItemList))


def check_matrix(name: str, text: str, answer: Answer) -> None:
    content = reply_content(answer, "$question")
    html, body = content["formatted_body"], content["body"]
    structure = MatrixStructure()
    structure.feed(html)
    assert len(structure.items) == expected_items(text), (name, html)
    for item in structure.items:
        assert "\n" not in item and not LIST_LINE.match(item), (name, item)
    for line in structure.paragraph_lines:
        # Element collapses a newline in a <p> to a space: a list glued to its intro runs on.
        for part in line.splitlines():
            assert not LIST_LINE.match(part), f"{name}: a list line inside a paragraph: {line!r}"
    assert set(structure.tags) <= {"p", "br", "ul", "ol", "li", "strong", "em", "code", "pre", "h4"}, name
    # The plain body reads on its own: no Markdown marks, a blank line before every list.
    assert "**" not in body, (name, body)
    lines = body.splitlines()
    for before, line in itertools.pairwise(lines):
        if LIST_LINE.match(line):
            assert not before.strip() or LIST_LINE.match(before), f"{name}: list glued to {before!r}"


def check_discord(name: str, answer: Answer) -> None:
    messages = discord_messages(answer)
    assert messages, name
    for message in messages:
        body = {"content": message.content or "", "embeds": [message.embed] if message.embed else []}
        assert invalid_message_body(body) is None, (name, invalid_message_body(body))
    if any(isinstance(block, ItemList) for block in answer.blocks):
        assert messages[0].embed is not None, f"{name}: a list answer should be an embed"
    for message in plain_messages(answer):
        assert invalid_message_body({"content": message.content}) is None, name


def check_console(name: str, answer: Answer) -> str:
    console = Console(record=True, width=100, color_system=None, file=io.StringIO())
    console.print(answer_rich(answer))
    output = console.export_text()
    bullets = [line for line in output.splitlines() if re.match(r"^\s*(•|\d{1,3}\.)\s", line)]
    assert len(bullets) == model_items(answer), (name, output)
    return output


def check_json(name: str, text: str, answer: Answer) -> None:
    plain = to_plain_text(answer)
    assert plain.strip(), name
    assert "**" not in plain, (name, plain)
    # What the plain text says, read back, is the same structure.
    assert model_items(parse_answer(plain)) == model_items(answer), name


def check_every_surface(name: str, text: str) -> Answer:
    answer = parse_answer(text)
    assert model_items(answer) == expected_items(text), (name, text)
    check_matrix(name, text, answer)
    check_discord(name, answer)
    check_console(name, answer)
    check_json(name, text, answer)
    return answer
