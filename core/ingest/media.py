"""Media items in bulk: a staging table filled by COPY, then set-based upserts.

One item seen through several services is one ``media_items`` row: a record is
matched first by its own service id, then (movies and shows) by a catalogue id
(tmdb, tvdb, imdb). Existing rows are only written when a value changed, so a
re-sync that finds nothing new writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from core.ingest.records import CATALOGUES, MediaRecord
from core.ingest.staging import load_staging_table

_CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS staging_media (
    service text NOT NULL, external_id text NOT NULL, title text NOT NULL, media_type text NOT NULL,
    year integer, library_name text, metadata_json text NOT NULL, duration_seconds integer,
    file_size_bytes bigint, added_at timestamptz, parent_external_id text, season_number integer,
    episode_number integer, tmdb text, tvdb text, imdb text,
    item_id uuid, parent_item_id uuid, is_new boolean NOT NULL DEFAULT false
) ON COMMIT DELETE ROWS
"""
_STAGING_COLUMNS = (
    "service", "external_id", "title", "media_type", "year", "library_name", "metadata_json",
    "duration_seconds", "file_size_bytes", "added_at", "parent_external_id", "season_number",
    "episode_number", "tmdb", "tvdb", "imdb",
)  # fmt: skip


def _catalogue_match(catalogue: str) -> str:
    return f"""(SELECT m.id FROM media_external_ids e JOIN media_items m ON m.id = e.media_item_id
             WHERE s.media_type IN ('movie', 'show') AND e.service = '{catalogue}'
               AND e.external_id = s.{catalogue} AND m.media_type = s.media_type)"""


# Every lookup is by media_external_ids' primary key, driven by the staging
# rows: the plan cannot depend on table statistics, which are stale while a
# first sync fills the tables (a join the planner drove from media_external_ids
# took 7 s a page).
_RESOLVE = f"""
WITH resolved AS (
    SELECT s.service, s.external_id,
           coalesce(
               (SELECT e.media_item_id FROM media_external_ids e
                WHERE e.service = s.service AND e.external_id = s.external_id),
               {", ".join(_catalogue_match(catalogue) for catalogue in CATALOGUES)}
           ) AS found,
           (SELECT e.media_item_id FROM media_external_ids e
            WHERE e.service = s.service AND e.external_id = s.parent_external_id) AS parent_item_id
    FROM staging_media s
)
UPDATE staging_media s
SET item_id = coalesce(r.found, gen_random_uuid()), is_new = r.found IS NULL, parent_item_id = r.parent_item_id
FROM resolved r
WHERE r.service = s.service AND r.external_id = s.external_id
"""
_MATCH_PARENT_IN_BATCH = """
UPDATE staging_media s SET parent_item_id = p.item_id
FROM staging_media p
WHERE s.parent_item_id IS NULL AND s.parent_external_id IS NOT NULL
  AND p.service = s.service AND p.external_id = s.parent_external_id
"""
_INSERT_NEW = """
INSERT INTO media_items (id, title, media_type, year, parent_id, season_number, episode_number,
                         library_name, metadata, duration_seconds, file_size_bytes, added_at)
SELECT item_id, title, media_type, year,
       CASE WHEN media_type = 'episode' THEN parent_item_id END,
       season_number, episode_number, library_name, metadata_json::jsonb, duration_seconds,
       file_size_bytes, added_at
FROM staging_media WHERE is_new
"""
# A value one service does not know never blanks what another reported; the
# item counts as added when the first service had it.
_UPDATE_CHANGED = """
WITH incoming AS (
    SELECT m.id,
           s.title,
           COALESCE(s.year, m.year) AS year,
           CASE WHEN m.media_type = 'episode' THEN COALESCE(s.parent_item_id, m.parent_id) END AS parent_id,
           COALESCE(s.season_number, m.season_number) AS season_number,
           COALESCE(s.episode_number, m.episode_number) AS episode_number,
           COALESCE(s.library_name, m.library_name) AS library_name,
           m.metadata || s.metadata_json::jsonb AS metadata,
           COALESCE(s.duration_seconds, m.duration_seconds) AS duration_seconds,
           COALESCE(s.file_size_bytes, m.file_size_bytes) AS file_size_bytes,
           LEAST(m.added_at, COALESCE(s.added_at, m.added_at)) AS added_at
    FROM staging_media s JOIN media_items m ON m.id = s.item_id
    WHERE NOT s.is_new
)
UPDATE media_items m SET
    title = i.title, year = i.year, parent_id = i.parent_id, season_number = i.season_number,
    episode_number = i.episode_number, library_name = i.library_name, metadata = i.metadata,
    duration_seconds = i.duration_seconds, file_size_bytes = i.file_size_bytes, added_at = i.added_at
FROM incoming i
WHERE m.id = i.id
  AND (m.title, m.year, m.parent_id, m.season_number, m.episode_number, m.library_name, m.metadata,
       m.duration_seconds, m.file_size_bytes, m.added_at)
      IS DISTINCT FROM
      (i.title, i.year, i.parent_id, i.season_number, i.episode_number, i.library_name, i.metadata,
       i.duration_seconds, i.file_size_bytes, i.added_at)
"""
_LINK_EXTERNAL_IDS = """
INSERT INTO media_external_ids (service, external_id, media_item_id)
SELECT service, external_id, item_id FROM staging_media
UNION ALL SELECT 'tmdb', tmdb, item_id FROM staging_media WHERE tmdb IS NOT NULL AND media_type <> 'episode'
UNION ALL SELECT 'tvdb', tvdb, item_id FROM staging_media WHERE tvdb IS NOT NULL AND media_type <> 'episode'
UNION ALL SELECT 'imdb', imdb, item_id FROM staging_media WHERE imdb IS NOT NULL AND media_type <> 'episode'
ON CONFLICT (service, external_id) DO NOTHING
"""

# A library pass that lists an item says it is on the server: what was marked
# removed (core.ingest.removals) is present again. Only library passes say so;
# Tautulli's history lists deleted items too.
_CLEAR_LISTED_LINKS = """
UPDATE media_external_ids e SET removed_at = NULL
FROM staging_media s
WHERE e.removed_at IS NOT NULL AND e.service = s.service AND e.external_id = s.external_id
"""
_CLEAR_LISTED_ITEMS = """
UPDATE media_items m SET removed_at = NULL
FROM staging_media s
WHERE m.removed_at IS NOT NULL AND m.id = s.item_id
"""


@dataclass(frozen=True)
class MediaUpsertResult:
    inserted: int
    updated: int
    # Items marked removed that the library listing has again (only with listed_by_library).
    restored: int = 0


# A title's overview and its first-billed people are what describe it; more is noise and bytes.
MAX_SUMMARY_CHARS = 4000
MAX_PEOPLE = 10


def _metadata(record: MediaRecord) -> str:
    metadata: dict[str, object] = {}
    if record.genres:
        metadata["genres"] = list(record.genres)
    if record.audience_rating is not None:
        metadata["audience_rating"] = record.audience_rating
    if record.summary:
        metadata["summary"] = record.summary[:MAX_SUMMARY_CHARS]
    for key, names in (("cast", record.cast), ("directors", record.directors), ("writers", record.writers)):
        if names:
            metadata[key] = list(names[:MAX_PEOPLE])
    return json.dumps(metadata, sort_keys=True)


def _row(record: MediaRecord) -> tuple[object, ...]:
    return (
        record.service,
        record.external_id,
        record.title,
        record.media_type,
        record.year,
        record.library_name,
        _metadata(record),
        record.duration_seconds,
        record.file_size_bytes,
        record.added_at,
        record.parent_external_id,
        record.season_number,
        record.episode_number,
        *(record.catalogue_ids.get(catalogue) for catalogue in CATALOGUES),
    )


def _affected(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def upsert_media(
    conn: asyncpg.Connection, records: Sequence[MediaRecord], *, listed_by_library: bool = False
) -> MediaUpsertResult:
    """Upsert a batch of items; call inside a transaction. Shows must come in an earlier or the same batch as their episodes.

    ``listed_by_library``: the records come from the server's own library
    listing, so any of them marked removed is there again.
    """
    if not records:
        return MediaUpsertResult(0, 0)
    # A page may list an item twice when the library changes while it is read; the last one wins.
    unique = {(record.service, record.external_id): record for record in records}
    await load_staging_table(
        conn, _CREATE_STAGING, "staging_media", _STAGING_COLUMNS, map(_row, unique.values())
    )
    await conn.execute(_RESOLVE)
    await conn.execute(_MATCH_PARENT_IN_BATCH)
    inserted = _affected(await conn.execute(_INSERT_NEW))
    updated = _affected(await conn.execute(_UPDATE_CHANGED))
    await conn.execute(_LINK_EXTERNAL_IDS)
    restored = 0
    if listed_by_library:
        await conn.execute(_CLEAR_LISTED_LINKS)
        restored = _affected(await conn.execute(_CLEAR_LISTED_ITEMS))
    return MediaUpsertResult(inserted=inserted, updated=updated, restored=restored)


# A sync that wrote at least this many items analyses the item tables before
# it writes plays: the statements that match plays to items are planned from
# those statistics, and autovacuum may not have caught up with a first sync.
BULK_ITEMS = 10_000


async def analyze_media_tables(conn: asyncpg.Connection) -> None:
    """Bring the planner's statistics of the item tables up to date (a fraction of a second)."""
    await conn.execute("ANALYZE media_items, media_external_ids")
