"""Finding the title someone means, spelling mistakes included (pg_trgm, then edit distance)."""

from __future__ import annotations

import asyncpg
from rapidfuzz.distance import DamerauLevenshtein

# The exact title, case aside (media_items_lower_title_idx); the newest when several share it.
# The lookups run as functions (core/schema/functions/analytics_title_lookup.sql): under row-level
# security the planner could use neither index for them.
_EXACT_TITLE = "SELECT * FROM analytics.title_exact($1, $2::text[])"

# Else a title containing the words, then trigram similarity; media_items_title_trgm_idx serves both.
_FUZZY_TITLE = "SELECT * FROM analytics.title_fuzzy($1, $2::text[], $3, $4)"

# pg_trgm's default (0.3) lets a title sharing one common word match thousands of rows; 0.4 still
# forgives a typo or two in a short title ("inceptoin", "the ofice").
SIMILARITY_THRESHOLD = 0.4

# Last, for swapped letters in a short title ("Alein", "Arrvial"): two letters swapped break three
# trigrams, too many for a short word. Titles sharing a few trigrams (up to 200, the most similar
# first) are fetched by the same index and the closest by edit distance (a swap is one edit) wins if
# it is close enough.
_NEAR_TITLES = "SELECT * FROM analytics.title_near($1, $2::text[], $3)"
NEAR_SIMILARITY_THRESHOLD = 0.15
EDIT_SIMILARITY = 0.75


# The longest title anyone asks about, and more. Longer text is cut before it reaches
# similarity(): trigram matching costs grow with it (a 60 KB "something like …" took 13 s).
MAX_TITLE_CHARS = 200


def _contains_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def find_title(
    conn: asyncpg.Connection, title: str, media_types: tuple[str, ...] = ("movie", "show")
) -> asyncpg.Record | None:
    """The best-matching movie or show for ``title``, or None when nothing is close.

    Runs inside the tool's transaction: the similarity threshold is set for that transaction only.
    """
    text = title.strip()[:MAX_TITLE_CHARS].strip()
    if not text:
        return None
    record: asyncpg.Record | None = await conn.fetchrow(_EXACT_TITLE, text, list(media_types))
    if record is None:
        record = await conn.fetchrow(
            _FUZZY_TITLE, text, list(media_types), _contains_pattern(text), SIMILARITY_THRESHOLD
        )
    if record is None:
        record = await _closest_by_edits(conn, text, media_types)
    return record


async def _closest_by_edits(
    conn: asyncpg.Connection, text: str, media_types: tuple[str, ...]
) -> asyncpg.Record | None:
    wanted = text.lower()
    candidates = await conn.fetch(_NEAR_TITLES, text, list(media_types), NEAR_SIMILARITY_THRESHOLD)

    def edit_similarity(candidate: asyncpg.Record) -> float:
        return DamerauLevenshtein.normalized_similarity(wanted, candidate["title"].lower())

    # max keeps the first of equals: the one sharing the most trigrams.
    closest = max(candidates, key=edit_similarity, default=None)
    if closest is None or edit_similarity(closest) < EDIT_SIMILARITY:
        return None
    return closest
