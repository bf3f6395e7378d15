"""Wiring of the media-service integrations: the enabled sync jobs and the webhook HTTP app, from settings.

``marquee run`` starts ``IntegrationsService`` (the HTTP server and the sync
scheduler); ``marquee sync`` runs ``build_sync_jobs`` once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg

from adapters.http.insights_page import InsightsPageConfig
from adapters.http.server import RunningServer, WebhookConfig, build_app, start_http_server
from adapters.media.jellyfin import JellyfinSettings, JellyfinSyncJob
from adapters.media.overseerr import SeerrRequestClient, SeerrSettings, SeerrSyncJob
from adapters.media.plex import PlexSettings, PlexSyncJob
from adapters.media.tautulli import TautulliSettings, TautulliSyncJob
from bot.settings import Settings
from core.ingest.logs import WEBHOOK_SOURCES
from core.page_charts import PageCharts
from core.sync.jobs import SyncJob
from core.sync.scheduler import run_sync_scheduler
from core.tools.catalogue import build_catalogue
from core.tools.database_wall import ToolDatabase

log = logging.getLogger(__name__)


def build_sync_jobs(settings: Settings) -> list[SyncJob]:
    """One job per service whose URL and key are both set."""
    interval = settings.sync_interval_seconds
    timeout = settings.media_timeout_seconds
    jobs: list[SyncJob] = []
    tautulli_configured = bool(settings.tautulli_url and settings.tautulli_api_key)
    if settings.plex_url and settings.plex_token:
        history = (
            settings.plex_sync_history if settings.plex_sync_history is not None else not tautulli_configured
        )
        jobs.append(
            PlexSyncJob(
                PlexSettings(
                    url=settings.plex_url,
                    token=settings.plex_token.get_secret_value(),
                    interval_seconds=interval,
                    timeout_seconds=timeout,
                    sync_history=history,
                )
            )
        )
    if settings.jellyfin_url and settings.jellyfin_api_key:
        jobs.append(
            JellyfinSyncJob(
                JellyfinSettings(
                    url=settings.jellyfin_url,
                    api_key=settings.jellyfin_api_key.get_secret_value(),
                    interval_seconds=interval,
                    timeout_seconds=timeout,
                )
            )
        )
    if settings.tautulli_url and settings.tautulli_api_key:
        jobs.append(
            TautulliSyncJob(
                TautulliSettings(
                    url=settings.tautulli_url,
                    api_key=settings.tautulli_api_key.get_secret_value(),
                    interval_seconds=interval,
                    timeout_seconds=settings.tautulli_timeout_seconds,
                    page_size=settings.tautulli_page_size,
                    pause_seconds=settings.tautulli_pause_seconds,
                )
            )
        )
    for service, url, key in (
        ("overseerr", settings.overseerr_url, settings.overseerr_api_key),
        ("jellyseerr", settings.jellyseerr_url, settings.jellyseerr_api_key),
    ):
        if url and key:
            jobs.append(
                SeerrSyncJob(
                    SeerrSettings(
                        service=service,  # type: ignore[arg-type]
                        url=url,
                        api_key=key.get_secret_value(),
                        interval_seconds=interval,
                        timeout_seconds=timeout,
                    )
                )
            )
    return jobs


def request_service(settings: Settings) -> SeerrRequestClient | None:
    """The service members request through: Overseerr when configured, else Jellyseerr; None without either."""
    if not settings.requests_enabled:
        return None
    for service, url, key in (
        ("overseerr", settings.overseerr_url, settings.overseerr_api_key),
        ("jellyseerr", settings.jellyseerr_url, settings.jellyseerr_api_key),
    ):
        if url and key:
            return SeerrRequestClient(
                SeerrSettings(service=service, url=url, api_key=key.get_secret_value()),  # type: ignore[arg-type]
                timeout_seconds=min(settings.media_timeout_seconds, 15.0),
            )
    return None


def webhook_config(settings: Settings) -> WebhookConfig:
    secrets = {}
    for source in sorted(WEBHOOK_SOURCES):
        secret = getattr(settings, f"{source}_webhook_secret", None) or settings.webhook_secret
        if secret is not None and secret.get_secret_value():
            secrets[source] = secret.get_secret_value()
    return WebhookConfig(secrets=secrets, max_body_bytes=settings.webhook_max_body_bytes)


def insights_page_config(settings: Settings) -> InsightsPageConfig:
    return InsightsPageConfig(
        timezone=settings.timezone,
        session_ttl=timedelta(hours=settings.insights_session_hours),
        # A Secure cookie is never sent over plain http, so only when browsers come in over https.
        secure_cookie=settings.public_base_url.startswith("https://"),
    )


class IntegrationsService:
    """The webhook server and the sync scheduler of ``marquee run``, started and stopped together."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        engine_status: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.engine_status = engine_status
        self._server: RunningServer | None = None
        self._scheduler: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        # The insights page's charts run the admin-mode tools behind the database wall, on their own pool.
        self._chart_tools = ToolDatabase(pool, max_size=2)

    async def start(self) -> None:
        config = webhook_config(self.settings)
        page = insights_page_config(self.settings)
        charts = PageCharts(self.pool, self._chart_tools, build_catalogue(), page.timezone)
        self._server = await start_http_server(
            build_app(self.pool, config, page, self.engine_status, charts),
            self.settings.http_host,
            self.settings.http_port,
        )
        if not config.secrets:
            log.info("no webhook secret set (MARQUEE_WEBHOOK_SECRET); webhooks are refused")
        jobs = build_sync_jobs(self.settings)
        if jobs:
            self._stop.clear()
            self._scheduler = asyncio.create_task(run_sync_scheduler(self.pool, jobs, self._stop))
        else:
            log.info("no media service configured; nothing to sync")

    async def stop(self) -> None:
        self._stop.set()
        if self._scheduler is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._scheduler), 10)
            except TimeoutError:
                self._scheduler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._scheduler
            self._scheduler = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        await self._chart_tools.close()
