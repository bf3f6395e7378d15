"""Items deleted from a media server: marked when a complete library pass no longer lists them.

An item's link to a server (``media_external_ids``) is what a pass finds or
misses; the item (``media_items.removed_at``) is removed once none of the media
servers that list libraries still has it, and present again as soon as one
does. Plays are never touched: history keeps naming what was watched.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import asyncpg

# The services whose library passes say what is on disk. Tautulli files its
# items under Plex's ids (it lists history, deleted items included), so only a
# Plex or Jellyfin library pass may mark or clear.
LIBRARY_SERVICES = ("plex", "jellyfin")

_COUNT_PRESENT = """
SELECT count(*) FROM media_external_ids WHERE service = $1 AND removed_at IS NULL
"""
# Joined, not "= ANY(array)": a library of 200,000 ids would be searched once per link.
_MARK_MISSING = """
WITH listed AS (SELECT DISTINCT unnest($2::text[]) AS external_id)
UPDATE media_external_ids e SET removed_at = now()
WHERE e.service = $1 AND e.removed_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM listed l WHERE l.external_id = e.external_id)
RETURNING e.media_item_id
"""
_CLEAR_FOUND = """
UPDATE media_external_ids e SET removed_at = NULL
FROM (SELECT DISTINCT unnest($2::text[]) AS external_id) l
WHERE e.service = $1 AND e.removed_at IS NOT NULL AND e.external_id = l.external_id
RETURNING e.media_item_id
"""
# An item is present while one of its library links is; only a changed state is written.
_SETTLE_ITEMS = """
WITH state AS (
    SELECT i.id, EXISTS (
               SELECT 1 FROM media_external_ids e
               WHERE e.media_item_id = i.id AND e.service = ANY($2::text[]) AND e.removed_at IS NULL
           ) AS present
    FROM unnest($1::uuid[]) AS i (id)
)
UPDATE media_items m SET removed_at = CASE WHEN s.present THEN NULL ELSE now() END
FROM state s
WHERE m.id = s.id AND (m.removed_at IS NULL) <> s.present
RETURNING m.removed_at IS NULL AS present
"""


@dataclass(frozen=True)
class RemovalResult:
    removed: int
    restored: int


async def count_present_links(conn: asyncpg.Connection, service: str) -> int:
    """How many of the service's items Marquee believes the server still lists."""
    return int(await conn.fetchval(_COUNT_PRESENT, service))


async def settle_library(
    conn: asyncpg.Connection, service: str, listed_ids: Collection[str]
) -> RemovalResult:
    """Mark the service's items not in ``listed_ids`` removed and clear those in it; call inside a transaction.

    ``listed_ids`` must be every id one complete pass over the server's
    libraries found: an id missing from it is taken as deleted.
    """
    ids = list(listed_ids)
    if not ids:
        # A server that lists nothing at all more likely failed to read its libraries
        # (a disk not mounted, an account without access) than was emptied.
        return RemovalResult(0, 0)
    missing = await conn.fetch(_MARK_MISSING, service, ids)
    found = await conn.fetch(_CLEAR_FOUND, service, ids)
    touched = list({row["media_item_id"] for row in (*missing, *found)})
    if not touched:
        return RemovalResult(0, 0)
    changed = await conn.fetch(_SETTLE_ITEMS, touched, list(LIBRARY_SERVICES))
    restored = sum(1 for row in changed if row["present"])
    return RemovalResult(removed=len(changed) - restored, restored=restored)
