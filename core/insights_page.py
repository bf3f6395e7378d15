"""What the AI-insights page shows, and the triage actions it offers on the learning queue.

Everything here is aggregate or about a queue entry; no member's identity and no
chat history is ever read. Every action is written to ``ai_learning_queue_actions``
(who, when, what) in the same transaction as the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg

from core.errors import UserFacingError

QueueStatus = Literal["pending", "in_progress", "resolved", "wont_fix"]
QUEUE_STATUSES: tuple[QueueStatus, ...] = ("pending", "in_progress", "resolved", "wont_fix")
CLOSED_STATUSES = ("resolved", "wont_fix")
PRIORITIES = (1, 2, 3, 4, 5)
QUEUE_PAGE_SIZE = 100
MAX_NOTE_LENGTH = 2000
CALIBRATION_BUCKETS = 10

# What would fill a table or column that answers found missing; the integration
# or change an admin can make. Anything not listed gets a generic suggestion.
_KNOWN_FIXES: dict[str, str] = {
    "bandwidth_logs": "Connect Tautulli (its history carries stream bandwidth) so bandwidth_logs fills.",
    "content_requests": "Connect Overseerr or Jellyseerr so requests are synced.",
    "content_requests.approved_by_user_id": "Connect Overseerr/Jellyseerr with an admin API key so approvers sync.",
    "user_stats": "Run a sync (marquee sync) or connect Tautulli so per-user viewing is known.",
    "playback_sessions": "Connect Tautulli or enable the Plex/Jellyfin webhooks so plays are recorded.",
    "media_items.metadata.genres": "Resync libraries from Plex/Jellyfin; their metadata carries genres.",
    "media_items.metadata.rating": "Resync libraries from Plex/Jellyfin; their metadata carries ratings.",
    "media_items.file_size_bytes": "Resync libraries: Plex and Jellyfin report file sizes per item.",
    "api_logs": "Route Marquee's HTTP server behind the proxy so API calls are logged.",
}


def suggested_change(item: str, from_queue: str | None = None) -> str:
    """The schema or integration change that would supply ``item`` (a table or table.column)."""
    if item in _KNOWN_FIXES:
        return _KNOWN_FIXES[item]
    if from_queue:
        return from_queue
    if "." in item:
        table, column = item.split(".", 1)
        return f"Fill {table}.{column}: add the column to a sync, or a migration that derives it."
    return f"Populate {item}: a sync or webhook that writes it, or a new table if it does not exist."


class InsightsActionError(UserFacingError):
    """An action that cannot be done (unknown entry, bad value); the reason is safe to show."""


# -- struggles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Struggle:
    id: UUID
    question: str
    question_type: str | None
    status: str
    priority: int
    times_asked: int
    times_reported_wrong: int
    last_asked_at: datetime
    why_failed: str | None
    mean_confidence: float | None
    modes: list[str]
    engines: list[str]


_STRUGGLES = """
SELECT q.id, q.question, q.question_type, q.status, q.priority, q.times_asked, q.times_reported_wrong,
       q.last_asked_at, q.why_failed, a.mean_confidence, coalesce(a.modes, '{}') AS modes,
       coalesce(a.engines, '{}') AS engines
FROM ai_learning_queue q
LEFT JOIN LATERAL (
    SELECT avg(f.confidence_score)::float AS mean_confidence,
           array_agg(DISTINCT f.mode) FILTER (WHERE f.mode IS NOT NULL) AS modes,
           array_agg(DISTINCT f.engine) FILTER (WHERE f.engine IS NOT NULL) AS engines
    FROM ai_conversation_feedback f WHERE f.learning_queue_id = q.id
) a ON true
WHERE q.status IN ('pending', 'in_progress')
ORDER BY q.times_reported_wrong DESC, a.mean_confidence ASC NULLS LAST, q.times_asked DESC, q.last_asked_at DESC
LIMIT $1
"""


async def struggles(conn: asyncpg.Connection, limit: int = 15) -> list[Struggle]:
    """Open queue entries (one per dedup group), most ❌ first, then the lowest confidence."""
    return [
        Struggle(**{**dict(r), "modes": list(r["modes"]), "engines": list(r["engines"])})
        for r in await conn.fetch(_STRUGGLES, limit)
    ]


# -- missing data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingDataPattern:
    item: str
    questions: int
    times_asked: int
    times_reported_wrong: int
    suggestion: str


_MISSING_TABLES = """
SELECT item, count(*) AS questions, sum(times_asked)::bigint AS asked, sum(times_reported_wrong)::bigint AS wrong,
       (array_agg(suggested_solution ORDER BY times_asked DESC)
            FILTER (WHERE suggested_solution IS NOT NULL))[1] AS suggestion
FROM (SELECT unnest(missing_tables) AS item, times_asked, times_reported_wrong, suggested_solution
      FROM ai_learning_queue WHERE status IN ('pending', 'in_progress')) wanted
GROUP BY item ORDER BY sum(times_asked + 3 * times_reported_wrong) DESC, item LIMIT $1
"""

_WISHES = """
SELECT item, count(*) AS n
FROM ai_conversation_feedback f,
     jsonb_array_elements_text(CASE WHEN jsonb_typeof(f.could_improve_with) = 'array'
                                    THEN f.could_improve_with ELSE '[]'::jsonb END) AS item
WHERE f.created_at > now() - $1::interval
GROUP BY item ORDER BY n DESC, item LIMIT $2
"""


async def missing_data_patterns(conn: asyncpg.Connection, limit: int = 20) -> list[MissingDataPattern]:
    """The tables/columns open questions lacked, weighted by asks and ❌, each with the change that helps."""
    return [
        MissingDataPattern(
            r["item"], r["questions"], r["asked"], r["wrong"], suggested_change(r["item"], r["suggestion"])
        )
        for r in await conn.fetch(_MISSING_TABLES, limit)
    ]


async def improvement_wishes(conn: asyncpg.Connection, period: timedelta, limit: int = 10) -> list[tuple[str, int]]:
    """What the answers themselves said would have helped, counted over the period."""
    return [(r["item"], r["n"]) for r in await conn.fetch(_WISHES, period, limit)]


# -- satisfaction -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SatisfactionRow:
    label: str
    answers: int
    thumbs_up: int
    reported_wrong: int
    followed_up: int

    @property
    def thumbs_up_rate(self) -> float:
        return self.thumbs_up / self.answers if self.answers else 0.0

    @property
    def wrong_rate(self) -> float:
        return self.reported_wrong / self.answers if self.answers else 0.0

    @property
    def follow_up_rate(self) -> float:
        return self.followed_up / self.answers if self.answers else 0.0


@dataclass
class Satisfaction:
    by_week: list[SatisfactionRow] = field(default_factory=list)
    by_question_type: list[SatisfactionRow] = field(default_factory=list)
    by_engine: list[SatisfactionRow] = field(default_factory=list)


# Weeks start on Monday in the server's zone. GROUPING() tells the three sets apart.
_SATISFACTION = """
SELECT GROUPING(week, question_type, engine) AS grouping_set, week, question_type, engine,
       count(*) AS answers,
       count(*) FILTER (WHERE user_rating IS NOT NULL) AS thumbs_up,
       count(*) FILTER (WHERE user_reported_wrong) AS reported_wrong,
       count(*) FILTER (WHERE user_followed_up) AS followed_up
FROM (
    SELECT date_trunc('week', created_at AT TIME ZONE $2)::date AS week,
           coalesce(question_type, 'unknown') AS question_type, coalesce(engine, 'unknown') AS engine,
           user_rating, user_reported_wrong, user_followed_up
    FROM ai_conversation_feedback WHERE created_at > now() - $1::interval
) answers
GROUP BY GROUPING SETS ((week), (question_type), (engine))
"""


async def satisfaction(conn: asyncpg.Connection, period: timedelta, timezone: str) -> Satisfaction:
    result = Satisfaction()
    for r in await conn.fetch(_SATISFACTION, period, timezone):
        counts = (r["answers"], r["thumbs_up"], r["reported_wrong"], r["followed_up"])
        if r["grouping_set"] == 0b011:
            week: date = r["week"]
            result.by_week.append(SatisfactionRow(f"{week:%Y-%m-%d}", *counts))
        elif r["grouping_set"] == 0b101:
            result.by_question_type.append(SatisfactionRow(r["question_type"], *counts))
        else:
            result.by_engine.append(SatisfactionRow(r["engine"], *counts))
    result.by_week.sort(key=lambda row: row.label, reverse=True)
    result.by_question_type.sort(key=lambda row: (-row.answers, row.label))
    result.by_engine.sort(key=lambda row: (-row.answers, row.label))
    return result


# -- calibration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationBucket:
    low: float  # the bucket holds confidences in [low, low + 0.1), the last one includes 1.0
    answers: int
    not_reported_wrong: int

    @property
    def share_not_wrong(self) -> float:
        return self.not_reported_wrong / self.answers if self.answers else 0.0


@dataclass(frozen=True)
class EngineCalibration:
    engine: str
    answers: int
    mean_confidence: float
    success_rate: float  # share of answers not reported wrong
    buckets: list[CalibrationBucket]


_CALIBRATION = """
SELECT GROUPING(bucket) AS whole_engine, engine, bucket, count(*) AS answers,
       count(*) FILTER (WHERE NOT user_reported_wrong) AS not_wrong,
       avg(confidence_score)::float AS mean_confidence
FROM (
    SELECT coalesce(engine, 'unknown') AS engine,
           least(floor(confidence_score * $2::int)::int, $2::int - 1) AS bucket, confidence_score, user_reported_wrong
    FROM ai_conversation_feedback
    WHERE created_at > now() - $1::interval AND confidence_score IS NOT NULL
) scored
GROUP BY GROUPING SETS ((engine, bucket), (engine))
ORDER BY engine, bucket
"""


async def calibration(conn: asyncpg.Connection, period: timedelta) -> list[EngineCalibration]:
    """Per engine: how often answers of each confidence bucket were not reported wrong."""
    buckets: dict[str, list[CalibrationBucket]] = {}
    totals: dict[str, asyncpg.Record] = {}
    for r in await conn.fetch(_CALIBRATION, period, CALIBRATION_BUCKETS):
        if r["whole_engine"]:
            totals[r["engine"]] = r
        else:
            buckets.setdefault(r["engine"], []).append(
                CalibrationBucket(r["bucket"] / CALIBRATION_BUCKETS, r["answers"], r["not_wrong"])
            )
    return [
        EngineCalibration(
            engine,
            t["answers"],
            t["mean_confidence"],
            t["not_wrong"] / t["answers"],
            buckets.get(engine, []),
        )
        for engine, t in sorted(totals.items(), key=lambda item: -item[1]["answers"])
    ]


# -- the queue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    status: QueueStatus | None = "pending"
    question_type: str | None = None
    priority: int | None = None


_QUEUE_COLUMNS = """id, question, question_type, why_failed, missing_tables, suggested_solution, priority,
    times_asked, times_reported_wrong, status, created_at, last_asked_at, resolved_at, resolution_note,
    merged_into, priority_set_at"""

_QUEUE = f"""
SELECT {_QUEUE_COLUMNS}, count(*) OVER () AS matching
FROM ai_learning_queue
WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR question_type = $2)
  AND ($3::int IS NULL OR priority = $3)
ORDER BY priority DESC, times_asked DESC, last_asked_at DESC, id
LIMIT $4
"""


@dataclass
class QueuePage:
    entries: list[dict[str, Any]]
    matching: int
    question_types: list[str]
    counts_by_status: dict[str, int]


async def queue_page(conn: asyncpg.Connection, filters: QueueFilter, limit: int = QUEUE_PAGE_SIZE) -> QueuePage:
    rows = await conn.fetch(_QUEUE, filters.status, filters.question_type, filters.priority, limit)
    types = await conn.fetch(
        "SELECT DISTINCT question_type FROM ai_learning_queue WHERE question_type IS NOT NULL ORDER BY 1"
    )
    counts = await conn.fetch("SELECT status, count(*) AS n FROM ai_learning_queue GROUP BY status")
    return QueuePage(
        entries=[{k: v for k, v in dict(r).items() if k != "matching"} for r in rows],
        matching=rows[0]["matching"] if rows else 0,
        question_types=[r["question_type"] for r in types],
        counts_by_status={status: 0 for status in QUEUE_STATUSES} | {r["status"]: r["n"] for r in counts},
    )


@dataclass(frozen=True)
class ActionRecord:
    acted_at: datetime
    actor: str
    action: str
    detail: str | None
    queue_id: UUID | None
    question: str | None


async def recent_actions(conn: asyncpg.Connection, limit: int = 30) -> list[ActionRecord]:
    rows = await conn.fetch(
        """SELECT a.acted_at, a.actor, a.action, a.detail, a.queue_id, q.question
           FROM ai_learning_queue_actions a LEFT JOIN ai_learning_queue q ON q.id = a.queue_id
           ORDER BY a.acted_at DESC, a.id DESC LIMIT $1""",
        limit,
    )
    return [ActionRecord(**dict(r)) for r in rows]


# -- actions ---------------------------------------------------------------------------------------


async def _record(
    conn: asyncpg.Connection, queue_id: UUID, action: str, detail: str | None, actor: str
) -> None:
    await conn.execute(
        "INSERT INTO ai_learning_queue_actions (queue_id, action, detail, actor) VALUES ($1, $2, $3, $4)",
        queue_id,
        action,
        detail,
        actor,
    )


async def _lock_entry(conn: asyncpg.Connection, queue_id: UUID) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT id, status, priority, merged_into FROM ai_learning_queue WHERE id = $1 FOR UPDATE", queue_id
    )
    if row is None:
        raise InsightsActionError("That learning-queue entry no longer exists.")
    return row


async def set_priority(conn: asyncpg.Connection, queue_id: UUID, priority: int, actor: str) -> None:
    """The admin's priority, kept even when the question is asked again (see migration 007_insights_page.sql)."""
    if priority not in PRIORITIES:
        raise InsightsActionError("Priority must be 1 to 5.")
    async with conn.transaction():
        old = await _lock_entry(conn, queue_id)
        await conn.execute(
            "UPDATE ai_learning_queue SET priority = $2, priority_set_at = clock_timestamp() WHERE id = $1",
            queue_id,
            priority,
        )
        await _record(conn, queue_id, "set_priority", f"{old['priority']} → {priority}", actor)


async def set_status(
    conn: asyncpg.Connection, queue_id: UUID, status: QueueStatus, note: str | None, actor: str
) -> None:
    """In progress, resolved or won't fix (with an optional note), or back to pending."""
    if status not in QUEUE_STATUSES:
        raise InsightsActionError("Unknown status.")
    note = (note or "").strip()[:MAX_NOTE_LENGTH] or None
    async with conn.transaction():
        old = await _lock_entry(conn, queue_id)
        if old["merged_into"] is not None:
            raise InsightsActionError("That entry was merged into another one; triage that one instead.")
        closed = status in CLOSED_STATUSES
        await conn.execute(
            """UPDATE ai_learning_queue SET status = $2,
                   resolved_at = CASE WHEN $3 THEN now() END,
                   resolution_note = CASE WHEN $3 THEN $4 ELSE resolution_note END
               WHERE id = $1""",
            queue_id,
            status,
            closed,
            note,
        )
        action = "reopened" if status == "pending" else status
        await _record(conn, queue_id, action, note, actor)


_ABSORB = """
UPDATE ai_learning_queue k SET
    times_asked = k.times_asked + d.asked,
    times_reported_wrong = k.times_reported_wrong + d.wrong,
    last_asked_at = greatest(k.last_asked_at, d.last_asked),
    missing_tables = ARRAY(SELECT DISTINCT t FROM unnest(coalesce(k.missing_tables, '{}') || d.tables) t ORDER BY 1),
    suggested_solution = coalesce(k.suggested_solution, d.suggestion),
    priority = greatest(k.priority, marquee_learning_priority(
        k.times_asked + d.asked, k.times_reported_wrong + d.wrong, greatest(k.last_asked_at, d.last_asked)))
FROM (
    SELECT sum(times_asked)::int AS asked, sum(times_reported_wrong)::int AS wrong, max(last_asked_at) AS last_asked,
           (array_agg(suggested_solution) FILTER (WHERE suggested_solution IS NOT NULL))[1] AS suggestion,
           ARRAY(SELECT unnest(missing_tables) FROM ai_learning_queue WHERE id = ANY($2::uuid[])) AS tables
    FROM ai_learning_queue WHERE id = ANY($2::uuid[])
) d
WHERE k.id = $1
"""


async def merge_duplicates(
    conn: asyncpg.Connection, keep_id: UUID, duplicate_ids: list[UUID], actor: str
) -> int:
    """Fold the duplicates' counts and answers into ``keep_id``; the duplicates are closed, not deleted."""
    duplicates = sorted(set(duplicate_ids) - {keep_id})
    if not duplicates:
        raise InsightsActionError("Choose at least one duplicate besides the entry to keep.")
    async with conn.transaction():
        # Lock in id order so two merges of overlapping entries cannot deadlock.
        for entry_id in sorted([keep_id, *duplicates]):
            row = await _lock_entry(conn, entry_id)
            if row["merged_into"] is not None:
                raise InsightsActionError("One of those entries was already merged into another.")
        await conn.execute(_ABSORB, keep_id, duplicates)
        await conn.execute(
            "UPDATE ai_conversation_feedback SET learning_queue_id = $1 WHERE learning_queue_id = ANY($2::uuid[])",
            keep_id,
            duplicates,
        )
        keep_short = str(keep_id)[:8]
        await conn.execute(
            """UPDATE ai_learning_queue SET status = 'resolved', resolved_at = now(), merged_into = $1,
                   resolution_note = 'merged into ' || $3
               WHERE id = ANY($2::uuid[])""",
            keep_id,
            duplicates,
            keep_short,
        )
        for duplicate in duplicates:
            await _record(conn, duplicate, "merged_into", keep_short, actor)
        await _record(conn, keep_id, "absorbed", ", ".join(str(d)[:8] for d in duplicates), actor)
    return len(duplicates)


# -- the whole page ---------------------------------------------------------------------------------


@dataclass
class InsightsPageData:
    days: int
    struggles: list[Struggle]
    missing_data: list[MissingDataPattern]
    wishes: list[tuple[str, int]]
    satisfaction: Satisfaction
    calibration: list[EngineCalibration]
    queue: QueuePage
    actions: list[ActionRecord]


async def load_page(
    conn: asyncpg.Connection, filters: QueueFilter, days: int, timezone: str
) -> InsightsPageData:
    """Everything the page shows, read in one repeatable-read snapshot so the sections agree."""
    period = timedelta(days=days)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return InsightsPageData(
            days=days,
            struggles=await struggles(conn),
            missing_data=await missing_data_patterns(conn),
            wishes=await improvement_wishes(conn, period),
            satisfaction=await satisfaction(conn, period, timezone),
            calibration=await calibration(conn, period),
            queue=await queue_page(conn, filters),
            actions=await recent_actions(conn),
        )
