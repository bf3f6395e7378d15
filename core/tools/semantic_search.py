"""``search_library``: find titles by what they are about ("a slow-burn heist film").

With embeddings (``core.semantic``): the question is embedded by the configured
endpoint and compared with the titles' vectors (cosine similarity, pgvector's
HNSW index). Without them, or when the endpoint fails, the honest fallback: the
question's words against each title's text (title, summary, genres, cast and
crew; PostgreSQL full-text search), and the answer says it matched words, not
meaning, which lowers its confidence.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, Field

from core.scope import Mode, Scope
from core.semantic.embedder import Embedder, EmbeddingError
from core.semantic.store import index_vector, vector_literal, vector_ready
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.phrasing import listing, title_of, with_gaps
from core.tools.records import plain_rows

log = logging.getLogger(__name__)

BOTH: frozenset[Mode] = frozenset({"personal", "admin"})
TOOL_NAME = "search_library"

# Words that say what is asked for, not what it is about ("find me a film like ...").
_FILLER = frozenset(
    """a an the some any something anything stuff like about with me my i we us our you your to for of in on
    and or but is are be was that this it its find show give recommend suggest want looking look search
    watch watching tonight good great nice really kind sort type movie movies film films show shows series
    tv title titles please could would should can there what which where who one ones""".split()
)
_WORD = re.compile(r"[a-z0-9]+")
MAX_QUERY_WORDS = 12

# The words' match as the owner (core/schema/functions/analytics_title_text_match.sql): under
# row-level security the full-text index could not be used.
_TEXT_MATCH = "SELECT * FROM analytics.title_text_match($1, $2, $3)"


def _nearest(dimension: int) -> str:
    """Nearest titles to a vector; ``dimension`` (an int from embedding_state) is the index's typmod."""
    vector = index_vector(dimension)
    distance = f"e.embedding::{vector} <=> $1::text::{vector}"
    return f"""
SELECT mi.id, mi.title, mi.media_type, mi.year, coalesce(mi.metadata -> 'genres', '[]'::jsonb) AS genres,
       (mi.metadata ->> 'rating')::numeric AS audience_rating, round((1 - n.distance)::numeric, 3) AS similarity
FROM (
    SELECT e.media_item_id, {distance} AS distance
    FROM media_embeddings e
    WHERE e.dimension = {dimension} AND e.model = $2
    ORDER BY {distance}
    LIMIT $3
) n
JOIN media_items mi ON mi.id = n.media_item_id
WHERE mi.removed_at IS NULL AND ($4::text IS NULL OR mi.media_type = $4)
ORDER BY n.distance, mi.title
LIMIT $5
"""


async def embedded_with(conn: asyncpg.Connection) -> tuple[str, int] | None:
    """(model, dimension) the library's vectors were made with, when pgvector holds any."""
    if not await vector_ready(conn):
        return None
    row = await conn.fetchrow("SELECT model, dimension FROM embedding_state")
    return (row["model"], int(row["dimension"])) if row else None


async def use_index_with_filters(conn: asyncpg.Connection) -> None:
    """With filters after the index, keep scanning until enough rows pass (pgvector 0.8), 40 candidates at a time.

    40 is pgvector's default ef_search: on 200,000 titles of 768 dimensions, 100 read
    2.5 times the index pages for the same first ten.
    """
    await conn.execute("SET LOCAL hnsw.ef_search = 40")
    await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")


def text_query(query: str) -> str:
    """The question's telling words as an OR query for to_tsquery (letters and digits only: nothing to inject)."""
    words: list[str] = []
    for word in _WORD.findall(query.lower()):
        if word not in _FILLER and word not in words:
            words.append(word)
    return " | ".join(words[:MAX_QUERY_WORDS])


class SearchParams(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=300,
        description="What the title is like or about, in the asker's words, e.g. 'a slow-burn heist film'.",
    )
    media_type: Literal["movie", "show"] | None = Field(
        default=None, description="Only movies or only shows."
    )
    limit: int = Field(default=8, ge=1, le=25)


def search_tool(query_embedder: Embedder | None) -> Tool[SearchParams]:
    """The tool, bound to the endpoint that embeds questions (None: no embeddings configured)."""

    async def search_library(conn: asyncpg.Connection, scope: Scope, p: SearchParams) -> ToolResult:
        coverage = Coverage(tables_used=["media_items.title", "media_items.metadata"])
        params = p.model_dump(mode="json")
        fallback_reason = None
        if query_embedder is None:
            fallback_reason = "semantic search is not set up on this server (no embeddings endpoint)"
        else:
            embedded = await embedded_with(conn)
            if embedded is None:
                fallback_reason = "the library has not been embedded yet (marquee embed)"
            elif embedded != (query_embedder.model, query_embedder.dimension):
                fallback_reason = (
                    f"the library is embedded with {embedded[0]}, not the configured "
                    f"{query_embedder.model} (marquee embed brings it up to date)"
                )
            else:
                try:
                    [vector] = await query_embedder.embed([p.query])
                except EmbeddingError as exc:
                    log.warning("search_library: %s", exc)
                    fallback_reason = "the embeddings endpoint did not answer"
                else:
                    await use_index_with_filters(conn)
                    rows = await conn.fetch(
                        _nearest(embedded[1]), vector_literal(vector), embedded[0], p.limit * 4 + 20,
                        p.media_type, p.limit,
                    )  # fmt: skip
                    coverage.tables_used.append("media_embeddings.embedding")
                    return ToolResult(
                        TOOL_NAME, params, plain_rows(rows, scope.timezone), coverage,
                        {"method": "semantic", "model": embedded[0]},
                    )  # fmt: skip
        words = text_query(p.query)
        coverage.gaps.append(
            f"{fallback_reason}, so this matched the words of your description against titles, summaries, "
            "genres and cast, not its meaning: treat these as rough matches"
        )
        coverage.missing_tables.append("media_embeddings.embedding")
        rows = await conn.fetch(_TEXT_MATCH, words, p.media_type, p.limit) if words else []
        return ToolResult(
            TOOL_NAME, params, plain_rows(rows, scope.timezone), coverage,
            {"method": "text match", "words": words.split(" | ") if words else []},
        )  # fmt: skip

    return Tool(
        name=TOOL_NAME,
        description=(
            "Search the library by what a title is about or feels like, in plain words ('a slow-burn heist "
            "film', 'space exploration documentary', 'cosy mystery series'): semantic search over titles, "
            "summaries, genres, cast and crew. For titles like a named title, use similar_titles."
        ),
        params=SearchParams,
        modes=BOTH,
        question_type="recommendation",
        run=search_library,
        render=_render_search,
        # A description has no words of its own to score: only its shape reaches this tool.
        routing="cue_only",
        examples=(
            "Something like a slow-burn heist film",
            "Find me a movie about time travel",
            "Do we have any films about space exploration?",
            "Search the library for a cosy mystery series",
            "A gritty crime drama set in Baltimore",
        ),
    )


def _render_search(result: ToolResult) -> str:
    query = result.params.get("query", "")
    if not result.rows:
        return with_gaps(f"I found nothing in the library that fits {query!r}.", result)
    lines = []
    for row in result.rows:
        genres = ", ".join(row.get("genres") or []) or "no genre listed"
        lines.append(f"{title_of(row)} ({row['media_type']}, {genres})")
    how = "closest in meaning" if result.summary.get("method") == "semantic" else "matching its words"
    return with_gaps(f"In the library, {how} to {query!r}:\n{listing(lines)}", result)


def tools(query_embedder: Embedder | None = None) -> list[Tool[Any]]:
    return [search_tool(query_embedder)]
