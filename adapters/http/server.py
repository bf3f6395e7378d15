"""The aiohttp app: ``POST /webhooks/{source}``, ``GET /healthz``, ``GET /metrics``, and the admins'
``/admin/ai-insights`` page (``insights_page.py``).

Webhook authentication: each source has its own secret, sent as the ``token``
query parameter (``https://marquee.example/webhooks/plex?token=SECRET``) —
the one scheme every sender can use, since Plex and the *arr apps can only be
given a URL. A source without a configured secret is refused.

Every authenticated delivery gets a ``webhook_log`` row and an ``api_logs``
row: processed, ignored (an event Marquee does not use, or a repeated
delivery), rejected (wrong content type, malformed, oversized or too deeply
nested body, missing fields, values out of range: 4xx) or error (the database
failed: 503). The writes of one delivery happen in one transaction, so nothing
is ever half-written.

Anything anyone on the network can send without the secret — a wrong or
missing token, a source without a secret, an unknown source, ``/healthz`` and
``/metrics`` — writes no row at all, so a flood cannot grow the database: it is
counted in memory and in ``/metrics`` (``marquee_http_requests``,
``marquee_webhook_unauthenticated_total``), and a refused webhook is logged at
most once a minute per source, with the number refused since.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from adapters.http import api_log_marker
from adapters.http.insights_page import InsightsPageConfig, register_insights_page
from adapters.media.payload import PayloadError
from adapters.media.services import WEBHOOK_PARSERS
from core.db import check_database
from core.ingest.logs import (
    delivery_already_handled,
    lock_delivery,
    record_api_call,
    record_webhook,
)
from core.ingest.webhooks import apply_webhook_event
from core.page_charts import PageCharts
from core.semantic.embedder import EmbeddingConfig
from core.semantic.health import embeddings_status

log = logging.getLogger(__name__)

DATABASE_TIMEOUT_SECONDS = 5.0
UNAUTHENTICATED_LOG_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class WebhookConfig:
    """Secrets per source (plain strings here: the composition root unwraps them) and the body limit."""

    secrets: Mapping[str, str] = field(default_factory=dict)
    max_body_bytes: int = 1_048_576


@dataclass
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    deliveries: Counter
    unauthenticated: Counter

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            requests=Counter(
                "marquee_http_requests",
                "HTTP requests served",
                ["route", "method", "status"],
                registry=registry,
            ),
            latency=Histogram(
                "marquee_http_request_seconds", "HTTP request latency", ["route"], registry=registry
            ),
            deliveries=Counter(
                "marquee_webhook_deliveries",
                "Webhook deliveries by outcome",
                ["source", "status"],
                registry=registry,
            ),
            unauthenticated=Counter(
                "marquee_webhook_unauthenticated",
                "Webhook requests refused for a missing or wrong secret, or to an unknown source",
                ["source"],
                registry=registry,
            ),
        )


class RefusalLog:
    """One log line a minute per source for refused unauthenticated requests, with the count since."""

    def __init__(self, interval_seconds: float = UNAUTHENTICATED_LOG_INTERVAL_SECONDS) -> None:
        self._interval = interval_seconds
        self._last_logged: dict[str, float] = {}
        self._since: dict[str, int] = {}

    def refused(self, source: str, reason: str, remote: str | None) -> None:
        now = time.monotonic()
        self._since[source] = self._since.get(source, 0) + 1
        last = self._last_logged.get(source)
        if last is not None and now - last < self._interval:
            return
        count = self._since.pop(source)
        self._last_logged[source] = now
        log.warning(
            "refused %d unauthenticated webhook request(s) to %s since the last report (latest: %s, from %s)",
            count,
            source,
            reason,
            remote or "unknown address",
        )


POOL_KEY = web.AppKey("pool", asyncpg.Pool)
CONFIG_KEY = web.AppKey("config", WebhookConfig)
METRICS_KEY = web.AppKey("metrics", Metrics)
REFUSALS_KEY = web.AppKey("refusals", RefusalLog)
# what the answer engine reports (core.engines.health.engine_status), when this process answers questions
ENGINE_STATUS_KEY = web.AppKey("engine_status", object)
# the configured embeddings endpoint (core.semantic), when semantic search is set up
EMBEDDINGS_KEY = web.AppKey("embeddings", EmbeddingConfig)


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def _log_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    started = time.perf_counter()
    status, error = 500, None
    api_log_marker.reset()
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status, error = exc.status, exc.reason
        raise
    except Exception as exc:  # a bug: answered 500 by aiohttp, logged here without the body
        log.exception("unexpected error serving %s %s", request.method, request.path)
        error = type(exc).__name__
        raise
    finally:
        elapsed = time.perf_counter() - started
        metrics = request.app[METRICS_KEY]
        route = _route_name(request)
        metrics.requests.labels(route, request.method, str(status)).inc()
        metrics.latency.labels(route).observe(elapsed)
        # Anyone can send an unauthenticated request: a row each would let a flood grow the
        # database. Those are counted above and nowhere else.
        if api_log_marker.is_authenticated():
            await _record_api_call(request, status, elapsed, error)


async def _record_api_call(request: web.Request, status: int, elapsed: float, error: str | None) -> None:
    # The path only: the query string carries the webhook secret.
    try:
        await asyncio.wait_for(
            record_api_call(
                request.app[POOL_KEY],
                request.path[:300],
                request.method,
                status,
                int(elapsed * 1000),
                error,
            ),
            DATABASE_TIMEOUT_SECONDS,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("could not write api_logs for %s %s: %s", request.method, request.path, exc)


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    while chunk := await request.content.read(65536):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, outcome: str, event: str | None = None, detail: str | None = None) -> web.Response:
    body = {"status": outcome, "event": event, "detail": detail}
    return web.json_response({k: v for k, v in body.items() if v is not None}, status=status)


async def _reject(
    request: web.Request, source: str, status: int, message: str, event: str | None = None
) -> web.Response:
    request.app[METRICS_KEY].deliveries.labels(source, "rejected").inc()
    log.info("webhook from %s rejected (%d): %s", source, status, message)
    try:
        await record_webhook(
            request.app[POOL_KEY], source, "rejected", event_type=event, error=message[:1000]
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("could not write webhook_log: %s", exc)
    return _answer(status, "rejected", event, message)


def _refuse_unauthenticated(request: web.Request, source: str, status: int, message: str) -> web.Response:
    """Counted and logged (once a minute per source), never written: no row for what anyone can send."""
    counted_as = source if source in WEBHOOK_PARSERS else "unknown"
    request.app[METRICS_KEY].unauthenticated.labels(counted_as).inc()
    request.app[REFUSALS_KEY].refused(counted_as, message, request.remote)
    if status == 404:
        return _answer(404, "unknown source", detail=message)
    return _answer(status, "rejected", detail=message)


async def handle_webhook(request: web.Request) -> web.Response:
    source = request.match_info["source"]
    if source not in WEBHOOK_PARSERS:
        return _refuse_unauthenticated(request, source, 404, f"no webhooks are accepted for {source[:50]!r}")
    config = request.app[CONFIG_KEY]
    secret = config.secrets.get(source)
    if not secret:
        return _refuse_unauthenticated(
            request, source, 403, f"{source} webhooks are not enabled (no secret configured)"
        )
    token = request.query.get("token", "")
    if not hmac.compare_digest(token.encode(), secret.encode()):
        return _refuse_unauthenticated(request, source, 401, "missing or wrong token")
    api_log_marker.mark_authenticated()
    body = await _read_body(request, config.max_body_bytes)
    if body is None:
        return await _reject(request, source, 413, f"body larger than {config.max_body_bytes} bytes")

    received_at = datetime.now(UTC)
    try:
        # Off the event loop: decoding and validating up to max_body_bytes is CPU work.
        event = await asyncio.to_thread(
            WEBHOOK_PARSERS[source], body, request.headers.get("Content-Type", ""), received_at
        )
    except PayloadError as exc:
        return await _reject(request, source, exc.status, str(exc))
    except (ValueError, OverflowError, RecursionError, LookupError, TypeError) as exc:
        # A value no parser expected (a number past any range, say): the sender's data, not a 500.
        log.debug("webhook from %s could not be read", source, exc_info=True)
        return await _reject(request, source, 400, f"payload could not be read ({type(exc).__name__})")

    delivery_key = hashlib.sha256(body).hexdigest()
    pool = request.app[POOL_KEY]
    metrics = request.app[METRICS_KEY]
    note: str | None
    try:
        async with pool.acquire() as conn, conn.transaction():
            await lock_delivery(conn, source, delivery_key)
            if await delivery_already_handled(conn, source, delivery_key):
                outcome, note = "ignored", "repeated delivery"
            elif event.ignored:
                outcome, note = "ignored", event.note
            else:
                await apply_webhook_event(conn, event)
                outcome, note = "processed", None
            await record_webhook(
                conn, source, outcome, event_type=event.event_type, error=note, delivery_key=delivery_key
            )
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, OverflowError) as exc:
        # Values the schema refuses (a year of 2**40 does not fit an integer column, and asyncpg
        # says so with OverflowError while copying): the sender's data, not our failure.
        return await _reject(request, source, 422, f"payload values refused: {exc}", event.event_type)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.error("webhook from %s not stored: %s", source, exc)
        metrics.deliveries.labels(source, "error").inc()
        with contextlib.suppress(OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await record_webhook(pool, source, "error", event_type=event.event_type, error=str(exc)[:1000])
        return _answer(503, "error", event.event_type, "not stored; please deliver again later")
    metrics.deliveries.labels(source, outcome).inc()
    log.info("webhook from %s: %s %s", source, event.event_type, outcome)
    return _answer(200, "duplicate" if note == "repeated delivery" else outcome, event.event_type, note)


async def handle_health(request: web.Request) -> web.Response:
    try:
        await asyncio.wait_for(check_database(request.app[POOL_KEY]), DATABASE_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return web.json_response({"status": "database unavailable"}, status=503)
    body: dict[str, object] = {"status": "ok"}
    engine_status = request.app.get(ENGINE_STATUS_KEY)
    if callable(engine_status):
        body["engine"] = engine_status()
    embeddings = request.app.get(EMBEDDINGS_KEY)
    if embeddings is not None:
        try:
            body["embeddings"] = await asyncio.wait_for(
                embeddings_status(request.app[POOL_KEY], embeddings), DATABASE_TIMEOUT_SECONDS
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            body["embeddings"] = {"status": "unknown (the database did not answer in time)"}
    return web.json_response(body)


async def handle_metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS_KEY].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_app(
    pool: asyncpg.Pool,
    config: WebhookConfig,
    insights: InsightsPageConfig | None = None,
    engine_status: Callable[[], dict[str, Any]] | None = None,
    embeddings: EmbeddingConfig | None = None,
    charts: PageCharts | None = None,
) -> web.Application:
    # aiohttp's own limit sits above ours so that ours answers (with a log row) first.
    app = web.Application(middlewares=[_log_requests], client_max_size=config.max_body_bytes + 1)
    app[POOL_KEY] = pool
    app[CONFIG_KEY] = config
    app[METRICS_KEY] = Metrics.create()
    app[REFUSALS_KEY] = RefusalLog()
    if engine_status is not None:
        app[ENGINE_STATUS_KEY] = engine_status
    if embeddings is not None:
        app[EMBEDDINGS_KEY] = embeddings
    app.router.add_post("/webhooks/{source}", handle_webhook)
    app.router.add_get("/healthz", handle_health)
    app.router.add_get("/health", handle_health)
    app.router.add_get("/metrics", handle_metrics)
    if insights is not None:
        register_insights_page(app, pool, insights, charts)
    return app


@dataclass
class RunningServer:
    runner: web.AppRunner
    host: str
    port: int

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_http_server(app: web.Application, host: str, port: int) -> RunningServer:
    """Serve ``app`` until ``stop()``; port 0 picks a free port (see ``RunningServer.port``)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    addresses = runner.addresses
    bound_port = int(addresses[0][1]) if addresses else port
    log.info("HTTP server listening on %s:%d", host, bound_port)
    return RunningServer(runner=runner, host=host, port=bound_port)
