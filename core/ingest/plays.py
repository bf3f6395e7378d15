"""Plays and per-user counters in bulk, matched to users and items by the services' ids.

Both mark the (user, item) pairs they changed in ``user_stats_pending`` in the
same statement; ``core.ingest.stats.refresh_user_stats`` recomputes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from core.ingest.records import PlayRecord, UserItemState
from core.ingest.staging import load_staging_table

_CREATE_PLAY_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS staging_plays (
    source text NOT NULL, source_id text NOT NULL, lookup_service text NOT NULL,
    user_external_id text NOT NULL, item_external_id text NOT NULL,
    started_at timestamptz, stopped_at timestamptz, watched_seconds integer,
    percent_complete numeric, service_watched boolean
) ON COMMIT DELETE ROWS
"""
_PLAY_COLUMNS = (
    "source", "source_id", "lookup_service", "user_external_id", "item_external_id",
    "started_at", "stopped_at", "watched_seconds", "percent_complete", "service_watched",
)  # fmt: skip

# The CTE that ends both writes below: every (user, item) pair a CTE ``written``
# returned is marked for its user_stats to be recomputed.
_MARK_WRITTEN_PENDING = """marked AS (
    INSERT INTO user_stats_pending (user_id, media_item_id)
    SELECT DISTINCT user_id, media_item_id FROM written
    -- One key order for every writer, so concurrent pages never deadlock here.
    ORDER BY user_id, media_item_id
    ON CONFLICT DO NOTHING
)"""

# Plays of a user or item the service no longer lists are left out, not guessed.
_WRITE_PLAYS = f"""
WITH matched AS (
    SELECT u.user_id, m.media_item_id,
           COALESCE(s.started_at,
                    s.stopped_at - make_interval(secs => COALESCE(s.watched_seconds, i.duration_seconds, 0))),
           s.stopped_at, COALESCE(s.watched_seconds, i.duration_seconds, 0),
           s.percent_complete, s.service_watched, s.source, s.source_id
    FROM staging_plays s
    JOIN user_external_ids u ON u.service = s.lookup_service AND u.external_id = s.user_external_id
    JOIN media_external_ids m ON m.service = s.lookup_service AND m.external_id = s.item_external_id
    JOIN media_items i ON i.id = m.media_item_id
    WHERE s.started_at IS NOT NULL OR s.stopped_at IS NOT NULL
), written AS (
    INSERT INTO watch_history (user_id, media_item_id, started_at, stopped_at, watched_seconds,
                               percent_complete, service_watched, source, source_id)
    SELECT * FROM matched
    ON CONFLICT (source, source_id) WHERE source IS NOT NULL AND source_id IS NOT NULL
    DO UPDATE SET user_id = excluded.user_id, media_item_id = excluded.media_item_id,
                  started_at = excluded.started_at, stopped_at = excluded.stopped_at,
                  watched_seconds = excluded.watched_seconds, percent_complete = excluded.percent_complete,
                  -- A report that gives no verdict (Tautulli's "stop" webhook) keeps the one known.
                  service_watched = COALESCE(excluded.service_watched, watch_history.service_watched)
    WHERE (watch_history.user_id, watch_history.media_item_id, watch_history.started_at,
           watch_history.stopped_at, watch_history.watched_seconds, watch_history.percent_complete,
           watch_history.service_watched)
          IS DISTINCT FROM
          (excluded.user_id, excluded.media_item_id, excluded.started_at, excluded.stopped_at,
           excluded.watched_seconds, excluded.percent_complete,
           COALESCE(excluded.service_watched, watch_history.service_watched))
    RETURNING user_id, media_item_id
), {_MARK_WRITTEN_PENDING}
SELECT (SELECT count(*) FROM matched) AS matched, (SELECT count(*) FROM written) AS written
"""

_CREATE_STATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS staging_state (
    service text NOT NULL, user_external_id text NOT NULL, item_external_id text NOT NULL,
    play_count integer, played boolean, last_played_at timestamptz, rating numeric
) ON COMMIT DELETE ROWS
"""
_STATE_COLUMNS = (
    "service", "user_external_id", "item_external_id", "play_count", "played", "last_played_at", "rating",
)  # fmt: skip
_WRITE_STATE = f"""
WITH written AS (
    INSERT INTO media_user_state (service, user_id, media_item_id, play_count, played, last_played_at, rating)
    SELECT DISTINCT ON (u.user_id, m.media_item_id)
           s.service, u.user_id, m.media_item_id, s.play_count, s.played, s.last_played_at,
           round(s.rating, 1)
    FROM staging_state s
    JOIN user_external_ids u ON u.service = s.service AND u.external_id = s.user_external_id
    JOIN media_external_ids m ON m.service = s.service AND m.external_id = s.item_external_id
    ON CONFLICT (service, user_id, media_item_id) DO UPDATE SET
        play_count = excluded.play_count, played = excluded.played,
        last_played_at = excluded.last_played_at, rating = excluded.rating
    WHERE (media_user_state.play_count, media_user_state.played, media_user_state.last_played_at,
           media_user_state.rating)
          IS DISTINCT FROM (excluded.play_count, excluded.played, excluded.last_played_at, excluded.rating)
    RETURNING user_id, media_item_id
), {_MARK_WRITTEN_PENDING}
SELECT count(*) FROM written
"""


@dataclass(frozen=True)
class PlayUpsertResult:
    received: int
    matched: int
    written: int


async def upsert_plays(conn: asyncpg.Connection, records: Sequence[PlayRecord]) -> PlayUpsertResult:
    """Write new or changed plays and mark their user_stats for recompute; call inside a transaction."""
    if not records:
        return PlayUpsertResult(0, 0, 0)
    # The same play twice in one batch would make the upsert touch a row twice; the last one wins.
    unique = {(record.service, record.source_id): record for record in records}
    await load_staging_table(
        conn,
        _CREATE_PLAY_STAGING,
        "staging_plays",
        _PLAY_COLUMNS,
        (
            (
                r.service,
                r.source_id,
                r.lookup_service,
                r.user_external_id,
                r.item_external_id,
                r.started_at,
                r.stopped_at,
                r.watched_seconds,
                r.percent_complete,
                r.service_watched,
            )
            for r in unique.values()
        ),
    )
    row = await conn.fetchrow(_WRITE_PLAYS)
    assert row is not None
    return PlayUpsertResult(received=len(records), matched=row["matched"], written=row["written"])


async def upsert_user_item_states(conn: asyncpg.Connection, records: Sequence[UserItemState]) -> int:
    """Write a service's per-user counters and mark their user_stats for recompute; returns rows written."""
    if not records:
        return 0
    await load_staging_table(
        conn,
        _CREATE_STATE_STAGING,
        "staging_state",
        _STATE_COLUMNS,
        (
            (
                r.service,
                r.user_external_id,
                r.item_external_id,
                r.play_count,
                r.played,
                r.last_played_at,
                r.rating,
            )
            for r in records
        ),
    )
    written: int = await conn.fetchval(_WRITE_STATE)
    return written


# A play that continues earlier streams (Tautulli groups a resumed stream with the one
# it resumes) replaces rows written for those streams one by one, e.g. by a webhook:
# the same service's rows of the same user and item that started within the play.
_RETIRE_MERGED = f"""
WITH plays AS (
    SELECT * FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS p(source_id, started_at, stopped_at)
), kept AS (
    SELECT w.user_id, w.media_item_id, p.source_id, p.started_at, p.stopped_at
    FROM plays p JOIN watch_history w ON w.source = $1 AND w.source_id = p.source_id
), written AS (
    DELETE FROM watch_history w USING kept k
    WHERE w.source = $1 AND w.user_id = k.user_id AND w.media_item_id = k.media_item_id
      AND w.started_at > k.started_at AND w.started_at <= k.stopped_at AND w.source_id <> k.source_id
    RETURNING w.user_id, w.media_item_id
), {_MARK_WRITTEN_PENDING}
SELECT count(*) FROM written
"""


async def retire_sessions_merged_into(conn: asyncpg.Connection, plays: Sequence[PlayRecord]) -> int:
    """Delete the rows of streams these (already written) plays now hold; returns how many."""
    spans = [p for p in plays if p.started_at is not None and p.stopped_at is not None]
    if not spans:
        return 0
    retired: int = 0
    for service in sorted({p.service for p in spans}):
        mine = [p for p in spans if p.service == service]
        retired += await conn.fetchval(
            _RETIRE_MERGED,
            service,
            [p.source_id for p in mine],
            [p.started_at for p in mine],
            [p.stopped_at for p in mine],
        )
    return retired
