"""``marquee run``: one process with the configured chat adapters, until SIGINT or SIGTERM.

Settings → one pool → the Assistant → each configured chat adapter and the
integrations (webhook server, sync scheduler), each started under a
supervisor: a refused token is one error line and that adapter stays off; an
unreachable service is one warning line and a retry in the background with
backoff (never a crash loop). Once connected, each adapter reconnects by
itself after a network loss. On SIGINT/SIGTERM the adapters stop taking new
messages, finish the answers in flight, then the pool closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from pydantic import SecretStr

from adapters.chat.matrix_config import MatrixConfig
from bot.settings import Settings
from core.chat import ChatCore
from core.media_requests.notifications import Outbox

log = logging.getLogger("marquee.run")

FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0


class Service(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class PermanentStartFailure(Exception):
    """Retrying cannot help (a refused token, a wrong setting); the message says what to fix."""


@dataclass
class ServiceSpec:
    name: str
    # Builds a fresh service for each attempt, so a failed attempt leaves nothing half-open behind.
    build: Callable[[], Service]
    # Turns an exception of ``start`` into a PermanentStartFailure when retrying cannot help.
    classify: Callable[[Exception], Exception] = lambda exc: exc


class NoAdapterConfigured(Exception):
    pass


def discord_spec(settings: Settings, core: ChatCore, outbox: Outbox | None = None) -> ServiceSpec | None:
    if settings.discord_token is None:
        return None
    # Imported here: discord.py is only loaded when Discord is configured.
    from adapters.chat.discord_bot import DiscordBot, DiscordConfig, refusal_of_credentials

    token = settings.discord_token.get_secret_value()
    config = DiscordConfig(
        token=token,
        admin_channel_id=settings.discord_admin_channel_id,
        admin_role_id=settings.discord_admin_role_id,
        allowed_channel_ids=frozenset(settings.discord_allowed_channel_ids),
    )
    if config.admin_channel_id is None:
        log.warning("discord: MARQUEE_DISCORD_ADMIN_CHANNEL_ID is unset; admin commands will be refused")

    def classify(exc: Exception) -> Exception:
        refusal = refusal_of_credentials(exc)
        return PermanentStartFailure(refusal) if refusal else exc

    return ServiceSpec("discord", lambda: DiscordBot(core, config, outbox), classify)


def matrix_spec(settings: Settings, core: ChatCore, outbox: Outbox | None = None) -> ServiceSpec | None:
    if not settings.matrix_homeserver:
        return None
    from adapters.chat.matrix_bot import MatrixBot, MatrixSetupError

    config = matrix_config(settings)

    def classify(exc: Exception) -> Exception:
        return PermanentStartFailure(str(exc)) if isinstance(exc, MatrixSetupError) else exc

    return ServiceSpec("matrix", lambda: MatrixBot(core, config, outbox), classify)


def matrix_config(settings: Settings) -> MatrixConfig:
    """The Matrix bot's part of the settings (``matrix_config`` imports no matrix-nio)."""

    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None

    return MatrixConfig(
        homeserver=settings.matrix_homeserver,
        user_id=settings.matrix_user_id,
        state_dir=settings.data_dir / "matrix",
        access_token=secret(settings.matrix_access_token),
        password=secret(settings.matrix_password),
        device_id=settings.matrix_device_id,
        device_name=settings.matrix_device_name,
        admin_rooms=tuple(settings.matrix_admin_rooms),
        allowed_users=tuple(settings.matrix_allowed_users),
        allowed_homeservers=tuple(settings.matrix_allowed_homeservers),
        store_pickle_key=secret(settings.matrix_store_pickle_key),
        catch_up_seconds=settings.matrix_catch_up_seconds,
    )


def integrations_spec(
    settings: Settings, pool: asyncpg.Pool, engine_status: Callable[[], dict[str, Any]] | None = None
) -> ServiceSpec:
    """The webhook HTTP server (with /health, /healthz and /metrics) and the sync scheduler."""
    from bot.integrations import IntegrationsService

    return ServiceSpec("integrations", lambda: IntegrationsService(pool, settings, engine_status))


def adapter_specs(settings: Settings, core: ChatCore, outbox: Outbox | None = None) -> list[ServiceSpec]:
    """``outbox``: request notifications, delivered by each adapter while it is connected."""
    candidates = (discord_spec(settings, core, outbox), matrix_spec(settings, core, outbox))
    return [spec for spec in candidates if spec is not None]


def configured_adapter_names(settings: Settings) -> list[str]:
    names = []
    if settings.discord_token is not None:
        names.append("discord")
    if settings.matrix_homeserver:
        names.append("matrix")
    return names


async def supervise_start(spec: ServiceSpec, stopping: asyncio.Event) -> Service | None:
    """Start one service, retrying with backoff while it is unreachable; None if it cannot start."""
    delay = FIRST_RETRY_SECONDS
    warned = False
    while not stopping.is_set():
        service = spec.build()
        try:
            await service.start()
        except Exception as raw:
            exc = spec.classify(raw)
            with contextlib.suppress(Exception):
                await service.stop()
            if isinstance(exc, PermanentStartFailure):
                log.error("%s: %s; it stays off until restarted", spec.name, exc)
                return None
            message = f"{type(raw).__name__}: {raw}" if str(raw) else type(raw).__name__
            if not warned:
                log.warning("%s: cannot start (%s); retrying in the background", spec.name, message)
                warned = True
            else:
                log.debug("%s: still cannot start (%s); next try in %.0fs", spec.name, message, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)
            continue
        log.info("%s: started%s", spec.name, " after retrying" if warned else "")
        return service
    return None


async def run_services(specs: list[ServiceSpec], stopping: asyncio.Event) -> int:
    """Start every service, wait for ``stopping``, stop them (answers in flight finish first)."""
    log.info("marquee: starting %s", ", ".join(spec.name for spec in specs))
    starters = [asyncio.create_task(supervise_start(spec, stopping)) for spec in specs]
    all_started = asyncio.gather(*starters)
    stop_wait = asyncio.create_task(stopping.wait())
    waiters: set[asyncio.Future[Any]] = {all_started, stop_wait}
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    if all_started.done() and not stopping.is_set():
        # Exiting would only restart into the same refusal: stay up while anything runs.
        if all(service is None for service in all_started.result()):
            log.error("marquee: nothing could start; exiting")
            stop_wait.cancel()
            return 1
        log.info("marquee: running; stop with Ctrl-C or SIGTERM")
    await stop_wait
    log.info("marquee: stopping (finishing answers in flight)")
    for task in starters:
        if not task.done():
            task.cancel()
    results = await asyncio.gather(*starters, return_exceptions=True)
    for spec, result in reversed(list(zip(specs, results, strict=True))):
        if result is None or isinstance(result, BaseException):
            continue
        try:
            await result.stop()
        except Exception:
            log.exception("%s: stopping failed", spec.name)
    return 0


def install_stop_signals(stopping: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
            loop.add_signal_handler(sig, stopping.set)


async def run_marquee(settings: Settings, stopping: asyncio.Event | None = None) -> int:
    """The whole of ``marquee run``; returns the exit code. Stops on SIGINT/SIGTERM, or when ``stopping`` is set."""
    if not configured_adapter_names(settings):
        raise NoAdapterConfigured(
            "no chat adapter is configured: set MARQUEE_DISCORD_TOKEN (Discord) "
            "and/or MARQUEE_MATRIX_HOMESERVER with MARQUEE_MATRIX_USER_ID (Matrix)"
        )
    if stopping is None:
        stopping = asyncio.Event()
        install_stop_signals(stopping)
    from bot.database import open_database
    from bot.integrations import request_service
    from bot.wiring import build_assistant, open_query_embedder
    from core.tools.database_wall import ToolDatabase

    pool: asyncpg.Pool = await open_database(settings)
    tools = ToolDatabase(pool, max_size=settings.db_pool_max_size)
    requests = request_service(settings)
    try:
        async with open_query_embedder(settings) as embedder:
            assistant = await build_assistant(settings, pool, tools, requests, embedder)
            from core.engines.health import engine_status

            specs = [
                *adapter_specs(settings, assistant, Outbox(pool)),
                integrations_spec(
                    settings, pool, lambda: engine_status(assistant.engine, assistant.fallback_engine)
                ),
            ]
            return await run_services(specs, stopping)
    finally:
        if requests is not None:
            await requests.close()
        await tools.close()
        await pool.close()
        log.info("marquee: stopped")
