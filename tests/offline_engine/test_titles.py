"""The title a question is about is found in the words around it; the library lookup itself is the tools' job."""

from __future__ import annotations

import pytest

from core.engines.offline.titles import find_title


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ('recommend something like "Alien"', "Alien"),
        ("Any movies similar to 'The Thing'?", "The Thing"),
        ("Recommend something like The Matrix", "The Matrix"),
        ("any shows like Breaking Bad?", "Breaking Bad"),
        ("Give me films similar to the movie Heat please", "Heat"),
        ("movies in the vein of Blade Runner 2049 but newer", "Blade Runner 2049"),
        ("I really enjoyed Arrival, what else is in that vein?", "Arrival"),
        ("what should I watch if I loved Arrival", "Arrival"),
        ("How long until I finish Severance?", "Severance"),
        ("When will I be done with The Wire?", "The Wire"),
        ("How many episodes of Severance do I have left?", "Severance"),
        ("how many episodes to go in Severance at this pace", "Severance"),
    ],
)
def test_titles_are_found_after_their_cue_words(question: str, title: str) -> None:
    found = find_title(question)
    assert found is not None and found.title == title
    assert title not in found.rest


@pytest.mark.parametrize(
    "question",
    [
        "How long until I finish this series?",
        "How much is left of the shows I'm in the middle of?",
        "What would I like tonight?",
        "I'd like a comedy",
        "recommend me something like it",
        "Show my watch history",
    ],
)
def test_descriptions_and_pronouns_are_not_titles(question: str) -> None:
    assert find_title(question) is None
