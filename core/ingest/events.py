"""Single events: deletions, bandwidth samples."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from core.ingest.records import BandwidthRecord, DeletionRecord

_FIND_ITEM_BY_CATALOGUE = """
SELECT media_item_id FROM media_external_ids
WHERE (service, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
LIMIT 1
"""
_INSERT_DELETION = """
INSERT INTO deletion_log (media_item_id, title, media_type, file_size_bytes, deleted_at, reason)
-- The space freed is the item's known size when the service does not say.
VALUES ($1, $2, $3, COALESCE($4, (SELECT file_size_bytes FROM media_items WHERE id = $1)), $5, $6)
RETURNING id
"""
_INSERT_BANDWIDTH = """
INSERT INTO bandwidth_logs (user_id, media_item_id, bytes_transferred, stream_duration_seconds, created_at)
SELECT u.user_id, m.media_item_id, s.bytes, s.seconds, s.created_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::integer[], $6::timestamptz[])
     AS s(service, user_external_id, item_external_id, bytes, seconds, created_at)
LEFT JOIN user_external_ids u ON u.service = s.service AND u.external_id = s.user_external_id
LEFT JOIN media_external_ids m ON m.service = s.service AND m.external_id = s.item_external_id
"""


async def record_deletion(conn: asyncpg.Connection, record: DeletionRecord) -> uuid.UUID:
    item_id = None
    if record.catalogue_ids:
        services = list(record.catalogue_ids)
        item_id = await conn.fetchval(
            _FIND_ITEM_BY_CATALOGUE, services, [record.catalogue_ids[s] for s in services]
        )
    deletion_id: uuid.UUID = await conn.fetchval(
        _INSERT_DELETION,
        item_id,
        record.title,
        record.media_type,
        record.file_size_bytes,
        record.deleted_at,
        record.reason,
    )
    return deletion_id


async def record_bandwidth(conn: asyncpg.Connection, records: Sequence[BandwidthRecord]) -> int:
    if not records:
        return 0
    status = await conn.execute(
        _INSERT_BANDWIDTH,
        [r.id_service for r in records],
        [r.user_external_id for r in records],
        [r.item_external_id for r in records],
        [r.bytes_transferred for r in records],
        [r.stream_duration_seconds for r in records],
        [r.created_at for r in records],
    )
    return int(status.rsplit(" ", 1)[-1])
