"""The admin's views: health, the learning queue and the AI-learning insights.

Each function returns plain data and has a ``render_*`` that turns it into
Markdown, shared by the chat commands and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg

from core.redaction import redact

LearningStatus = Literal["pending", "in_progress", "resolved", "wont_fix"]


class AdminReportError(Exception):
    """An expected failure (unknown or ambiguous id); the message is safe to show."""


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

    @property
    def failing_integrations(self) -> list[str]:
        return [i["integration"] for i in self.integrations if i["enabled"] and i["last_error"]]

    @property
    def api_error_rate(self) -> float | None:
        return self.api_errors_24h / self.api_requests_24h if self.api_requests_24h else None


_INTEGRATIONS = """
SELECT integration, enabled, last_run_at, last_success_at, last_error, consecutive_failures
FROM sync_schedule ORDER BY integration
"""
_WEBHOOKS_TODAY = """
SELECT status, count(*) AS n FROM webhook_log WHERE received_at >= date_trunc('day', now()) GROUP BY status
"""
_API_AND_LLM = """
SELECT
    (SELECT count(*) FROM api_logs WHERE created_at > now() - interval '24 hours') AS api_requests,
    (SELECT count(*) FROM api_logs WHERE created_at > now() - interval '24 hours'
        AND (status_code >= 500 OR error_message IS NOT NULL)) AS api_errors,
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


async def health(conn: asyncpg.Connection) -> HealthReport:
    database = dict(await conn.fetchrow(_DATABASE))
    integrations = [dict(row) for row in await conn.fetch(_INTEGRATIONS)]
    webhooks = {row["status"]: row["n"] for row in await conn.fetch(_WEBHOOKS_TODAY)}
    usage = await conn.fetchrow(_API_AND_LLM)
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
    )


def render_health(report: HealthReport) -> str:
    lines = ["**Marquee health**", ""]
    failing = report.failing_integrations
    lines.append(f"**Integrations** — {'failing: ' + ', '.join(failing) if failing else 'all fine'}")
    if not report.integrations:
        lines.append("- none configured yet")
    for i in report.integrations:
        state = "disabled" if not i["enabled"] else ("❌ failing" if i["last_error"] else "✅ ok")
        line = (
            f"- {i['integration']}: {state}; last success {_ago(i['last_success_at'], report.now)}, "
            f"last run {_ago(i['last_run_at'], report.now)}"
        )
        if i["last_error"]:
            line += f"; {i['consecutive_failures']} failure(s) in a row, last error: {redact(i['last_error'])[:200]}"
        lines.append(line)
    total = sum(report.webhooks_today.values())
    by_status = ", ".join(f"{status} {n}" for status, n in sorted(report.webhooks_today.items()))
    lines += ["", f"**Webhooks today:** {total}" + (f" ({by_status})" if by_status else "")]
    rate = report.api_error_rate
    lines.append(
        f"**API error rate (24 h):** {rate:.1%} of {report.api_requests_24h} requests"
        if rate is not None
        else "**API error rate (24 h):** no API requests logged"
    )
    latency = (
        f"latency p50 {report.llm_latency_p50_ms:.0f} ms, p95 {report.llm_latency_p95_ms:.0f} ms"
        if report.llm_latency_p50_ms is not None and report.llm_latency_p95_ms is not None
        else "no answers yet"
    )
    lines.append(
        f"**Answers (24 h):** {report.llm_answers_24h}, model errors {report.llm_errors_24h}; {latency}"
    )
    db = report.database
    lines.append(
        f"**Database:** {db.get('status')}, PostgreSQL {db.get('version')}, "
        f"schema {db.get('schema_version')}, {db.get('size_bytes', 0) / 1_048_576:.0f} MiB"
    )
    return "\n".join(lines)


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
    conn: asyncpg.Connection, id_or_prefix: str, status: Literal["resolved", "wont_fix"], note: str | None
) -> dict[str, Any]:
    entry_id = await _resolve_id(conn, id_or_prefix)
    row = await conn.fetchrow(
        f"""UPDATE ai_learning_queue SET status = $2, resolved_at = now(), resolution_note = $3
            WHERE id = $1 RETURNING {_QUEUE_COLUMNS}""",
        entry_id,
        status,
        note,
    )
    return dict(row)


def short_id(entry_id: UUID) -> str:
    return str(entry_id)[:8]


def render_learning_list(entries: list[dict[str, Any]], status: str = "pending") -> str:
    if not entries:
        return f"The learning queue has no {status.replace('_', ' ')} questions."
    lines = [f"**Learning queue ({status.replace('_', ' ')})** — priority, times asked, question", ""]
    for e in entries:
        wrong = f", ❌ {e['times_reported_wrong']}" if e["times_reported_wrong"] else ""
        lines.append(
            f"- `{short_id(e['id'])}` P{e['priority']} ×{e['times_asked']}{wrong} — {e['question'][:120]} "
            f"_({e['why_failed'] or 'unknown'})_"
        )
    lines += [
        "",
        "Details: `learning show ID`; close: `learning resolve ID [note]` or `learning wont-fix ID [note]`.",
    ]
    return "\n".join(lines)


def render_learning_entry(e: dict[str, Any]) -> str:
    lines = [
        f"**`{short_id(e['id'])}`** {e['question']}",
        f"- status: {e['status']}, priority {e['priority']}, asked {e['times_asked']}×, "
        f"reported wrong {e['times_reported_wrong']}×",
        f"- type: {e['question_type'] or 'unknown'}; why it failed: {e['why_failed'] or 'unknown'}",
    ]
    if e["missing_tables"]:
        lines.append("- data that would help: " + ", ".join(e["missing_tables"]))
    if e["suggested_solution"]:
        lines.append(f"- suggestion: {e['suggested_solution']}")
    if e["resolution_note"]:
        lines.append(f"- note: {e['resolution_note']}")
    for answer in e.get("recent_answers", []):
        lines.append(
            f"- answered {answer['created_at']:%Y-%m-%d %H:%M} by {answer['engine']} with confidence "
            f"{answer['confidence_score']}{' (reported wrong)' if answer['user_reported_wrong'] else ''}"
        )
    return "\n".join(lines)


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


def render_insights(report: Insights) -> str:
    s = report.satisfaction
    lines = [f"**AI learning insights (last {report.days} days)**", ""]
    lines.append("**Questions it struggled with most**")
    lines += [
        f"- P{e['priority']} ×{e['times_asked']} {e['question'][:120]} _({e['why_failed']})_"
        for e in report.struggled
    ] or ["- none — the learning queue is empty"]
    lines += ["", "**Missing-data patterns**"]
    lines += [f"- {item} ({n}×)" for item, n in report.missing_data] or ["- none reported"]
    lines += ["", "**Suggested database improvements**"]
    lines += [f"- {item} (weight {n})" for item, n in report.suggested_improvements] or ["- none yet"]
    lines += ["", "**Satisfaction**"]
    if s["answers"]:
        lines.append(
            f"- {s['answers']} answers: 👍 {s['thumbs_up']}, ❌ {s['reported_wrong']}, "
            f"follow-up questions {s['followed_up']}; average confidence {s['avg_confidence'] or 0:.2f}"
        )
    else:
        lines.append("- no answers yet")
    lines += ["", "**Did confidence predict the reactions?**"]
    for band in report.calibration:
        rated = band["thumbs_up"] + band["reported_wrong"]
        share = f", {band['thumbs_up'] / rated:.0%} of rated answers 👍" if rated else ", none rated"
        lines.append(
            f"- {band['band']}: {band['answers']} answers, 👍 {band['thumbs_up']}, ❌ {band['reported_wrong']}{share}"
        )
    if not report.calibration:
        lines.append("- not enough answers yet")
    lines += ["", "**Queue by priority**"]
    lines += [
        f"- P{q['priority']}: {q['entries']} question(s), asked {q['asked']}× in all"
        for q in report.queue_by_priority
    ] or ["- empty"]
    return "\n".join(lines)
