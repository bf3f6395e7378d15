"""Wiring of the media-service integrations: the enabled sync jobs and the webhook HTTP app, from settings.

``marquee run`` starts ``IntegrationsService`` (the HTTP server, the sync
scheduler and the refresher of the admin tools' snapshots); ``marquee sync``
runs ``build_sync_jobs`` once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
from pydantic import SecretStr

from adapters.http.insights_page import InsightsPageConfig
from adapters.http.server import RunningServer, WebhookConfig, build_app, start_http_server
from adapters.media.overseerr import SeerrRequestClient, SeerrSettings
from adapters.media.plex import PlexSettings
from adapters.media.service_settings import ServiceSettings
from adapters.media.services import SERVICE_BY_NAME, SERVICES, MediaService
from bot.settings import Settings
from core.admin_watch import WatchConfig, run_admin_watch
from core.announcements import AnnouncementConfig
from core.cancellation import cancel_and_wait
from core.semantic.embedder import EmbeddingConfig
from core.semantic.job import EmbeddingJob

if TYPE_CHECKING:
    from core.semantic.openai_embedder import OpenAIEmbedder
from core.page_charts import PageCharts
from core.sync.jobs import SyncJob
from core.sync.scheduler import run_sync_scheduler
from core.tools.catalogue import build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.snapshots import configure_refresh_interval, run_snapshot_refresher

log = logging.getLogger(__name__)


def _configured(settings: Settings, service: MediaService) -> bool:
    return bool(
        getattr(settings, f"{service.name}_url")
        and getattr(settings, f"{service.name}_{service.key_setting}")
    )


def service_settings(settings: Settings, service: MediaService) -> ServiceSettings | None:
    """The service's settings when its URL and key are both set (``adapters.media.service_settings``)."""
    if service.settings_type is None or not _configured(settings, service):
        return None
    shared: dict[str, Any] = {
        "interval_seconds": settings.sync_interval_seconds,
        "timeout_seconds": settings.media_timeout_seconds,
        "service": service.name,
    }
    values: dict[str, Any] = {}
    for item in fields(service.settings_type):
        value = getattr(settings, f"{service.name}_{item.name}", None)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None:
            value = shared.get(item.name)
        if value is not None:
            values[item.name] = value
    return service.settings_type(**values)


def build_sync_jobs(settings: Settings) -> list[SyncJob]:
    """One job per service whose URL and key are both set, in the order of the services table."""
    jobs: list[SyncJob] = []
    tautulli_configured = _configured(settings, SERVICE_BY_NAME["tautulli"])
    for service in SERVICES:
        chosen = service_settings(settings, service)
        if chosen is None or service.sync_job is None:
            continue
        if isinstance(chosen, PlexSettings) and settings.plex_sync_history is None:
            # Tautulli's history is richer and would count the same plays again.
            chosen = replace(chosen, sync_history=not tautulli_configured)
        jobs.append(service.sync_job(chosen))
    return jobs


def embedding_config(settings: Settings) -> EmbeddingConfig | None:
    """The embeddings endpoint when one is configured; None: no semantic search (it matches words)."""
    if not settings.embeddings_base_url:
        return None
    return EmbeddingConfig(
        base_url=settings.embeddings_base_url,
        model=settings.embeddings_model,
        dimension=settings.embeddings_dimension,
        api_key=settings.embeddings_api_key.get_secret_value() if settings.embeddings_api_key else None,
        timeout_seconds=settings.embeddings_timeout_seconds,
        batch_size=settings.embeddings_batch_size,
    )


def embedding_job(settings: Settings) -> tuple[EmbeddingJob, OpenAIEmbedder] | None:
    """The job that embeds new and changed titles, and its client (the caller closes it)."""
    config = embedding_config(settings)
    if config is None:
        return None
    from core.semantic.openai_embedder import OpenAIEmbedder

    embedder = OpenAIEmbedder(config)
    job = EmbeddingJob(
        embedder, interval_seconds=settings.embeddings_interval_seconds, batch_size=config.batch_size
    )
    return job, embedder


def request_service(settings: Settings) -> SeerrRequestClient | None:
    """The service members request through: Overseerr when configured, else Jellyseerr; None without either."""
    if not settings.requests_enabled:
        return None
    for service in SERVICES:
        chosen = service_settings(settings, service) if service.takes_requests else None
        if isinstance(chosen, SeerrSettings):
            return SeerrRequestClient(chosen, timeout_seconds=min(settings.media_timeout_seconds, 15.0))
    return None


def webhook_config(settings: Settings) -> WebhookConfig:
    secrets = {}
    for service in sorted(SERVICES, key=lambda service: service.name):
        secret = getattr(settings, f"{service.name}_webhook_secret", None) or settings.webhook_secret
        if secret is not None and secret.get_secret_value():
            secrets[service.name] = secret.get_secret_value()
    return WebhookConfig(secrets=secrets, max_body_bytes=settings.webhook_max_body_bytes)


def insights_page_config(settings: Settings) -> InsightsPageConfig:
    return InsightsPageConfig(
        timezone=settings.timezone,
        session_ttl=timedelta(hours=settings.insights_session_hours),
        # A Secure cookie is never sent over plain http, so only when browsers come in over https.
        secure_cookie=settings.public_base_url.startswith("https://"),
    )


def watch_config(settings: Settings) -> WatchConfig:
    """The admin checks (silent webhooks, pending digest) the settings turn on."""
    return WatchConfig(
        webhook_silence=timedelta(minutes=settings.webhook_silence_alert_minutes)
        if settings.webhook_silence_alert_minutes
        else None,
        pending_digest_every=timedelta(hours=settings.pending_request_digest_hours)
        if settings.pending_request_digest_hours
        else None,
        announcements=AnnouncementConfig(
            targets={
                "discord": {
                    library: str(channel)
                    for library, channel in settings.discord_announcement_channels.items()
                },
                "matrix": dict(settings.matrix_announcement_rooms),
            },
            quiet=timedelta(minutes=settings.announcement_quiet_minutes),
        ),
    )


class IntegrationsService:
    """The webhook server, the sync scheduler and the snapshot refresher of ``marquee run``, started and stopped together."""

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
        self._watch: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._snapshot_tools: ToolDatabase | None = None
        self._stop = asyncio.Event()
        self._embedder: OpenAIEmbedder | None = None
        # The insights page's charts run the admin-mode tools behind the database wall, on their own pool.
        self._chart_tools = ToolDatabase(pool, max_size=2)

    async def start(self) -> None:
        config = webhook_config(self.settings)
        page = insights_page_config(self.settings)
        charts = PageCharts(self.pool, self._chart_tools, build_catalogue(), page.timezone)
        self._server = await start_http_server(
            build_app(
                self.pool,
                config,
                page,
                self.engine_status,
                embeddings=embedding_config(self.settings),
                charts=charts,
            ),
            self.settings.http_host,
            self.settings.http_port,
        )
        if not config.secrets:
            log.info("no webhook secret set (MARQUEE_WEBHOOK_SECRET); webhooks are refused")
        self._stop.clear()
        self._watch = asyncio.create_task(run_admin_watch(self.pool, watch_config(self.settings), self._stop))
        # The slow server-wide admin tools answer from snapshots kept fresh here (core/tools/snapshots.py).
        configure_refresh_interval(self.settings.snapshot_refresh_minutes)
        self._snapshot_tools = ToolDatabase(self.pool, max_size=1)
        self._refresher = asyncio.create_task(
            run_snapshot_refresher(
                self.pool,
                self._snapshot_tools,
                build_catalogue(),
                self._stop,
                timezone=self.settings.tz,
                min_group_size=self.settings.min_group_size,
            )
        )
        jobs = build_sync_jobs(self.settings)
        embedding = embedding_job(self.settings)
        if embedding is not None:
            # After the syncs in each pass of the scheduler, so new titles are embedded soon after they arrive.
            jobs.append(embedding[0])
            self._embedder = embedding[1]
        if jobs:
            self._scheduler = asyncio.create_task(run_sync_scheduler(self.pool, jobs, self._stop))
        else:
            log.info("no media service configured; nothing to sync")

    async def stop(self) -> None:
        self._stop.set()
        if self._watch is not None:
            await self._watch
            self._watch = None
        if self._refresher is not None:
            await _finish(self._refresher)
            self._refresher = None
        if self._snapshot_tools is not None:
            await self._snapshot_tools.close()
            self._snapshot_tools = None
        if self._scheduler is not None:
            await _finish(self._scheduler)
            self._scheduler = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        if self._embedder is not None:
            await self._embedder.close()
            self._embedder = None
        await self._chart_tools.close()


async def _finish(task: asyncio.Task[None], seconds: float = 10) -> None:
    """Let a loop that saw the stop event end its current step; cancel it after ``seconds``."""
    try:
        await asyncio.wait_for(asyncio.shield(task), seconds)
    except TimeoutError:
        # The loop's own cancel is expected; one of the task stopping it (a second Ctrl-C, say) goes on.
        await cancel_and_wait(task)
