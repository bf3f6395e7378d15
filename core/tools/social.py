"""Social and influence analytics for admins: what people's requests do for others.

All per-user figures come from ``analytics.requester_influence`` and
``analytics.user_power_measures`` (SECURITY DEFINER, admin mode only): totals per
user, never the titles a user watched or requested.

Definitions
-----------
*Requests watched by others*: for the requests a user made in the period, how
many other users played the requested title (a show's episodes included) and
how many sessions they played.

*Discovers content others love*: ``discovery_score = other viewers x (others'
average rating of the requested titles / 10, or 0.6 when nobody rated
them)``: many other people played what they asked for, and liked it.

*Power user*: the mean of a user's percentile rank (0-1) among all users on
five measures in the period (default: last 90 days), weighted: hours watched
0.35, distinct items played 0.20, ratings given 0.15, requests made 0.10, other
users who played their requests 0.20; shown as a 0-100 score.

*Never watch what they request*: users with fulfilled requests they never
played themselves, ranked by how many and by the share of their fulfilled
requests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from pydantic import Field

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.periods import PeriodParams, resolve_period
from core.tools.phrasing import hours, in_period, listing, period_label, plural, with_gaps
from core.tools.records import plain_rows

ADMIN: frozenset[Mode] = frozenset({"admin"})
NO_RATING_FACTOR = 0.6


class InfluenceParams(PeriodParams):
    limit: int = Field(default=10, ge=1, le=100)


_WATCHED_BY_OTHERS = """
SELECT username, display_name, requests, fulfilled, fulfilled_watched_by_others, other_viewers, other_sessions
FROM analytics.requester_influence($1, $2)
WHERE other_sessions > 0
ORDER BY other_viewers DESC, other_sessions DESC, username
LIMIT $3
"""


def _who(row: dict[str, Any]) -> str:
    return str(row.get("display_name") or row["username"])


def _influence_coverage(rows: list[asyncpg.Record]) -> Coverage:
    return Coverage(
        tables_used=[
            "content_requests.requested_by_user_id",
            "content_requests.media_item_id",
            "watch_history",
            "user_stats.rating",
        ]
    )


async def _note_unlinked_requests(
    conn: asyncpg.Connection, coverage: Coverage, period_start: datetime, period_end: datetime
) -> None:
    timing = await conn.fetchrow(
        "SELECT requests, available FROM analytics.request_timing($1, $2)", period_start, period_end
    )
    if not timing["requests"]:
        coverage.gaps.append("no requests were made in the period")
        coverage.missing_tables.append("content_requests")


async def requests_watched_by_others(
    conn: asyncpg.Connection, scope: Scope, p: InfluenceParams
) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "all_time")
    rows = await conn.fetch(_WATCHED_BY_OTHERS, period.start, period.end, p.limit)
    coverage = _influence_coverage(rows)
    if not rows:
        await _note_unlinked_requests(conn, coverage, period.start, period.end)
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


def _render_watched_by_others(result: ToolResult) -> str:
    if not result.rows:
        return with_gaps(f"Nobody's requests from {period_label(result)} were played by anyone else.", result)
    lines = [
        f"{_who(r)}: {r['fulfilled_watched_by_others']} of {r['fulfilled']} fulfilled requests played by others — "
        f"{plural(r['other_viewers'], 'other viewer')}, {plural(r['other_sessions'], 'session')}"
        for r in result.rows
    ]
    return with_gaps(
        f"Whose requests others watch the most ({period_label(result)}):\n{listing(lines)}", result
    )


_DISCOVERERS = f"""
SELECT username, display_name, fulfilled, fulfilled_watched_by_others, other_viewers, other_ratings, other_avg_rating,
       round((other_viewers * coalesce(other_avg_rating / 10, {NO_RATING_FACTOR}))::numeric, 2) AS discovery_score
FROM analytics.requester_influence($1, $2)
WHERE other_viewers > 0
ORDER BY discovery_score DESC, other_viewers DESC, username
LIMIT $3
"""


async def content_discoverers(conn: asyncpg.Connection, scope: Scope, p: InfluenceParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "all_time")
    rows = await conn.fetch(_DISCOVERERS, period.start, period.end, p.limit)
    coverage = _influence_coverage(rows)
    if rows and not any(r["other_ratings"] for r in rows):
        coverage.gaps.append("nobody rated the requested titles, so the score rests on plays alone")
        coverage.missing_tables.append("user_stats.rating")
    if not rows:
        await _note_unlinked_requests(conn, coverage, period.start, period.end)
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


def _render_discoverers(result: ToolResult) -> str:
    if not result.rows:
        return with_gaps(f"No one's requests from {period_label(result)} found an audience yet.", result)
    lines = []
    for r in result.rows:
        rating = (
            f", rated {r['other_avg_rating']:.1f} on average by others"
            if r.get("other_avg_rating") is not None
            else ""
        )
        lines.append(f"{_who(r)}: requests played by {plural(r['other_viewers'], 'other user')}{rating}")
    return with_gaps(f"Who discovers content others love ({period_label(result)}):\n{listing(lines)}", result)


_POWER_USERS = """
WITH activity AS (SELECT * FROM analytics.user_power_measures($1, $2)),
     influence AS (SELECT user_id, other_viewers FROM analytics.requester_influence($1, $2)),
     measures AS (
        SELECT a.username, a.display_name, a.watched_seconds, a.distinct_items, a.ratings_given, a.requests_made,
               coalesce(i.other_viewers, 0) AS other_viewers
        FROM activity a LEFT JOIN influence i USING (user_id)
     ), ranked AS (
        SELECT m.*,
               percent_rank() OVER (ORDER BY watched_seconds) AS r_hours,
               percent_rank() OVER (ORDER BY distinct_items) AS r_items,
               percent_rank() OVER (ORDER BY ratings_given) AS r_ratings,
               percent_rank() OVER (ORDER BY requests_made) AS r_requests,
               percent_rank() OVER (ORDER BY other_viewers) AS r_influence
        FROM measures m
     )
SELECT username, display_name, watched_seconds, distinct_items, ratings_given, requests_made, other_viewers,
       round((100 * (0.35 * r_hours + 0.20 * r_items + 0.15 * r_ratings + 0.10 * r_requests + 0.20 * r_influence))::numeric, 1)
           AS score
FROM ranked
WHERE watched_seconds > 0 OR ratings_given > 0 OR requests_made > 0
ORDER BY score DESC, watched_seconds DESC, username
LIMIT $3
"""


class PowerUsersParams(PeriodParams):
    limit: int = Field(default=10, ge=1, le=100)


async def power_users(conn: asyncpg.Connection, scope: Scope, p: PowerUsersParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_90_days")
    rows = await conn.fetch(_POWER_USERS, period.start, period.end, p.limit)
    coverage = Coverage(tables_used=["watch_history", "user_stats.rating", "content_requests"])
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


def _render_power_users(result: ToolResult) -> str:
    if not result.rows:
        return with_gaps(f"Nobody used the server {in_period(result)}.", result)
    lines = [
        f"{_who(r)} — score {r['score']:.0f}: {hours(r['watched_seconds'])}, {plural(r['distinct_items'], 'item')}, "
        f"{plural(r['ratings_given'], 'rating')}, {plural(r['requests_made'], 'request')}, requests played by "
        f"{plural(r['other_viewers'], 'other user')}"
        for r in result.rows
    ]
    return with_gaps(f"Power users ({period_label(result)}):\n{listing(lines)}", result)


# Only the requesters' own follow-through: analytics.requester_influence would also count every
# other viewer and rating of every request (issue 17: 250 ms -> 40 ms on the large demo server).
_SKIPPERS = """
SELECT username, display_name, fulfilled, fulfilled_watched_by_requester,
       fulfilled - fulfilled_watched_by_requester AS never_watched,
       round((fulfilled - fulfilled_watched_by_requester)::numeric / fulfilled, 3) AS share_never_watched
FROM analytics.requester_follow_through($1, $2)
WHERE fulfilled > 0 AND fulfilled_watched_by_requester < fulfilled
ORDER BY never_watched DESC, share_never_watched DESC, username
LIMIT $3
"""


async def requesters_who_skip_their_requests(
    conn: asyncpg.Connection, scope: Scope, p: InfluenceParams
) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "all_time")
    rows = await conn.fetch(_SKIPPERS, period.start, period.end, p.limit)
    coverage = _influence_coverage(rows)
    if not rows:
        await _note_unlinked_requests(conn, coverage, period.start, period.end)
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


def _render_skippers(result: ToolResult) -> str:
    if not result.rows:
        return with_gaps(f"Everyone watched what they requested ({period_label(result)}).", result)
    lines = [
        f"{_who(r)}: never played {r['never_watched']} of {plural(r['fulfilled'], 'fulfilled request')}"
        for r in result.rows
    ]
    return with_gaps(
        f"Who doesn't watch what they request ({period_label(result)}):\n{listing(lines)}", result
    )


TOOLS: list[Tool[Any]] = [
    Tool(
        name="requests_watched_by_others",
        description="Users whose requests other people played the most: other viewers and sessions per requester (totals, no titles).",
        params=InfluenceParams,
        modes=ADMIN,
        question_type="social",
        run=requests_watched_by_others,
        render=_render_watched_by_others,
        examples=(
            "Whose requests get watched the most by others?",
            "Whose requests are most popular?",
            "Which requesters bring in content others watch?",
        ),
        phrasings=(
            "whose requests do others watch",
            "whose requests are watched the most",
            "whose requests are popular with others",
            "who are the most influential requesters",
        ),
    ),
    Tool(
        name="content_discoverers",
        description="Users who discover content others love: other users' plays and ratings of what they requested, as a score.",
        params=InfluenceParams,
        modes=ADMIN,
        question_type="social",
        run=content_discoverers,
        render=_render_discoverers,
        examples=(
            "Which users discover content others love?",
            "Who has the best taste in requests?",
            "Whose requests do people rate highly?",
        ),
        phrasings=(
            "whose requests do others love",
            "who discovers content others rate highly",
        ),
    ),
    Tool(
        name="power_users",
        description="Power users by a multi-metric score (hours, items, ratings, requests, others watching their requests), default last 90 days.",
        params=PowerUsersParams,
        modes=ADMIN,
        question_type="social",
        run=power_users,
        render=_render_power_users,
        examples=(
            "Who are the power users?",
            "Who are my most engaged users?",
            "Rank the heaviest users overall",
        ),
        phrasings=(
            "who are the heaviest users",
            "most engaged users overall",
            "super users",
        ),
    ),
    Tool(
        name="requesters_who_skip_their_requests",
        description="Users whose fulfilled requests they never played themselves, with counts and share.",
        params=InfluenceParams,
        modes=ADMIN,
        question_type="social",
        run=requesters_who_skip_their_requests,
        render=_render_skippers,
        examples=(
            "Which users never watch what they request?",
            "Who requests things and doesn't watch them?",
            "Are there requesters who ignore their own requests?",
        ),
        phrasings=(
            "who requests content and never watches it",
            "users who do not watch what they requested",
        ),
    ),
]
