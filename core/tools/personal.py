"""Personal analytics: the asker's own viewing. Every query filters by ``scope.user_id``.

Definitions
-----------
*Watch time*: the sum of ``watch_history.watched_seconds`` of sessions started
in the period; a session counts as completed when the service said it was watched
(``watch_history.service_watched``), else from ``MARQUEE_WATCHED_PERCENT`` (default
90) of ``percent_complete`` on (``analytics.play_finished``).

*When do I watch the most*: sessions by hour of day (and weekday) of
``watch_history.started_at`` in the configured time zone.

*How long until I finish a series*: episodes of the show the asker has not
completed (``user_stats.play_count = 0`` or no row), and the minutes they last
(an episode without a duration counts as the show's average episode length; when
no episode of the show has one, the time left is unknown, not zero).
The date assumes the asker's own recent pace: episodes of this show completed
in the last 28 days per day, or, when none, episodes of any show completed in
the last 28 days per day. No recent episodes means no date.

*Abandoned*: a show the asker started (completed at least one episode or played
one), of which they completed under ``max_completion`` (default 80 %) of the
episodes, and of which they played nothing for ``idle_days`` (default 30).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, Field

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.coverage import add_null_share
from core.tools.periods import PeriodParams, range_label, resolve_period
from core.tools.phrasing import (
    hours,
    in_period,
    in_period_opening,
    listing,
    plural,
    title_of,
    with_gaps,
)
from core.tools.records import plain_rows
from core.tools.title_lookup import find_title

PERSONAL: frozenset[Mode] = frozenset({"personal"})
PACE_DAYS = 28


class WatchTimeParams(PeriodParams):
    pass


_WATCH_TIME = """
SELECT mi.media_type, count(*) AS sessions, coalesce(sum(wh.watched_seconds), 0)::bigint AS watched_seconds,
       count(*) FILTER (
           WHERE analytics.play_finished(wh.service_watched, wh.percent_complete, (SELECT analytics.watched_percent()))
       ) AS completed,
       count(DISTINCT coalesce(mi.parent_id, mi.id)) AS titles
FROM watch_history wh JOIN media_items mi ON mi.id = wh.media_item_id
WHERE wh.user_id = $1 AND wh.started_at >= $2 AND wh.started_at < $3
GROUP BY mi.media_type
ORDER BY mi.media_type
"""

# The window of the same length just before: "am I watching more than before?" is answered with it.
_WATCH_TIME_BEFORE = """
SELECT count(*) AS sessions, coalesce(sum(wh.watched_seconds), 0)::bigint AS watched_seconds
FROM watch_history wh
WHERE wh.user_id = $1 AND wh.started_at >= $2 AND wh.started_at < $3
"""

# The same time per calendar month (in the asker's zone): what the "watch time over months" chart draws.
_WATCH_TIME_BY_MONTH = """
SELECT to_char(date_trunc('month', wh.started_at AT TIME ZONE $4), 'YYYY-MM') AS month, count(*) AS sessions,
       coalesce(sum(wh.watched_seconds), 0)::bigint AS watched_seconds
FROM watch_history wh
WHERE wh.user_id = $1 AND wh.started_at >= $2 AND wh.started_at < $3
GROUP BY 1 ORDER BY 1
"""


async def watch_time(conn: asyncpg.Connection, scope: Scope, p: WatchTimeParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "this_month")
    rows = await conn.fetch(_WATCH_TIME, scope.user_id, period.start, period.end)
    months = await conn.fetch(
        _WATCH_TIME_BY_MONTH, scope.user_id, period.start, period.end, scope.timezone.key
    )
    before = None
    if period.comparable:
        before_start = period.start - (period.end - period.start)
        previous = await conn.fetchrow(_WATCH_TIME_BEFORE, scope.user_id, before_start, period.start)
        before = {
            "label": range_label(before_start, period.start, scope.timezone),
            "days": round((period.end - period.start).total_seconds() / 86400),
            "sessions": int(previous["sessions"]),
            "watched_seconds": int(previous["watched_seconds"]),
        }
    summary = {
        "period": period.as_dict(),
        "previous": before,
        "sessions": sum(int(r["sessions"]) for r in rows),
        "watched_seconds": sum(int(r["watched_seconds"]) for r in rows),
        "completed": sum(int(r["completed"]) for r in rows),
        "titles": sum(int(r["titles"]) for r in rows),
        "by_month": [dict(r) for r in months],
    }
    coverage = Coverage(tables_used=["watch_history.watched_seconds", "watch_history.started_at"])
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_watch_time(result: ToolResult) -> str:
    s = result.summary
    if not s["sessions"]:
        return with_gaps(f"You haven't watched anything {in_period(result)}.", result)
    parts = [
        f"{plural(r['sessions'], 'session')} of {r['media_type']}s ({hours(r['watched_seconds'])})"
        for r in result.rows
    ]
    return with_gaps(
        f"{in_period_opening(result)} you watched {hours(s['watched_seconds'])} across {plural(s['titles'], 'title')} "
        f"({plural(s['sessions'], 'session')}, {s['completed']} finished): "
        + "; ".join(parts)
        + "."
        + _compared_with_before(s["watched_seconds"], s.get("previous")),
        result,
    )


def _compared_with_before(watched_seconds: int, before: dict[str, Any] | None) -> str:
    """ " That's more than the 30 days before (2 Oct – 1 Nov 2026: 1.2 hours)." — or nothing."""
    if not before:
        return ""
    earlier = before["watched_seconds"]
    span = "the day before" if before["days"] <= 1 else f"the {before['days']} days before"
    if not earlier:
        return f" Up from nothing in {span} ({before['label']})."
    if abs(watched_seconds - earlier) <= 0.1 * earlier:
        verdict = f"About the same as {span}"
    else:
        verdict = f"That's {'more' if watched_seconds > earlier else 'less'} than {span}"
    return f" {verdict} ({before['label']}: {hours(earlier)})."


class AverageRatingParams(BaseModel):
    media_type: Literal["movie", "episode"] | None = Field(
        default=None, description="Only ratings of movies or episodes."
    )


_AVERAGE_RATING = """
SELECT count(us.rating) AS ratings, avg(us.rating) AS average, min(us.rating) AS lowest, max(us.rating) AS highest,
       count(*) AS rows
FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id
WHERE us.user_id = $1 AND ($2::text IS NULL OR mi.media_type = $2)
"""

# The asker's ratings are taken per title first, and only those titles read: joining every rating to
# its title directly, the planner (misled by row-level security's estimate of one rating) hashed all
# of media_items for it (issue 17).
_TOP_RATED_BY_ME = """
WITH rated AS MATERIALIZED (
    SELECT coalesce(mi.parent_id, mi.id) AS top_id, max(us.rating) AS rating
    FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id
    WHERE us.user_id = $1 AND us.rating IS NOT NULL AND ($2::text IS NULL OR mi.media_type = $2)
    GROUP BY 1
)
SELECT t.title, t.year, t.media_type, r.rating
FROM rated r JOIN media_items t ON t.id = r.top_id
ORDER BY r.rating DESC, t.title
LIMIT 3
"""


async def average_rating(conn: asyncpg.Connection, scope: Scope, p: AverageRatingParams) -> ToolResult:
    stats = await conn.fetchrow(_AVERAGE_RATING, scope.user_id, p.media_type)
    top = await conn.fetch(_TOP_RATED_BY_ME, scope.user_id, p.media_type)
    summary = plain_rows([stats], scope.timezone)[0]
    coverage = Coverage(tables_used=["user_stats.rating"])
    if stats["rows"] and not stats["ratings"]:
        coverage.gaps.append("you have played titles but never rated one")
    return ToolResult(rows=plain_rows(top, scope.timezone), coverage=coverage, summary=summary)


def _render_average_rating(result: ToolResult) -> str:
    s = result.summary
    if not s["ratings"]:
        return with_gaps("You haven't rated anything yet.", result)
    text = (
        f"Your average rating is {s['average']:.1f} out of 10 over {plural(s['ratings'], 'rating')} "
        f"(lowest {s['lowest']:.1f}, highest {s['highest']:.1f})."
    )
    if result.rows:
        text += (
            " Your top rated: " + ", ".join(f"{title_of(r)} ({r['rating']:.1f})" for r in result.rows) + "."
        )
    return with_gaps(text, result)


class WatchHistoryParams(PeriodParams):
    limit: int = Field(default=20, ge=1, le=200, description="Most recent sessions to list.")


_HISTORY = """
SELECT wh.started_at, wh.watched_seconds, wh.percent_complete, mi.media_type,
       coalesce(show.title, mi.title) AS title, coalesce(show.year, mi.year) AS year,
       CASE WHEN mi.media_type = 'episode' THEN mi.title END AS episode_title,
       mi.season_number, mi.episode_number
FROM watch_history wh
JOIN media_items mi ON mi.id = wh.media_item_id
LEFT JOIN media_items show ON show.id = mi.parent_id
WHERE wh.user_id = $1 AND wh.started_at >= $2 AND wh.started_at < $3
ORDER BY wh.started_at DESC
LIMIT $4
"""

_HISTORY_TOTAL = """
SELECT count(*) AS sessions, coalesce(sum(watched_seconds), 0)::bigint AS watched_seconds
FROM watch_history WHERE user_id = $1 AND started_at >= $2 AND started_at < $3
"""


async def watch_history(conn: asyncpg.Connection, scope: Scope, p: WatchHistoryParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "all_time")
    rows = await conn.fetch(_HISTORY, scope.user_id, period.start, period.end, p.limit)
    totals = await conn.fetchrow(_HISTORY_TOTAL, scope.user_id, period.start, period.end)
    summary = {
        "period": period.as_dict(),
        "sessions": totals["sessions"],
        "watched_seconds": totals["watched_seconds"],
    }
    coverage = Coverage(tables_used=["watch_history", "media_items"])
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _episode_label(row: dict[str, Any]) -> str:
    if row["media_type"] != "episode":
        return title_of(row)
    code = ""
    if row.get("season_number") is not None and row.get("episode_number") is not None:
        code = f" S{row['season_number']:02d}E{row['episode_number']:02d}"
    return f"{row['title']}{code}"


def _render_history(result: ToolResult) -> str:
    s = result.summary
    if not result.rows:
        return with_gaps(f"You have no plays {in_period(result)}.", result)
    lines = [
        f"{r['started_at'][:16].replace('T', ' ')} — {_episode_label(r)} ({hours(r['watched_seconds'])})"
        for r in result.rows
    ]
    more = f" (showing the latest {len(result.rows)})" if s["sessions"] > len(result.rows) else ""
    return with_gaps(
        f"You played {plural(s['sessions'], 'session')} {in_period(result)}{more}:\n{listing(lines)}",
        result,
    )


class ByHourParams(PeriodParams):
    pass


_BY_HOUR = """
SELECT extract(hour FROM wh.started_at AT TIME ZONE $4)::int AS hour, count(*) AS sessions,
       coalesce(sum(wh.watched_seconds), 0)::bigint AS watched_seconds
FROM watch_history wh
WHERE wh.user_id = $1 AND wh.started_at >= $2 AND wh.started_at < $3
GROUP BY 1 ORDER BY 1
"""

# Every weekday with plays, Monday first (the by-weekday chart draws them all).
_BY_WEEKDAY = """
SELECT extract(isodow FROM wh.started_at AT TIME ZONE $4)::int AS isodow,
       to_char(wh.started_at AT TIME ZONE $4, 'FMDay') AS weekday, count(*) AS sessions
FROM watch_history wh
WHERE wh.user_id = $1 AND wh.started_at >= $2 AND wh.started_at < $3
GROUP BY 1, 2 ORDER BY 1
"""


async def watch_time_by_hour(conn: asyncpg.Connection, scope: Scope, p: ByHourParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "all_time")
    tz = scope.timezone.key
    rows = await conn.fetch(_BY_HOUR, scope.user_id, period.start, period.end, tz)
    weekdays = await conn.fetch(_BY_WEEKDAY, scope.user_id, period.start, period.end, tz)
    summary: dict[str, Any] = {"period": period.as_dict(), "timezone": tz}
    if rows:
        peak = max(rows, key=lambda r: (r["watched_seconds"], r["sessions"]))
        summary.update(peak_hour=peak["hour"], peak_hour_seconds=peak["watched_seconds"])
    if weekdays:
        busiest = min(weekdays, key=lambda r: (-r["sessions"], r["weekday"]))
        summary["busiest_weekday"] = busiest["weekday"]
        summary["sessions_by_weekday"] = [
            {"weekday": r["weekday"], "sessions": int(r["sessions"])} for r in weekdays
        ]
    coverage = Coverage(tables_used=["watch_history.started_at"])
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_by_hour(result: ToolResult) -> str:
    s = result.summary
    if not result.rows:
        return with_gaps(f"You have no plays {in_period(result)}.", result)
    hour = s["peak_hour"]
    top = sorted(result.rows, key=lambda r: -r["watched_seconds"])[:3]
    others = ", ".join(f"{r['hour']:02d}:00 ({hours(r['watched_seconds'])})" for r in top[1:])
    text = f"You watch the most around {hour:02d}:00–{(hour + 1) % 24:02d}:00 ({s['timezone']} time)"
    text += f", then {others}." if others else "."
    if s.get("busiest_weekday"):
        text += f" Your busiest day is {s['busiest_weekday']}."
    return with_gaps(text, result)


class FinishSeriesParams(BaseModel):
    title: str | None = Field(
        default=None, description="The show (spelling may be rough); leave out for every show in progress."
    )
    limit: int = Field(default=10, ge=1, le=50)


_SERIES_PROGRESS = """
WITH started AS (
    SELECT DISTINCT mi.parent_id AS show_id
    FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id
    WHERE us.user_id = $1 AND mi.media_type = 'episode' AND ($2::uuid IS NULL OR mi.parent_id = $2)
), progress AS (
    SELECT s.show_id, count(e.id) AS episodes,
           count(e.id) FILTER (WHERE us.play_count > 0) AS watched,
           count(e.id) FILTER (WHERE coalesce(us.play_count, 0) = 0) AS remaining,
           count(e.id) FILTER (WHERE coalesce(us.play_count, 0) = 0 AND e.duration_seconds IS NULL) AS remaining_unknown,
           sum(e.duration_seconds) FILTER (WHERE coalesce(us.play_count, 0) = 0) AS remaining_known_seconds,
           avg(e.duration_seconds) AS avg_episode_seconds,
           max(us.last_played_at) AS last_played_at
    FROM started s
    JOIN media_items e ON e.parent_id = s.show_id
    LEFT JOIN user_stats us ON us.media_item_id = e.id AND us.user_id = $1
    GROUP BY s.show_id
), pace AS (
    SELECT coalesce(mi.parent_id, mi.id) AS show_id, count(*) AS completed
    FROM watch_history wh JOIN media_items mi ON mi.id = wh.media_item_id
    WHERE wh.user_id = $1 AND wh.started_at >= $3 AND mi.media_type = 'episode'
      AND analytics.play_finished(wh.service_watched, wh.percent_complete, (SELECT analytics.watched_percent()))
    GROUP BY 1
)
SELECT t.id, t.title, t.year, p.episodes, p.watched, p.remaining, p.remaining_unknown,
       -- Unknown (NULL) when no episode of the show has a length to go by, never "0 minutes".
       CASE WHEN p.remaining_unknown = 0 OR p.avg_episode_seconds IS NOT NULL
            THEN (coalesce(p.remaining_known_seconds, 0) + p.remaining_unknown * coalesce(p.avg_episode_seconds, 0))::bigint
       END AS remaining_seconds,
       p.last_played_at, coalesce(pc.completed, 0) AS recent_episodes,
       (SELECT coalesce(sum(completed), 0) FROM pace) AS recent_episodes_all_shows
FROM progress p
JOIN media_items t ON t.id = p.show_id
LEFT JOIN pace pc ON pc.show_id = p.show_id
WHERE p.remaining > 0 OR $2::uuid IS NOT NULL
ORDER BY p.last_played_at DESC NULLS LAST, t.title
LIMIT $4
"""


async def time_to_finish_series(conn: asyncpg.Connection, scope: Scope, p: FinishSeriesParams) -> ToolResult:
    coverage = Coverage(
        tables_used=["user_stats.play_count", "media_items.duration_seconds", "watch_history"]
    )
    show_id = None
    summary: dict[str, Any] = {"pace_days": PACE_DAYS}
    if p.title:
        match = await find_title(conn, p.title, ("show",))
        if match is None:
            coverage.gaps.append(f"no show in the library looks like {p.title!r}")
            return ToolResult(rows=[], coverage=coverage, summary={"matched_title": None})
        show_id = match["id"]
        summary["matched_title"] = title_of(dict(match))
    now = datetime.now(scope.timezone)
    records = await conn.fetch(
        _SERIES_PROGRESS, scope.user_id, show_id, now - timedelta(days=PACE_DAYS), p.limit
    )
    rows = plain_rows(records, scope.timezone)
    averaged = 0
    for row in rows:
        if row["remaining_seconds"] is not None:
            averaged += row["remaining_unknown"]
        elif row["remaining"]:
            coverage.gaps.append(
                f"no episode of {title_of(row)} has a known length, so the time left is unknown"
            )
        per_day = (row["recent_episodes"] or row["recent_episodes_all_shows"]) / PACE_DAYS
        row["episodes_per_day"] = round(per_day, 3)
        if row["remaining"] == 0:
            row["estimated_finish"] = now.date().isoformat()
        elif per_day > 0:
            row["estimated_finish"] = (now + timedelta(days=row["remaining"] / per_day)).date().isoformat()
        else:
            row["estimated_finish"] = None
    if averaged:
        coverage.gaps.append(
            f"{plural(averaged, 'remaining episode')} had no duration; the show's average episode length was used"
        )
    if rows and all(r["estimated_finish"] is None for r in rows):
        coverage.gaps.append(
            f"you finished no episode in the last {PACE_DAYS} days, so there is no pace to date it"
        )
    return ToolResult(rows=rows, coverage=coverage, summary=summary)


def _render_finish(result: ToolResult) -> str:
    if result.params.get("title") and not result.summary.get("matched_title"):
        return with_gaps(f"I couldn't find a show called {result.params['title']!r}.", result)
    if not result.rows:
        return with_gaps("You have no show in progress.", result)
    lines = []
    for r in result.rows:
        if r["remaining"] == 0:
            lines.append(f"{title_of(r)}: you've watched all {r['episodes']} episodes.")
            continue
        when = (
            f"at your recent pace ({r['episodes_per_day'] * 7:.1f} episodes a week) you'd finish around {r['estimated_finish']}"
            if r["estimated_finish"]
            else "you haven't finished an episode lately, so I can't date it"
        )
        length = (
            f"about {hours(r['remaining_seconds'])}"
            if r["remaining_seconds"] is not None
            else "of unknown length"
        )
        lines.append(f"{title_of(r)}: {r['remaining']} of {r['episodes']} episodes left, {length}; {when}.")
    if len(lines) == 1:
        return with_gaps(lines[0], result)
    return with_gaps(f"Your shows in progress:\n{listing(lines)}", result)


class AbandonedParams(BaseModel):
    idle_days: int = Field(
        default=30, ge=1, le=3650, description="Days without a play before a show counts as abandoned."
    )
    max_completion: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Share of episodes watched under which a show counts as unfinished.",
    )
    limit: int = Field(default=20, ge=1, le=100)


_ABANDONED = """
WITH started AS (
    SELECT mi.parent_id AS show_id, count(*) FILTER (WHERE us.play_count > 0) AS watched,
           max(us.last_played_at) AS last_played_at
    FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id
    WHERE us.user_id = $1 AND mi.media_type = 'episode'
    GROUP BY mi.parent_id
), recent AS (
    SELECT DISTINCT mi.parent_id AS show_id
    FROM watch_history wh JOIN media_items mi ON mi.id = wh.media_item_id
    WHERE wh.user_id = $1 AND wh.started_at >= $2 AND mi.media_type = 'episode'
)
SELECT t.id, t.title, t.year, s.watched,
       (SELECT count(*) FROM media_items e WHERE e.parent_id = s.show_id) AS episodes,
       s.last_played_at
FROM started s
JOIN media_items t ON t.id = s.show_id
WHERE s.show_id NOT IN (SELECT show_id FROM recent)
  AND (s.last_played_at IS NULL OR s.last_played_at < $2)
  AND s.watched < $3::float8 * (SELECT count(*) FROM media_items e WHERE e.parent_id = s.show_id)
ORDER BY s.last_played_at DESC NULLS LAST, t.title
LIMIT $4
"""


async def abandoned_shows(conn: asyncpg.Connection, scope: Scope, p: AbandonedParams) -> ToolResult:
    cutoff = datetime.now(scope.timezone) - timedelta(days=p.idle_days)
    rows = await conn.fetch(_ABANDONED, scope.user_id, cutoff, p.max_completion, p.limit)
    coverage = Coverage(
        tables_used=["user_stats.play_count", "user_stats.last_played_at", "watch_history.started_at"]
    )
    data = plain_rows(rows, scope.timezone)
    for row in data:
        row["share_watched"] = round(row["watched"] / row["episodes"], 3) if row["episodes"] else 0.0
    unknown = sum(1 for r in rows if r["last_played_at"] is None)
    add_null_share(
        coverage, "user_stats", "last_played_at", len(rows), len(rows) - unknown, "abandoned shows"
    )
    summary = {"idle_days": p.idle_days, "max_completion": p.max_completion}
    return ToolResult(rows=data, coverage=coverage, summary=summary)


def _render_abandoned(result: ToolResult) -> str:
    idle = result.summary["idle_days"]
    if not result.rows:
        return with_gaps(
            f"You haven't abandoned any show: nothing half-watched has sat untouched for {idle} days.", result
        )
    lines = []
    for r in result.rows:
        last = f", last played {r['last_played_at'][:10]}" if r.get("last_played_at") else ""
        lines.append(f"{title_of(r)}: {r['watched']} of {r['episodes']} episodes{last}")
    return with_gaps(
        f"Shows you started, left under {result.summary['max_completion']:.0%} done and haven't touched for "
        f"{idle} days:\n{listing(lines)}",
        result,
    )


TOOLS: list[Tool[Any]] = [
    Tool(
        name="watch_time",
        description="How much the asker watched in a period (default: this month): hours, sessions, titles, by kind.",
        params=WatchTimeParams,
        modes=PERSONAL,
        question_type="analytics",
        run=watch_time,
        render=_render_watch_time,
        examples=(
            "How much have I watched this month?",
            "How many hours did I watch last week?",
            "How much TV did I watch in 2025?",
            "What's my total watch time?",
        ),
        phrasings=(
            "how many hours have I watched",
            "how much time did I spend watching",
            "my total watch time",
            "how much did I stream",
            "am I watching more or less than before",
            "do I watch more than I used to",
        ),
    ),
    Tool(
        name="average_rating",
        description="The asker's average rating (0-10) of what they rated, with lowest, highest and top rated titles.",
        params=AverageRatingParams,
        modes=PERSONAL,
        question_type="analytics",
        run=average_rating,
        render=_render_average_rating,
        examples=(
            "What's my average rating?",
            "How do I usually rate things?",
            "What did I rate highest?",
            "Am I a harsh critic?",
        ),
        phrasings=(
            "what rating do I usually give",
            "what score do I give things on average",
            "my mean rating",
        ),
    ),
    Tool(
        name="watch_history",
        description=(
            "The asker's playback sessions, most recent first, optionally within start/end (use this for 'what did "
            "I watch on <date>' questions such as last Christmas)."
        ),
        params=WatchHistoryParams,
        modes=PERSONAL,
        question_type="analytics",
        run=watch_history,
        render=_render_history,
        examples=(
            "Show my watch history",
            "What did I watch last Christmas?",
            "What have I watched recently?",
            "What did I watch yesterday?",
        ),
        phrasings=(
            "what did I watch",
            "what was I watching",
            "list what I watched",
            "my recent plays",
        ),
    ),
    Tool(
        name="watch_time_by_hour",
        description="When the asker watches: time watched per hour of day in the server's time zone, peak hour and busiest weekday.",
        params=ByHourParams,
        modes=PERSONAL,
        question_type="analytics",
        run=watch_time_by_hour,
        render=_render_by_hour,
        examples=(
            "When do I watch the most?",
            "What time of day do I usually watch?",
            "Am I a night owl?",
            "Which hour do I watch TV most?",
        ),
        phrasings=(
            "which hours do I watch",
            "what time do I usually stream",
            "night or morning viewer",
        ),
    ),
    Tool(
        name="time_to_finish_series",
        description=(
            "For a show (or every show in progress): episodes and hours the asker has left, and an estimated finish "
            "date from their own recent pace."
        ),
        params=FinishSeriesParams,
        modes=PERSONAL,
        question_type="analytics",
        run=time_to_finish_series,
        render=_render_finish,
        examples=(
            "How long until I finish this series?",
            "How many episodes of Breaking Bad do I have left?",
            "When will I finish The Wire?",
            "How much is left of the shows I'm watching?",
        ),
        phrasings=(
            "how many episodes left",
            "when will I be done with this show",
        ),
        series_only=True,
    ),
    Tool(
        name="abandoned_shows",
        description=(
            "Shows the asker started but abandoned: under max_completion of the episodes watched and nothing "
            "played for idle_days days."
        ),
        params=AbandonedParams,
        modes=PERSONAL,
        question_type="analytics",
        run=abandoned_shows,
        render=_render_abandoned,
        examples=(
            "Which shows have I abandoned?",
            "What series did I stop watching?",
            "Shows I never finished",
            "What have I dropped halfway?",
        ),
        phrasings=(
            "shows I stopped watching",
            "series I gave up on",
            "shows I started but never finished",
        ),
        series_only=True,
    ),
]
