"""New media announced to a channel/room per library, batched: a season added is one message.

A ``library.new`` (Plex) or ``ItemAdded`` (Jellyfin) webhook records an
arrival per movie or episode (``record_arrivals``, in the webhook's
transaction), under the item's library. ``flush_announcements`` (the admin
watch, every minute) waits until a library has had no new arrival for
``quiet`` and then turns all its waiting arrivals into one message per target
channel/room, through the notification outbox (audience ``channel``). Only the
libraries mapped in the settings are announced; arrivals of other libraries
are swept after two days.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from core.answer import escape_markdown
from core.ingest.records import MediaRecord
from core.media_requests.notifications import LIFETIME

log = logging.getLogger(__name__)

NEW_MEDIA_EVENTS = frozenset({"library.new", "ItemAdded"})
KEPT = timedelta(days=2)
MAX_LINES = 20

# The item's library as the webhook said, else as the sync recorded it (itself or its show's).
_RECORD = """
INSERT INTO media_arrivals (media_item_id, library_name, received_at)
SELECT mi.id, coalesce($3, mi.library_name, p.library_name), $4
FROM media_external_ids x JOIN media_items mi ON mi.id = x.media_item_id
LEFT JOIN media_items p ON p.id = mi.parent_id
WHERE x.service = $1 AND x.external_id = $2 AND coalesce($3, mi.library_name, p.library_name) IS NOT NULL
ON CONFLICT (media_item_id) DO NOTHING
"""
_QUIET_LIBRARIES = """
SELECT library_name FROM media_arrivals WHERE announced_at IS NULL AND library_name = ANY($1::text[])
GROUP BY library_name HAVING max(received_at) <= $2
"""
# Taken by the flush that marks them: two flushes at once announce each arrival once.
_TAKE = """
WITH taken AS (
    UPDATE media_arrivals SET announced_at = $2
    WHERE library_name = $1 AND announced_at IS NULL
    RETURNING id, media_item_id, received_at
)
SELECT t.id, t.received_at, mi.title, mi.media_type, mi.year, mi.season_number, p.title AS show_title
FROM taken t JOIN media_items mi ON mi.id = t.media_item_id LEFT JOIN media_items p ON p.id = mi.parent_id
ORDER BY t.received_at, mi.season_number NULLS FIRST, mi.episode_number NULLS FIRST
"""
_ENQUEUE = """
INSERT INTO notification_outbox (event_key, audience, platform, platform_user_id, body, created_at, expires_at)
VALUES ($1, 'channel', $2, $3, $4, $5, $6)
ON CONFLICT (event_key, platform, platform_user_id) DO NOTHING
"""
_SWEEP = "DELETE FROM media_arrivals WHERE received_at < $1"


@dataclass(frozen=True)
class AnnouncementConfig:
    # platform → library name → channel id (Discord) or room id (Matrix).
    targets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    quiet: timedelta = timedelta(minutes=5)

    @property
    def libraries(self) -> list[str]:
        return sorted({library for by_library in self.targets.values() for library in by_library})


async def record_arrivals(
    conn: asyncpg.Connection, event_type: str, media: Iterable[MediaRecord], now: datetime | None = None
) -> int:
    """Note the movies and episodes a new-media webhook added (after they were written)."""
    if event_type not in NEW_MEDIA_EVENTS:
        return 0
    now = now or datetime.now(UTC)
    recorded = 0
    for record in media:
        if record.media_type not in ("movie", "episode"):
            continue  # a show arrives with its episodes
        status = await conn.execute(_RECORD, record.service, record.external_id, record.library_name, now)
        recorded += int(status.rsplit(" ", 1)[-1])
    return recorded


def announcement(library: str, rows: list[asyncpg.Record]) -> str:
    """One message for a library's batch: movies by title, episodes counted per show and season."""
    lines: list[str] = []
    seasons: dict[tuple[str, int | None], int] = defaultdict(int)
    order: list[tuple[str, int | None]] = []
    for row in rows:
        if row["media_type"] == "episode":
            key = (row["show_title"] or row["title"], row["season_number"])
            if key not in seasons:
                order.append(key)
            seasons[key] += 1
        else:
            year = f" ({row['year']})" if row["year"] else ""
            lines.append(f"- **{escape_markdown(row['title'])}**{year}")
    for show, season in order:
        count = seasons[(show, season)]
        where = f", season {season}" if season is not None else ""
        lines.append(f"- **{escape_markdown(show)}**{where} ({count} episode{'s' if count != 1 else ''})")
    if len(lines) > MAX_LINES:
        lines = [*lines[:MAX_LINES], f"- and {len(lines) - MAX_LINES} more"]
    return "\n".join([f"🍿 New in {escape_markdown(library)}:", *lines])


async def flush_announcements(
    pool: asyncpg.Pool, config: AnnouncementConfig, now: datetime | None = None
) -> int:
    """Announce every mapped library that has been quiet for ``config.quiet``; returns messages queued."""
    now = now or datetime.now(UTC)
    await pool.execute(_SWEEP, now - KEPT)
    libraries = config.libraries
    if not libraries:
        return 0
    queued = 0
    for row in await pool.fetch(_QUIET_LIBRARIES, libraries, now - config.quiet):
        library = row["library_name"]
        async with pool.acquire() as conn, conn.transaction():
            taken = await conn.fetch(_TAKE, library, now)
            if not taken:
                continue
            body = announcement(library, list(taken))
            key = f"announce:{library}:{min(str(r['id']) for r in taken)}"
            for platform, by_library in sorted(config.targets.items()):
                target = by_library.get(library)
                if target is None:
                    continue
                await conn.execute(_ENQUEUE, key, platform, target, body, now, now + LIFETIME)
                queued += 1
        log.info("announced %d new items of %s", len(taken), library)
    return queued
