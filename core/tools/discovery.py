"""Content discovery: what to watch, what is new, what others watch.

Definitions
-----------
*Genre affinity* (recommendations): every movie or show the asker played or
rated counts once for each of its genres, weighted 1.5 when they rated it 7 or
more, -0.5 when they rated it 4 or less, 1 otherwise; weights are divided by the
largest so the favourite genre is 1.0. A candidate's genre match is the mean
affinity of its genres.

*What to watch tonight*: movies the asker has not played and shows they have
not finished, among the 1,500 best audience-rated titles (of the asked kind and
genre), scored
``0.6 * genre match + 0.4 * audience rating / 10 + 0.2 if already in progress``.

*Something like X*: X is found by fuzzy title match (pg_trgm); candidates are
the best-rated 3,000 titles sharing a genre with X that the asker has not
finished, scored ``0.7 * genre overlap (Jaccard) + 0.3 * audience rating / 10``
(+0.05 for the same kind, movie or show).

*What others watch* / *trending*: titles (episodes rolled up to their show)
played by other users in the period, with counts and no names; a title appears
in personal mode only when at least ``min_group_size`` other users played it
(enforced inside ``analytics.title_popularity``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, Field

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.coverage import add_null_share
from core.tools.periods import Period, PeriodParams, resolve_period
from core.tools.phrasing import in_period, listing, plural, title_of, with_gaps
from core.tools.recommendation_reasons import (
    because_text,
    closest_reasons,
    metadata_reasons,
    vector_recommendations_sql,
    vector_similar_sql,
)
from core.tools.records import plain_rows
from core.tools.semantic_search import embedded_with, use_index_with_filters
from core.tools.snapshots import MemberWindow, member_window, note_as_of
from core.tools.title_lookup import find_title

PERSONAL: frozenset[Mode] = frozenset({"personal"})
BOTH: frozenset[Mode] = frozenset({"personal", "admin"})

# The asker's titles (episodes rolled up to their show): plays, their rating,
# and for a show how many of its episodes they completed out of how many.
_MY_TITLES = """
mine AS MATERIALIZED (
    SELECT coalesce(mi.parent_id, mi.id) AS top_id,
           sum(us.play_count) AS plays,
           avg(us.rating) AS rating,
           count(*) FILTER (WHERE us.play_count > 0 AND mi.media_type = 'episode') AS episodes_done
    FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id
    WHERE us.user_id = $1
    GROUP BY 1
), mine_status AS MATERIALIZED (
    SELECT m.top_id, m.plays, m.rating, t.media_type,
           CASE WHEN t.media_type = 'movie' THEN m.plays > 0
                ELSE m.episodes_done >= (SELECT count(*) FROM media_items e WHERE e.parent_id = m.top_id)
           END AS finished
    FROM mine m JOIN media_items t ON t.id = m.top_id
), taste AS (
    SELECT g.genre,
           sum(CASE WHEN m.rating IS NULL THEN 1 WHEN m.rating >= 7 THEN 1.5 WHEN m.rating <= 4 THEN -0.5 ELSE 1 END)
               AS weight
    FROM mine_status m JOIN media_items t ON t.id = m.top_id,
         jsonb_array_elements_text(coalesce(t.metadata -> 'genres', '[]'::jsonb)) AS g(genre)
    GROUP BY g.genre
), affinity AS MATERIALIZED (
    SELECT genre, weight / nullif(max(weight) OVER (), 0) AS affinity FROM taste WHERE weight > 0
)"""

# The best-rated titles considered per recommendation: enough for variety, bounded for speed.
CANDIDATE_POOL = 1500
SIMILAR_POOL = 3000


class RecommendParams(BaseModel):
    limit: int = Field(default=5, ge=1, le=25, description="How many titles to suggest.")
    genre: str | None = Field(default=None, description="Only titles of this genre, e.g. 'Comedy'.")
    media_type: Literal["movie", "show"] | None = Field(
        default=None, description="Only movies or only shows."
    )


_RECOMMEND = f"""
WITH {_MY_TITLES}, best AS MATERIALIZED (
    -- the best-rated titles first (an ordered scan of media_items_top_rating_idx), the asker's later
    SELECT t.id, t.title, t.media_type, t.year, coalesce(t.metadata -> 'genres', '[]'::jsonb) AS genres,
           (t.metadata ->> 'rating')::numeric AS audience_rating
    FROM media_items t
    WHERE t.media_type IN ('movie', 'show') AND t.removed_at IS NULL
      AND ($2::text IS NULL OR t.media_type = $2)
      AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(t.metadata -> 'genres') g(genre)
                                       WHERE lower(g.genre) = lower($3)))
    ORDER BY (t.metadata ->> 'rating')::numeric DESC NULLS LAST
    LIMIT {CANDIDATE_POOL}
), candidates AS MATERIALIZED (
    SELECT b.* FROM best b
    WHERE NOT EXISTS (SELECT 1 FROM mine_status ms WHERE ms.top_id = b.id AND ms.finished)
), scored AS MATERIALIZED (
    SELECT c.*, ms.top_id IS NOT NULL AND c.media_type = 'show' AS in_progress,
           coalesce((SELECT sum(a.affinity) / greatest(jsonb_array_length(c.genres), 1)
                     FROM jsonb_array_elements_text(c.genres) g(genre) JOIN affinity a ON a.genre = g.genre), 0)
               AS genre_match
    FROM candidates c
    LEFT JOIN mine_status ms ON ms.top_id = c.id
)
SELECT id, title, media_type, year, genres, audience_rating, in_progress, round(genre_match::numeric, 3) AS genre_match,
       round((0.6 * genre_match + 0.4 * coalesce(audience_rating, 5) / 10
              + CASE WHEN in_progress THEN 0.2 ELSE 0 END)::numeric, 3) AS score
FROM scored
ORDER BY score DESC, audience_rating DESC NULLS LAST, title
LIMIT $4
"""


async def _history_size(conn: asyncpg.Connection, user_id: Any) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM user_stats WHERE user_id = $1", user_id))


async def recommend_tonight(conn: asyncpg.Connection, scope: Scope, p: RecommendParams) -> ToolResult:
    coverage = Coverage(
        tables_used=["user_stats", "media_items.metadata.genres", "media_items.metadata.rating"]
    )
    rows: list[dict[str, Any]] = []
    method = "metadata"
    embedded = await embedded_with(conn)
    if embedded is not None:
        # Nearest titles to what the asker finished and rated highly; none (no seed embedded yet): metadata.
        await use_index_with_filters(conn)
        sql = vector_recommendations_sql(_MY_TITLES, embedded[1])
        records = await conn.fetch(sql, scope.user_id, embedded[0], p.media_type, p.genre, p.limit)
        rows = plain_rows(records, scope.timezone)
        if rows:
            method = "embeddings"
            coverage.tables_used.append("media_embeddings.embedding")
            for row in rows:
                row["because"] = closest_reasons(row["because"])
    if not rows:
        records = await conn.fetch(_RECOMMEND, scope.user_id, p.media_type, p.genre, p.limit)
        rows = plain_rows(records, scope.timezone)
        reasons = await metadata_reasons(conn, _MY_TITLES, scope.user_id, [r["id"] for r in records])
        for row in rows:
            row["because"] = reasons.get(row["id"], [])
    for row in rows:
        row["because"] = row.get("because") or []
        row["because_text"] = because_text(row["because"])
    has_history = await _history_size(conn, scope.user_id) > 0
    if not has_history:
        coverage.gaps.append("you have no viewing history yet, so these are ranked by audience rating only")
        coverage.missing_tables.append("user_stats")
    # What the ranking could go by is what the suggested titles carry, not what it was built to use.
    with_genres = sum(1 for r in rows if r["genres"])
    with_rating = sum(1 for r in rows if r["audience_rating"] is not None)
    taste = any(r.get("genre_match") for r in rows)
    if rows and not with_genres and method == "metadata":
        coverage.gaps.append("none of these titles has genres listed, so your taste could not be matched")
        coverage.missing_tables.append("media_items.metadata.genres")
    if rows and not with_rating:
        coverage.gaps.append("none of these titles has an audience rating")
        coverage.missing_tables.append("media_items.metadata.rating")
    basis = (
        "how close they are to what you finished and rated highly" if method == "embeddings"
        else "your taste and audience ratings" if taste and with_rating
        else "your taste" if taste
        else "audience ratings" if with_rating
        else "your viewing alone (shows you're partway through first, then titles you haven't seen)"
    )  # fmt: skip
    return ToolResult(
        rows=rows,
        coverage=coverage,
        summary={
            "basis": basis,
            "method": method,
            "with_genres": with_genres,
            "with_rating": with_rating,
            "has_history": has_history,
        },
    )


def _because(row: dict[str, Any]) -> str:
    return f" — {row['because_text']}" if row.get("because_text") else ""


def _render_recommendations(result: ToolResult) -> str:
    if not result.rows:
        return with_gaps("I found nothing you haven't already watched that fits.", result)
    lines = []
    for row in result.rows:
        extra = " — you're partway through it" if row.get("in_progress") else ""
        rating = f", rated {row['audience_rating']:.1f}" if row.get("audience_rating") is not None else ""
        genres = ", ".join(row.get("genres") or []) or "no genre listed"
        lines.append(f"{title_of(row)} ({row['media_type']}, {genres}{rating}){extra}{_because(row)}")
    basis = result.summary.get("basis", "your taste and audience ratings")
    intro = f"Here is what I'd put on tonight, based on {basis}:"
    return with_gaps(f"{intro}\n{listing(lines)}", result)


class SimilarParams(BaseModel):
    title: str = Field(
        min_length=1, description="The movie or show to find similar titles to (spelling may be rough)."
    )
    limit: int = Field(default=5, ge=1, le=25)


_SIMILAR = f"""
WITH {_MY_TITLES}, source AS MATERIALIZED (
    SELECT coalesce(array_agg(DISTINCT g.genre), '{{}}') AS genres
    FROM media_items mi, jsonb_array_elements_text(coalesce(mi.metadata -> 'genres', '[]'::jsonb)) AS g(genre)
    WHERE mi.id = $2
), best AS MATERIALIZED (
    -- an ordered scan of media_items_top_rating_idx that stops early; genres are checked after
    SELECT t.id, t.title, t.media_type, t.year, coalesce(t.metadata -> 'genres', '[]'::jsonb) AS genres,
           (t.metadata ->> 'rating')::numeric AS audience_rating
    FROM media_items t
    WHERE t.media_type IN ('movie', 'show') AND t.removed_at IS NULL
    ORDER BY (t.metadata ->> 'rating')::numeric DESC NULLS LAST
    LIMIT {SIMILAR_POOL}
), candidates AS MATERIALIZED (
    SELECT b.* FROM best b
    WHERE b.id <> $2 AND b.genres ?| (SELECT genres FROM source)
      AND NOT EXISTS (SELECT 1 FROM mine_status ms WHERE ms.top_id = b.id AND ms.finished)
), scored AS MATERIALIZED (
    -- one pass over a candidate's genres counts both (two passes each sorted them: issue 17)
    SELECT c.*, s.genres AS source_genres, n.shared, n.own
    FROM candidates c CROSS JOIN source s
    CROSS JOIN LATERAL (SELECT count(DISTINCT g.genre) FILTER (WHERE g.genre = ANY (s.genres)) AS shared,
                               count(DISTINCT g.genre) AS own
                        FROM jsonb_array_elements_text(c.genres) g(genre)) n
), ranked AS (
    -- Jaccard: shared genres over all genres of the two titles
    SELECT *, shared::numeric / nullif(own + cardinality(source_genres) - shared, 0) AS overlap FROM scored
)
SELECT id, title, media_type, year, genres, audience_rating, round(overlap, 3) AS genre_overlap,
       round(0.7 * overlap + 0.3 * coalesce(audience_rating, 5) / 10
             + CASE WHEN media_type = $3 THEN 0.05 ELSE 0 END, 3) AS score
FROM ranked
WHERE overlap > 0
ORDER BY score DESC, title
LIMIT $4
"""


async def similar_titles(conn: asyncpg.Connection, scope: Scope, p: SimilarParams) -> ToolResult:
    coverage = Coverage(tables_used=["media_items.title", "media_items.metadata.genres", "user_stats"])
    match = await find_title(conn, p.title)
    if match is None:
        coverage.gaps.append(f"no title in the library looks like {p.title!r}")
        return ToolResult(rows=[], coverage=coverage, summary={"matched_title": None})
    rows: list[dict[str, Any]] = []
    method = "genres"
    embedded = await embedded_with(conn)
    if embedded is not None:
        await use_index_with_filters(conn)
        sql = vector_similar_sql(_MY_TITLES, embedded[1])
        rows = plain_rows(
            await conn.fetch(sql, scope.user_id, match["id"], embedded[0], p.limit), scope.timezone
        )
        if rows:
            method = "embeddings"
            coverage.tables_used.append("media_embeddings.embedding")
    if not rows:
        records = await conn.fetch(_SIMILAR, scope.user_id, match["id"], match["media_type"], p.limit)
        rows = plain_rows(records, scope.timezone)
    genres = (match["metadata"] or {}).get("genres") or []
    if not genres and method == "genres":
        coverage.gaps.append(f"{match['title']} has no genres listed, so nothing can be matched to it")
        coverage.missing_tables.append("media_items.metadata.genres")
    matched = title_of(dict(match))
    for row in rows:
        shared = [g for g in row.get("genres") or [] if g in genres]
        row["because_text"] = (
            f"close to {matched} in story and style" if method == "embeddings"
            else f"shares {', '.join(shared)} with {matched}" if shared
            else None
        )  # fmt: skip
    summary = {
        "matched_title": matched,
        "matched_genres": genres,
        "match_score": float(match["score"]),
        "method": method,
    }
    return ToolResult(rows=rows, coverage=coverage, summary=summary)


def _render_similar(result: ToolResult) -> str:
    matched = result.summary.get("matched_title")
    if not matched:
        return with_gaps(f"I couldn't find {result.params.get('title')!r} in the library.", result)
    if not result.rows:
        return with_gaps(f"I found {matched}, but nothing unwatched shares its genres.", result)
    if result.summary.get("method") == "embeddings":
        lines = [f"{title_of(r)} ({', '.join(r['genres']) or 'no genre listed'})" for r in result.rows]
        return with_gaps(
            f"If you liked {matched}, try these, closest in story and style:\n{listing(lines)}", result
        )
    lines = [f"{title_of(r)} ({', '.join(r['genres'])})" for r in result.rows]
    return with_gaps(f"If you liked {matched}, try:\n{listing(lines)}", result)


class TopGenresParams(PeriodParams):
    limit: int = Field(default=5, ge=1, le=30)


# The asker's sessions are summed per title first, and only those titles are read for their genres:
# joining every session to its title directly, the planner (misled by row-level security's estimate
# of a handful of sessions) hashed all of media_items for it (issue 17). A title listing a genre twice
# counts its sessions twice, as joining session by session did.
_TOP_GENRES = """
WITH played AS MATERIALIZED (
    SELECT coalesce(mi.parent_id, mi.id) AS top_id, count(*) AS sessions, sum(wh.watched_seconds) AS watched_seconds
    FROM watch_history wh JOIN media_items mi ON mi.id = wh.media_item_id
    WHERE wh.user_id = $1 AND wh.started_at >= $2 AND wh.started_at < $3
    GROUP BY 1
)
SELECT g.genre, sum(p.sessions)::bigint AS sessions, sum(p.watched_seconds)::bigint AS watched_seconds,
       count(DISTINCT p.top_id) AS titles
FROM played p
JOIN media_items t ON t.id = p.top_id,
     jsonb_array_elements_text(coalesce(t.metadata -> 'genres', '[]'::jsonb)) AS g(genre)
GROUP BY g.genre
ORDER BY watched_seconds DESC, sessions DESC, g.genre
LIMIT $4
"""


async def top_genres(conn: asyncpg.Connection, scope: Scope, p: TopGenresParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "all_time")
    rows = await conn.fetch(_TOP_GENRES, scope.user_id, period.start, period.end, p.limit)
    coverage = Coverage(tables_used=["watch_history", "media_items.metadata.genres"])
    if not rows:
        coverage.gaps.append(f"you have no plays with a genre in {period.label}")
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


def _render_top_genres(result: ToolResult) -> str:
    from core.tools.phrasing import hours, period_label

    if not result.rows:
        return with_gaps(f"You haven't watched anything {in_period(result)}.", result)
    lines = [
        f"{r['genre']}: {hours(r['watched_seconds'])} over {plural(r['titles'], 'title')}"
        for r in result.rows
    ]
    return with_gaps(f"Your most watched genres ({period_label(result)}):\n{listing(lines)}", result)


class HighlyRatedParams(BaseModel):
    min_rating: float = Field(default=7.5, ge=0, le=10, description="Lowest audience rating (0-10).")
    media_type: Literal["movie", "show"] | None = None
    genre: str | None = None
    limit: int = Field(default=10, ge=1, le=50)


_HIGHLY_RATED = """
WITH mine AS (
    SELECT DISTINCT coalesce(mi.parent_id, mi.id) AS top_id
    FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id
    WHERE us.user_id = $1 AND us.play_count > 0
)
SELECT t.id, t.title, t.media_type, t.year, coalesce(t.metadata -> 'genres', '[]'::jsonb) AS genres,
       (t.metadata ->> 'rating')::numeric AS audience_rating
FROM media_items t
WHERE t.media_type IN ('movie', 'show') AND t.removed_at IS NULL
  AND (t.metadata ->> 'rating')::numeric >= $2
  AND ($3::text IS NULL OR t.media_type = $3)
  AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(t.metadata -> 'genres') g(genre)
                                   WHERE lower(g.genre) = lower($4)))
  AND NOT EXISTS (SELECT 1 FROM mine WHERE mine.top_id = t.id)
ORDER BY (t.metadata ->> 'rating')::numeric DESC NULLS LAST, t.title
LIMIT $5
"""


async def highly_rated_unwatched(conn: asyncpg.Connection, scope: Scope, p: HighlyRatedParams) -> ToolResult:
    rows = await conn.fetch(_HIGHLY_RATED, scope.user_id, p.min_rating, p.media_type, p.genre, p.limit)
    coverage = Coverage(tables_used=["media_items.metadata.rating", "user_stats"])
    if not rows:
        rated = await conn.fetchval(
            "SELECT count(*) FROM media_items WHERE media_type IN ('movie','show') AND metadata ? 'rating'"
        )
        if not rated:
            coverage.gaps.append("no title in the library has an audience rating")
            coverage.missing_tables.append("media_items.metadata.rating")
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage)


def _render_highly_rated(result: ToolResult) -> str:
    if not result.rows:
        return with_gaps(
            f"Nothing rated {result.params['min_rating']} or more is left that you haven't seen.", result
        )
    lines = [f"{title_of(r)} — {r['media_type']}, rated {r['audience_rating']:.1f}" for r in result.rows]
    return with_gaps(f"Highly rated and not yet watched by you:\n{listing(lines)}", result)


class NewInLibraryParams(PeriodParams):
    media_type: Literal["movie", "show"] | None = Field(
        default=None, description="Only movies or only shows."
    )
    limit: int = Field(default=20, ge=1, le=100)


_NEW_IN_LIBRARY = """
SELECT t.id, t.title, t.media_type, t.year, t.library_name,
       count(*) FILTER (WHERE mi.media_type = 'episode') AS new_episodes,
       max(mi.added_at) AS added_at
FROM media_items mi
JOIN media_items t ON t.id = coalesce(mi.parent_id, mi.id)
WHERE mi.added_at >= $1 AND mi.added_at < $2 AND mi.media_type IN ('movie', 'episode', 'show')
  AND mi.removed_at IS NULL AND t.removed_at IS NULL
  AND ($3::text IS NULL OR t.media_type = $3)
GROUP BY t.id
ORDER BY max(mi.added_at) DESC, t.title
"""


_ADDED_AT_KNOWN = """
SELECT count(*) AS items, count(added_at) AS dated FROM media_items WHERE media_type IN ('movie', 'episode', 'show')
"""


async def new_in_library(conn: asyncpg.Connection, scope: Scope, p: NewInLibraryParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_7_days")
    rows = await conn.fetch(_NEW_IN_LIBRARY, period.start, period.end, p.media_type)
    summary = {
        "period": period.as_dict(),
        "new_titles": len(rows),
        "new_movies": sum(1 for r in rows if r["media_type"] == "movie"),
        "shows_with_new_episodes": sum(1 for r in rows if r["media_type"] == "show"),
        "new_episodes": sum(int(r["new_episodes"]) for r in rows),
    }
    coverage = Coverage(tables_used=["media_items.added_at"])
    # Items first seen in play history have no known arrival date: they cannot be "new", and saying so
    # keeps "nothing new" from sounding certain.
    known = await conn.fetchrow(_ADDED_AT_KNOWN)
    add_null_share(coverage, "media_items", "added_at", known["items"], known["dated"], "library items")
    return ToolResult(rows=plain_rows(rows[: p.limit], scope.timezone), coverage=coverage, summary=summary)


def _render_new(result: ToolResult) -> str:
    from core.tools.phrasing import period_label

    label = period_label(result)
    if not result.rows:
        return with_gaps(f"Nothing new arrived in the library in {label}.", result)
    s = result.summary
    lines = []
    for r in result.rows:
        if r["media_type"] == "show":
            lines.append(
                f"{title_of(r)}: {plural(r['new_episodes'], 'new episode')}"
                if r["new_episodes"]
                else title_of(r)
            )
        else:
            lines.append(f"{title_of(r)} (movie)")
    head = (
        f"New in {label}: {plural(s['new_movies'], 'movie')} and {plural(s['new_episodes'], 'episode')}"
        f" across {plural(s['shows_with_new_episodes'], 'show')}."
    )
    return with_gaps(f"{head}\n{listing(lines)}", result)


class OthersWatchingParams(PeriodParams):
    limit: int = Field(default=10, ge=1, le=50)


_POPULAR = """
SELECT media_item_id AS id, title, media_type, year, library_name, genres, viewers, sessions, watched_seconds
FROM analytics.title_popularity($1, $2, $3)
ORDER BY viewers DESC, sessions DESC, title
LIMIT $4
"""
# The same from the counts of the last refresh, for a member's default question.
_POPULAR_AS_OF = """
SELECT media_item_id AS id, title, media_type, year, library_name, genres, viewers, sessions, watched_seconds
FROM analytics.title_popularity_top_as_of($1, $2, $3, 'viewers', $4)
ORDER BY viewers DESC, sessions DESC, title
LIMIT $4
"""


async def _member_window(
    conn: asyncpg.Connection, scope: Scope, p: PeriodParams, period: Period
) -> MemberWindow | None:
    """The stored last 7 days a member's default question is answered from (core/tools/snapshots.py)."""
    if p.start is not None or p.end is not None:
        return None
    return await member_window(conn, scope, period.label)


async def what_others_watch(conn: asyncpg.Connection, scope: Scope, p: OthersWatchingParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_7_days")
    stored = await _member_window(conn, scope, p, period)
    if stored is not None:
        period = stored.period
    sql = _POPULAR_AS_OF if stored is not None else _POPULAR
    rows = await conn.fetch(sql, period.start, period.end, scope.min_group_size, p.limit)
    coverage = Coverage(tables_used=["watch_history (anonymous counts)", "media_items"])
    summary = {"period": period.as_dict(), "min_group_size": scope.min_group_size}
    if stored is not None:
        note_as_of(coverage, summary, stored.computed_at, scope, datetime.now(UTC))
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_others(result: ToolResult) -> str:

    group = result.summary.get("min_group_size", 2)
    if not result.rows:
        return with_gaps(
            f"No title was played by at least {group} other people {in_period(result)}, so I have nothing to "
            "show without pointing at someone.",
            result,
        )
    lines = [
        f"{title_of(r)}: {plural(r['viewers'], 'viewer')}, {plural(r['sessions'], 'play')}"
        for r in result.rows
    ]
    return with_gaps(
        f"What others on the server watched {in_period(result)}:\n{listing(lines)}", result
    )


class TrendingParams(PeriodParams):
    limit: int = Field(default=10, ge=1, le=50)


_TRENDING = """
WITH now_period AS (SELECT * FROM analytics.title_popularity($1, $2, $4)),
     before AS (SELECT media_item_id, sessions FROM analytics.title_popularity($3, $1, 1))
SELECT n.media_item_id AS id, n.title, n.media_type, n.year, n.viewers, n.sessions,
       coalesce(b.sessions, 0) AS previous_sessions
FROM now_period n LEFT JOIN before b USING (media_item_id)
ORDER BY n.sessions DESC, n.viewers DESC, n.title
LIMIT $5
"""
_TRENDING_AS_OF = """
WITH now_period AS (SELECT * FROM analytics.title_popularity_top_as_of($1, $2, $4, 'sessions', $5)),
     before AS (SELECT media_item_id, sessions
                FROM analytics.title_popularity_of_as_of($3, $1, 1, ARRAY(SELECT media_item_id FROM now_period)))
SELECT n.media_item_id AS id, n.title, n.media_type, n.year, n.viewers, n.sessions,
       coalesce(b.sessions, 0) AS previous_sessions
FROM now_period n LEFT JOIN before b USING (media_item_id)
ORDER BY n.sessions DESC, n.viewers DESC, n.title
LIMIT $5
"""


async def trending(conn: asyncpg.Connection, scope: Scope, p: TrendingParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_7_days")
    stored = await _member_window(conn, scope, p, period)
    if stored is not None:
        period = stored.period
    previous_start = period.start - (period.end - period.start)
    # analytics.title_popularity applies min_group_size itself, in admin mode too (unless all the viewers share).
    sql = _TRENDING_AS_OF if stored is not None else _TRENDING
    rows = await conn.fetch(sql, period.start, period.end, previous_start, 1, p.limit)
    coverage = Coverage(tables_used=["watch_history (anonymous counts)", "media_items"])
    summary = {"period": period.as_dict(), "min_group_size": scope.min_group_size}
    if stored is not None:
        note_as_of(coverage, summary, stored.computed_at, scope, datetime.now(UTC))
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_trending(result: ToolResult) -> str:

    if not result.rows:
        return with_gaps(f"Nothing is trending on the server {in_period(result)}.", result)
    lines = []
    for r in result.rows:
        change = f", up from {r['previous_sessions']}" if r["sessions"] > r["previous_sessions"] else ""
        lines.append(
            f"{title_of(r)}: {plural(r['sessions'], 'play')} by {plural(r['viewers'], 'viewer')}{change}"
        )
    return with_gaps(f"Trending on the server {in_period(result)}:\n{listing(lines)}", result)


class UnwatchedParams(BaseModel):
    media_type: Literal["movie", "show"] | None = None
    limit: int = Field(
        default=10, ge=1, le=50, description="How many of the newest unwatched titles to list."
    )


_UNWATCHED_COUNTS = """
WITH mine AS (
    SELECT DISTINCT coalesce(mi.parent_id, mi.id) AS top_id
    FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id WHERE us.user_id = $1
), per_library AS (
    -- counted in the order of media_items_type_library_idx, then the unnamed library folded into
    -- 'Unsorted': grouping every title by the folded name hashed each one (twice as slow, issue 17)
    SELECT media_type, library_name, count(*) AS titles
    FROM media_items WHERE media_type IN ('movie', 'show') AND ($2::text IS NULL OR media_type = $2)
    GROUP BY 1, 2
), totals AS (
    SELECT media_type, coalesce(library_name, 'Unsorted') AS library_name, sum(titles)::bigint AS titles
    FROM per_library
    GROUP BY 1, 2
), started AS (
    SELECT t.media_type, coalesce(t.library_name, 'Unsorted') AS library_name, count(*) AS titles
    FROM mine JOIN media_items t ON t.id = mine.top_id
    WHERE ($2::text IS NULL OR t.media_type = $2)
    GROUP BY 1, 2
)
SELECT t.media_type, t.library_name, t.titles AS total, t.titles - coalesce(s.titles, 0) AS unwatched
FROM totals t LEFT JOIN started s USING (media_type, library_name)
ORDER BY unwatched DESC, t.library_name
"""

# The newest first, by walking media_items_added_cover_idx backwards until enough unstarted titles are
# found, then the titles of unknown arrival (few: only those first seen in play history) by name;
# sorting every unstarted title of the library instead cost 20-25 ms on the large demo server (issue 17).
_UNWATCHED_NEWEST = """
WITH mine AS MATERIALIZED (
    SELECT DISTINCT coalesce(mi.parent_id, mi.id) AS top_id
    FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id WHERE us.user_id = $1
), dated AS (
    SELECT t.id, t.title, t.media_type, t.year, t.library_name, t.added_at
    FROM media_items t
    WHERE t.added_at IS NOT NULL AND t.media_type IN ('movie', 'show') AND ($2::text IS NULL OR t.media_type = $2)
      AND NOT EXISTS (SELECT 1 FROM mine WHERE mine.top_id = t.id)
    ORDER BY t.added_at DESC, t.title
    LIMIT $3
), undated AS (
    SELECT t.id, t.title, t.media_type, t.year, t.library_name, t.added_at
    FROM media_items t
    WHERE t.added_at IS NULL AND t.media_type IN ('movie', 'show') AND ($2::text IS NULL OR t.media_type = $2)
      AND NOT EXISTS (SELECT 1 FROM mine WHERE mine.top_id = t.id)
    ORDER BY t.title
    LIMIT $3
)
SELECT id, title, media_type, year, library_name, added_at
FROM (SELECT * FROM dated UNION ALL SELECT * FROM undated) newest
ORDER BY added_at DESC NULLS LAST, title
LIMIT $3
"""


async def unwatched_content(conn: asyncpg.Connection, scope: Scope, p: UnwatchedParams) -> ToolResult:
    counts = await conn.fetch(_UNWATCHED_COUNTS, scope.user_id, p.media_type)
    newest = await conn.fetch(_UNWATCHED_NEWEST, scope.user_id, p.media_type, p.limit)
    summary = {
        "unwatched_titles": sum(int(r["unwatched"]) for r in counts),
        "total_titles": sum(int(r["total"]) for r in counts),
        "by_library": plain_rows(counts, scope.timezone),
    }
    coverage = Coverage(tables_used=["media_items", "user_stats"])
    return ToolResult(rows=plain_rows(newest, scope.timezone), coverage=coverage, summary=summary)


def _render_unwatched(result: ToolResult) -> str:
    s = result.summary
    if not s.get("total_titles"):
        return with_gaps("The library is empty, so there is nothing unwatched.", result)
    libraries = [
        f"{r['library_name']} ({r['media_type']}s): {r['unwatched']} of {r['total']}" for r in s["by_library"]
    ]
    text = f"You haven't started {s['unwatched_titles']} of the {s['total_titles']} titles in the library:\n"
    text += listing(libraries)
    if result.rows:
        # A blank line: text right after a list item would continue that item in Markdown.
        text += "\n\nNewest among them:\n" + listing(title_of(r) for r in result.rows)
    return with_gaps(text, result)


TOOLS: list[Tool[Any]] = [
    Tool(
        name="recommend_tonight",
        description=(
            "Suggest what the asker could watch tonight: movies they have not seen and shows they have not "
            "finished, ranked by their genre taste (from their plays and ratings) and audience rating; shows "
            "already in progress get a boost. Optional genre and movie/show filter."
        ),
        params=RecommendParams,
        modes=PERSONAL,
        question_type="recommendation",
        run=recommend_tonight,
        render=_render_recommendations,
        examples=(
            "What should I watch tonight?",
            "Any recommendations for me?",
            "I'm bored, suggest a movie",
            "Give me something to watch this evening",
            "What comedy should I watch?",
        ),
        phrasings=(
            "what would you put on for me",
            "recommend me a movie",
            "what's good to watch",
            "I need a recommendation",
            "suggest a show for tonight",
        ),
    ),
    Tool(
        name="similar_titles",
        description=(
            "Recommend titles like a given movie or show (found by fuzzy title match), by shared genres and "
            "audience rating, leaving out what the asker already finished."
        ),
        params=SimilarParams,
        modes=PERSONAL,
        question_type="recommendation",
        run=similar_titles,
        render=_render_similar,
        examples=(
            "Recommend something like [movie/show]",
            "Something similar to Breaking Bad?",
            "I loved Inception, what else would I like?",
            "More shows like The Office please",
        ),
        phrasings=(
            "something like X I haven't seen",
            "what's like X",
            "titles similar to X",
            "what else is like X",
            "find me stuff like X",
        ),
    ),
    Tool(
        name="top_genres",
        description="The asker's most watched genres by time watched, optionally within start/end.",
        params=TopGenresParams,
        modes=PERSONAL,
        question_type="analytics",
        run=top_genres,
        render=_render_top_genres,
        examples=(
            "What are my most watched genres?",
            "Which genres do I watch the most?",
            "What's my favourite genre?",
            "What kind of stuff do I usually watch?",
        ),
        phrasings=(
            "what genres do I like",
            "my favourite kinds of movies",
            "which genre do I watch most often",
        ),
    ),
    Tool(
        name="highly_rated_unwatched",
        description=(
            "Highly audience-rated movies and shows the asker has never played, best first; optional minimum "
            "rating, genre and movie/show filter."
        ),
        params=HighlyRatedParams,
        modes=PERSONAL,
        question_type="recommendation",
        run=highly_rated_unwatched,
        render=_render_highly_rated,
        examples=(
            "Show me highly rated movies I haven't watched",
            "What are the best rated films I haven't seen?",
            "Top rated shows I've never watched",
            "Which acclaimed movies am I missing?",
        ),
        phrasings=(
            "highly rated movies I have not seen yet",
            "acclaimed films I never watched",
        ),
    ),
    Tool(
        name="new_in_library",
        description=(
            "Movies and episodes added to the library in a period (default: the last 7 days), episodes grouped "
            "by show."
        ),
        params=NewInLibraryParams,
        modes=BOTH,
        question_type="discovery",
        run=new_in_library,
        render=_render_new,
        examples=(
            "What's new in my library this week?",
            "What was added recently?",
            "Any new movies this month?",
            "Which new episodes came in?",
        ),
        phrasings=(
            "what was added to the library",
            "latest additions",
            "anything new on the server",
        ),
    ),
    Tool(
        name="what_others_watch",
        description=(
            "What other users on the server watched in a period (default: last 7 days), as titles with counts of "
            "viewers and plays and no names; titles fewer than min_group_size other users played are left out."
        ),
        params=OthersWatchingParams,
        modes=PERSONAL,
        question_type="discovery",
        run=what_others_watch,
        render=_render_others,
        examples=(
            "What are other users watching?",
            "What's everyone else watching lately?",
            "What do other people on the server watch?",
            "Popular with others this week?",
        ),
        phrasings=(
            "what are other people watching",
            "what are my friends watching",
        ),
    ),
    Tool(
        name="trending",
        description=(
            "Titles with the most plays on the server in a period (default: last 7 days) compared with the period "
            "before; counts only, no names (personal mode needs min_group_size other viewers per title)."
        ),
        params=TrendingParams,
        modes=BOTH,
        question_type="discovery",
        run=trending,
        render=_render_trending,
        examples=(
            "What's trending on my server?",
            "What's hot right now?",
            "Most played titles this week",
            "What is popular on the server at the moment?",
        ),
        phrasings=(
            "what is trending",
            "most played titles on the server this week",
            "what gets the most plays",
        ),
    ),
    Tool(
        name="unwatched_content",
        description=(
            "How many movies and shows in the library the asker has never started, per library, and the newest of "
            "them."
        ),
        params=UnwatchedParams,
        modes=PERSONAL,
        question_type="discovery",
        run=unwatched_content,
        render=_render_unwatched,
        examples=(
            "What unwatched content do I have?",
            "What haven't I watched yet?",
            "How much of the library have I not seen?",
            "List movies I've never started",
        ),
        phrasings=(
            "what have I not watched yet",
            "titles I have never played",
            "what is left for me to watch",
            "what is there still for me to discover",
        ),
    ),
]
