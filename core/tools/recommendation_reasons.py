"""Why a title is recommended: the asker's own titles it is closest to ("because you finished Heat").

The asker's *seeds* are the titles they finished (unless they rated them 4 or
less) and those they rated 7 or more, best rated first. Only the asker's own
``user_stats`` rows feed them (the tool's scope and row-level security see to
that), so another member's history never changes or appears in anyone's
recommendations.

With embeddings, candidates are the nearest titles to the seeds' vectors and the
reasons are the seeds they are nearest to. Without them, a candidate's reasons
are the seeds it shares most with by metadata: genres (Jaccard), people (cast,
directors, writers) and era (within five years).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from core.semantic.store import index_vector

MAX_REASONS = 2
MAX_SEEDS = 30
# Each seed is one index search: eight of the asker's best, twenty neighbours each.
MAX_VECTOR_SEEDS = 8
NEIGHBOURS_PER_SEED = 20

_SEED_RULE = "((ms.finished AND coalesce(ms.rating, 7) > 4) OR ms.rating >= 7)"

_PEOPLE = (
    "coalesce({t}.metadata -> 'cast', '[]'::jsonb) || coalesce({t}.metadata -> 'directors', '[]'::jsonb)"
    " || coalesce({t}.metadata -> 'writers', '[]'::jsonb)"
)


def metadata_reasons_sql(my_titles: str) -> str:
    """Per candidate ($2), the two seeds of the asker ($1) it shares most with."""
    return f"""
WITH {my_titles}, seeds AS MATERIALIZED (
    SELECT ms.top_id, ms.rating, ms.finished, t.title, t.year,
           coalesce(t.metadata -> 'genres', '[]'::jsonb) AS genres, {_PEOPLE.format(t="t")} AS people
    FROM mine_status ms JOIN media_items t ON t.id = ms.top_id
    WHERE {_SEED_RULE}
    ORDER BY ms.rating DESC NULLS LAST, ms.plays DESC, t.title
    LIMIT {MAX_SEEDS}
), pairs AS (
    SELECT c.id AS candidate_id, s.title, s.year, s.rating, s.finished,
           ARRAY(SELECT jsonb_array_elements_text(coalesce(c.metadata -> 'genres', '[]'::jsonb))
                 INTERSECT SELECT jsonb_array_elements_text(s.genres) ORDER BY 1) AS shared_genres,
           ARRAY(SELECT jsonb_array_elements_text({_PEOPLE.format(t="c")})
                 INTERSECT SELECT jsonb_array_elements_text(s.people) ORDER BY 1) AS shared_people,
           (SELECT count(DISTINCT g) FROM (SELECT jsonb_array_elements_text(coalesce(c.metadata -> 'genres', '[]'::jsonb))
                                           UNION ALL SELECT jsonb_array_elements_text(s.genres)) u(g)) AS all_genres,
           c.year IS NOT NULL AND s.year IS NOT NULL AND abs(c.year - s.year) <= 5 AS same_era
    FROM media_items c CROSS JOIN seeds s
    WHERE c.id = ANY ($2::uuid[]) AND s.top_id <> c.id
), scored AS (
    SELECT *, coalesce(cardinality(shared_genres)::numeric / nullif(all_genres, 0), 0)
              + 0.25 * least(cardinality(shared_people), 3) AS closeness
    FROM pairs
), ranked AS (
    SELECT *, closeness + CASE WHEN same_era THEN 0.1 ELSE 0 END AS score,
           row_number() OVER (PARTITION BY candidate_id
                              ORDER BY closeness + CASE WHEN same_era THEN 0.1 ELSE 0 END DESC,
                                       rating DESC NULLS LAST, title) AS place
    FROM scored WHERE closeness > 0
)
SELECT candidate_id, title, year, rating, finished, shared_genres, shared_people, round(score, 3) AS score
FROM ranked WHERE place <= {MAX_REASONS}
ORDER BY candidate_id, place
"""


async def metadata_reasons(
    conn: asyncpg.Connection, my_titles: str, user_id: Any, candidate_ids: Sequence[Any]
) -> dict[str, list[dict[str, Any]]]:
    """{candidate id (str): [reason, ...]}; a reason is the seed's title, year, how it was liked, what is shared."""
    if not candidate_ids:
        return {}
    rows = await conn.fetch(metadata_reasons_sql(my_titles), user_id, list(candidate_ids))
    reasons: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        reasons.setdefault(str(row["candidate_id"]), []).append(
            {
                "title": row["title"],
                "year": row["year"],
                "finished": row["finished"],
                "shared": [*row["shared_genres"], *row["shared_people"]],
            }
        )
    return reasons


def vector_recommendations_sql(my_titles: str, dimension: int) -> str:
    """Nearest unfinished titles to the asker's ($1) seeds, embedded with model $2; filters $3 kind, $4 genre."""
    vector = index_vector(dimension)
    return f"""
WITH {my_titles}, seeds AS MATERIALIZED (
    SELECT ms.top_id, ms.rating, ms.finished, ms.plays, t.title, t.year, e.embedding::{vector} AS embedding
    FROM mine_status ms
    JOIN media_items t ON t.id = ms.top_id
    JOIN media_embeddings e ON e.media_item_id = ms.top_id AND e.model = $2 AND e.dimension = {int(dimension)}
    WHERE {_SEED_RULE}
    ORDER BY ms.rating DESC NULLS LAST, ms.plays DESC, t.title
    LIMIT {MAX_VECTOR_SEEDS}
), near AS MATERIALIZED (
    SELECT s.top_id AS seed_id, s.title AS seed_title, s.year AS seed_year, s.finished AS seed_finished,
           s.rating AS seed_rating, n.media_item_id, 1 - n.distance AS similarity
    FROM seeds s CROSS JOIN LATERAL (
        SELECT e.media_item_id, e.embedding::{vector} <=> s.embedding AS distance
        FROM media_embeddings e
        WHERE e.dimension = {int(dimension)} AND e.model = $2
        ORDER BY e.embedding::{vector} <=> s.embedding
        LIMIT {NEIGHBOURS_PER_SEED}
    ) n
), candidates AS MATERIALIZED (
    SELECT n.media_item_id AS id, max(n.similarity) AS best, count(*) AS seeds_near,
           jsonb_agg(jsonb_build_object('title', n.seed_title, 'year', n.seed_year, 'finished', n.seed_finished,
                                        'similarity', round(n.similarity::numeric, 3))
                     ORDER BY n.similarity DESC) AS because
    FROM near n
    WHERE NOT EXISTS (SELECT 1 FROM mine_status ms WHERE ms.top_id = n.media_item_id AND ms.finished)
      AND NOT EXISTS (SELECT 1 FROM seeds s WHERE s.top_id = n.media_item_id)
    GROUP BY n.media_item_id
), scored AS (
    SELECT t.id, t.title, t.media_type, t.year, coalesce(t.metadata -> 'genres', '[]'::jsonb) AS genres,
           (t.metadata ->> 'rating')::numeric AS audience_rating,
           ms.top_id IS NOT NULL AND t.media_type = 'show' AS in_progress,
           c.best, c.seeds_near, c.because
    FROM candidates c
    JOIN media_items t ON t.id = c.id
    LEFT JOIN mine_status ms ON ms.top_id = c.id
    WHERE t.removed_at IS NULL AND t.media_type IN ('movie', 'show')
      AND ($3::text IS NULL OR t.media_type = $3)
      AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(t.metadata -> 'genres') g(genre)
                                       WHERE lower(g.genre) = lower($4)))
)
SELECT id, title, media_type, year, genres, audience_rating, in_progress, round(best::numeric, 3) AS similarity,
       because,
       round((0.75 * best + 0.05 * least(seeds_near - 1, 3) + 0.2 * coalesce(audience_rating, 5) / 10
              + CASE WHEN in_progress THEN 0.1 ELSE 0 END)::numeric, 3) AS score
FROM scored
ORDER BY score DESC, title
LIMIT $5
"""


def vector_similar_sql(my_titles: str, dimension: int) -> str:
    """Nearest unfinished titles to one title ($2), embedded with model $3, for the asker ($1)."""
    vector = index_vector(dimension)
    return f"""
WITH {my_titles}, source AS MATERIALIZED (
    SELECT e.embedding::{vector} AS embedding FROM media_embeddings e
    WHERE e.media_item_id = $2 AND e.model = $3 AND e.dimension = {int(dimension)}
), near AS MATERIALIZED (
    SELECT n.media_item_id, 1 - n.distance AS similarity
    FROM source s CROSS JOIN LATERAL (
        SELECT e.media_item_id, e.embedding::{vector} <=> s.embedding AS distance
        FROM media_embeddings e
        WHERE e.dimension = {int(dimension)} AND e.model = $3
        ORDER BY e.embedding::{vector} <=> s.embedding
        LIMIT $4 * 4 + 20
    ) n
)
SELECT t.id, t.title, t.media_type, t.year, coalesce(t.metadata -> 'genres', '[]'::jsonb) AS genres,
       (t.metadata ->> 'rating')::numeric AS audience_rating, round(n.similarity::numeric, 3) AS similarity,
       round((0.85 * n.similarity + 0.15 * coalesce((t.metadata ->> 'rating')::numeric, 5) / 10)::numeric, 3)
           AS score
FROM near n JOIN media_items t ON t.id = n.media_item_id
WHERE t.id <> $2 AND t.removed_at IS NULL AND t.media_type IN ('movie', 'show')
  AND NOT EXISTS (SELECT 1 FROM mine_status ms WHERE ms.top_id = t.id AND ms.finished)
ORDER BY score DESC, t.title
LIMIT $4
"""


# A seed is a reason only when the candidate is nearly as close to it as to the closest seed.
REASON_SIMILARITY_WINDOW = 0.1


def closest_reasons(reasons: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The vector reasons (closest first) that are nearly as close as the first, at most two."""
    if not reasons:
        return []
    best = float(reasons[0].get("similarity") or 0)
    close = [r for r in reasons if float(r.get("similarity") or 0) >= best - REASON_SIMILARITY_WINDOW]
    return close[:MAX_REASONS]


def because_text(reasons: Sequence[dict[str, Any]]) -> str | None:
    """'because you finished Heat (1995) and Inception (2010)', 'because you rated Heat (1995) highly'."""
    finished: list[str] = []
    liked: list[str] = []
    for reason in list(reasons)[:MAX_REASONS]:
        name = f"{reason['title']} ({reason['year']})" if reason.get("year") else str(reason["title"])
        (finished if reason.get("finished") else liked).append(name)
    parts = []
    if finished:
        parts.append("finished " + " and ".join(finished))
    if liked:
        parts.append("rated " + " and ".join(liked) + " highly")
    return "because you " + " and ".join(parts) if parts else None
