"""Finding the title someone means, spelling mistakes included (pg_trgm)."""

from __future__ import annotations

import asyncpg

# An exact (case-insensitive) title wins, then a title containing the words,
# then trigram similarity; media_items_title_trgm_idx serves all three.
_FIND_TITLE = """
SELECT id, title, media_type, year, metadata, similarity(title, $1) AS score
FROM media_items
WHERE media_type = ANY($2::text[])
  AND (title % $1 OR title ILIKE $3)
ORDER BY lower(title) = lower($1) DESC, title ILIKE $3 DESC, similarity(title, $1) DESC, year DESC NULLS LAST
LIMIT 1
"""


def _contains_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def find_title(
    conn: asyncpg.Connection, title: str, media_types: tuple[str, ...] = ("movie", "show")
) -> asyncpg.Record | None:
    """The best-matching movie or show for ``title``, or None when nothing is close."""
    text = title.strip()
    if not text:
        return None
    record: asyncpg.Record | None = await conn.fetchrow(
        _FIND_TITLE, text, list(media_types), _contains_pattern(text)
    )
    return record
