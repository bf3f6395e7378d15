"""The admin's views: health, the learning queue and the AI-learning insights.

Each function returns plain data and has an ``*_answer`` that turns it into a
structured ``Answer`` (rendered by each chat surface and the CLI); ``render_*``
is that answer as plain text. Learning-queue questions are user text: they go
into the answer as plain spans, never read as Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg

from core import insights_page
from core.answer import Answer, AnswerBuilder, Inline, Span, code, em, plain, to_plain_text
from core.errors import UserFacingError
from core.progress import pace
from core.redaction import redact
from core.tools.system_health import API_CALL_FAILED

LearningStatus = Literal["pending", "in_progress", "resolved", "wont_fix"]


class AdminReportError(UserFacingError):
    """An expected failure (unknown or ambiguous id); the reason is safe to show."""


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    seconds = int((now - when).total_seconds())
    if seconds < 90:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


# -- health ---------------------------------------------------------------------------


@dataclass
class HealthReport:
    now: datetime
    integrations: list[dict[str, Any]]
    webhooks_today: dict[str, int]
    api_requests_24h: int
    api_errors_24h: int
    llm_answers_24h: int
    llm_errors_24h: int
    llm_latency_p50_ms: float | None
    llm_latency_p95_ms: float | None
    database: dict[str, Any] = field(default_factory=dict)
    # Movies, shows and episodes on the server, and those a library sync found deleted.
    library: dict[str, int] = field(default_factory=dict)

    @property
    def failing_integrations(self) -> list[str]:
        return [i["integration"] for i in self.integrations if i["enabled"] and i["last_error"]]

    @property
    def api_error_rate(self) -> float | None:
        return self.api_errors_24h / self.api_requests_24h if self.api_requests_24h else None


_INTEGRATIONS = """
SELECT integration, enabled, last_run_at, last_success_at, last_error, consecutive_failures,
       progress_stage, progress_done, progress_total, progress_stage_started_at, progress_updated_at,
       progress_finished_at, first_sync_done_at
FROM sync_schedule ORDER BY integration
"""
# A running sync reports every few seconds; older than this, the process running it may be gone.
PROGRESS_STALE = timedelta(minutes=2)
_WEBHOOKS_TODAY = """
SELECT status, count(*) AS n FROM webhook_log WHERE received_at >= date_trunc('day', now()) GROUP BY status
"""
_API_AND_LLM = f"""
SELECT
    (SELECT count(*) FROM api_logs WHERE created_at > now() - interval '24 hours') AS api_requests,
    (SELECT count(*) FROM api_logs WHERE created_at > now() - interval '24 hours'
        AND {API_CALL_FAILED}) AS api_errors,
    count(*) AS answers,
    count(*) FILTER (WHERE engine_error IS NOT NULL) AS llm_errors,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
FROM ai_conversation_feedback WHERE created_at > now() - interval '24 hours'
"""
_DATABASE = """
SELECT current_setting('server_version') AS version, pg_database_size(current_database()) AS size_bytes,
       (SELECT max(version) FROM schema_migrations) AS schema_version, now() AS now
"""
_LIBRARY = """
SELECT count(*) FILTER (WHERE removed_at IS NULL) AS items, count(removed_at) AS removed FROM media_items
"""


async def health(conn: asyncpg.Connection) -> HealthReport:
    database = dict(await conn.fetchrow(_DATABASE))
    integrations = [dict(row) for row in await conn.fetch(_INTEGRATIONS)]
    webhooks = {row["status"]: row["n"] for row in await conn.fetch(_WEBHOOKS_TODAY)}
    usage = await conn.fetchrow(_API_AND_LLM)
    library = await conn.fetchrow(_LIBRARY)
    return HealthReport(
        now=database.pop("now"),
        integrations=integrations,
        webhooks_today=webhooks,
        api_requests_24h=usage["api_requests"],
        api_errors_24h=usage["api_errors"],
        llm_answers_24h=usage["answers"],
        llm_errors_24h=usage["llm_errors"],
        llm_latency_p50_ms=usage["p50"],
        llm_latency_p95_ms=usage["p95"],
        database={"status": "ok", **database},
        library={"items": library["items"], "removed": library["removed"]},
    )


def health_answer(report: HealthReport) -> Answer:
    out = AnswerBuilder().heading("Marquee health")
    failing = report.failing_integrations
    out.rows([("Integrations", plain("failing: " + ", ".join(failing) if failing else "all fine"))])
    integrations: list[Inline] = []
    for i in report.integrations:
        state = "disabled" if not i["enabled"] else ("❌ failing" if i["last_error"] else "✅ ok")
        line = (
            f"{i['integration']}: {state}; last success {_ago(i['last_success_at'], report.now)}, "
            f"last run {_ago(i['last_run_at'], report.now)}"
        )
        if i["last_error"]:
            line += f"; {i['consecutive_failures']} failure(s) in a row, last error: {redact(i['last_error'])[:200]}"
        if progress := sync_progress(i, report.now):
            line += f"; {progress}"
        integrations.append(plain(line))
    out.items(integrations or [plain("none configured yet")])
    total = sum(report.webhooks_today.values())
    by_status = ", ".join(f"{status} {n}" for status, n in sorted(report.webhooks_today.items()))
    rate = report.api_error_rate
    latency = (
        f"latency p50 {report.llm_latency_p50_ms:.0f} ms, p95 {report.llm_latency_p95_ms:.0f} ms"
        if report.llm_latency_p50_ms is not None and report.llm_latency_p95_ms is not None
        else "no answers yet"
    )
    db = report.database
    out.rows(
        [
            ("Webhooks today", plain(f"{total}" + (f" ({by_status})" if by_status else ""))),
            (
                "API error rate (24 h)",
                plain(
                    f"{rate:.1%} of {report.api_requests_24h} requests"
                    if rate is not None
                    else "no API requests logged"
                ),
            ),
            (
                "Answers (24 h)",
                plain(f"{report.llm_answers_24h}, model errors {report.llm_errors_24h}; {latency}"),
            ),
            (
                "Library",
                plain(
                    f"{report.library.get('items', 0)} items; {report.library.get('removed', 0)} deleted "
                    "from the server, kept for their history"
                ),
            ),
            (
                "Database",
                plain(
                    f"{db.get('status')}, PostgreSQL {db.get('version')}, "
                    f"schema {db.get('schema_version')}, {db.get('size_bytes', 0) / 1_048_576:.0f} MiB"
                ),
            ),
        ]
    )
    return out.answer()


def _how_far(row: dict[str, Any]) -> str:
    """E.g. "play history 1,200/9,000 (400/s, about 1 min left)", from the run's latest report."""
    stage, done, total = row.get("progress_stage"), row.get("progress_done"), row.get("progress_total")
    if stage is None or done is None or total is None:
        return "starting"
    prefix = f"{row['integration']} "
    label = stage.removeprefix(prefix)
    seconds = (row["progress_updated_at"] - row["progress_stage_started_at"]).total_seconds()
    speed = pace(done, total, seconds)
    return f"{label} {done:,}/{total:,}" + (f" ({speed})" if speed else "")


def sync_progress(row: dict[str, Any], now: datetime) -> str | None:
    """A ``sync_schedule`` row's run in words: running (how far, how fast, how long left), or its first sync's end."""
    if row.get("progress_updated_at") is None:
        return None  # no run recorded since progress was kept
    first_done = row.get("first_sync_done_at")
    first = first_done is None and row.get("last_success_at") is None
    parts = []
    if row.get("progress_finished_at") is None:
        running = f"{'first sync' if first else 'sync'} running: {_how_far(row)}"
        if now - row["progress_updated_at"] > PROGRESS_STALE:
            running += f", last report {_ago(row['progress_updated_at'], now)}"
        parts.append(running)
    elif first:
        parts.append(f"first sync stopped at {_how_far(row)}; the next run resumes it")
    if first_done is not None:
        parts.append(f"first sync finished {_ago(first_done, now)}")
    return "; ".join(parts) or None


def render_health(report: HealthReport) -> str:
    return to_plain_text(health_answer(report))


# -- learning queue -------------------------------------------------------------------------

_QUEUE_COLUMNS = """id, question, question_type, why_failed, missing_tables, suggested_solution, priority,
    times_asked, times_reported_wrong, status, created_at, last_asked_at, resolved_at, resolution_note"""


async def learning_list(
    conn: asyncpg.Connection, status: LearningStatus = "pending", limit: int = 20
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"""SELECT {_QUEUE_COLUMNS} FROM ai_learning_queue WHERE status = $1
            ORDER BY priority DESC, times_asked DESC, last_asked_at DESC LIMIT $2""",
        status,
        limit,
    )
    return [dict(row) for row in rows]


async def _resolve_id(conn: asyncpg.Connection, id_or_prefix: str) -> UUID:
    """A full id, or the short id shown in lists (a unique prefix of at least 4 characters)."""
    prefix = id_or_prefix.strip().lower()
    if len(prefix) < 4 or any(c not in "0123456789abcdef-" for c in prefix):
        raise AdminReportError(f"{id_or_prefix!r} is not a learning-queue id")
    rows = await conn.fetch("SELECT id FROM ai_learning_queue WHERE id::text LIKE $1 || '%' LIMIT 2", prefix)
    if not rows:
        raise AdminReportError(f"no learning-queue entry {id_or_prefix}")
    if len(rows) > 1:
        raise AdminReportError(f"{id_or_prefix} matches several entries; give more of the id")
    entry_id: UUID = rows[0]["id"]
    return entry_id


async def learning_show(conn: asyncpg.Connection, id_or_prefix: str) -> dict[str, Any]:
    entry_id = await _resolve_id(conn, id_or_prefix)
    row = await conn.fetchrow(f"SELECT {_QUEUE_COLUMNS} FROM ai_learning_queue WHERE id = $1", entry_id)
    entry = dict(row)
    entry["recent_answers"] = [
        dict(r)
        for r in await conn.fetch(
            """SELECT created_at, confidence_score, user_reported_wrong, engine
               FROM ai_conversation_feedback WHERE learning_queue_id = $1 ORDER BY created_at DESC LIMIT 5""",
            entry_id,
        )
    ]
    return entry


async def learning_close(
    conn: asyncpg.Connection,
    id_or_prefix: str,
    status: Literal["resolved", "wont_fix"],
    note: str | None,
    actor: str,
) -> dict[str, Any]:
    """Close an entry from chat or the host, recorded in the triage log exactly like the page's actions."""
    entry_id = await _resolve_id(conn, id_or_prefix)
    try:
        await insights_page.set_status(conn, entry_id, status, note, actor)
    except insights_page.InsightsActionError as exc:
        raise AdminReportError(str(exc)) from None
    row = await conn.fetchrow(f"SELECT {_QUEUE_COLUMNS} FROM ai_learning_queue WHERE id = $1", entry_id)
    return dict(row)


def short_id(entry_id: UUID) -> str:
    return str(entry_id)[:8]


def learning_list_answer(entries: list[dict[str, Any]], status: str = "pending") -> Answer:
    label = status.replace("_", " ")
    if not entries:
        return AnswerBuilder().paragraph(plain(f"The learning queue has no {label} questions.")).answer()
    items: list[Inline] = []
    for e in entries:
        wrong = f", ❌ {e['times_reported_wrong']}" if e["times_reported_wrong"] else ""
        items.append(
            (
                code(short_id(e["id"])),
                Span(f" P{e['priority']} ×{e['times_asked']}{wrong} — {e['question'][:120]} "),
                em(f"({e['why_failed'] or 'unknown'})"),
            )
        )
    return (
        AnswerBuilder()
        .heading(plain(f"Learning queue ({label})"))
        .paragraph(plain("Priority, times asked, question:"))
        .items(items)
        .paragraph(
            (
                Span("Details: "),
                code("learning show ID"),
                Span("; close: "),
                code("learning resolve ID [note]"),
                Span(" or "),
                code("learning wont-fix ID [note]"),
                Span("."),
            )
        )
        .answer()
    )


def render_learning_list(entries: list[dict[str, Any]], status: str = "pending") -> str:
    return to_plain_text(learning_list_answer(entries, status))


def learning_entry_answer(e: dict[str, Any]) -> Answer:
    rows: list[tuple[str, Inline]] = [
        (
            "Status",
            plain(
                f"{e['status']}, priority {e['priority']}, asked {e['times_asked']}×, "
                f"reported wrong {e['times_reported_wrong']}×"
            ),
        ),
        ("Type", plain(e["question_type"] or "unknown")),
        ("Why it failed", plain(e["why_failed"] or "unknown")),
    ]
    if e["missing_tables"]:
        rows.append(("Data that would help", plain(", ".join(e["missing_tables"]))))
    if e["suggested_solution"]:
        rows.append(("Suggestion", plain(e["suggested_solution"])))
    if e["resolution_note"]:
        rows.append(("Note", plain(e["resolution_note"])))
    answers = [
        plain(
            f"{answer['created_at']:%Y-%m-%d %H:%M} by {answer['engine']} with confidence "
            f"{answer['confidence_score']}{' (reported wrong)' if answer['user_reported_wrong'] else ''}"
        )
        for answer in e.get("recent_answers", [])
    ]
    out = AnswerBuilder().heading((code(short_id(e["id"])), Span(" "), Span(e["question"])))
    out.rows(rows)
    if answers:
        out.paragraph(plain("Recent answers:")).items(answers)
    return out.answer()


def render_learning_entry(e: dict[str, Any]) -> str:
    return to_plain_text(learning_entry_answer(e))


# -- insights ---------------------------------------------------------------------------------


@dataclass
class Insights:
    days: int
    struggled: list[dict[str, Any]]
    missing_data: list[tuple[str, int]]
    suggested_improvements: list[tuple[str, int]]
    satisfaction: dict[str, Any]
    calibration: list[dict[str, Any]]
    queue_by_priority: list[dict[str, Any]]


_MISSING_PATTERNS = """
SELECT item, count(*) AS n
FROM ai_conversation_feedback f, jsonb_array_elements_text(coalesce(f.missing_data, '[]'::jsonb)) AS item
WHERE f.created_at > now() - $1::interval
GROUP BY item ORDER BY n DESC, item LIMIT 8
"""
# What would help, weighted by how often the questions needing it were asked.
_IMPROVEMENTS = """
SELECT item, sum(n)::bigint AS n FROM (
    SELECT unnest(missing_tables) AS item, times_asked + 3 * times_reported_wrong AS n
    FROM ai_learning_queue WHERE status IN ('pending', 'in_progress')
    UNION ALL
    SELECT jsonb_array_elements_text(coalesce(could_improve_with, '[]'::jsonb)), 1
    FROM ai_conversation_feedback WHERE created_at > now() - $1::interval AND NOT coalesce(was_successful, false)
) wanted GROUP BY item ORDER BY n DESC, item LIMIT 8
"""
_SATISFACTION = """
SELECT count(*) AS answers,
       count(*) FILTER (WHERE user_rating IS NOT NULL) AS thumbs_up,
       count(*) FILTER (WHERE user_reported_wrong) AS reported_wrong,
       count(*) FILTER (WHERE user_followed_up) AS followed_up,
       avg(confidence_score)::float AS avg_confidence,
       avg(user_rating)::float AS avg_rating
FROM ai_conversation_feedback WHERE created_at > now() - $1::interval
"""
# Did confidence predict the reactions? Per confidence band: how many got 👍 and ❌.
_CALIBRATION = """
SELECT band, count(*) AS answers,
       count(*) FILTER (WHERE user_rating IS NOT NULL) AS thumbs_up,
       count(*) FILTER (WHERE user_reported_wrong) AS reported_wrong
FROM (
    SELECT CASE WHEN confidence_score >= 0.7 THEN 'high (≥ 0.7)'
                WHEN confidence_score >= 0.4 THEN 'medium (0.4–0.7)'
                ELSE 'low (< 0.4)' END AS band,
           user_rating, user_reported_wrong
    FROM ai_conversation_feedback
    WHERE created_at > now() - $1::interval AND confidence_score IS NOT NULL
) banded GROUP BY band ORDER BY band
"""
_QUEUE_BY_PRIORITY = """
SELECT priority, count(*) AS entries, sum(times_asked) AS asked
FROM ai_learning_queue WHERE status IN ('pending', 'in_progress') GROUP BY priority ORDER BY priority DESC
"""


async def insights(conn: asyncpg.Connection, days: int = 30) -> Insights:
    period = timedelta(days=days)
    return Insights(
        days=days,
        struggled=await learning_list(conn, "pending", 5),
        missing_data=[(r["item"], r["n"]) for r in await conn.fetch(_MISSING_PATTERNS, period)],
        suggested_improvements=[(r["item"], r["n"]) for r in await conn.fetch(_IMPROVEMENTS, period)],
        satisfaction=dict(await conn.fetchrow(_SATISFACTION, period)),
        calibration=[dict(r) for r in await conn.fetch(_CALIBRATION, period)],
        queue_by_priority=[dict(r) for r in await conn.fetch(_QUEUE_BY_PRIORITY)],
    )


def insights_answer(report: Insights) -> Answer:
    s = report.satisfaction
    out = AnswerBuilder().heading(plain(f"AI learning insights (last {report.days} days)"))
    out.heading("Questions it struggled with most").items(
        [
            (Span(f"P{e['priority']} ×{e['times_asked']} {e['question'][:120]} "), em(f"({e['why_failed']})"))
            for e in report.struggled
        ]
        or [plain("none — the learning queue is empty")]
    )
    out.heading("Missing-data patterns").items(
        [plain(f"{item} ({n}×)") for item, n in report.missing_data] or [plain("none reported")]
    )
    out.heading("Suggested database improvements").items(
        [plain(f"{item} (weight {n})") for item, n in report.suggested_improvements] or [plain("none yet")]
    )
    out.heading("Satisfaction")
    if s["answers"]:
        out.paragraph(
            plain(
                f"{s['answers']} answers: 👍 {s['thumbs_up']}, ❌ {s['reported_wrong']}, "
                f"follow-up questions {s['followed_up']}; average confidence {s['avg_confidence'] or 0:.2f}"
            )
        )
    else:
        out.paragraph(plain("no answers yet"))
    bands: list[Inline] = []
    for band in report.calibration:
        rated = band["thumbs_up"] + band["reported_wrong"]
        share = f", {band['thumbs_up'] / rated:.0%} of rated answers 👍" if rated else ", none rated"
        bands.append(
            plain(
                f"{band['band']}: {band['answers']} answers, 👍 {band['thumbs_up']}, "
                f"❌ {band['reported_wrong']}{share}"
            )
        )
    out.heading("Did confidence predict the reactions?").items(bands or [plain("not enough answers yet")])
    out.heading("Queue by priority").items(
        [
            plain(f"P{q['priority']}: {q['entries']} question(s), asked {q['asked']}× in all")
            for q in report.queue_by_priority
        ]
        or [plain("empty")]
    )
    return out.answer()


def render_insights(report: Insights) -> str:
    return to_plain_text(insights_answer(report))
