"""What ``marquee health`` and ``/health`` say about embeddings: how much is embedded, with what, the last error."""

from __future__ import annotations

from typing import Any

import asyncpg

from core.engines.health import public_endpoint
from core.semantic.embedder import EmbeddingConfig, EmbeddingError
from core.semantic.store import embedding_counts

PROBE_TEXT = "Marquee health check"


async def embeddings_status(pool: asyncpg.Pool, config: EmbeddingConfig) -> dict[str, Any]:
    """The figures of the configured embeddings (endpoint without credentials)."""
    async with pool.acquire() as conn:
        counts = await embedding_counts(conn)
    return {
        "model": config.model,
        "dimension": config.dimension,
        "endpoint": public_endpoint(config.base_url),
        "vector_extension": counts.vector_ready,
        "embedded": counts.embedded
        if (counts.model, counts.dimension) == (config.model, config.dimension)
        else 0,
        "total": counts.total,
        "embedded_with": counts.model,
        "last_success_at": counts.last_success_at.isoformat() if counts.last_success_at else None,
        "last_error": counts.last_error,
    }


def status_line(status: dict[str, Any]) -> str:
    line = (
        f"embeddings: {status['embedded']}/{status['total']} titles embedded · model: {status['model']} "
        f"({status['dimension']} dimensions) · endpoint: {status['endpoint']}"
    )
    if not status["vector_extension"]:
        line += " · pgvector not set up yet"
    if status["embedded_with"] and status["embedded_with"] != status["model"]:
        line += f" · library embedded with {status['embedded_with']} so far"
    if status["last_error"]:
        line += f" · last error: {status['last_error'][:200]}"
    return line


async def probe_embeddings(config: EmbeddingConfig) -> tuple[bool, str]:
    """Embed one short text: (works, what happened)."""
    from core.semantic.openai_embedder import OpenAIEmbedder

    embedder = OpenAIEmbedder(config, max_retries=0)
    try:
        await embedder.embed([PROBE_TEXT])
    except EmbeddingError as exc:
        return False, str(exc)
    finally:
        await embedder.close()
    return True, f"embeddings work: {config.model} returns {config.dimension}-dimensional vectors"
