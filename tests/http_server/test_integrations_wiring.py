"""Settings → sync jobs and webhook secrets; the service ``marquee run`` starts and stops."""

from __future__ import annotations

import socket

import aiohttp
import asyncpg
from pydantic import SecretStr

from bot.integrations import IntegrationsService, build_sync_jobs, webhook_config
from bot.settings import Settings


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
