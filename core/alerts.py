"""Alerts for the admins when an integration starts failing and when it recovers: one per transition.

A sync that fails ``ALERT_AFTER_FAILURES`` times in a row (one blip is not
worth a message) queues one "failing" alert; the first success after that
queues one "works again". Failures in between queue nothing. Alerts go through
the notification outbox (audience ``admins``), so each chat adapter posts them
to its admin channel/room when it is connected, and they survive a restart.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg

from core.answer import escape_markdown
from core.media_requests.notifications import DM_PLATFORMS, LIFETIME

log = logging.getLogger(__name__)

ALERT_AFTER_FAILURES = 2

_ENQUEUE = """
INSERT INTO notification_outbox (event_key, audience, platform, platform_user_id, body, created_at, expires_at)
SELECT $1, 'admins', platform, 'admins', $2, $3, $4 FROM unnest($5::text[]) AS platform
ON CONFLICT (event_key, platform, platform_user_id) DO NOTHING
"""


def _label(integration: str) -> str:
    return {"overseerr": "Overseerr", "jellyseerr": "Jellyseerr", "tautulli": "Tautulli"}.get(
        integration, integration.capitalize()
    )


async def _enqueue(pool: asyncpg.Pool, key: str, body: str, now: datetime) -> None:
    await pool.execute(_ENQUEUE, key, body, now, now + LIFETIME, list(DM_PLATFORMS))


async def sync_failed(
    pool: asyncpg.Pool, integration: str, failures: int, error: str, run_at: datetime
) -> None:
    """After a failed run: alert once, when the failures in a row reach the threshold."""
    if failures != ALERT_AFTER_FAILURES:
        return
    log.info("alert: %s sync is failing", integration)
    body = f"⚠️ The {_label(integration)} sync is failing ({failures} times in a row): {escape_markdown(error[:300])}"
    await _enqueue(pool, f"alert:{integration}:failing:{run_at.isoformat()}", body, datetime.now(UTC))


async def sync_succeeded(
    pool: asyncpg.Pool, integration: str, failures_before: int, run_at: datetime
) -> None:
    """After a successful run: alert once when it ends a failure that was alerted."""
    if failures_before < ALERT_AFTER_FAILURES:
        return
    log.info("alert: %s sync recovered", integration)
    body = f"✅ The {_label(integration)} sync works again (after {failures_before} failed runs)."
    await _enqueue(pool, f"alert:{integration}:recovered:{run_at.isoformat()}", body, datetime.now(UTC))
