"""Building the Assistant from settings: the engine, its fallback, the tool catalogue, the limits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import asyncpg

from bot.database import open_database
from bot.integrations import embedding_config, request_service
from bot.settings import Settings
from core.assistant import Assistant, AssistantConfig
from core.engines.base import Engine
from core.insights_access import SignInLinkConfig
from core.learning_queue import QueueLimits
from core.media_requests.admin import AdminRequestDesk
from core.media_requests.flow import FlowConfig, RequestFlow
from core.media_requests.service import RequestService
from core.rate_limits import Limits
from core.scope import Scope
from core.semantic.embedder import Embedder
from core.tools.catalogue import ToolCatalogue, build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import ScopedToolRunner

if TYPE_CHECKING:
    from core.engines.offline.engine import OfflineEngine
    from core.engines.tool_loop import Understanding
    from core.semantic.openai_embedder import OpenAIEmbedder

log = logging.getLogger(__name__)


def offline_engine(
    settings: Settings, catalogue: ToolCatalogue, pool: asyncpg.Pool | None = None
) -> OfflineEngine:
    from core.engines.offline.engine import OfflineEngine
    from core.member_directory import MemberDirectory

    return OfflineEngine(
        catalogue,
        holiday_country=settings.holiday_country,
        holiday_subdivision=settings.holiday_subdivision,
        southern_hemisphere=settings.southern_hemisphere,
        # Misspelt member names in admins' questions (never members').
        member_names=MemberDirectory(pool).usernames if pool is not None else None,
    )


def anthropic_engine(settings: Settings, understanding: Understanding | None = None) -> Engine:
    import anthropic

    from core.engines.anthropic_engine import AnthropicEngine

    assert settings.anthropic_api_key is not None
    client = anthropic.AsyncAnthropic(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url,
        # the engine retries itself, honouring retry-after, and falls back when that fails
        max_retries=0,
        timeout=settings.anthropic_timeout_seconds,
    )
    options = replace(
        AnthropicEngine.default_options,
        max_tool_rounds=settings.anthropic_max_tool_rounds,
        timeout_seconds=settings.anthropic_timeout_seconds,
    )
    # The offline engine's reading of each question reaches the model as a hint (issue 12).
    return AnthropicEngine(client, settings.anthropic_model, options=options, understanding=understanding)


def openai_engine(settings: Settings, understanding: Understanding | None = None) -> Engine:
    import openai

    from core.engines.openai_engine import OpenAIEngine

    assert settings.openai_base_url is not None
    client = openai.AsyncOpenAI(
        base_url=settings.openai_base_url,
        # local servers want no key, but the SDK insists on one; they ignore the placeholder
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else "none",
        # the engine retries itself, honouring retry-after, and falls back when that fails
        max_retries=0,
        timeout=settings.openai_timeout_seconds,
    )
    options = replace(
        OpenAIEngine.default_options,
        max_tool_rounds=settings.openai_max_tool_rounds,
        max_tools=settings.openai_max_tools,
        timeout_seconds=settings.openai_timeout_seconds,
    )
    return OpenAIEngine(client, settings.openai_model, options=options, understanding=understanding)


def choose_engine_name(settings: Settings) -> str:
    if settings.engine == "auto":
        if settings.anthropic_api_key is not None:
            return "anthropic"
        return "openai" if settings.openai_base_url is not None else "offline"
    return settings.engine


def insights_link_config(settings: Settings) -> SignInLinkConfig:
    return SignInLinkConfig(settings.public_base_url, timedelta(minutes=settings.insights_link_minutes))


def model_engine(settings: Settings, understanding: Understanding | None = None) -> Engine | None:
    """The configured model engine (anthropic or openai), or None when the offline engine answers alone."""
    name = choose_engine_name(settings)
    if name == "anthropic":
        if settings.anthropic_api_key is None:
            raise ValueError("MARQUEE_ENGINE=anthropic needs MARQUEE_ANTHROPIC_API_KEY")
        return anthropic_engine(settings, understanding)
    if name == "openai":
        if settings.openai_base_url is None:
            raise ValueError(
                "MARQUEE_ENGINE=openai needs MARQUEE_OPENAI_BASE_URL (e.g. http://localhost:11434/v1)"
            )
        return openai_engine(settings, understanding)
    return None


# A question waits for its embedding: a slow endpoint makes search fall back to matching words instead.
QUERY_EMBEDDING_TIMEOUT_SECONDS = 15.0


def query_embedder(settings: Settings) -> OpenAIEmbedder | None:
    """What embeds search_library's questions, when an embeddings endpoint is configured."""
    config = embedding_config(settings)
    if config is None:
        return None
    from core.semantic.openai_embedder import OpenAIEmbedder

    config = replace(config, timeout_seconds=min(config.timeout_seconds, QUERY_EMBEDDING_TIMEOUT_SECONDS))
    return OpenAIEmbedder(config, max_retries=1)


@asynccontextmanager
async def open_query_embedder(settings: Settings) -> AsyncIterator[OpenAIEmbedder | None]:
    """``query_embedder``, closed (its HTTP client with its connections) when the command or process stops."""
    embedder = query_embedder(settings)
    try:
        yield embedder
    finally:
        if embedder is not None:
            await embedder.close()


async def build_assistant(
    settings: Settings,
    pool: asyncpg.Pool,
    tools: ToolDatabase | None = None,
    requests: RequestService | None = None,
    embedder: Embedder | None = None,
) -> Assistant:
    """The Assistant every adapter and CLI command uses; ``engine=auto`` picks a model engine when one is set.

    Tools run on ``tools``, the engine's own pool (opened from ``pool`` on first use when not given).
    ``requests`` is the Overseerr/Jellyseerr client members request through (None: no requests from chat).
    ``embedder`` embeds search_library's questions; a long-lived caller passes the one it
    opened with ``open_query_embedder`` (and so closes); without it one is made from settings.
    """
    tool_database = tools or ToolDatabase(pool, max_size=settings.db_pool_max_size)
    catalogue = build_catalogue(embedder or query_embedder(settings))
    offline = offline_engine(settings, catalogue, pool)
    # The offline engine's reading of each question reaches the model as a hint (issue 12).
    model = model_engine(settings, offline)
    engine, fallback = (model, offline) if model is not None else (offline, None)
    log.info("answer engine: %s%s", engine.name, f" (fallback: {fallback.name})" if fallback else "")

    def tool_runner(scope: Scope) -> ScopedToolRunner:
        return ScopedToolRunner(tool_database, scope, catalogue)

    return Assistant(
        pool,
        engine,
        tool_runner,
        fallback_engine=fallback,
        requests=(
            RequestFlow(
                requests, FlowConfig(lifetime=timedelta(minutes=settings.request_confirmation_minutes))
            )
            if requests is not None
            else None
        ),
        admin_requests=AdminRequestDesk(requests) if requests is not None else None,
        config=AssistantConfig(
            requests_unavailable=(
                "Requests from chat are turned off on this server."
                if not settings.requests_enabled
                else "I can't request titles here: this server has no Overseerr or Jellyseerr connected. "
                "Ask an admin."
            ),
            timezone=settings.tz,
            min_group_size=settings.min_group_size,
            limits=Limits(settings.rate_limit_messages_per_minute, settings.daily_token_budget_per_user),
            max_question_chars=settings.max_question_chars,
            learning_queue=QueueLimits(
                new_entries_per_member_per_day=settings.learning_queue_entries_per_member_per_day,
                max_question_chars=settings.learning_queue_max_question_chars,
            ),
            insights_page=insights_link_config(settings),
            chat_charts=settings.chat_charts,
        ),
    )


@asynccontextmanager
async def assistant_session(settings: Settings) -> AsyncIterator[tuple[asyncpg.Pool, Assistant]]:
    """The migrated pool and the Assistant for one CLI command; the pool is closed afterwards."""
    pool = await open_database(settings)
    tools = ToolDatabase(pool, max_size=settings.db_pool_max_size)
    requests = request_service(settings)
    try:
        async with open_query_embedder(settings) as embedder:
            yield pool, await build_assistant(settings, pool, tools, requests, embedder)
    finally:
        if requests is not None:
            await requests.close()
        await tools.close()
        await pool.close()


@asynccontextmanager
async def database_session(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_database(settings)
    try:
        yield pool
    finally:
        await pool.close()
