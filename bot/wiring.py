"""Building the Assistant from settings: the engine, its fallback, the tool catalogue, the limits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg

from bot.database import open_database
from bot.integrations import request_service
from bot.settings import Settings
from core.assistant import Assistant, AssistantConfig
from core.engines.base import Engine
from core.learning_queue import QueueLimits
from core.media_requests.flow import FlowConfig, RequestFlow
from core.media_requests.service import RequestService
from core.rate_limits import Limits
from core.scope import Scope
from core.tools.catalogue import ToolCatalogue, build_catalogue
from core.tools.database_wall import ToolDatabase
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


def choose_engine_name(settings: Settings) -> str:
    if settings.engine == "auto":
        return "anthropic" if settings.anthropic_api_key is not None else "offline"
    return settings.engine


async def build_assistant(
    settings: Settings,
    pool: asyncpg.Pool,
    tools: ToolDatabase | None = None,
    requests: RequestService | None = None,
) -> Assistant:
    """The Assistant every adapter and CLI command uses; ``engine=auto`` picks anthropic when a key is set.

    Tools run on ``tools``, the engine's own pool (opened from ``pool`` on first use when not given).
    ``requests`` is the Overseerr/Jellyseerr client members request through (None: no requests from chat).
    """
    tool_database = tools or ToolDatabase(pool, max_size=settings.db_pool_max_size)
    catalogue = build_catalogue()
    offline = offline_engine(settings, catalogue)
    name = choose_engine_name(settings)
    if name == "anthropic":
        if settings.anthropic_api_key is None:
            raise ValueError("MARQUEE_ENGINE=anthropic needs MARQUEE_ANTHROPIC_API_KEY")
        engine: Engine = anthropic_engine(settings)
        fallback: Engine | None = offline
    else:
        engine, fallback = offline, None
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
        config=AssistantConfig(
            timezone=settings.tz,
            min_group_size=settings.min_group_size,
            limits=Limits(settings.rate_limit_messages_per_minute, settings.daily_token_budget_per_user),
            max_question_chars=settings.max_question_chars,
            learning_queue=QueueLimits(
                new_entries_per_member_per_day=settings.learning_queue_entries_per_member_per_day,
                max_question_chars=settings.learning_queue_max_question_chars,
            ),
        ),
    )


@asynccontextmanager
async def assistant_session(settings: Settings) -> AsyncIterator[tuple[asyncpg.Pool, Assistant]]:
    """The migrated pool and the Assistant for one CLI command; the pool is closed afterwards."""
    pool = await open_database(settings)
    tools = ToolDatabase(pool, max_size=settings.db_pool_max_size)
    requests = request_service(settings)
    try:
        yield pool, await build_assistant(settings, pool, tools, requests)
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
