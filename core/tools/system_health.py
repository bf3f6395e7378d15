"""System health for admins: syncs, webhooks, API errors.

Definitions
-----------
*Failing integration*: an enabled ``sync_schedule`` row whose last attempt
failed (``consecutive_failures > 0`` or a ``last_error``), or a webhook source
with ``error``/``rejected`` deliveries in the last 24 hours.

*API error rate*: the share of ``api_logs`` calls in the period (default: last
24 hours) that failed on our side: status 500 or above, or no status with an
error message. Client errors (4xx) are counted separately.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from core.redaction import redact
from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.coverage import add_null_share, note_if_empty
from core.tools.periods import PeriodParams, resolve_period
from core.tools.phrasing import in_period, listing, plural, with_gaps
from core.tools.records import plain_rows

ADMIN: frozenset[Mode] = frozenset({"admin"})

# A failed API call, in this tool and in /health: a server error (status 500 or above), or no status
# at all with an error message (the call got no answer). Client errors (4xx) are counted apart.
API_CALL_FAILED = "(status_code >= 500 OR (status_code IS NULL AND error_message IS NOT NULL))"


def _without_secrets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored errors redacted again on the way out: rows written before redaction existed may hold a key."""
    for row in rows:
        if isinstance(row.get("last_error"), str):
            row["last_error"] = redact(row["last_error"])
    return rows


class IntegrationParams(BaseModel):
    integration: str | None = Field(default=None, description="Only this integration, e.g. 'plex'.")


_SYNCS = """
SELECT integration, enabled, interval_seconds, last_run_at, last_success_at, last_error, consecutive_failures,
       enabled AND (consecutive_failures > 0 OR last_error IS NOT NULL) AS failing,
       enabled AND last_success_at IS NOT NULL AND last_success_at < now() - make_interval(secs => 3 * interval_seconds)
           AS overdue
FROM sync_schedule
WHERE $1::text IS NULL OR lower(integration) = lower($1)
ORDER BY failing DESC, integration
"""

_WEBHOOK_ERRORS = """
SELECT source, count(*) FILTER (WHERE status IN ('error', 'rejected')) AS failed, count(*) AS received,
       (array_agg(error ORDER BY received_at DESC) FILTER (WHERE error IS NOT NULL))[1] AS last_error
FROM webhook_log
WHERE received_at >= $1 AND ($2::text IS NULL OR lower(source) = lower($2))
GROUP BY source
ORDER BY failed DESC, source
"""


async def integration_health(conn: asyncpg.Connection, scope: Scope, p: IntegrationParams) -> ToolResult:
    syncs = await conn.fetch(_SYNCS, p.integration)
    webhooks = await conn.fetch(
        _WEBHOOK_ERRORS, datetime.now(scope.timezone) - timedelta(hours=24), p.integration
    )
    coverage = Coverage(tables_used=["sync_schedule", "webhook_log"])
    if not syncs:
        coverage.gaps.append(
            f"no sync is configured{' for ' + p.integration if p.integration else ''} (sync_schedule is empty)"
        )
        coverage.missing_tables.append("sync_schedule")
    summary = {
        "failing": [r["integration"] for r in syncs if r["failing"]],
        "overdue": [r["integration"] for r in syncs if r["overdue"]],
        "webhook_sources_failing": [r["source"] for r in webhooks if r["failed"]],
        "webhooks_last_24h": _without_secrets(plain_rows(webhooks, scope.timezone)),
    }
    return ToolResult(
        rows=_without_secrets(plain_rows(syncs, scope.timezone)), coverage=coverage, summary=summary
    )


def _render_health(result: ToolResult) -> str:
    s = result.summary
    lines = []
    for r in result.rows:
        last_ok = r["last_success_at"][:16].replace("T", " ") if r["last_success_at"] else "never"
        if not r["enabled"]:
            lines.append(f"{r['integration']}: disabled (last success {last_ok})")
        elif r["failing"]:
            lines.append(
                f"{r['integration']}: FAILING — {plural(r['consecutive_failures'], 'failure')} in a row, last error: "
                f"{r['last_error'] or 'unknown'}; last success {last_ok}"
            )
        else:
            lines.append(
                f"{r['integration']}: OK, last successful sync {last_ok}"
                + (" (overdue)" if r["overdue"] else "")
            )
    for w in s["webhooks_last_24h"]:
        if w["failed"]:
            lines.append(
                f"{w['source']} webhooks: {w['failed']} of {w['received']} failed in 24 h (last: {w['last_error'] or 'no message'})"
            )
    if not lines:
        return with_gaps("No integrations are configured yet.", result)
    head = (
        "Everything is healthy."
        if not s["failing"] and not s["webhook_sources_failing"]
        else "Some integrations need attention."
    )
    return with_gaps(f"{head}\n{listing(lines)}", result)


class WebhookParams(PeriodParams):
    source: str | None = Field(default=None, description="Only this source, e.g. 'plex'.")


_WEBHOOKS = """
SELECT source, status, count(*) AS webhooks
FROM webhook_log
WHERE received_at >= $1 AND received_at < $2 AND ($3::text IS NULL OR lower(source) = lower($3))
GROUP BY source, status
ORDER BY webhooks DESC, source, status
"""


async def webhook_counts(conn: asyncpg.Connection, scope: Scope, p: WebhookParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "today")
    rows = await conn.fetch(_WEBHOOKS, period.start, period.end, p.source)
    coverage = Coverage(tables_used=["webhook_log"])
    if not rows:
        await note_if_empty(conn, coverage, "webhook_log", "no webhook was ever received")
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + int(r["webhooks"])
    summary = {"period": period.as_dict(), "total": sum(by_status.values()), "by_status": by_status}
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_webhooks(result: ToolResult) -> str:
    s = result.summary
    if not s["total"]:
        return with_gaps(f"No webhooks were received {in_period(result)}.", result)
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(s["by_status"].items()))
    lines = [f"{r['source']} {r['status']}: {r['webhooks']}" for r in result.rows]
    return with_gaps(
        f"{plural(s['total'], 'webhook')} {in_period(result)} ({statuses}):\n{listing(lines)}", result
    )


class ApiErrorParams(PeriodParams):
    limit: int = Field(default=5, ge=1, le=50, description="How many endpoints with the most errors to list.")


_API_TOTALS = f"""
SELECT count(*) AS calls,
       count(*) FILTER (WHERE {API_CALL_FAILED}) AS errors,
       count(*) FILTER (WHERE status_code BETWEEN 400 AND 499) AS client_errors,
       count(status_code) AS with_status,
       avg(response_time_ms) AS avg_response_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms) AS p95_response_ms
FROM api_logs WHERE created_at >= $1 AND created_at < $2
"""

_API_ENDPOINTS = f"""
SELECT endpoint, count(*) AS calls,
       count(*) FILTER (WHERE {API_CALL_FAILED}) AS errors,
       (array_agg(error_message ORDER BY created_at DESC) FILTER (WHERE error_message IS NOT NULL))[1] AS last_error
FROM api_logs WHERE created_at >= $1 AND created_at < $2
GROUP BY endpoint
HAVING count(*) FILTER (WHERE {API_CALL_FAILED}) > 0
ORDER BY errors DESC, endpoint
LIMIT $3
"""


async def api_error_rate(conn: asyncpg.Connection, scope: Scope, p: ApiErrorParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_24_hours")
    totals = await conn.fetchrow(_API_TOTALS, period.start, period.end)
    rows = await conn.fetch(_API_ENDPOINTS, period.start, period.end, p.limit)
    coverage = Coverage(tables_used=["api_logs.status_code", "api_logs.error_message"])
    if not totals["calls"]:
        await note_if_empty(conn, coverage, "api_logs", "no API call has been logged")
    else:
        add_null_share(coverage, "api_logs", "status_code", totals["calls"], totals["with_status"], "calls")
    summary = plain_rows([totals], scope.timezone)[0]
    summary["error_rate"] = round(totals["errors"] / totals["calls"], 4) if totals["calls"] else None
    summary["period"] = period.as_dict()
    return ToolResult(
        rows=_without_secrets(plain_rows(rows, scope.timezone)), coverage=coverage, summary=summary
    )


def _render_api(result: ToolResult) -> str:
    s = result.summary
    if not s["calls"]:
        return with_gaps(f"No API calls were logged {in_period(result)}.", result)
    text = (
        f"API error rate {in_period(result)}: {s['error_rate']:.1%} ({s['errors']} of {plural(s['calls'], 'call')}"
        f" failed; {s['client_errors']} client errors aside)."
    )
    if s.get("p95_response_ms") is not None:
        text += f" p95 response time {s['p95_response_ms']:.0f} ms."
    if result.rows:
        text += "\n" + listing(
            f"{r['endpoint']}: {r['errors']} of {r['calls']} failed ({r['last_error'] or 'no message'})"
            for r in result.rows
        )
    return with_gaps(text, result)


TOOLS: list[Tool[Any]] = [
    Tool(
        name="integration_health",
        description=(
            "Health of every integration: sync errors, last successful sync per integration (plex, jellyfin, "
            "tautulli, overseerr...), failing or overdue syncs, and webhook failures in the last 24 hours."
        ),
        params=IntegrationParams,
        modes=ADMIN,
        question_type="health",
        run=integration_health,
        render=_render_health,
        examples=(
            "Are there any sync errors?",
            "When was the last successful Plex sync?",
            "Which integrations are failing?",
            "Is everything syncing OK?",
        ),
        phrasings=(
            "did any sync fail",
            "is plex syncing",
            "which services are down",
            "sync status",
        ),
    ),
    Tool(
        name="webhook_counts",
        description="How many webhooks arrived in a period (default: today), by source and status.",
        params=WebhookParams,
        modes=ADMIN,
        question_type="health",
        run=webhook_counts,
        render=_render_webhooks,
        examples=(
            "How many webhooks today?",
            "How many webhooks did Plex send this week?",
            "Were any webhooks rejected?",
        ),
        phrasings=(
            "how many webhooks came in",
            "webhook events received",
            "count of webhooks",
        ),
    ),
    Tool(
        name="api_error_rate",
        description="API error rate in a period (default: last 24 hours): failed calls, client errors, response times, worst endpoints.",
        params=ApiErrorParams,
        modes=ADMIN,
        question_type="health",
        run=api_error_rate,
        render=_render_api,
        examples=(
            "What's the API error rate?",
            "Are API calls failing?",
            "How many API errors today?",
        ),
        phrasings=(
            "how often do api calls fail",
            "api failure rate",
            "api errors",
        ),
    ),
]
