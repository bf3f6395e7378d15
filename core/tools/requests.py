"""Request management: the asker's requests, and how requests fare on the server.

Definitions
-----------
*How long requests take*: hours from ``requested_at`` to ``available_at`` (and
to ``approved_at``) of requests made in the period, average and median, over
the whole server (anonymous: counts and durations only, through
``analytics.request_timing``); in personal mode also over the asker's own.

*Who approves fastest*: approvers (admins, who may be named) ranked by the
median hours from ``requested_at`` to ``approved_at`` of the requests they
approved.

*Declined requests*: personal mode lists the asker's own declined requests
with the reason; admin mode lists every declined request's title and reason,
never who asked.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

import asyncpg
from pydantic import Field

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.coverage import add_null_share
from core.tools.periods import PeriodParams, resolve_period
from core.tools.phrasing import in_period, listing, period_label, plural, with_gaps
from core.tools.records import plain_rows

PERSONAL: frozenset[Mode] = frozenset({"personal"})
BOTH: frozenset[Mode] = frozenset({"personal", "admin"})

Status = Literal["pending", "approved", "declined", "available", "failed"]


class MyRequestsParams(PeriodParams):
    status: Status | None = Field(default=None, description="Only requests with this status.")
    limit: int = Field(default=20, ge=1, le=100)


_MY_REQUESTS = """
SELECT cr.title, cr.media_type, cr.status, cr.requested_at, cr.approved_at, cr.available_at, cr.declined_at,
       cr.decline_reason, approver.username AS approved_by
FROM content_requests cr
LEFT JOIN users approver ON approver.id = cr.approved_by_user_id
WHERE cr.requested_by_user_id = $1 AND cr.requested_at >= $2 AND cr.requested_at < $3
  AND ($4::text IS NULL OR cr.status = $4)
ORDER BY cr.requested_at DESC
"""


async def my_requests(conn: asyncpg.Connection, scope: Scope, p: MyRequestsParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "all_time")
    rows = await conn.fetch(_MY_REQUESTS, scope.user_id, period.start, period.end, p.status)
    by_status = Counter(r["status"] for r in rows)
    summary = {"period": period.as_dict(), "total": len(rows), "by_status": dict(by_status)}
    coverage = Coverage(tables_used=["content_requests"])
    return ToolResult(rows=plain_rows(rows[: p.limit], scope.timezone), coverage=coverage, summary=summary)


def _render_my_requests(result: ToolResult) -> str:
    s = result.summary
    if not s["total"]:
        return with_gaps(f"You made no requests {in_period(result)}.", result)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(s["by_status"].items()))
    lines = []
    for r in result.rows:
        detail = (
            f" — declined: {r['decline_reason']}"
            if r["status"] == "declined" and r.get("decline_reason")
            else ""
        )
        lines.append(
            f"{r['title']} ({r['media_type']}), {r['status']}, requested {r['requested_at'][:10]}{detail}"
        )
    return with_gaps(f"You made {plural(s['total'], 'request')} ({counts}):\n{listing(lines)}", result)


class TurnaroundParams(PeriodParams):
    pass


_SERVER_TIMING = "SELECT * FROM analytics.request_timing($1, $2)"

_MY_TIMING = """
SELECT count(*) AS requests, count(available_at) AS available,
       avg(extract(epoch FROM available_at - requested_at) / 3600) AS avg_hours_to_available,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM available_at - requested_at) / 3600)
           AS median_hours_to_available
FROM content_requests
WHERE requested_by_user_id = $1 AND requested_at >= $2 AND requested_at < $3
"""


async def request_turnaround(conn: asyncpg.Connection, scope: Scope, p: TurnaroundParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_12_months")
    server = await conn.fetchrow(_SERVER_TIMING, period.start, period.end)
    summary: dict[str, Any] = {"period": period.as_dict(), "server": plain_rows([server], scope.timezone)[0]}
    if scope.mode == "personal":
        mine = await conn.fetchrow(_MY_TIMING, scope.user_id, period.start, period.end)
        summary["mine"] = plain_rows([mine], scope.timezone)[0]
    coverage = Coverage(
        tables_used=[
            "content_requests.requested_at",
            "content_requests.approved_at",
            "content_requests.available_at",
        ]
    )
    if server["requests"] and not server["available"]:
        coverage.gaps.append("no request in the period has an available_at time yet")
    return ToolResult(rows=[], coverage=coverage, summary=summary)


def _duration(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:.1f} hours" if value < 48 else f"{value / 24:.1f} days"


def _render_turnaround(result: ToolResult) -> str:
    server = result.summary["server"]
    if not server["requests"]:
        return with_gaps(f"No requests were made {in_period(result)}.", result)
    text = (
        f"Over {period_label(result)}, {plural(server['requests'], 'request')} were made; a request took a median of "
        f"{_duration(server['median_hours_to_available'])} to become available (average "
        f"{_duration(server['avg_hours_to_available'])}), and a median of {_duration(server['median_hours_to_approve'])} "
        f"to be approved (average {_duration(server['avg_hours_to_approve'])}). {server['pending']} still pending, "
        f"{server['declined']} declined."
    )
    mine = result.summary.get("mine")
    if mine and mine["available"]:
        text += f" Yours took a median of {_duration(mine['median_hours_to_available'])}."
    return with_gaps(text, result)


class ApproversParams(PeriodParams):
    limit: int = Field(default=10, ge=1, le=50)


_APPROVERS = """
SELECT username, display_name, approved, avg_hours, median_hours
FROM analytics.approver_speed($1, $2)
ORDER BY median_hours, approved DESC, username
LIMIT $3
"""


async def fastest_approvers(conn: asyncpg.Connection, scope: Scope, p: ApproversParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_12_months")
    rows = await conn.fetch(_APPROVERS, period.start, period.end, p.limit)
    coverage = Coverage(tables_used=["content_requests.approved_by_user_id", "content_requests.approved_at"])
    approved = await conn.fetchval(
        "SELECT approved FROM analytics.request_timing($1, $2)", period.start, period.end
    )
    if not rows and approved:
        coverage.gaps.append("no approved request records who approved it")
        coverage.missing_tables.append("content_requests.approved_by_user_id")
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


def _render_approvers(result: ToolResult) -> str:
    if not result.rows:
        return with_gaps(f"No request was approved {in_period(result)}.", result)
    lines = [
        f"{r['display_name'] or r['username']}: median {_duration(r['median_hours'])} over {plural(r['approved'], 'approval')}"
        for r in result.rows
    ]
    return with_gaps(f"Fastest approvers ({period_label(result)}):\n{listing(lines)}", result)


class DeclinedParams(PeriodParams):
    limit: int = Field(default=20, ge=1, le=100)


_MY_DECLINED = """
SELECT title, media_type, requested_at, declined_at, decline_reason
FROM content_requests
WHERE requested_by_user_id = $1 AND status = 'declined'
  AND coalesce(declined_at, requested_at) >= $2 AND coalesce(declined_at, requested_at) < $3
ORDER BY coalesce(declined_at, requested_at) DESC
"""

_ALL_DECLINED = """
SELECT title, media_type, requested_at, declined_at, decline_reason
FROM analytics.declined_requests($1, $2)
ORDER BY coalesce(declined_at, requested_at) DESC
"""


async def declined_requests(conn: asyncpg.Connection, scope: Scope, p: DeclinedParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "all_time")
    if scope.mode == "personal":
        rows = await conn.fetch(_MY_DECLINED, scope.user_id, period.start, period.end)
    else:
        rows = await conn.fetch(_ALL_DECLINED, period.start, period.end)
    reasons = Counter(r["decline_reason"] or "no reason given" for r in rows)
    coverage = Coverage(tables_used=["content_requests.status", "content_requests.decline_reason"])
    add_null_share(
        coverage,
        "content_requests",
        "decline_reason",
        len(rows),
        sum(1 for r in rows if r["decline_reason"]),
        "declined requests",
    )
    summary = {
        "period": period.as_dict(),
        "total": len(rows),
        "by_reason": dict(reasons.most_common()),
        "whose": scope.mode,
    }
    return ToolResult(rows=plain_rows(rows[: p.limit], scope.timezone), coverage=coverage, summary=summary)


def _render_declined(result: ToolResult) -> str:
    s = result.summary
    whose = "of yours" if s["whose"] == "personal" else "on the server"
    if not s["total"]:
        return with_gaps(f"No request {whose} was declined {in_period(result)}.", result)
    lines = [
        f"{r['title']} ({r['media_type']}): {r['decline_reason'] or 'no reason given'}" for r in result.rows
    ]
    return with_gaps(f"{plural(s['total'], 'request')} {whose} declined:\n{listing(lines)}", result)


TOOLS: list[Tool[Any]] = [
    Tool(
        name="my_requests",
        description="The asker's own content requests with status, dates and decline reasons; optional status and start/end.",
        params=MyRequestsParams,
        modes=PERSONAL,
        question_type="requests",
        run=my_requests,
        render=_render_my_requests,
        examples=(
            "What did I request?",
            "Show my requests",
            "Is my request still pending?",
            "What have I asked to be added?",
        ),
        phrasings=(
            "what have I requested",
            "my requests status",
            "titles I asked for",
        ),
    ),
    Tool(
        name="request_turnaround",
        description=(
            "How long requests take on the server: median and average hours from request to approval and to "
            "availability, with counts pending and declined (and the asker's own in personal mode)."
        ),
        params=TurnaroundParams,
        modes=BOTH,
        question_type="requests",
        run=request_turnaround,
        render=_render_turnaround,
        examples=(
            "How long do requests usually take?",
            "What's the average request approval time?",
            "How fast are requests fulfilled?",
            "How long until my request is added, usually?",
        ),
        phrasings=(
            "how long does a request take",
            "typical wait for a request",
            "time from request to available",
        ),
    ),
    Tool(
        name="fastest_approvers",
        description="Approvers ranked by how quickly they approve requests (median hours), with how many they approved.",
        params=ApproversParams,
        modes=BOTH,
        question_type="requests",
        run=fastest_approvers,
        render=_render_approvers,
        examples=(
            "Who approves requests fastest?",
            "Which admin handles requests quickest?",
            "Who approves the most requests?",
            "How fast does each admin approve?",
        ),
        phrasings=(
            "who approves the quickest",
            "which admin approves fastest",
        ),
    ),
    Tool(
        name="declined_requests",
        description=(
            "Declined requests with their decline reasons: the asker's own in personal mode, every one (titles "
            "and reasons, never who asked) in admin mode."
        ),
        params=DeclinedParams,
        modes=BOTH,
        question_type="requests",
        run=declined_requests,
        render=_render_declined,
        examples=(
            "What requests have been declined?",
            "Why was my request rejected?",
            "Which requests got turned down?",
            "Show declined requests and reasons",
        ),
        phrasings=(
            "which requests were rejected",
            "why was my request declined",
            "denied requests",
        ),
    ),
]
