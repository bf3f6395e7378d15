"""The embedding job: ``marquee embed`` runs it once, ``marquee run``'s scheduler on its interval.

It reads the library's movies and shows page by page, builds each one's text
(``documents``), and embeds only those whose hash differs from the stored one
(new, changed, or embedded with another model), in batches, saving each batch
as it comes back: an interrupted run loses at most one batch. It is a sync job
(``core.sync.jobs``), so its last success and last error are kept in
``sync_schedule`` under ``embeddings`` like any integration's.
"""

from __future__ import annotations

import logging
from uuid import UUID

from core.semantic.documents import content_hash, document_text
from core.semantic.embedder import Embedder, EmbeddingError
from core.semantic.store import (
    VectorStoreUnavailable,
    current_state,
    ensure_vector_store,
    library_page,
    library_size,
    record_state,
    save_vectors,
)
from core.sync.jobs import SyncContext, SyncError

log = logging.getLogger(__name__)

JOB_NAME = "embeddings"
PAGE_SIZE = 2000


class EmbeddingJob:
    name = JOB_NAME

    def __init__(self, embedder: Embedder, *, interval_seconds: int, batch_size: int = 64) -> None:
        self.embedder = embedder
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size

    async def run(self, context: SyncContext) -> dict[str, int]:
        pool = context.pool
        model, dimension = self.embedder.model, self.embedder.dimension
        try:
            await ensure_vector_store(pool, dimension)
        except VectorStoreUnavailable as exc:
            raise SyncError(str(exc)) from None
        if await current_state(pool) is None:
            # A first run: the tools may use what is embedded so far. A switch of model waits for the end.
            await record_state(pool, model, dimension)
        total = await library_size(pool)
        checked = embedded = 0
        after = UUID(int=0)
        batch: list[tuple[UUID, str, str]] = []

        async def flush() -> None:
            nonlocal embedded
            if not batch:
                return
            try:
                vectors = await self.embedder.embed([text for _, _, text in batch])
            except EmbeddingError as exc:
                raise SyncError(f"embedding failed after {embedded} titles: {exc}") from None
            rows = [(item, digest, vector) for (item, digest, _), vector in zip(batch, vectors, strict=True)]
            await save_vectors(pool, model, dimension, rows)
            embedded += len(batch)
            batch.clear()
            context.report("titles embedded", embedded, None)

        while True:
            page = await library_page(pool, after, PAGE_SIZE)
            if not page:
                break
            after = page[-1].id
            for item in page:
                text = document_text(item.title, item.media_type, item.year, item.metadata)
                digest = content_hash(model, text)
                if digest != item.stored_hash:
                    batch.append((item.id, digest, text))
                    if len(batch) >= self.batch_size:
                        await flush()
            checked += len(page)
            context.report("titles checked", checked, total)
        await flush()
        # Only now do the tools compare vectors of this model: a half-done switch keeps the old results out.
        await record_state(pool, model, dimension)
        return {"titles_checked": checked, "titles_embedded": embedded}
