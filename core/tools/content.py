"""Content analytics for admins: popularity, genres, dead weight, storage.

Definitions
-----------
*Most popular*: titles (episodes rolled up to their show) by distinct viewers,
then sessions, in the period (default: last 30 days).

*Genres server-wide*: sessions and hours watched per genre of the played
titles in the period (a title with two genres counts for both).

Both count only titles played by at least ``min_group_size`` people, or by
people who all share their activity with admins (``analytics.title_popularity``),
over whole days (``resolve_period``): a title watched by one member in a chosen
hour would otherwise say who watched it.

*Never watched*: movies and shows added before now that nobody has a
``user_stats`` row for (nobody played or rated any part of them).

*What should I remove*: titles added at least ``min_age_days`` ago (default
180) with at most ``max_plays`` completed plays (default 1), ranked by
``removal_score = 0.40 x (no plays at all) + 0.20 x min(age in days / 730, 1)
+ 0.25 x size rank (0-1 among the candidates; unknown size counts 0)
+ 0.15 x (1 - rating / 10)`` where rating is the users' average, else the
audience rating, else 5.

*Storage by library*: the sum of ``file_size_bytes`` of movies and episodes
per library (an episode without a library takes its show's); the share of
files with no known size is reported as a gap.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.coverage import add_null_share
from core.tools.periods import PeriodParams, resolve_period
from core.tools.phrasing import hours, in_period, listing, period_label, plural, size, title_of, with_gaps
from core.tools.records import plain_rows

ADMIN: frozenset[Mode] = frozenset({"admin"})


class PopularParams(PeriodParams):
    limit: int = Field(default=10, ge=1, le=100)


_POPULAR = """
SELECT media_item_id AS id, title, media_type, year, library_name, viewers, sessions, watched_seconds
FROM analytics.title_popularity($1, $2, 1)
ORDER BY viewers DESC, sessions DESC, title
LIMIT $3
"""


async def popular_content(conn: asyncpg.Connection, scope: Scope, p: PopularParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_30_days")
    rows = await conn.fetch(_POPULAR, period.start, period.end, p.limit)
    coverage = Coverage(tables_used=["watch_history (counts across users)", "media_items"])
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


def _render_popular(result: ToolResult) -> str:
    if not result.rows:
        return with_gaps(f"Nothing was played {in_period(result)}.", result)
    lines = [
        f"{title_of(r)}: {plural(r['viewers'], 'viewer')}, {plural(r['sessions'], 'session')}"
        for r in result.rows
    ]
    return with_gaps(f"Most popular across all users ({period_label(result)}):\n{listing(lines)}", result)


class GenresParams(PeriodParams):
    limit: int = Field(default=10, ge=1, le=50)


_GENRES = """
SELECT g.genre, sum(p.sessions)::bigint AS sessions, sum(p.watched_seconds)::bigint AS watched_seconds,
       count(*) AS titles
FROM analytics.title_popularity($1, $2, 1) p, jsonb_array_elements_text(p.genres) AS g(genre)
GROUP BY g.genre
ORDER BY watched_seconds DESC, sessions DESC, g.genre
LIMIT $3
"""


async def server_genres(conn: asyncpg.Connection, scope: Scope, p: GenresParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_30_days")
    rows = await conn.fetch(_GENRES, period.start, period.end, p.limit)
    coverage = Coverage(tables_used=["watch_history (counts across users)", "media_items.metadata.genres"])
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


def _render_genres(result: ToolResult) -> str:
    if not result.rows:
        return with_gaps(f"Nothing with a genre was played {in_period(result)}.", result)
    lines = [
        f"{r['genre']}: {hours(r['watched_seconds'])}, {plural(r['sessions'], 'session')}"
        for r in result.rows
    ]
    return with_gaps(f"Most watched genres server-wide ({period_label(result)}):\n{listing(lines)}", result)


class NeverWatchedParams(BaseModel):
    limit: int = Field(
        default=20, ge=1, le=200, description="How many of the oldest never-watched titles to list."
    )


# Only the listed titles leave the database, each carrying the totals over all
# of them (window aggregates, computed before LIMIT): a large library has tens
# of thousands of never-watched titles.
_NEVER_WATCHED = """
SELECT media_item_id AS id, title, media_type, year, library_name, added_at, size_bytes, files, files_with_size,
       count(*) OVER () AS all_titles,
       count(*) FILTER (WHERE media_type = 'movie') OVER () AS all_movies,
       count(*) FILTER (WHERE media_type = 'show') OVER () AS all_shows,
       coalesce(sum(size_bytes) OVER (), 0) AS all_size_bytes,
       sum(files) OVER () AS all_files,
       sum(files_with_size) OVER () AS all_files_with_size
FROM analytics.title_engagement($1)
WHERE stat_rows = 0
ORDER BY added_at, title
LIMIT $2
"""
_NEVER_WATCHED_TOTALS = (
    "all_titles",
    "all_movies",
    "all_shows",
    "all_size_bytes",
    "all_files",
    "all_files_with_size",
)


async def never_watched_content(conn: asyncpg.Connection, scope: Scope, p: NeverWatchedParams) -> ToolResult:
    records = await conn.fetch(_NEVER_WATCHED, datetime.now(scope.timezone), p.limit)
    totals = {name: int(records[0][name]) if records else 0 for name in _NEVER_WATCHED_TOTALS}
    rows = [{k: v for k, v in r.items() if k not in _NEVER_WATCHED_TOTALS} for r in records]
    files, sized = totals["all_files"], totals["all_files_with_size"]
    summary = {
        "titles": totals["all_titles"],
        "movies": totals["all_movies"],
        "shows": totals["all_shows"],
        "size_bytes": totals["all_size_bytes"],
    }
    coverage = Coverage(tables_used=["media_items", "user_stats"])
    add_null_share(coverage, "media_items", "file_size_bytes", files, sized, "files of never-watched titles")
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_never_watched(result: ToolResult) -> str:
    s = result.summary
    if not s["titles"]:
        return with_gaps("Every title in the library has been played or rated by someone.", result)
    lines = [f"{title_of(r)} ({r['media_type']}), added {r['added_at'][:10]}" for r in result.rows]
    return with_gaps(
        f"{plural(s['titles'], 'title')} were never watched by anyone ({s['movies']} movies, {s['shows']} shows, "
        f"{size(s['size_bytes'])} known on disk). Oldest first:\n{listing(lines)}",
        result,
    )


class RemovalParams(BaseModel):
    min_age_days: int = Field(
        default=180, ge=0, le=36500, description="Only titles added at least this many days ago."
    )
    max_plays: int = Field(
        default=1, ge=0, le=1000, description="Only titles with at most this many completed plays."
    )
    limit: int = Field(default=20, ge=1, le=200)


_REMOVAL = """
WITH candidates AS (
    SELECT e.*, extract(epoch FROM now() - e.added_at) / 86400 AS age_days
    FROM analytics.title_engagement($1) e
    WHERE e.plays <= $2
), scored AS (
    SELECT c.*,
           CASE WHEN c.size_bytes IS NULL THEN 0 ELSE percent_rank() OVER (ORDER BY c.size_bytes NULLS FIRST) END
               AS size_rank,
           coalesce(c.avg_user_rating, c.audience_rating, 5) AS rating_used
    FROM candidates c
)
SELECT media_item_id AS id, title, media_type, year, library_name, added_at, round(age_days::numeric) AS age_days,
       plays, stat_rows, last_played_at, size_bytes, files, files_with_size, rating_used,
       round((0.40 * (plays = 0)::int + 0.20 * least(age_days / 730, 1) + 0.25 * size_rank
              + 0.15 * (1 - rating_used / 10))::numeric, 3) AS removal_score
FROM scored
ORDER BY removal_score DESC, size_bytes DESC NULLS LAST, title
LIMIT $3
"""


async def removal_candidates(conn: asyncpg.Connection, scope: Scope, p: RemovalParams) -> ToolResult:
    added_before = datetime.now(scope.timezone) - timedelta(days=p.min_age_days)
    rows = await conn.fetch(_REMOVAL, added_before, p.max_plays, p.limit)
    coverage = Coverage(
        tables_used=[
            "media_items.added_at",
            "media_items.file_size_bytes",
            "user_stats.play_count",
            "user_stats.rating",
        ]
    )
    add_null_share(
        coverage,
        "media_items",
        "file_size_bytes",
        sum(int(r["files"]) for r in rows),
        sum(int(r["files_with_size"]) for r in rows),
        "files of these titles",
    )
    summary = {
        "min_age_days": p.min_age_days,
        "max_plays": p.max_plays,
        "size_bytes": sum(int(r["size_bytes"] or 0) for r in rows),
    }
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_removal(result: ToolResult) -> str:
    s = result.summary
    if not result.rows:
        return with_gaps(
            f"Nothing older than {s['min_age_days']} days has {s['max_plays']} plays or fewer — no obvious candidates.",
            result,
        )
    lines = []
    for r in result.rows:
        played = "never played" if r["plays"] == 0 else plural(r["plays"], "play")
        disk = size(r["size_bytes"]) if r["size_bytes"] is not None else "size unknown"
        lines.append(
            f"{title_of(r)}: {played}, added {r['age_days']:.0f} days ago, {disk}, rating {r['rating_used']:.1f}"
        )
    return with_gaps(
        f"Candidates for removal (together {size(s['size_bytes'])}), best first:\n{listing(lines)}", result
    )


class StorageParams(BaseModel):
    library: str | None = Field(default=None, description="Only this library, e.g. 'Movies'.")


_STORAGE = """
SELECT coalesce(mi.library_name, show.library_name, 'Unsorted') AS library_name,
       count(*) AS files, count(mi.file_size_bytes) AS files_with_size,
       coalesce(sum(mi.file_size_bytes), 0)::bigint AS size_bytes,
       count(*) FILTER (WHERE mi.media_type = 'movie') AS movies,
       count(*) FILTER (WHERE mi.media_type = 'episode') AS episodes
FROM media_items mi
LEFT JOIN media_items show ON show.id = mi.parent_id
WHERE mi.media_type IN ('movie', 'episode') AND mi.removed_at IS NULL
  AND ($1::text IS NULL OR lower(coalesce(mi.library_name, show.library_name, 'Unsorted')) = lower($1))
GROUP BY 1
ORDER BY size_bytes DESC, library_name
"""


async def storage_by_library(conn: asyncpg.Connection, scope: Scope, p: StorageParams) -> ToolResult:
    rows = await conn.fetch(_STORAGE, p.library)
    coverage = Coverage(tables_used=["media_items.file_size_bytes", "media_items.library_name"])
    files = sum(int(r["files"]) for r in rows)
    sized = sum(int(r["files_with_size"]) for r in rows)
    add_null_share(coverage, "media_items", "file_size_bytes", files, sized, "movie and episode files")
    if not rows:
        coverage.gaps.append(
            "the library has no movies or episodes" + (f" in {p.library}" if p.library else "")
        )
    summary = {
        "size_bytes": sum(int(r["size_bytes"]) for r in rows),
        "files": files,
        "files_with_size": sized,
    }
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_storage(result: ToolResult) -> str:
    s = result.summary
    if not result.rows:
        return with_gaps("I found no files to measure.", result)
    lines = [
        f"{r['library_name']}: {size(r['size_bytes'])} ({plural(r['files'], 'file')}"
        + (
            f", {r['files'] - r['files_with_size']} of unknown size)"
            if r["files_with_size"] < r["files"]
            else ")"
        )
        for r in result.rows
    ]
    return with_gaps(f"Storage used: {size(s['size_bytes'])} in total.\n{listing(lines)}", result)


TOOLS: list[Tool[Any]] = [
    Tool(
        name="popular_content",
        description="Titles most popular across all users in a period (default: last 30 days): distinct viewers and sessions.",
        params=PopularParams,
        modes=ADMIN,
        question_type="content_analytics",
        run=popular_content,
        render=_render_popular,
        examples=(
            "What content is most popular across all users?",
            "What are the most watched titles on the server?",
            "Top movies this month server-wide",
        ),
        phrasings=(
            "most watched titles across everyone",
            "which titles get the most plays from all users",
            "most popular movies and shows on the server",
            "what do all users watch most",
        ),
    ),
    Tool(
        name="server_genres",
        description="Genres most watched server-wide in a period (default: last 30 days): hours and sessions per genre.",
        params=GenresParams,
        modes=ADMIN,
        question_type="content_analytics",
        run=server_genres,
        render=_render_genres,
        examples=(
            "What genres are most watched server-wide?",
            "Which genres are popular on the server?",
            "What do people watch most, by genre?",
        ),
        phrasings=(
            "most popular genres across the server",
            "genre breakdown for all users",
        ),
    ),
    Tool(
        name="never_watched_content",
        description="Movies and shows nobody has ever played or rated, oldest first, with counts and known size.",
        params=NeverWatchedParams,
        modes=ADMIN,
        question_type="content_analytics",
        run=never_watched_content,
        render=_render_never_watched,
        examples=(
            "What content is never watched?",
            "Which movies has nobody watched?",
            "Show titles with zero plays",
        ),
        phrasings=(
            "titles nobody has watched",
            "content with zero plays",
            "movies no one watches",
        ),
    ),
    Tool(
        name="removal_candidates",
        description=(
            "Titles worth removing: old (min_age_days), few or no plays (max_plays), large, low rated — ranked by a "
            "removal score, with size freed."
        ),
        params=RemovalParams,
        modes=ADMIN,
        question_type="content_analytics",
        run=removal_candidates,
        render=_render_removal,
        examples=(
            "What content should I remove?",
            "What can I delete to free up space?",
            "Which old movies nobody watches should go?",
        ),
        phrasings=(
            "what could I delete",
            "titles to remove to free space",
            "what should I prune",
        ),
    ),
    Tool(
        name="storage_by_library",
        description="Disk space used per library (sum of file sizes of movies and episodes), with the share of unknown sizes.",
        params=StorageParams,
        modes=ADMIN,
        question_type="content_analytics",
        run=storage_by_library,
        render=_render_storage,
        examples=(
            "What's the storage usage by library?",
            "How much disk space do my movies take?",
            "How big is the library?",
        ),
        phrasings=(
            "how much space does each library use",
            "library sizes",
            "disk usage per library",
        ),
    ),
]
