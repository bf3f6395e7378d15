"""``marquee health``: sync status, webhooks, error rates, answer latency, the database and the answer engine.

``--engine`` also sends one tiny question to the configured model and reports
whether it was reached and whether tool calling works, and embeds one short
text when an embeddings endpoint is configured.
"""

from __future__ import annotations

import argparse
import asyncio

from rich.console import Console

from adapters.chat.console_rendering import answer_rich
from bot.integrations import embedding_config
from bot.settings import Settings
from bot.wiring import choose_engine_name, database_session, model_engine
from core import admin_reports
from core.engines.health import public_endpoint
from core.semantic.embedder import EmbeddingConfig
from core.semantic.health import embeddings_status, status_line


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "health", help="integration, webhook, API, answer-engine and database health"
    )
    parser.add_argument(
        "--engine",
        action="store_true",
        help="also send one tiny prompt to the model and check tool calling (and embeddings)",
    )
    parser.set_defaults(handler=run)


def engine_line(settings: Settings) -> str:
    """Which engine answers, with its model and endpoint (never a key)."""
    name = choose_engine_name(settings)
    if name == "anthropic":
        endpoint = public_endpoint(settings.anthropic_base_url) or "https://api.anthropic.com"
        return f"engine: anthropic · model: {settings.anthropic_model} · endpoint: {endpoint}"
    if name == "openai":
        return (
            f"engine: openai · model: {settings.openai_model} · "
            f"endpoint: {public_endpoint(settings.openai_base_url)}"
        )
    return "engine: offline (no model configured)"


async def _engine_check(settings: Settings, console: Console) -> int:
    from core.engines.probe import probe_engine

    engine = model_engine(settings)
    if engine is None:
        console.print("engine check: the offline engine needs no model; nothing to check")
        return 0
    report = await probe_engine(engine)
    state = "ok" if report.ok else ("reached, but" if report.reached else "FAILED")
    console.print(
        f"engine check: {state} — {report.detail} ({report.seconds * 1000:.0f} ms, {report.tokens} tokens)",
        markup=False,
        soft_wrap=True,
    )
    return 0 if report.ok else 1


async def _embeddings_check(config: EmbeddingConfig, console: Console) -> int:
    from core.semantic.health import probe_embeddings

    works, detail = await probe_embeddings(config)
    console.print(f"embeddings check: {'ok' if works else 'FAILED'} — {detail}", markup=False, soft_wrap=True)
    return 0 if works else 1


async def _health(settings: Settings, check_engine: bool) -> int:
    embeddings = embedding_config(settings)
    async with database_session(settings) as pool:
        async with pool.acquire() as conn:
            report = await admin_reports.health(conn)
        semantic = await embeddings_status(pool, embeddings) if embeddings is not None else None
    console = Console()
    console.print(answer_rich(admin_reports.health_answer(report)))
    console.print(engine_line(settings), markup=False, soft_wrap=True)
    console.print(
        status_line(semantic) if semantic is not None
        else "embeddings: not configured (search_library matches words; set MARQUEE_EMBEDDINGS_BASE_URL)",
        markup=False, soft_wrap=True,
    )  # fmt: skip
    # a failing integration is worth a non-zero exit for scripts and monitoring
    status = 1 if report.failing_integrations else 0
    if check_engine:
        status = max(status, await _engine_check(settings, console))
        if embeddings is not None:
            status = max(status, await _embeddings_check(embeddings, console))
    return status


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_health(settings, args.engine))
