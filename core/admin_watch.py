"""Periodic checks that tell the admins something, one message per event, through the outbox.

* A webhook source silent for longer than a setting: one "silent" message when
  the silence passes the limit, one "arrives again" at the next delivery; checks
  in between send nothing (the ``webhook_silence_alerts`` row is the state).
  Only sources that delivered at least once in the last 30 days are watched.
* A digest of the requests that came in waiting for approval: every N hours,
  the requests of the last full period still pending, in one admin message;
  none when there are none. The period is part of the event key, so restarts
  and several checkers still give one digest per period.
* New-media announcements (``core.announcements``), flushed every round; this
  also sweeps the arrivals of libraries nobody announces.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from core.announcements import AnnouncementConfig, flush_announcements
from core.answer import escape_markdown
from core.media_requests.notifications import DM_PLATFORMS, LIFETIME

log = logging.getLogger(__name__)

WATCHED_FOR = timedelta(days=30)
MAX_DIGEST_LINES = 15
_LABELS = {
    "plex": "Plex",
    "jellyfin": "Jellyfin",
    "tautulli": "Tautulli",
    "overseerr": "Overseerr",
    "jellyseerr": "Jellyseerr",
    "radarr": "Radarr",
    "sonarr": "Sonarr",
}

_ENQUEUE = """
INSERT INTO notification_outbox (event_key, audience, platform, platform_user_id, body, created_at, expires_at)
SELECT $1, 'admins', platform, 'admins', $2, $3, $4 FROM unnest($5::text[]) AS platform
ON CONFLICT (event_key, platform, platform_user_id) DO NOTHING
"""
# A delivery that was accepted (processed or ignored): a rejected one is a sender that is misconfigured,
# which the health report shows; it does not count as the source being heard from.
_LAST_DELIVERIES = """
SELECT source, max(received_at) AS last_at FROM webhook_log
WHERE status IN ('processed', 'ignored') AND received_at > $1::timestamptz - $2::interval
GROUP BY source
"""
_START_SILENCE = """
INSERT INTO webhook_silence_alerts (source, last_delivery_at, alerted_at) VALUES ($1, $2, $3)
ON CONFLICT (source) DO NOTHING RETURNING source
"""
_END_SILENCE = "DELETE FROM webhook_silence_alerts WHERE source = $1 RETURNING last_delivery_at"
_SILENT_NOW = "SELECT source FROM webhook_silence_alerts"

_NEW_PENDING = """
SELECT r.title, r.media_type, u.username, r.requested_at
FROM content_requests r LEFT JOIN users u ON u.id = r.requested_by_user_id
WHERE r.status = 'pending' AND r.requested_at >= $1 AND r.requested_at < $2
ORDER BY r.requested_at
"""


@dataclass(frozen=True)
class WatchConfig:
    # None: off.
    webhook_silence: timedelta | None = None
    pending_digest_every: timedelta | None = None
    announcements: AnnouncementConfig = field(default_factory=AnnouncementConfig)
    check_every_seconds: float = 60.0


def _label(source: str) -> str:
    return _LABELS.get(source, source.capitalize())


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


async def _enqueue(pool: asyncpg.Pool, key: str, body: str, now: datetime) -> bool:
    status = await pool.execute(_ENQUEUE, key, body, now, now + LIFETIME, list(DM_PLATFORMS))
    return status != "INSERT 0 0"


async def check_webhook_silence(pool: asyncpg.Pool, limit: timedelta, now: datetime | None = None) -> int:
    """Queue the transitions (silent / arriving again) since the last check; returns how many."""
    now = now or datetime.now(UTC)
    told = 0
    last = {row["source"]: row["last_at"] for row in await pool.fetch(_LAST_DELIVERIES, now, WATCHED_FOR)}
    alerted = {row["source"] for row in await pool.fetch(_SILENT_NOW)}
    for source, last_at in sorted(last.items()):
        silent = now - last_at > limit
        if silent and source not in alerted:
            if await pool.fetchval(_START_SILENCE, source, last_at, now) is not None:
                log.info("alert: %s webhooks silent since %s", source, last_at.isoformat())
                body = (
                    f"⚠️ No {_label(source)} webhook for more than {_duration(limit)}: check that "
                    f"{_label(source)} still sends them to Marquee."
                )
                told += await _enqueue(
                    pool, f"alert:webhook:{source}:silent:{last_at.isoformat()}", body, now
                )
        elif not silent and source in alerted:
            before = await pool.fetchval(_END_SILENCE, source)
            if before is not None:
                log.info("alert: %s webhooks arrive again", source)
                body = (
                    f"✅ {_label(source)} webhooks arrive again (silent for {_duration(last_at - before)})."
                )
                told += await _enqueue(
                    pool, f"alert:webhook:{source}:recovered:{before.isoformat()}", body, now
                )
    return told


def digest_period(now: datetime, every: timedelta) -> tuple[datetime, datetime]:
    """The last full period before ``now``: periods are counted from the Unix epoch, in UTC."""
    step = int(every.total_seconds())
    end = datetime.fromtimestamp(int(now.timestamp()) // step * step, UTC)
    return end - every, end


async def queue_pending_digest(pool: asyncpg.Pool, every: timedelta, now: datetime | None = None) -> bool:
    """One admin message listing the requests of the last full period still waiting; False when none."""
    now = now or datetime.now(UTC)
    start, end = digest_period(now, every)
    rows = await pool.fetch(_NEW_PENDING, start, end)
    if not rows:
        return False
    lines = [
        f"- **{escape_markdown(row['title'])}** ({'movie' if row['media_type'] == 'movie' else 'show'})"
        + (f", requested by {escape_markdown(row['username'])}" if row["username"] else "")
        for row in rows[:MAX_DIGEST_LINES]
    ]
    if len(rows) > MAX_DIGEST_LINES:
        lines.append(f"- and {len(rows) - MAX_DIGEST_LINES} more")
    count = len(rows)
    body = "\n".join(
        [
            f"📋 {count} new request{'s' if count != 1 else ''} waiting for approval:",
            *lines,
            "",
            "`/requests` (Discord), `!requests` (Matrix) to approve or decline them.",
        ]
    )
    return await _enqueue(pool, f"digest:pending:{end.isoformat()}", body, now)


async def run_admin_watch(pool: asyncpg.Pool, config: WatchConfig, stop: asyncio.Event) -> None:
    """The checks until ``stop`` is set; a failed round is logged and the next one tried."""
    while not stop.is_set():
        try:
            # Always: it also sweeps the arrivals of libraries nobody announces.
            await flush_announcements(pool, config.announcements)
            if config.webhook_silence is not None:
                await check_webhook_silence(pool, config.webhook_silence)
            if config.pending_digest_every is not None:
                await queue_pending_digest(pool, config.pending_digest_every)
        except Exception:
            log.exception("admin watch: a check failed; trying again next round")
        try:
            await asyncio.wait_for(stop.wait(), timeout=config.check_every_seconds)
        except TimeoutError:
            pass
