"""The operational logs: webhook deliveries and HTTP requests."""

from __future__ import annotations

import asyncpg

from core.redaction import redact_optional

_INSERT_WEBHOOK = """
INSERT INTO webhook_log (source, event_type, status, error, delivery_key) VALUES ($1, $2, $3, $4, $5)
"""
_ALREADY_HANDLED = """
SELECT EXISTS (SELECT 1 FROM webhook_log
               WHERE source = $1 AND delivery_key = $2 AND status IN ('processed', 'ignored'))
"""
# Keyed on the delivery, held until the transaction ends.
_LOCK_DELIVERY = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
_INSERT_API_LOG = """
INSERT INTO api_logs (endpoint, method, status_code, response_time_ms, error_message) VALUES ($1, $2, $3, $4, $5)
"""


async def record_webhook(
    conn: asyncpg.Connection | asyncpg.Pool,
    source: str,
    status: str,
    *,
    event_type: str | None = None,
    error: str | None = None,
    delivery_key: str | None = None,
) -> None:
    await conn.execute(_INSERT_WEBHOOK, source, event_type, status, redact_optional(error), delivery_key)


async def lock_delivery(conn: asyncpg.Connection, source: str, delivery_key: str) -> None:
    """Two copies of one delivery arriving together: the second waits here, then sees the first.

    Call inside the transaction that checks ``delivery_already_handled`` and records the delivery.
    """
    await conn.execute(_LOCK_DELIVERY, f"{source}:{delivery_key}")


async def delivery_already_handled(conn: asyncpg.Connection, source: str, delivery_key: str) -> bool:
    return bool(await conn.fetchval(_ALREADY_HANDLED, source, delivery_key))


async def record_api_call(
    conn: asyncpg.Connection | asyncpg.Pool,
    endpoint: str,
    method: str,
    status_code: int | None,
    response_time_ms: int | None,
    error_message: str | None = None,
) -> None:
    await conn.execute(
        _INSERT_API_LOG, endpoint, method, status_code, response_time_ms, redact_optional(error_message)
    )
