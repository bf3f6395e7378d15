"""Telling a description from a title: "something like a slow-burn heist film" is not a title.

``find_title`` takes whatever follows "something like" as a title. When that is
a description (an article, then words that end in a kind of title or say what
it is about), the question is a search of the library (``search_library``),
not a search for one title. A real title that starts with "A" ("A Quiet
Place") does not end in a kind word, so it stays a title.
"""

from __future__ import annotations

import re

_KIND = (
    r"films?|movies?|shows?|series|tv\s+shows?|documentar(?:y|ies)|thrillers?|comed(?:y|ies)|dramas?|"
    r"myster(?:y|ies)|romances?|sitcoms?|miniseries|anime|cartoons?|westerns?|horrors?|one|ones|something"
)
_DESCRIPTION = re.compile(
    rf"^(?:a|an|some|any)\s+(?:.+\s+)?(?:{_KIND})(?:\s+(?:about|with|where|set\s+in|featuring|that)\b.*)?$"
    rf"|^(?:a|an|some|any|something|anything|one)\s+(?:.+\s+)?(?:about|set\s+in|featuring|where)\s+.+$",
    re.IGNORECASE,
)
# Without "something like" before it, only a description that says what it is about counts:
# "find me a movie about time travel", not "I want a comedy movie" (a recommendation by genre).
_ABOUT = re.compile(
    r"^(?:a|an|some|any|something|anything|one|films?|movies?|shows?|series|titles?)\s+(?:.+\s+)?"
    r"(?:about|set\s+in|featuring|where)\s+.+$",
    re.IGNORECASE,
)
_MOVIE = re.compile(r"\b(?:films?|movies?)\b", re.IGNORECASE)
_SHOW = re.compile(r"\b(?:shows?|series|sitcoms?|miniseries)\b", re.IGNORECASE)
# What asks rather than describes: "find me", "do we have any", "is there a".
_ASKING = re.compile(
    r"^(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?(?:find|show|give|get|recommend|suggest|search(?:\s+the\s+library)?"
    r"(?:\s+for)?|look(?:ing)?\s+for|i\s+want|i'?d\s+like|i'?m\s+in\s+the\s+mood\s+for|do\s+we\s+have|have\s+we\s+got|"
    r"is\s+there|are\s+there)\s+(?:me\s+|us\s+)?",
    re.IGNORECASE,
)


def is_description(text: str) -> bool:
    return bool(_DESCRIPTION.match(text.strip()))


def asks_for_description(question: str) -> str | None:
    """The description a question asks the library for ("find me a movie about time travel"), or None."""
    text = description_of(question)
    return text if _ABOUT.match(text) else None


def described_kind(text: str) -> str | None:
    """'movie' or 'show' when the description names one kind only."""
    movie, show = bool(_MOVIE.search(text)), bool(_SHOW.search(text))
    return "movie" if movie and not show else "show" if show and not movie else None


def description_of(question: str) -> str:
    """The describing part of a question: its asking words and end punctuation taken off."""
    text = _ASKING.sub("", question.strip(), count=1).strip(" ?!.")
    return text or question.strip()
