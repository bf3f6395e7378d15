"""Splitting Markdown replies to a platform's message limit."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.chat.message_splitting import split_markdown


def test_a_short_reply_is_one_message() -> None:
    assert split_markdown("**42** movies.") == ["**42** movies."]
    assert split_markdown("") == []


def test_paragraphs_are_kept_whole() -> None:
    paragraphs = [f"Paragraph {n}. " + "Some words about films. " * 30 for n in range(6)]
    parts = split_markdown("\n\n".join(paragraphs), limit=2000)
    assert len(parts) > 1 and all(len(part) <= 2000 for part in parts)
    for paragraph in paragraphs:
        assert any(paragraph.strip() in part for part in parts)


def test_a_code_block_cut_in_two_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"SELECT {n} AS value;" for n in range(300))
    text = f"Here are the queries:\n\n```sql\n{code}\n```\n\nThat is all."
    parts = split_markdown(text, limit=1000)
    assert len(parts) > 2
    for part in parts:
        assert len(part) <= 1000
        assert part.count("```") % 2 == 0  # every part renders its code as code
    assert all(part.startswith("```sql\n") for part in parts[1:-1])
    lines = "\n".join(parts).splitlines()
    assert [line for line in lines if line.startswith("SELECT")] == code.splitlines()


def test_a_line_longer_than_the_limit_is_cut_between_words() -> None:
    words = [f"word{n}" for n in range(600)]
    parts = split_markdown(" ".join(words), limit=500)
    assert all(len(part) <= 500 for part in parts)
    assert " ".join(parts).split() == words


def test_text_without_spaces_is_cut_hard_as_a_last_resort() -> None:
    assert [len(part) for part in split_markdown("x" * 4500)] == [2000, 2000, 500]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.sampled_from("abc de\n"), min_size=0, max_size=300),
            st.builds(
                lambda body: f"```py\n{body}\n```", st.text(alphabet=st.sampled_from("xy z\n"), max_size=400)
            ),
        ),
        max_size=12,
    )
)
def test_no_part_exceeds_the_limit_and_no_word_is_lost(blocks: list[str]) -> None:
    text = "\n\n".join(blocks)
    parts = split_markdown(text, limit=200)
    assert all(0 < len(part) <= 200 for part in parts)
    fence = re.compile(r"^```\w*$", re.MULTILINE)
    original_words = fence.sub("", text).split()
    assert fence.sub("", "\n".join(parts)).split() == original_words
