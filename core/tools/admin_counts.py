"""Server-wide counts for admins: users, active users, requests by status, approvals per admin.

Definitions
-----------
*Users*: every account, by role. *Active users*: accounts with at least one
``watch_history`` session started in the period (default: the last 30 days).
Both come from ``analytics.user_counts`` (the same counts as
``analytics.user_activity``'s rows, one index probe per account), which counts
every member, opted in or not — only totals are shown here, never who.

*Requests by status*: requests made in the period (default: all time), counted
by status (``analytics.request_timing``: anonymous counts). A status asked for
is answered first.

*Decisions per admin*: approvals per approver (``analytics.approver_speed``).
Requests record who approved them but not who declined them, so declines per
admin are a gap, named in the answer.
"""

from __future__ import annotations

from typing import Any, Literal

import asyncpg
from pydantic import Field

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.periods import DefaultPeriod, PeriodParams, resolve_period
from core.tools.phrasing import listing, period_label, plural, with_gaps
from core.tools.records import plain_rows

ADMIN: frozenset[Mode] = frozenset({"admin"})

CountMeasure = Literal["users", "active_users", "requests", "decisions"]
RequestStatus = Literal["pending", "approved", "declined", "available"]


class AdminCountsParams(PeriodParams):
    measure: CountMeasure = Field(
        default="users",
        description="users; active_users (watched in the period); requests (by status); decisions (per admin).",
    )
    status: RequestStatus | None = Field(default=None, description="For requests: the status asked about.")


_USERS = "SELECT role, users, active FROM analytics.user_counts($1, $2) ORDER BY role"

_REQUESTS = "SELECT requests, approved, declined, available, pending FROM analytics.request_timing($1, $2)"

_APPROVALS = """
SELECT username, display_name, approved FROM analytics.approver_speed($1, $2) ORDER BY approved DESC, username
"""


async def admin_counts(conn: asyncpg.Connection, scope: Scope, p: AdminCountsParams) -> ToolResult:
    default: DefaultPeriod = "last_30_days" if p.measure == "active_users" else "all_time"
    period = resolve_period(scope, p.start, p.end, default)
    summary: dict[str, Any] = {"period": period.as_dict(), "measure": p.measure, "status": p.status}
    coverage = Coverage()
    if p.measure in ("users", "active_users"):
        rows = await conn.fetch(_USERS, period.start, period.end)
        coverage.tables_used = ["users", "watch_history.started_at"]
        summary["users"] = sum(int(r["users"]) for r in rows)
        summary["active"] = sum(int(r["active"]) for r in rows)
        return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)
    if p.measure == "requests":
        row = await conn.fetchrow(_REQUESTS, period.start, period.end)
        coverage.tables_used = ["content_requests.status", "content_requests.requested_at"]
        summary.update({k: int(v or 0) for k, v in row.items()})
        return ToolResult(rows=[], coverage=coverage, summary=summary)
    rows = await conn.fetch(_APPROVALS, period.start, period.end)
    coverage.tables_used = ["content_requests.approved_by_user_id"]
    coverage.gaps.append("requests record who approved them but not who declined them")
    coverage.missing_tables.append("content_requests.declined_by_user_id")
    summary["approved"] = sum(int(r["approved"]) for r in rows)
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_admin_counts(result: ToolResult) -> str:
    s = result.summary
    label = period_label(result)
    if s["measure"] == "users":
        roles = ", ".join(plural(int(r["users"]), str(r["role"])) for r in result.rows)
        return (
            f"There are {plural(s['users'], 'user')} ({roles})." if s["users"] else "There are no users yet."
        )
    if s["measure"] == "active_users":
        return f"{plural(s['active'], 'user')} of {s['users']} watched something in {label}."
    if s["measure"] == "requests":
        if s["status"]:
            text = (
                f"{plural(s[s['status']], 'request')} {'are' if s[s['status']] != 1 else 'is'} {s['status']}"
            )
            text += f" (of {s['requests']} made in {label})."
        else:
            text = (
                f"{plural(s['requests'], 'request')} in {label}: {s['pending']} pending, {s['approved']} approved, "
                f"{s['available']} available, {s['declined']} declined."
            )
        return text
    if not result.rows:
        return with_gaps(f"Nobody approved a request in {label}.", result)
    lines = listing(
        f"{r.get('display_name') or r['username']}: {plural(int(r['approved']), 'approval')}"
        for r in result.rows
    )
    return with_gaps(f"Approvals per admin in {label}:\n{lines}", result)


TOOLS: list[Tool[Any]] = [
    Tool(
        name="admin_counts",
        description=(
            "Server-wide counts: users (by role), active users in a period, requests by status (pending, "
            "approved, declined, available) in a period, approvals per admin. Totals only, never who watched."
        ),
        params=AdminCountsParams,
        modes=ADMIN,
        question_type="user_analytics",
        run=admin_counts,
        render=_render_admin_counts,
        examples=(
            "How many users are there?",
            "How many users were active this month?",
            "How many requests are pending?",
            "How many requests did each admin approve?",
        ),
        routing="cue_first",
    ),
]
