"""Content requests from Overseerr/Jellyseerr, matched to media items by TMDB/TVDB id."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import asyncpg

from core.ingest.records import RequestRecord
from core.ingest.users import upsert_user

log = logging.getLogger(__name__)

_FIND_ITEM = """
SELECT e.media_item_id FROM media_external_ids e JOIN media_items m ON m.id = e.media_item_id
WHERE m.media_type = $3
  AND ((e.service = 'tmdb' AND e.external_id = $1::text) OR (e.service = 'tvdb' AND e.external_id = $2::text))
LIMIT 1
"""

# Decision and availability times are kept once known: a later sync that no
# longer carries them (a re-opened request) does not erase the history.
_UPSERT_REQUEST = """
INSERT INTO content_requests AS r (
    title, media_type, media_item_id, requested_by_user_id, status, requested_at, approved_at,
    approved_by_user_id, declined_at, available_at, source, source_request_id, tmdb_id, tvdb_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (source, source_request_id) WHERE source IS NOT NULL AND source_request_id IS NOT NULL
DO UPDATE SET
    title = excluded.title,
    media_item_id = COALESCE(excluded.media_item_id, r.media_item_id),
    requested_by_user_id = excluded.requested_by_user_id,
    status = excluded.status,
    approved_at = COALESCE(r.approved_at, excluded.approved_at),
    approved_by_user_id = COALESCE(r.approved_by_user_id, excluded.approved_by_user_id),
    declined_at = COALESCE(r.declined_at, excluded.declined_at),
    available_at = COALESCE(r.available_at, excluded.available_at),
    tmdb_id = COALESCE(excluded.tmdb_id, r.tmdb_id),
    tvdb_id = COALESCE(excluded.tvdb_id, r.tvdb_id)
WHERE (r.title, r.media_item_id, r.requested_by_user_id, r.status, r.approved_at, r.approved_by_user_id,
       r.declined_at, r.available_at, r.tmdb_id, r.tvdb_id)
      IS DISTINCT FROM
      (excluded.title, COALESCE(excluded.media_item_id, r.media_item_id), excluded.requested_by_user_id,
       excluded.status, COALESCE(r.approved_at, excluded.approved_at),
       COALESCE(r.approved_by_user_id, excluded.approved_by_user_id),
       COALESCE(r.declined_at, excluded.declined_at), COALESCE(r.available_at, excluded.available_at),
       COALESCE(excluded.tmdb_id, r.tmdb_id), COALESCE(excluded.tvdb_id, r.tvdb_id))
RETURNING id
"""

# Items added after their request was synced get linked on the next run.
_LINK_UNMATCHED = """
UPDATE content_requests r SET media_item_id = e.media_item_id
FROM media_external_ids e JOIN media_items m ON m.id = e.media_item_id
WHERE r.media_item_id IS NULL AND m.media_type = r.media_type
  AND ((e.service = 'tmdb' AND e.external_id = r.tmdb_id::text)
       OR (e.service = 'tvdb' AND e.external_id = r.tvdb_id::text))
"""


@dataclass(frozen=True)
class RequestUpsertResult:
    request_id: uuid.UUID | None
    changed: bool


async def upsert_request(conn: asyncpg.Connection, record: RequestRecord) -> RequestUpsertResult:
    """Upsert one request with its requester and approver; call inside a transaction.

    A record without a requester (a webhook names its requester only by fields the
    requester edits) changes only a request already known with its requester.
    """
    if record.requester is not None:
        requester_id: uuid.UUID | None = await upsert_user(conn, record.requester)
    else:
        requester_id = await conn.fetchval(
            "SELECT requested_by_user_id FROM content_requests WHERE source = $1 AND source_request_id = $2",
            record.service,
            record.source_request_id,
        )
        if requester_id is None:
            log.info(
                "%s request %s: requester not known yet; the next sync records it",
                record.service,
                record.source_request_id,
            )
            return RequestUpsertResult(request_id=None, changed=False)
    approver_id = await upsert_user(conn, record.approved_by) if record.approved_by is not None else None
    item_id = None
    if record.tmdb_id is not None or record.tvdb_id is not None:
        item_id = await conn.fetchval(
            _FIND_ITEM,
            str(record.tmdb_id) if record.tmdb_id is not None else None,
            str(record.tvdb_id) if record.tvdb_id is not None else None,
            record.media_type,
        )
    request_id = await conn.fetchval(
        _UPSERT_REQUEST,
        record.title,
        record.media_type,
        item_id,
        requester_id,
        record.status,
        record.requested_at,
        record.approved_at,
        approver_id,
        record.declined_at,
        record.available_at,
        record.service,
        record.source_request_id,
        record.tmdb_id,
        record.tvdb_id,
    )
    return RequestUpsertResult(request_id=request_id, changed=request_id is not None)


async def link_requests_to_items(conn: asyncpg.Connection) -> int:
    status = await conn.execute(_LINK_UNMATCHED)
    return int(status.rsplit(" ", 1)[-1])
