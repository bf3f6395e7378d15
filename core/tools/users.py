"""User analytics for admins: per-user totals, never which titles a user watched.

Totals come from ``analytics.user_activity`` (SECURITY DEFINER, admin mode
only). The one tool that lists titles a user watched,
``user_watch_activity``, reads ``watch_history`` directly, so row-level
security lets it see only users who set ``share_activity_with_admins``.

Definitions
-----------
*Most active*: most playback sessions started in the period (default: last 30
days), ties broken by time watched.
*Watches the most*: most hours watched in the period.
*Rates the most*: most ratings given (lifetime: ratings carry no date).
*Requests the most*: most requests made in the period (default: last 12 months).
*Watches requested content*: most sessions, in the period, of titles that
someone else requested.
*Hasn't logged in recently*: ``users.last_login_at`` older than ``days``
(default 30) or never recorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.coverage import add_null_share
from core.tools.periods import DefaultPeriod, PeriodParams, resolve_period
from core.tools.phrasing import hours, in_period, listing, period_label, plural, with_gaps
from core.tools.records import plain_rows

ADMIN: frozenset[Mode] = frozenset({"admin"})


class LeaderboardParams(PeriodParams):
    limit: int = Field(default=10, ge=1, le=100)


# Sources, metrics and ORDER BY expressions are fixed per tool below, never taken from input.
# The leaders only, from the per-day rollup (issue 17): the rows analytics.user_watch_totals gives them.
SESSION_LEADERS = "analytics.user_watch_leaders($1, $2, 'sessions', $3::integer)"
WATCHED_LEADERS = "analytics.user_watch_leaders($1, $2, 'watched_seconds', $3::integer)"
RATING_TOTALS = "analytics.user_rating_totals()"
REQUEST_TOTALS = "analytics.user_request_totals($1, $2)"
REQUESTED_ITEM_SESSIONS = "analytics.user_requested_item_sessions($1, $2)"

_LEADERBOARD = """
SELECT *
FROM {source}
-- $1 and $2 are typed here too, so a source without a period (ratings) takes the same arguments.
WHERE {metric} > 0 AND $1::timestamptz IS NOT NULL AND $2::timestamptz IS NOT NULL
ORDER BY {order}, username
LIMIT $3
"""


def _leaderboard(
    source: str, metric: str, order: str, default: DefaultPeriod, tables: list[str]
) -> Callable[[asyncpg.Connection, Scope, LeaderboardParams], Awaitable[ToolResult]]:
    sql = _LEADERBOARD.format(source=source, metric=metric, order=order)

    async def run(conn: asyncpg.Connection, scope: Scope, p: LeaderboardParams) -> ToolResult:
        period = resolve_period(scope, p.start, p.end, default)
        records = await conn.fetch(sql, period.start, period.end, p.limit)
        coverage = Coverage(tables_used=tables)
        if not records:
            coverage.gaps.append(f"no user has any {metric.replace('_', ' ')} in {period.label}")
        rows = plain_rows(records, scope.timezone)
        for row in rows:
            row.pop("user_id", None)
        summary = {"period": period.as_dict(), "metric": metric}
        return ToolResult(rows=rows, coverage=coverage, summary=summary)

    return run


def _who(row: dict[str, Any]) -> str:
    return str(row.get("display_name") or row["username"])


def _render_leaderboard(heading: str, line: Callable[[dict[str, Any]], str]) -> Callable[[ToolResult], str]:
    def render(result: ToolResult) -> str:
        if not result.rows:
            return with_gaps(f"Nobody qualifies {in_period(result)}.", result)
        lines = [f"{_who(r)}: {line(r)}" for r in result.rows]
        return with_gaps(f"{heading} ({period_label(result)}):\n{listing(lines)}", result)

    return render


class InactiveParams(BaseModel):
    days: int = Field(default=30, ge=1, le=3650, description="No login for at least this many days.")
    limit: int = Field(default=50, ge=1, le=500)


# People removed from the server cannot log in any more: they are counted apart.
_INACTIVE = """
SELECT username, display_name, role, last_login_at, login_count, created_at
FROM users
WHERE removed_at IS NULL AND (last_login_at IS NULL OR last_login_at < $1)
ORDER BY last_login_at NULLS FIRST, username
"""
_INACTIVE_TOTALS = """
SELECT count(*) FILTER (WHERE removed_at IS NULL) AS users,
       count(last_login_at) FILTER (WHERE removed_at IS NULL) AS with_login,
       count(*) FILTER (WHERE removed_at IS NOT NULL) AS removed
FROM users
"""


async def inactive_users(conn: asyncpg.Connection, scope: Scope, p: InactiveParams) -> ToolResult:
    cutoff = datetime.now(scope.timezone) - timedelta(days=p.days)
    rows = await conn.fetch(_INACTIVE, cutoff)
    totals = await conn.fetchrow(_INACTIVE_TOTALS)
    coverage = Coverage(tables_used=["users.last_login_at", "users.removed_at"])
    add_null_share(coverage, "users", "last_login_at", totals["users"], totals["with_login"], "users")
    summary = {
        "days": p.days,
        "inactive": len(rows),
        "users": totals["users"],
        "never_logged_in": sum(1 for r in rows if r["last_login_at"] is None),
        "removed": totals["removed"],
    }
    return ToolResult(rows=plain_rows(rows[: p.limit], scope.timezone), coverage=coverage, summary=summary)


def _render_inactive(result: ToolResult) -> str:
    s = result.summary
    removed = s.get("removed", 0)
    apart = f"\n({plural(removed, 'user')} removed from the server not counted.)" if removed else ""
    if not s["inactive"]:
        return with_gaps(f"Everyone has logged in within the last {s['days']} days.{apart}", result)
    lines = [
        f"{_who(r)}: last login {r['last_login_at'][:10] if r['last_login_at'] else 'never recorded'}"
        for r in result.rows
    ]
    return with_gaps(
        f"{s['inactive']} of {plural(s['users'], 'user')} haven't logged in for {s['days']} days:\n{listing(lines)}"
        f"{apart}",
        result,
    )


class UserActivityParams(PeriodParams):
    username: str = Field(min_length=1, description="The media-server username of the person.")
    limit: int = Field(default=20, ge=1, le=200)


_USER = "SELECT id, username, display_name, share_activity_with_admins FROM users WHERE lower(username) = lower($1)"

# Row-level security limits this to users who opted in, whatever the tool checks.
_USER_TITLES = """
SELECT coalesce(show.title, mi.title) AS title, coalesce(show.media_type, mi.media_type) AS media_type,
       count(*) AS sessions, sum(wh.watched_seconds)::bigint AS watched_seconds, max(wh.started_at) AS last_played_at
FROM watch_history wh
JOIN media_items mi ON mi.id = wh.media_item_id
LEFT JOIN media_items show ON show.id = mi.parent_id
WHERE wh.user_id = $1 AND wh.started_at >= $2 AND wh.started_at < $3
GROUP BY 1, 2
ORDER BY last_played_at DESC
LIMIT $4
"""


async def user_watch_activity(conn: asyncpg.Connection, scope: Scope, p: UserActivityParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_30_days")
    coverage = Coverage(tables_used=["users.share_activity_with_admins", "watch_history"])
    user = await conn.fetchrow(_USER, p.username)
    summary: dict[str, Any] = {"period": period.as_dict(), "username": p.username, "found": user is not None}
    if user is None:
        return ToolResult(rows=[], coverage=coverage, summary=summary)
    summary["shared"] = user["share_activity_with_admins"]
    summary["display_name"] = user["display_name"] or user["username"]
    if not user["share_activity_with_admins"]:
        return ToolResult(rows=[], coverage=coverage, summary=summary)
    rows = await conn.fetch(_USER_TITLES, user["id"], period.start, period.end, p.limit)
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_user_activity(result: ToolResult) -> str:
    s = result.summary
    if not s["found"]:
        return f"There is no user called {s['username']!r}."
    if not s["shared"]:
        return (
            f"{s['display_name']} has not opted in to share their viewing with admins, so I can only give their "
            "totals (try 'which users watch the most'), not which titles they watched."
        )
    if not result.rows:
        return with_gaps(f"{s['display_name']} watched nothing {in_period(result)}.", result)
    lines = [
        f"{r['title']}: {plural(r['sessions'], 'session')}, {hours(r['watched_seconds'])}"
        for r in result.rows
    ]
    return with_gaps(
        f"{s['display_name']} (shared with admins) watched {in_period(result)}:\n{listing(lines)}",
        result,
    )


def _board(
    name: str,
    description: str,
    source: str,
    metric: str,
    order: str,
    default: DefaultPeriod,
    tables: list[str],
    heading: str,
    line: Callable[[dict[str, Any]], str],
    examples: tuple[str, ...],
    phrasings: tuple[str, ...],
) -> Tool[LeaderboardParams]:
    return Tool(
        name=name,
        description=description,
        params=LeaderboardParams,
        modes=ADMIN,
        question_type="user_analytics",
        run=_leaderboard(source, metric, order, default, tables),
        render=_render_leaderboard(heading, line),
        examples=examples,
        phrasings=phrasings,
    )


TOOLS: list[Tool[Any]] = [
    _board(
        "most_active_users",
        "Users ranked by playback sessions in a period (default: last 30 days), with hours and last login. Totals only.",
        SESSION_LEADERS,
        "sessions",
        "sessions DESC, watched_seconds DESC",
        "last_30_days",
        ["watch_history (per-user totals)", "users.last_login_at"],
        "Most active users",
        lambda r: f"{plural(r['sessions'], 'session')}, {hours(r['watched_seconds'])}",
        (
            "Which users are most active?",
            "Who uses the server the most?",
            "Most active members this month",
            "Who is streaming the most lately?",
        ),
        (
            "who is the most active user",
            "rank users by activity",
            "busiest users",
        ),
    ),
    _board(
        "top_watchers",
        "Users ranked by hours watched in a period (default: last 30 days), with completed plays. Totals only.",
        WATCHED_LEADERS,
        "watched_seconds",
        "watched_seconds DESC",
        "last_30_days",
        ["watch_history (per-user totals)"],
        "Who watches the most",
        lambda r: f"{hours(r['watched_seconds'])}, {plural(r['completed_plays'], 'completed play')}",
        (
            "Which users watch the most content?",
            "Who watched the most hours?",
            "Biggest watchers this year",
            "Who has the most watch time?",
        ),
        (
            "who watched the most",
            "which user has watched the most",
            "rank users by watch time",
            "who has watched the most hours",
        ),
    ),
    _board(
        "top_raters",
        "Users ranked by how many ratings they have given (all time) and their average rating.",
        RATING_TOTALS,
        "ratings_given",
        "ratings_given DESC",
        "all_time",
        ["user_stats.rating (per-user totals)"],
        "Who rates the most",
        lambda r: f"{plural(r['ratings_given'], 'rating')}, average {r['avg_rating_given']:.1f}",
        (
            "Who rates content the most?",
            "Which users leave the most ratings?",
            "Who rates things?",
            "Top reviewers on the server",
        ),
        (
            "which users rate the most",
            "who gives the most ratings",
            "most ratings given by user",
        ),
    ),
    _board(
        "top_requesters",
        "Users ranked by how many requests they made in a period (default: last 12 months).",
        REQUEST_TOTALS,
        "requests_made",
        "requests_made DESC",
        "last_12_months",
        ["content_requests.requested_by_user_id (per-user totals)"],
        "Who requests the most",
        lambda r: plural(r["requests_made"], "request"),
        (
            "Which users request the most content?",
            "Who makes the most requests?",
            "Top requesters",
            "Who asks for the most movies?",
        ),
        (
            "who requests the most",
            "rank users by requests",
            "who has made the most requests",
        ),
    ),
    _board(
        "requested_content_watchers",
        "Users ranked by sessions of titles someone else requested, in a period (default: last 30 days).",
        REQUESTED_ITEM_SESSIONS,
        "requested_item_sessions",
        "requested_item_sessions DESC",
        "last_30_days",
        ["content_requests.media_item_id", "watch_history (per-user totals)"],
        "Who watches requested content",
        lambda r: f"{plural(r['requested_item_sessions'], 'session')} of others' requests",
        (
            "Who watches requested content?",
            "Which users watch what others requested?",
            "Who benefits from requests?",
            "Who plays requested titles?",
        ),
        (
            "which users watch requested titles",
            "who watches the requests of others",
            "who plays requested content",
        ),
    ),
    Tool(
        name="inactive_users",
        description="Users who have not logged in to the media server for at least `days` days (or never recorded).",
        params=InactiveParams,
        modes=ADMIN,
        question_type="user_analytics",
        run=inactive_users,
        render=_render_inactive,
        examples=(
            "Who hasn't logged in recently?",
            "Which users are inactive?",
            "Who hasn't used Plex in a month?",
            "List dormant accounts",
        ),
        phrasings=(
            "who has not logged in",
            "users who have not signed in for a while",
            "idle users",
        ),
    ),
    Tool(
        name="user_watch_activity",
        description=(
            "Which titles one named user watched in a period — only for users who opted in to share their "
            "activity with admins; otherwise it says so."
        ),
        params=UserActivityParams,
        modes=ADMIN,
        question_type="user_analytics",
        run=user_watch_activity,
        render=_render_user_activity,
        examples=(
            "What has alice been watching?",
            "Show bob's viewing this month",
            "What did carol watch recently?",
        ),
    ),
]
