"""Every media service Marquee knows, in one table: its settings, its sync job and its webhook parser.

A row's ``name`` is the service everywhere: the webhook address
``/webhooks/<name>`` and its secret ``MARQUEE_<NAME>_WEBHOOK_SECRET``, the
``sync_schedule.integration`` of its sync job, ``marquee sync <name>``, and the
prefix of its settings (``MARQUEE_<NAME>_URL`` and ``MARQUEE_<NAME>_<KEY>``,
where KEY is ``key_setting``; see ``adapters.media.service_settings``). The
composition root (``bot.integrations``) builds the jobs and the webhook
parsers from this table; ``webhook_log.source`` accepts exactly these names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.media import arr, jellyfin, overseerr, plex, tautulli
from adapters.media.service_settings import ServiceSettings
from core.ingest.webhooks import WebhookEvent
from core.sync.jobs import SyncJob

WebhookParser = Callable[[bytes, str, datetime], WebhookEvent]


@dataclass(frozen=True)
class MediaService:
    name: str
    # Turns one delivery to /webhooks/<name> into an event for core.ingest.
    parse_webhook: WebhookParser
    # Services Marquee also reads on a schedule; None for those that only send webhooks (Radarr, Sonarr).
    settings_type: type[ServiceSettings] | None = None
    sync_job: Callable[[Any], SyncJob] | None = None
    # The settings field holding its key; with the URL, it makes the service configured.
    key_setting: str = "api_key"
    # Members request titles through it (``core.media_requests``), first configured one wins.
    takes_requests: bool = False


SERVICES: tuple[MediaService, ...] = (
    MediaService(
        "plex",
        plex.parse_webhook,
        settings_type=plex.PlexSettings,
        sync_job=plex.PlexSyncJob,
        key_setting="token",
    ),
    MediaService(
        "jellyfin",
        jellyfin.parse_webhook,
        settings_type=jellyfin.JellyfinSettings,
        sync_job=jellyfin.JellyfinSyncJob,
    ),
    MediaService(
        "tautulli",
        tautulli.parse_webhook,
        settings_type=tautulli.TautulliSettings,
        sync_job=tautulli.TautulliSyncJob,
    ),
    MediaService(
        "overseerr",
        functools.partial(overseerr.parse_webhook, "overseerr"),
        settings_type=overseerr.SeerrSettings,
        sync_job=overseerr.SeerrSyncJob,
        takes_requests=True,
    ),
    MediaService(
        "jellyseerr",
        functools.partial(overseerr.parse_webhook, "jellyseerr"),
        settings_type=overseerr.SeerrSettings,
        sync_job=overseerr.SeerrSyncJob,
        takes_requests=True,
    ),
    MediaService("radarr", arr.parse_radarr_webhook),
    MediaService("sonarr", arr.parse_sonarr_webhook),
)

WEBHOOK_PARSERS: dict[str, WebhookParser] = {service.name: service.parse_webhook for service in SERVICES}
SERVICE_BY_NAME: dict[str, MediaService] = {service.name: service for service in SERVICES}
SYNCED_SERVICES: tuple[str, ...] = tuple(service.name for service in SERVICES if service.sync_job is not None)
