"""Where the vectors live: pgvector's ``vector`` column on ``media_embeddings``, behind an HNSW index.

Migration 014 creates nothing that needs pgvector, so Marquee runs on a server
without it. ``ensure_vector_store`` adds the rest when embeddings are
configured: the extension, the ``embedding`` column (``vector`` without a fixed
dimension, so a new model of another size needs no migration) and a partial
HNSW index for the configured dimension, on ``embedding::halfvec(N)`` (cosine
distance). Half precision halves the index (768 dimensions: 1.5 KB a title
instead of 3 KB), so more of it stays in memory and a search reads half the
pages, while the ranking of embeddings barely moves. Searches compare
``embedding::halfvec(N)`` with ``WHERE dimension = N`` so that index serves them
(``index_vector``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from core.migrations import MIGRATION_LOCK_KEY

MAX_DIMENSION = 4000  # pgvector's HNSW index takes half-precision vectors of up to 4,000 dimensions


class VectorStoreUnavailable(Exception):
    """pgvector is missing or cannot be set up; the message says what to do."""


def vector_literal(vector: Sequence[float]) -> str:
    """pgvector's text form, '[0.1,0.2,...]', passed as text and cast in SQL (asyncpg has no codec for it)."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def index_name(dimension: int) -> str:
    return f"media_embeddings_hnsw_half_{dimension}_idx"


def index_vector(dimension: int) -> str:
    """The type the HNSW index compares, to cast both sides of ``<=>`` to (an int: safe in SQL text)."""
    return f"halfvec({int(dimension)})"


async def vector_ready(conn: asyncpg.Connection) -> bool:
    """pgvector is installed and ``media_embeddings.embedding`` exists (readable by any role)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'media_embeddings'::regclass"
            " AND attname = 'embedding' AND NOT attisdropped)"
        )
    )


async def ensure_vector_store(pool: asyncpg.Pool, dimension: int) -> None:
    """Create the extension, the column and the index for ``dimension`` when missing (idempotent)."""
    if not 0 < dimension <= MAX_DIMENSION:
        raise VectorStoreUnavailable(
            f"MARQUEE_EMBEDDINGS_DIMENSION is {dimension}; pgvector's HNSW index takes 1 to {MAX_DIMENSION}"
        )
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        installed = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')")
        if not installed:
            available = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')"
            )
            if not available:
                raise VectorStoreUnavailable(
                    "this PostgreSQL server has no pgvector extension: install it (Debian: "
                    "postgresql-NN-pgvector; Docker: the pgvector/pgvector image) or unset "
                    "MARQUEE_EMBEDDINGS_BASE_URL; search falls back to text matching meanwhile"
                )
            try:
                async with conn.transaction():
                    await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except asyncpg.InsufficientPrivilegeError:
                raise VectorStoreUnavailable(
                    "Marquee's database user may not create the pgvector extension: have a superuser run "
                    "CREATE EXTENSION vector; in Marquee's database"
                ) from None
        await conn.execute("ALTER TABLE media_embeddings ADD COLUMN IF NOT EXISTS embedding vector")
        # The dimension is an int checked above: safe to write into the statement (a typmod cannot be a parameter).
        await conn.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(dimension)} ON media_embeddings "
            f"USING hnsw ((embedding::{index_vector(dimension)}) halfvec_cosine_ops) WHERE dimension = {dimension}"
        )


@dataclass(frozen=True)
class PendingItem:
    id: UUID
    title: str
    media_type: str
    year: int | None
    metadata: dict[str, object]
    stored_hash: str | None


# Keyset pages over the library's movies and shows, with the hash stored for each (None: never embedded).
_LIBRARY_PAGE = """
SELECT mi.id, mi.title, mi.media_type, mi.year, mi.metadata, e.content_hash AS stored_hash
FROM media_items mi
LEFT JOIN media_embeddings e ON e.media_item_id = mi.id
WHERE mi.media_type IN ('movie', 'show') AND mi.removed_at IS NULL AND mi.id > $1
ORDER BY mi.id
LIMIT $2
"""


async def library_page(pool: asyncpg.Pool, after: UUID, size: int) -> list[PendingItem]:
    rows = await pool.fetch(_LIBRARY_PAGE, after, size)
    return [
        PendingItem(r["id"], r["title"], r["media_type"], r["year"], r["metadata"] or {}, r["stored_hash"])
        for r in rows
    ]


async def library_size(pool: asyncpg.Pool) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM media_items WHERE media_type IN ('movie', 'show') AND removed_at IS NULL"
        )
    )


_SAVE = """
INSERT INTO media_embeddings (media_item_id, model, dimension, content_hash, embedding, embedded_at)
SELECT id, $2, $3, hash, vector::vector, now()
FROM unnest($1::uuid[], $4::text[], $5::text[]) AS v(id, hash, vector)
-- an item deleted while its batch was being embedded is skipped, not an error
WHERE EXISTS (SELECT 1 FROM media_items mi WHERE mi.id = v.id)
ON CONFLICT (media_item_id) DO UPDATE
SET model = excluded.model, dimension = excluded.dimension, content_hash = excluded.content_hash,
    embedding = excluded.embedding, embedded_at = excluded.embedded_at
"""


async def save_vectors(
    pool: asyncpg.Pool,
    model: str,
    dimension: int,
    items: Sequence[tuple[UUID, str, Sequence[float]]],
) -> None:
    """Store (item id, content hash, vector) rows, replacing an item's previous vector."""
    if not items:
        return
    await pool.execute(
        _SAVE,
        [item_id for item_id, _, _ in items],
        model,
        dimension,
        [digest for _, digest, _ in items],
        [vector_literal(vector) for _, _, vector in items],
    )


async def record_state(pool: asyncpg.Pool, model: str, dimension: int) -> None:
    await pool.execute(
        "INSERT INTO embedding_state (model, dimension) VALUES ($1, $2) ON CONFLICT (only_row) DO UPDATE"
        " SET model = excluded.model, dimension = excluded.dimension, updated_at = now()",
        model,
        dimension,
    )


async def current_state(pool: asyncpg.Pool) -> tuple[str, int] | None:
    row = await pool.fetchrow("SELECT model, dimension FROM embedding_state")
    return (row["model"], row["dimension"]) if row else None


@dataclass(frozen=True)
class EmbeddingCounts:
    vector_ready: bool
    embedded: int  # titles embedded with the current model and dimension
    total: int  # movies and shows in the library
    model: str | None
    dimension: int | None
    last_success_at: datetime | None
    last_error: str | None


async def embedding_counts(conn: asyncpg.Connection) -> EmbeddingCounts:
    """Figures for ``marquee health`` and ``/health``: how much is embedded, with what, the last error."""
    state = await conn.fetchrow("SELECT model, dimension FROM embedding_state")
    total = int(
        await conn.fetchval(
            "SELECT count(*) FROM media_items WHERE media_type IN ('movie', 'show') AND removed_at IS NULL"
        )
    )
    embedded = 0
    if state is not None:
        embedded = int(
            await conn.fetchval(
                "SELECT count(*) FROM media_embeddings e JOIN media_items mi ON mi.id = e.media_item_id"
                " WHERE e.model = $1 AND e.dimension = $2 AND mi.removed_at IS NULL",
                state["model"],
                state["dimension"],
            )
        )
    schedule = await conn.fetchrow(
        "SELECT last_success_at, last_error FROM sync_schedule WHERE integration = 'embeddings'"
    )
    return EmbeddingCounts(
        vector_ready=await vector_ready(conn),
        embedded=embedded,
        total=total,
        model=state["model"] if state else None,
        dimension=state["dimension"] if state else None,
        last_success_at=schedule["last_success_at"] if schedule else None,
        last_error=schedule["last_error"] if schedule else None,
    )
