"""The structured answer: how Markdown-ish text is read, and how each surface writes it back."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.chat.discord_rendering import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELDS_LIMIT,
    EMBED_TOTAL_LIMIT,
    answer_embed,
    discord_messages,
    embed_size,
)
from adapters.chat.matrix_rendering import reply_content
from core.answer import (
    Answer,
    AnswerBuilder,
    CodeBlock,
    Heading,
    ItemList,
    KeyValues,
    Note,
    Paragraph,
    Span,
    parse_answer,
    parse_inline,
    plain,
    shortened,
    to_markdown,
    to_plain_text,
)
from core.tools.answer_text import render_text
from core.tools.base import Coverage, ToolResult
from core.tools.catalogue import build_catalogue


def test_a_list_right_after_its_intro_line_is_a_list_as_the_tools_write_it() -> None:
    answer = parse_answer("Trending on the server this week:\n- Alien (1979)\n- Heat (1995)")
    assert answer.blocks == (
        Paragraph((plain("Trending on the server this week:"),)),
        ItemList((plain("Alien (1979)"), plain("Heat (1995)"))),
    )
    html = reply_content(answer, None)["formatted_body"]
    assert (
        html == "<p>Trending on the server this week:</p><ul><li>Alien (1979)</li><li>Heat (1995)</li></ul>"
    )


def test_the_shapes_answers_take_are_read_as_blocks() -> None:
    text = (
        "## Your week\n"
        "You watched a lot.\nAnd rated some.\n"
        "1. First\n2) Second\n   wrapped on\n"
        "**Plays:** 12\n**Hours:** 3.5\n"
        "Note: ratings are from Jellyfin only.\n\n"
        "```\nSELECT 1;\n```\n"
        "| title | plays |\n|---|---|\n| Alien | 3 |\n"
    )
    blocks = parse_answer(text).blocks
    assert [type(b) for b in blocks] == [Heading, Paragraph, ItemList, KeyValues, Note, CodeBlock, KeyValues]
    assert blocks[1] == Paragraph((plain("You watched a lot."), plain("And rated some.")))
    assert blocks[2] == ItemList((plain("First"), plain("Second wrapped on")), ordered=True)
    assert blocks[3] == KeyValues((("Plays", plain("12")), ("Hours", plain("3.5"))))
    assert blocks[6] == KeyValues((("Alien", plain("3")),))


def test_inline_marks_are_read_only_when_they_are_marks() -> None:
    assert parse_inline("**Alien** and `code` and _this_") == (
        Span("Alien", "strong"), Span(" and "), Span("code", "code"), Span(" and "), Span("this", "em"),
    )  # fmt: skip
    for literal in ("M*A*S*H", "file_size_bytes", "2 * 3 * 4", "**unclosed", "a_b_c"):
        assert parse_inline(literal) == plain(literal), literal


def test_the_plain_text_has_no_marks_and_a_blank_line_before_each_list() -> None:
    answer = parse_answer("**Top genres:**\n- **Drama**: 4 titles\n- Comedy\nNote: _few_ ratings")
    assert to_plain_text(answer) == "Top genres\n\n- Drama: 4 titles\n- Comedy\n\nNote: few ratings"


safe_text = st.text(alphabet="ab -*_`#<>[]()|\\!:.1é👍", min_size=1, max_size=30).filter(
    lambda t: t == t.strip()
)
spans = st.lists(st.builds(Span, safe_text, st.just("plain")), min_size=1, max_size=3).map(
    lambda parts: (*parse_inline(""), Span("".join(p.text for p in parts)))
)
blocks = st.one_of(
    st.builds(lambda s: Heading(s), spans),
    st.builds(lambda lines: Paragraph(tuple(lines)), st.lists(spans, min_size=1, max_size=3)),
    st.builds(
        lambda items, o: ItemList(tuple(items), o), st.lists(spans, min_size=1, max_size=4), st.booleans()
    ),
    st.builds(lambda s: Note(s), spans),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(blocks, min_size=1, max_size=5))
def test_any_text_survives_markdown_and_back_exactly(answer_blocks: list) -> None:  # type: ignore[type-arg]
    # Two lists in a row of the same kind would merge when read back: Markdown has no way to tell them apart.
    for before, after in itertools.pairwise(answer_blocks):
        if isinstance(before, ItemList) and isinstance(after, ItemList) and before.ordered == after.ordered:
            return
    answer = Answer(tuple(answer_blocks))
    assert parse_answer(to_markdown(answer)) == answer


def test_hostile_values_in_a_tools_answer_are_shown_as_typed_on_one_line() -> None:
    tool = build_catalogue().get("new_in_library")
    hostile = "Evil\n- injected item **bold** <b>x</b>"
    result = ToolResult(
        tool="new_in_library",
        params={},
        rows=[{"title": hostile, "year": 2024, "media_type": "movie", "added_at": datetime.now(UTC)}],
        coverage=Coverage(),
        summary={
            "new_movies": 1,
            "new_episodes": 0,
            "shows_with_new_episodes": 0,
            "period": {"label": "the last 7 days"},
        },
    )
    answer = parse_answer(render_text(tool, result))
    [items] = [b for b in answer.blocks if isinstance(b, ItemList)]
    assert len(items.items) == 1
    assert "".join(s.text for s in items.items[0]).startswith("Evil - injected item **bold** <b>x</b>")
    assert all(span.style == "plain" for span in items.items[0])


def test_a_huge_report_embed_stays_within_every_discord_limit() -> None:
    out = AnswerBuilder().heading("T" * 400)
    out.items([f"item {n} " + "x" * 300 for n in range(40)])
    for section in range(40):
        out.heading(f"Section {section} " + "y" * 300).items(
            [f"{section}.{n} " + "z" * 200 for n in range(10)]
        )
    answer = out.answer(confidence=0.83)
    embed = answer_embed(answer)
    assert len(embed["title"]) <= 256 and len(embed["description"]) <= EMBED_DESCRIPTION_LIMIT
    assert "… and " in embed["description"]
    assert 0 < len(embed["fields"]) <= EMBED_FIELDS_LIMIT
    assert all(len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in embed["fields"])
    assert embed_size(embed) <= EMBED_TOTAL_LIMIT
    assert embed["footer"]["text"] == "Confidence 83% · 👍 helpful · ❌ wrong"


def test_prose_goes_to_discord_as_markdown_with_the_confidence_in_small_print() -> None:
    [message] = discord_messages(parse_answer("You watched 3.5 hours.", confidence=0.9))
    assert (
        message.embed is None
        and message.content == "You watched 3.5 hours.\n-# Confidence 90% · 👍 helpful · ❌ wrong"
    )


def test_a_long_answer_is_shortened_at_a_block_or_item_boundary() -> None:
    answer = AnswerBuilder().paragraph("Intro:").items([f"item {n}" for n in range(1000)]).answer()
    short = shortened(answer, 500)
    assert len(to_plain_text(short)) <= 500
    assert to_plain_text(short).endswith("- item 46\n\n… (shortened)") or "… (shortened)" in to_plain_text(
        short
    )
    assert isinstance(short.blocks[1], ItemList) and short.blocks[1].items[0] == plain("item 0")


@pytest.mark.parametrize("text", ["--", "- -", "---", "- - -", "-"])
def test_a_line_of_dashes_stays_text_not_a_thematic_break(text: str) -> None:
    for answer in (
        Answer((ItemList((plain(text),), ordered=False),)),
        Answer((Paragraph((plain(text),)),)),
    ):
        assert parse_answer(to_markdown(answer)) == answer
