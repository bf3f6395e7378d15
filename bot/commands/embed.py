"""``marquee embed``: embed the library's new and changed titles now, with progress (semantic search)."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli import CommandError
from bot.database import open_database
from bot.integrations import embedding_job
from bot.progress import progress_display
from bot.settings import Settings
from core.sync.jobs import run_job


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "embed",
        help="embed new and changed library titles for semantic search (needs an embeddings endpoint)",
    )
    parser.set_defaults(handler=run)


async def _embed(settings: Settings) -> int:
    configured = embedding_job(settings)
    if configured is None:
        raise CommandError(
            "no embeddings endpoint is configured: set MARQUEE_EMBEDDINGS_BASE_URL "
            "(e.g. http://localhost:11434/v1 for Ollama) and MARQUEE_EMBEDDINGS_MODEL",
            code=2,
        )
    job, embedder = configured
    pool = await open_database(settings)
    try:
        with progress_display() as show:
            result = await run_job(pool, job, progress=show)
    finally:
        await embedder.close()
        await pool.close()
    if not result.ok:
        print(f"embeddings: FAILED after {result.seconds:.1f}s: {result.error}")
        return 1
    print(
        f"embeddings: ok in {result.seconds:.1f}s ({result.counts['titles_checked']} titles checked, "
        f"{result.counts['titles_embedded']} embedded with {embedder.model}, {embedder.tokens_used} tokens)"
    )
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_embed(settings))
