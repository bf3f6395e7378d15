"""A misspelt member name read as the member an admin meant: "how much has alcie watched" → alice.

Only for admins, and only in admin mode: a member's question is never compared
with other members' names, so no answer to a member can suggest, correct or
otherwise reveal who else is on the server. The names come from the caller (the
engine reads them through ``core.member_names`` only for an admin's question).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from core.engines.offline.router import _NOT_A_USERNAME, _USERNAME_PATTERNS, Route
from core.engines.offline.vocabulary import STOPWORDS, WORDS
from core.scope import Scope

# "alcie" → "alice" (a swap: 80); "bbo" → "bob" (67) is too short to tell from another name.
MIN_SIMILARITY = 75
MIN_LENGTH = 4


def _similarity(asked: str, name: str, **_: object) -> float:
    # A swapped pair of letters is one typo (Damerau-Levenshtein), as people make them.
    return max(fuzz.ratio(asked, name), DamerauLevenshtein.normalized_similarity(asked, name) * 100)


def closest_member(asked: str, names: Sequence[str]) -> str | None:
    """The one member name ``asked`` is a typo of, or None (no name close enough, or two equally close)."""
    if len(asked) < MIN_LENGTH:
        return None
    by_lower = {name.lower(): name for name in names}
    if asked.lower() in by_lower:
        return by_lower[asked.lower()]
    best = process.extract(
        asked.lower(), list(by_lower), scorer=_similarity, score_cutoff=MIN_SIMILARITY, limit=2
    )
    if not best or (len(best) > 1 and best[1][1] == best[0][1]):
        return None
    return by_lower[best[0][0]]


def _for_admin(scope: Scope, names: Sequence[str]) -> bool:
    return scope.role == "admin" and scope.mode == "admin" and bool(names)


def correct_member_in_question(
    question: str, scope: Scope, names: Sequence[str]
) -> tuple[str, dict[str, str]]:
    """The question with a misspelt member name (where the question names a member) spelt right.

    Only a word in a member's place ("has alcie watched", "alcie's history", "user alcie") is
    compared with the names, never titles or other words ("did I finish Alien" stays Alien).
    """
    lowered = question.lower().replace("’", "'")
    if not _for_admin(scope, names) or len(lowered) != len(question):
        return question, {}
    for pattern in _USERNAME_PATTERNS:
        found = pattern.search(lowered)
        if found is None:
            continue
        asked = found.group("name")
        if asked in _NOT_A_USERNAME or asked in WORDS or asked in STOPWORDS:
            continue
        member = closest_member(asked, names)
        if member is None or member.lower() == asked:
            return question, {}
        start, end = found.span("name")
        return question[:start] + member + question[end:], {asked: member}
    return question, {}


def correct_member_name(route: Route, scope: Scope, names: Sequence[str]) -> Route:
    """The route with its ``username`` read as the member name it is a typo of, for an admin only."""
    asked = route.params.get("username")
    if not _for_admin(scope, names) or not isinstance(asked, str):
        return route
    member = closest_member(asked, names)
    if member is None or member == asked:
        return route
    return replace(
        route,
        params={**route.params, "username": member},
        slots=replace(route.slots, username=member),
        corrected={**route.corrected, asked: member},
    )
