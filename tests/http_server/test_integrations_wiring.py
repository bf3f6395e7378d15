"""Settings → sync jobs and webhook secrets; the service ``marquee run`` starts and stops."""

from __future__ import annotations

import os
import socket
from dataclasses import fields
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from pydantic import SecretStr

from adapters.media.jellyfin import JellyfinSettings
from adapters.media.overseerr import SeerrSettings
from adapters.media.plex import PlexSettings
from adapters.media.services import SERVICES
from adapters.media.tautulli import TautulliSettings
from bot.integrations import IntegrationsService, build_sync_jobs, request_service, webhook_config
from bot.settings import Settings, load_settings
from core.ingest.logs import record_webhook


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_only_fully_configured_services_get_a_job() -> None:
    jobs = build_sync_jobs(
        settings(
            plex_url="http://plex:32400",
            plex_token=SecretStr("t"),
            jellyfin_url="http://jellyfin:8096",  # no key: not configured
            jellyseerr_url="http://seerr:5055",
            jellyseerr_api_key=SecretStr("k"),
        )
    )
    assert [job.name for job in jobs] == ["plex", "jellyseerr"]


def test_plex_history_is_left_to_tautulli_when_both_are_configured() -> None:
    both = settings(
        plex_url="http://p",
        plex_token=SecretStr("t"),
        tautulli_url="http://t",
        tautulli_api_key=SecretStr("k"),
    )
    plex_job = build_sync_jobs(both)[0]
    assert plex_job.name == "plex" and plex_job.settings.sync_history is False  # type: ignore[attr-defined]
    forced = build_sync_jobs(both.model_copy(update={"plex_sync_history": True}))[0]
    assert forced.settings.sync_history is True  # type: ignore[attr-defined]


def test_the_tautulli_load_settings_reach_its_job() -> None:
    configured = settings(
        tautulli_url="http://t",
        tautulli_api_key=SecretStr("k"),
        tautulli_page_size=2_500,
        tautulli_timeout_seconds=300,
        tautulli_pause_seconds=2,
    )
    (job,) = build_sync_jobs(configured)
    chosen = job.settings  # type: ignore[attr-defined]
    assert (chosen.page_size, chosen.timeout_seconds, chosen.pause_seconds) == (2_500, 300, 2)


def test_per_source_webhook_secrets_fall_back_to_the_shared_one() -> None:
    config = webhook_config(
        settings(webhook_secret=SecretStr("shared"), plex_webhook_secret=SecretStr("plex-own"))
    )
    assert config.secrets["plex"] == "plex-own" and config.secrets["sonarr"] == "shared"
    assert webhook_config(settings()).secrets == {}


async def test_the_service_serves_health_and_stops(db_pool: asyncpg.Pool) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    service = IntegrationsService(db_pool, settings(http_host="127.0.0.1", http_port=port))
    await service.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert response.status == 200
    finally:
        await service.stop()


# Every media-service setting as users write it in .env today; these names are a contract.
DOTENV = """
MARQUEE_PLEX_URL=http://plex:32400
MARQUEE_PLEX_TOKEN=plex-token
MARQUEE_PLEX_SYNC_HISTORY=true
MARQUEE_JELLYFIN_URL=http://jellyfin:8096
MARQUEE_JELLYFIN_API_KEY=jellyfin-key
MARQUEE_TAUTULLI_URL=http://tautulli:8181
MARQUEE_TAUTULLI_API_KEY=tautulli-key
MARQUEE_TAUTULLI_TIMEOUT_SECONDS=200
MARQUEE_TAUTULLI_PAGE_SIZE=5000
MARQUEE_TAUTULLI_PAUSE_SECONDS=1.5
MARQUEE_OVERSEERR_URL=http://overseerr:5055
MARQUEE_OVERSEERR_API_KEY=overseerr-key
MARQUEE_JELLYSEERR_URL=http://jellyseerr:5055
MARQUEE_JELLYSEERR_API_KEY=jellyseerr-key
MARQUEE_SYNC_INTERVAL_SECONDS=600
MARQUEE_MEDIA_TIMEOUT_SECONDS=12
MARQUEE_REQUESTS_ENABLED=true
MARQUEE_WEBHOOK_SECRET=shared
MARQUEE_PLEX_WEBHOOK_SECRET=plex-hook
MARQUEE_JELLYFIN_WEBHOOK_SECRET=jellyfin-hook
MARQUEE_TAUTULLI_WEBHOOK_SECRET=tautulli-hook
MARQUEE_OVERSEERR_WEBHOOK_SECRET=overseerr-hook
MARQUEE_JELLYSEERR_WEBHOOK_SECRET=jellyseerr-hook
MARQUEE_RADARR_WEBHOOK_SECRET=radarr-hook
MARQUEE_SONARR_WEBHOOK_SECRET=sonarr-hook
"""


def test_the_media_settings_users_have_in_their_env_file_keep_working(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(DOTENV)
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MARQUEE_"):
            monkeypatch.delenv(key)
    configured = load_settings()

    chosen = {job.name: job.settings for job in build_sync_jobs(configured)}  # type: ignore[attr-defined]
    assert list(chosen) == ["plex", "jellyfin", "tautulli", "overseerr", "jellyseerr"]
    assert chosen["plex"] == PlexSettings(
        url="http://plex:32400",
        token="plex-token",
        interval_seconds=600,
        timeout_seconds=12,
        sync_history=True,
    )
    assert chosen["jellyfin"] == JellyfinSettings(
        url="http://jellyfin:8096", api_key="jellyfin-key", interval_seconds=600, timeout_seconds=12
    )
    assert chosen["tautulli"] == TautulliSettings(
        url="http://tautulli:8181",
        api_key="tautulli-key",
        interval_seconds=600,
        timeout_seconds=200,
        page_size=5000,
        pause_seconds=1.5,
    )
    for service in ("overseerr", "jellyseerr"):
        assert chosen[service] == SeerrSettings(
            service=service,  # type: ignore[arg-type]
            url=f"http://{service}:5055",
            api_key=f"{service}-key",
            interval_seconds=600,
            timeout_seconds=12,
        )

    assert webhook_config(configured).secrets == {
        source: f"{source}-hook"
        for source in ("plex", "jellyfin", "tautulli", "overseerr", "jellyseerr", "radarr", "sonarr")
    }
    client = request_service(configured)
    assert client is not None and client.service == "overseerr"


async def test_every_service_of_the_table_is_a_webhook_source_the_database_accepts(
    db_pool: asyncpg.Pool,
) -> None:
    # A new service needs its name in webhook_log's CHECK (a migration) as well as a row in the table.
    async with db_pool.acquire() as conn:
        trying = conn.transaction()
        await trying.start()
        try:
            for service in SERVICES:
                await record_webhook(conn, service.name, "ignored")
        finally:
            await trying.rollback()


def test_every_synced_service_is_configured_by_its_url_and_key_settings() -> None:
    for service in SERVICES:
        assert f"{service.name}_webhook_secret" in Settings.model_fields, service.name
        if service.sync_job is None:
            continue
        assert service.settings_type is not None
        assert f"{service.name}_url" in Settings.model_fields, service.name
        assert f"{service.name}_{service.key_setting}" in Settings.model_fields, service.name
        key_fields = {item.name for item in fields(service.settings_type)}
        assert service.key_setting in key_fields, service.name
