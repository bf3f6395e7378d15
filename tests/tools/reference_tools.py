"""Tool implementations as they were before they were reformulated for speed (issue 17).

The reference for ``test_same_answers_as_before``: each keeps the SQL and the
Python of the tool it stands for, unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from core.scope import Scope
from core.tools.admin_counts import _APPROVALS, _REQUESTS, AdminCountsParams
from core.tools.base import Coverage, ToolResult
from core.tools.content import NeverWatchedParams
from core.tools.coverage import add_null_share
from core.tools.discovery import (
    _MY_TITLES,
    SIMILAR_POOL,
    SimilarParams,
    TopGenresParams,
    UnwatchedParams,
)
from core.tools.periods import DefaultPeriod, resolve_period
from core.tools.personal import _AVERAGE_RATING, AverageRatingParams
from core.tools.phrasing import title_of
from core.tools.recommendation_reasons import vector_similar_sql
from core.tools.records import plain_rows
from core.tools.semantic_search import SearchParams, embedded_with, text_query, use_index_with_filters
from core.tools.social import (
    _DISCOVERERS,
    _POWER_USERS,
    _WATCHED_BY_OTHERS,
    InfluenceParams,
    PowerUsersParams,
    _influence_coverage,
    _note_unlinked_requests,
)
from core.tools.title_lookup import find_title
from core.tools.users import _leaderboard

_NEVER_WATCHED = """
SELECT media_item_id AS id, title, media_type, year, library_name, added_at, size_bytes, files, files_with_size
FROM analytics.title_engagement($1)
WHERE stat_rows = 0
ORDER BY added_at, title
"""


async def never_watched_content(conn: asyncpg.Connection, scope: Scope, p: NeverWatchedParams) -> ToolResult:
    rows = await conn.fetch(_NEVER_WATCHED, datetime.now(scope.timezone))
    files = sum(int(r["files"]) for r in rows)
    sized = sum(int(r["files_with_size"]) for r in rows)
    summary = {
        "titles": len(rows),
        "movies": sum(1 for r in rows if r["media_type"] == "movie"),
        "shows": sum(1 for r in rows if r["media_type"] == "show"),
        "size_bytes": sum(int(r["size_bytes"] or 0) for r in rows),
    }
    coverage = Coverage(tables_used=["media_items", "user_stats"])
    add_null_share(coverage, "media_items", "file_size_bytes", files, sized, "files of never-watched titles")
    return ToolResult(
        "never_watched_content",
        p.model_dump(mode="json"),
        plain_rows(rows[: p.limit], scope.timezone),
        coverage,
        summary,
    )


_SKIPPERS = """
SELECT username, display_name, fulfilled, fulfilled_watched_by_requester,
       fulfilled - fulfilled_watched_by_requester AS never_watched,
       round((fulfilled - fulfilled_watched_by_requester)::numeric / fulfilled, 3) AS share_never_watched
FROM analytics.requester_influence($1, $2)
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
        "requesters_who_skip_their_requests",
        p.model_dump(mode="json"),
        plain_rows(rows, scope.timezone),
        coverage,
        {"period": period.as_dict()},
    )


_USERS_BY_ACTIVITY = """
SELECT role, count(*) AS users, count(*) FILTER (WHERE sessions > 0) AS active
FROM analytics.user_activity($1, $2)
GROUP BY role ORDER BY role
"""


async def admin_counts(conn: asyncpg.Connection, scope: Scope, p: AdminCountsParams) -> ToolResult:
    default: DefaultPeriod = "last_30_days" if p.measure == "active_users" else "all_time"
    period = resolve_period(scope, p.start, p.end, default)
    params = p.model_dump(mode="json")
    summary: dict[str, Any] = {"period": period.as_dict(), "measure": p.measure, "status": p.status}
    coverage = Coverage()
    if p.measure in ("users", "active_users"):
        rows = await conn.fetch(_USERS_BY_ACTIVITY, period.start, period.end)
        coverage.tables_used = ["users", "watch_history.started_at"]
        summary["users"] = sum(int(r["users"]) for r in rows)
        summary["active"] = sum(int(r["active"]) for r in rows)
        return ToolResult("admin_counts", params, plain_rows(rows, scope.timezone), coverage, summary)
    if p.measure == "requests":
        row = await conn.fetchrow(_REQUESTS, period.start, period.end)
        coverage.tables_used = ["content_requests.status", "content_requests.requested_at"]
        summary.update({k: int(v or 0) for k, v in row.items()})
        return ToolResult("admin_counts", params, [], coverage, summary)
    rows = await conn.fetch(_APPROVALS, period.start, period.end)
    coverage.tables_used = ["content_requests.approved_by_user_id"]
    coverage.gaps.append("requests record who approved them but not who declined them")
    coverage.missing_tables.append("content_requests.declined_by_user_id")
    summary["approved"] = sum(int(r["approved"]) for r in rows)
    return ToolResult("admin_counts", params, plain_rows(rows, scope.timezone), coverage, summary)


# Member tools that joined each of the asker's plays or ratings to its title directly (issue 17).
_TOP_GENRES = """
SELECT g.genre, count(*) AS sessions, sum(wh.watched_seconds)::bigint AS watched_seconds,
       count(DISTINCT coalesce(mi.parent_id, mi.id)) AS titles
FROM watch_history wh
JOIN media_items mi ON mi.id = wh.media_item_id
JOIN media_items t ON t.id = coalesce(mi.parent_id, mi.id),
     jsonb_array_elements_text(coalesce(t.metadata -> 'genres', '[]'::jsonb)) AS g(genre)
WHERE wh.user_id = $1 AND wh.started_at >= $2 AND wh.started_at < $3
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
        "top_genres",
        p.model_dump(mode="json"),
        plain_rows(rows, scope.timezone),
        coverage,
        {"period": period.as_dict()},
    )


_TOP_RATED_BY_ME = """
SELECT t.title, t.year, t.media_type, max(us.rating) AS rating
FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id
JOIN media_items t ON t.id = coalesce(mi.parent_id, mi.id)
WHERE us.user_id = $1 AND us.rating IS NOT NULL AND ($2::text IS NULL OR mi.media_type = $2)
GROUP BY t.id
ORDER BY rating DESC, t.title
LIMIT 3
"""


async def average_rating(conn: asyncpg.Connection, scope: Scope, p: AverageRatingParams) -> ToolResult:
    stats = await conn.fetchrow(_AVERAGE_RATING, scope.user_id, p.media_type)
    top = await conn.fetch(_TOP_RATED_BY_ME, scope.user_id, p.media_type)
    summary = plain_rows([stats], scope.timezone)[0]
    coverage = Coverage(tables_used=["user_stats.rating"])
    if stats["rows"] and not stats["ratings"]:
        coverage.gaps.append("you have played titles but never rated one")
    return ToolResult(
        "average_rating", p.model_dump(mode="json"), plain_rows(top, scope.timezone), coverage, summary
    )


_UNWATCHED_COUNTS = """
WITH mine AS (
    SELECT DISTINCT coalesce(mi.parent_id, mi.id) AS top_id
    FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id WHERE us.user_id = $1
), totals AS (
    SELECT media_type, coalesce(library_name, 'Unsorted') AS library_name, count(*) AS titles
    FROM media_items WHERE media_type IN ('movie', 'show') AND ($2::text IS NULL OR media_type = $2)
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

_UNWATCHED_NEWEST = """
WITH mine AS (
    SELECT DISTINCT coalesce(mi.parent_id, mi.id) AS top_id
    FROM user_stats us JOIN media_items mi ON mi.id = us.media_item_id WHERE us.user_id = $1
)
SELECT t.id, t.title, t.media_type, t.year, t.library_name, t.added_at
FROM media_items t
WHERE t.media_type IN ('movie', 'show') AND ($2::text IS NULL OR t.media_type = $2)
  AND NOT EXISTS (SELECT 1 FROM mine WHERE mine.top_id = t.id)
ORDER BY t.added_at DESC NULLS LAST, t.title
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
    return ToolResult(
        "unwatched_content", p.model_dump(mode="json"), plain_rows(newest, scope.timezone), coverage, summary
    )


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
    SELECT c.*, s.genres AS source_genres,
           (SELECT count(DISTINCT g.genre) FROM jsonb_array_elements_text(c.genres) g(genre)
             WHERE g.genre = ANY (s.genres)) AS shared,
           (SELECT count(DISTINCT g.genre) FROM jsonb_array_elements_text(c.genres) g(genre)) AS own
    FROM candidates c, source s
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
        return ToolResult("similar_titles", p.model_dump(mode="json"), [], coverage, {"matched_title": None})
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
    return ToolResult("similar_titles", p.model_dump(mode="json"), rows, coverage, summary)


# search_library's word match as analytics.title_text_match ran it before the stored search_text column
# (016_search_text.sql): each match's tsvector rebuilt from title and metadata, to match and to rank.
# Run inline, under the engine's row-level security (the policy shows every item in any scope, as the
# function's own check did), so it does not depend on the function it is compared with.
WORD_MATCH = """
SELECT mi.id, mi.title, mi.media_type, mi.year, coalesce(mi.metadata -> 'genres', '[]'::jsonb),
       (mi.metadata ->> 'rating')::numeric,
       round(ts_rank(to_tsvector('english'::regconfig,
         mi.title || ' ' || coalesce(mi.metadata ->> 'summary', '') || ' ' || coalesce(mi.metadata ->> 'genres', '')
         || ' ' || coalesce(mi.metadata ->> 'cast', '') || ' ' || coalesce(mi.metadata ->> 'directors', '')
         || ' ' || coalesce(mi.metadata ->> 'writers', '')), q)::numeric, 3)
FROM media_items mi, to_tsquery('english', $1) q
WHERE mi.media_type IN ('movie', 'show') AND mi.removed_at IS NULL
  AND to_tsvector('english'::regconfig,
         mi.title || ' ' || coalesce(mi.metadata ->> 'summary', '') || ' ' || coalesce(mi.metadata ->> 'genres', '')
         || ' ' || coalesce(mi.metadata ->> 'cast', '') || ' ' || coalesce(mi.metadata ->> 'directors', '')
         || ' ' || coalesce(mi.metadata ->> 'writers', '')) @@ q
  AND ($2::text IS NULL OR mi.media_type = $2)
ORDER BY 7 DESC, 6 DESC NULLS LAST, 2
LIMIT $3
"""
WORD_MATCH_COLUMNS = ("id", "title", "media_type", "year", "genres", "audience_rating", "match")


async def word_match_rows(
    conn: asyncpg.Connection, words: str, media_type: str | None, limit: int
) -> list[Any]:
    """The old query's rows, named as the function names its columns."""
    rows = await conn.fetch(WORD_MATCH, words, media_type, limit)
    return [dict(zip(WORD_MATCH_COLUMNS, row.values(), strict=True)) for row in rows]


async def search_library(conn: asyncpg.Connection, scope: Scope, p: SearchParams) -> ToolResult:
    """search_library without an embeddings endpoint (the catalogue the tests build has none)."""
    coverage = Coverage(tables_used=["media_items.title", "media_items.metadata"])
    params = p.model_dump(mode="json")
    fallback_reason = "semantic search is not set up on this server (no embeddings endpoint)"
    words = text_query(p.query)
    coverage.gaps.append(
        f"{fallback_reason}, so this matched the words of your description against titles, summaries, "
        "genres and cast, not its meaning: treat these as rough matches"
    )
    coverage.missing_tables.append("media_embeddings.embedding")
    rows = await word_match_rows(conn, words, p.media_type, p.limit) if words else []
    return ToolResult(
        "search_library", params, plain_rows(rows, scope.timezone), coverage,
        {"method": "text match", "words": words.split(" | ") if words else []},
    )  # fmt: skip


# analytics.requester_influence as it was before its lookups were made per request (issue 17), under its
# own name: the comparing tests create it (create_reference_functions) next to the current one.
_REQUESTER_INFLUENCE_REFERENCE = """
CREATE OR REPLACE FUNCTION analytics.requester_influence_reference(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, requests bigint, fulfilled bigint,
               fulfilled_watched_by_requester bigint, fulfilled_watched_by_others bigint,
               other_viewers bigint, other_sessions bigint, other_ratings bigint,
               other_avg_rating double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH reqs AS (
        SELECT cr.id, cr.requested_by_user_id AS requester, cr.media_item_id, mi.parent_id IS NOT NULL AS is_episode
        FROM content_requests cr
        LEFT JOIN media_items mi ON mi.id = cr.media_item_id
        WHERE cr.requested_at >= p_start AND cr.requested_at < p_end
    ), items AS (
        SELECT r.id AS request_id, r.requester, r.media_item_id AS item_id
        FROM reqs r WHERE r.media_item_id IS NOT NULL
        UNION ALL
        SELECT r.id, r.requester, e.id
        FROM reqs r JOIN media_items e ON e.parent_id = r.media_item_id
    ), plays AS (
        SELECT r.id AS request_id, r.requester, v.user_id, v.sessions
        FROM reqs r JOIN title_viewer_sessions v ON v.title_id = r.media_item_id
        WHERE NOT r.is_episode
        UNION ALL
        SELECT r.id, r.requester, wh.user_id, count(*)
        FROM reqs r JOIN watch_history wh ON wh.media_item_id = r.media_item_id
        WHERE r.is_episode
        GROUP BY r.id, r.requester, wh.user_id
    ), rated AS (
        SELECT i.requester, us.rating
        FROM items i JOIN user_stats us ON us.media_item_id = i.item_id
        WHERE us.rating IS NOT NULL AND us.user_id <> i.requester
    ), per_request AS (
        SELECT r.id, r.requester, r.media_item_id IS NOT NULL AS fulfilled,
               coalesce(bool_or(p.user_id = r.requester), false) AS self_watched,
               coalesce(bool_or(p.user_id <> r.requester), false) AS others_watched
        FROM reqs r LEFT JOIN plays p ON p.request_id = r.id
        GROUP BY r.id, r.requester, r.media_item_id
    ), per_user AS (
        SELECT requester, count(*) AS requests, count(*) FILTER (WHERE fulfilled) AS fulfilled,
               count(*) FILTER (WHERE fulfilled AND self_watched) AS self_watched,
               count(*) FILTER (WHERE fulfilled AND others_watched) AS others_watched
        FROM per_request GROUP BY requester
    ), other_plays AS (
        SELECT requester, count(DISTINCT user_id) AS viewers, sum(sessions)::bigint AS sessions
        FROM plays WHERE user_id <> requester GROUP BY requester
    ), other_ratings AS (
        SELECT requester, count(*) AS ratings, avg(rating)::double precision AS avg_rating
        FROM rated GROUP BY requester
    )
    SELECT u.id, u.username, u.display_name, pu.requests, pu.fulfilled, pu.self_watched, pu.others_watched,
           coalesce(op.viewers, 0), coalesce(op.sessions, 0), coalesce(orr.ratings, 0), orr.avg_rating
    FROM per_user pu
    JOIN users u ON u.id = pu.requester
    LEFT JOIN other_plays op ON op.requester = pu.requester
    LEFT JOIN other_ratings orr ON orr.requester = pu.requester
    WHERE analytics.scope_mode() = 'admin'
$$;
GRANT EXECUTE ON FUNCTION analytics.requester_influence_reference(timestamptz, timestamptz) TO marquee_engine;
"""


async def create_reference_functions(conn: asyncpg.Connection) -> None:
    await conn.execute(_REQUESTER_INFLUENCE_REFERENCE)


def _with_reference_influence(sql: str) -> str:
    return sql.replace("analytics.requester_influence(", "analytics.requester_influence_reference(")


async def requests_watched_by_others(
    conn: asyncpg.Connection, scope: Scope, p: InfluenceParams
) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "all_time")
    rows = await conn.fetch(_with_reference_influence(_WATCHED_BY_OTHERS), period.start, period.end, p.limit)
    coverage = _influence_coverage(rows)
    if not rows:
        await _note_unlinked_requests(conn, coverage, period.start, period.end)
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


async def content_discoverers(conn: asyncpg.Connection, scope: Scope, p: InfluenceParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "all_time")
    rows = await conn.fetch(_with_reference_influence(_DISCOVERERS), period.start, period.end, p.limit)
    coverage = _influence_coverage(rows)
    if rows and not any(r["other_ratings"] for r in rows):
        coverage.gaps.append("nobody rated the requested titles, so the score rests on plays alone")
        coverage.missing_tables.append("user_stats.rating")
    if not rows:
        await _note_unlinked_requests(conn, coverage, period.start, period.end)
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


async def power_users(conn: asyncpg.Connection, scope: Scope, p: PowerUsersParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_90_days")
    rows = await conn.fetch(_with_reference_influence(_POWER_USERS), period.start, period.end, p.limit)
    coverage = Coverage(tables_used=["watch_history", "user_stats.rating", "content_requests"])
    return ToolResult(
        rows=plain_rows(rows, scope.timezone), coverage=coverage, summary={"period": period.as_dict()}
    )


# "Most active" and "who watches the most" summed every play of the period for every user.
_WATCH_TOTALS = "analytics.user_watch_totals($1, $2)"
most_active_users = _leaderboard(
    _WATCH_TOTALS,
    "sessions",
    "sessions DESC, watched_seconds DESC",
    "last_30_days",
    ["watch_history (per-user totals)", "users.last_login_at"],
)
top_watchers = _leaderboard(
    _WATCH_TOTALS,
    "watched_seconds",
    "watched_seconds DESC",
    "last_30_days",
    ["watch_history (per-user totals)"],
)


REFERENCE_RUNS: dict[str, Callable[..., Awaitable[ToolResult]]] = {
    "never_watched_content": never_watched_content,
    "admin_counts": admin_counts,
    "requesters_who_skip_their_requests": requesters_who_skip_their_requests,
    "top_genres": top_genres,
    "average_rating": average_rating,
    "unwatched_content": unwatched_content,
    "similar_titles": similar_titles,
    "search_library": search_library,
    "most_active_users": most_active_users,
    "top_watchers": top_watchers,
    "requests_watched_by_others": requests_watched_by_others,
    "content_discoverers": content_discoverers,
    "power_users": power_users,
}
