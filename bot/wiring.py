"""Building the Assistant from settings: the engine, its fallback, the tool catalogue, the limits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from bot.database import open_database
from bot.settings import Settings
from core.assistant import Assistant, AssistantConfig
from core.engines.base import Engine
from core.rate_limits import Limits
from core.scope import Scope
from core.tools.catalogue import ToolCatalogue, build_catalogue
from core.tools.scoped_connection import ScopedToolRunner

log = logging.getLogger(__name__)


def offline_engine(settings: Settings, catalogue: ToolCatalogue) -> Engine:
    from core.engines.offline.engine import OfflineEngine

    return OfflineEngine(
        catalogue,
        holiday_country=settings.holiday_country,
        holiday_subdivision=settings.holiday_subdivision,
        southern_hemisphere=settings.southern_hemisphere,
    )


def anthropic_engine(settings: Settings) -> Engine:
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
    return AnthropicEngine(
        client,
        settings.anthropic_model,
        max_tool_rounds=settings.anthropic_max_tool_rounds,
        timeout_seconds=settings.anthropic_timeout_seconds,
    )


def openai_engine(settings: Settings) -> Engine:
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
    return OpenAIEngine(
        client,
        settings.openai_model,
        max_tool_rounds=settings.openai_max_tool_rounds,
        max_tools=settings.openai_max_tools,
        timeout_seconds=settings.openai_timeout_seconds,
    )


def choose_engine_name(settings: Settings) -> str:
    if settings.engine == "auto":
        if settings.anthropic_api_key is not None:
            return "anthropic"
        return "openai" if settings.openai_base_url is not None else "offline"
    return settings.engine


def model_engine(settings: Settings) -> Engine | None:
    """The configured model engine (anthropic or openai), or None when the offline engine answers alone."""
    name = choose_engine_name(settings)
    if name == "anthropic":
        if settings.anthropic_api_key is None:
            raise ValueError("MARQUEE_ENGINE=anthropic needs MARQUEE_ANTHROPIC_API_KEY")
        return anthropic_engine(settings)
    if name == "openai":
        if settings.openai_base_url is None:
            raise ValueError(
                "MARQUEE_ENGINE=openai needs MARQUEE_OPENAI_BASE_URL (e.g. http://localhost:11434/v1)"
            )
        return openai_engine(settings)
    return None


async def build_assistant(settings: Settings, pool: asyncpg.Pool) -> Assistant:
    """The Assistant every adapter and CLI command uses; ``engine=auto`` picks anthropic when a key is set."""
    catalogue = build_catalogue()
    offline = offline_engine(settings, catalogue)
    model = model_engine(settings)
    engine, fallback = (model, offline) if model is not None else (offline, None)
    log.info("answer engine: %s%s", engine.name, f" (fallback: {fallback.name})" if fallback else "")

    def tool_runner(scope: Scope) -> ScopedToolRunner:
        return ScopedToolRunner(pool, scope, catalogue)

    return Assistant(
        pool,
        engine,
        tool_runner,
        fallback_engine=fallback,
        config=AssistantConfig(
            timezone=settings.tz,
            min_group_size=settings.min_group_size,
            limits=Limits(settings.rate_limit_messages_per_minute, settings.daily_token_budget_per_user),
        ),
    )


@asynccontextmanager
async def assistant_session(settings: Settings) -> AsyncIterator[tuple[asyncpg.Pool, Assistant]]:
    """The migrated pool and the Assistant for one CLI command; the pool is closed afterwards."""
    pool = await open_database(settings)
    try:
        yield pool, await build_assistant(settings, pool)
    finally:
        await pool.close()


@asynccontextmanager
async def database_session(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_database(settings)
    try:
        yield pool
    finally:
        await pool.close()
