"""Telling a requester how their request went: the outbox of direct messages and the per-member switch.

An Overseerr webhook (approved, declined, available, failed) becomes one
outbox row per chat account of the requester, in the transaction that applies
the webhook. The requester is whoever the sync learned, by Overseerr user id,
for that request id: a request the sync has not seen yet tells no one (the
webhook names its requester only by fields the requester edits). A delivery
that arrives twice writes the same ``event_key`` twice and the unique key keeps
one message. Each running chat adapter drains its platform's rows
(``deliver_due``); unsent rows survive restarts and are dropped after a day.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from core.answer import escape_markdown
from core.chat import THUMBS_UP, WRONG

log = logging.getLogger(__name__)

LIFETIME = timedelta(hours=24)
NOTIFIED_EVENTS = (
    "MEDIA_APPROVED",
    "MEDIA_AUTO_APPROVED",
    "MEDIA_DECLINED",
    "MEDIA_AVAILABLE",
    "MEDIA_FAILED",
)
# The platforms a member can get a direct message on (the console is not running in between).
DM_PLATFORMS = ("discord", "matrix")
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class RequestNotice:
    """One webhook event about a request, as core needs it to tell the requester."""

    service: str
    source_request_id: str
    event: str
    reason: str | None = None


@dataclass(frozen=True)
class Notification:
    id: UUID
    audience: str  # 'member' (a direct message) or 'admins' (the admin channel/room)
    platform_user_id: str
    body: str
    user_id: UUID | None = None
    event_key: str = ""


_REQUEST = """
SELECT r.requested_by_user_id, r.title, r.media_type
FROM content_requests r
WHERE r.source = $1 AND r.source_request_id = $2
"""
_WANTS = "SELECT coalesce((SELECT request_updates FROM notification_preferences WHERE user_id = $1), true)"
_ENQUEUE = """
INSERT INTO notification_outbox (event_key, user_id, platform, platform_user_id, body, created_at, expires_at)
SELECT $1, ca.user_id, ca.platform, ca.platform_user_id, $3, $4, $5
FROM chat_accounts ca
WHERE ca.user_id = $2 AND ca.platform = ANY($6::text[])
ON CONFLICT (event_key, platform, platform_user_id) DO NOTHING
"""


def message_for(event: str, title: str, reason: str | None) -> str | None:
    """The direct message for one event (Markdown; the title is escaped by the caller)."""
    if event in ("MEDIA_APPROVED", "MEDIA_AUTO_APPROVED"):
        return f"👍 Your request for **{title}** was approved. I'll tell you when it's ready to watch."
    if event == "MEDIA_DECLINED":
        return f"Your request for **{title}** was declined" + (f": {reason}" if reason else ".")
    if event == "MEDIA_AVAILABLE":
        return f"🍿 **{title}** is ready to watch: your request is now available."
    if event == "MEDIA_FAILED":
        return f"Your request for **{title}** failed in the download step; an admin can retry it."
    return None


async def enqueue_notice(conn: asyncpg.Connection, notice: RequestNotice, now: datetime | None = None) -> int:
    """Queue the requester's message for this event (none when the request or its requester is unknown,
    or the member turned notifications off); returns the number of rows written."""
    if notice.event not in NOTIFIED_EVENTS:
        return 0
    request = await conn.fetchrow(_REQUEST, notice.service, notice.source_request_id)
    if request is None or request["requested_by_user_id"] is None:
        log.info(
            "%s request %s: requester not known yet; no notification",
            notice.service,
            notice.source_request_id,
        )
        return 0
    user_id = request["requested_by_user_id"]
    if not await conn.fetchval(_WANTS, user_id):
        return 0
    reason = " ".join(notice.reason.split())[:300] if notice.reason else None
    body = message_for(
        notice.event, escape_markdown(request["title"]), escape_markdown(reason) if reason else None
    )
    if body is None:
        return 0
    now = now or datetime.now(UTC)
    # Auto-approved and approved are one event for the member.
    event = "MEDIA_APPROVED" if notice.event == "MEDIA_AUTO_APPROVED" else notice.event
    status = await conn.execute(
        _ENQUEUE,
        f"{notice.service}:{notice.source_request_id}:{event}",
        user_id,
        body,
        now,
        now + LIFETIME,
        list(DM_PLATFORMS),
    )
    return int(status.rsplit(" ", 1)[-1])


async def set_request_updates(conn: asyncpg.Connection, user_id: UUID, on: bool) -> None:
    await conn.execute(
        """INSERT INTO notification_preferences (user_id, request_updates) VALUES ($1, $2)
           ON CONFLICT (user_id) DO UPDATE SET request_updates = excluded.request_updates, updated_at = now()""",
        user_id,
        on,
    )


async def wants_request_updates(conn: asyncpg.Connection, user_id: UUID) -> bool:
    return bool(await conn.fetchval(_WANTS, user_id))


# --- delivery ----------------------------------------------------------------------

_DUE = """
SELECT id, audience, platform_user_id, body, user_id, event_key FROM notification_outbox
WHERE platform = $1 AND sent_at IS NULL AND expires_at > $2 AND attempts < $3 AND audience = ANY($4::text[])
ORDER BY created_at LIMIT 20
"""
_SENT = "UPDATE notification_outbox SET sent_at = $2, attempts = attempts + 1 WHERE id = $1"
_FAILED = "UPDATE notification_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1"
_SWEEP = "DELETE FROM notification_outbox WHERE expires_at <= $1 OR sent_at < $1 - interval '7 days'"

# A member's 👍/❌ on a notification finds it by the sent message's id.
_RECORD_SENT = """
INSERT INTO notification_feedback (user_id, platform, reply_message_id, event_key, body, sent_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (platform, reply_message_id) DO NOTHING
"""
_REACTED = """
UPDATE notification_feedback nf SET thumbs_up = CASE WHEN $4 = 'thumbs_up' THEN $5 ELSE nf.thumbs_up END,
    reported_wrong = CASE WHEN $4 = 'wrong' THEN $5 ELSE nf.reported_wrong END
FROM chat_accounts ca
WHERE nf.platform = $1 AND nf.reply_message_id = $2
  AND ca.user_id = nf.user_id AND ca.platform = nf.platform AND ca.platform_user_id = $3
  AND (CASE WHEN $4 = 'thumbs_up' THEN nf.thumbs_up ELSE nf.reported_wrong END) IS DISTINCT FROM $5
RETURNING nf.id
"""

# Sends one message to one platform user: False when it was not delivered; True, or better the sent
# message's id (so the member's 👍/❌ on it is recorded), when it was.
Send = Callable[[str, str], Awaitable[bool | str]]
# Posts one alert to the admin channel/room; True when it was delivered.
SendToAdmins = Callable[[str], Awaitable[bool]]
# Posts one announcement to a channel/room by its id; True when it was delivered.
SendToChannel = Callable[[str, str], Awaitable[bool]]


async def deliver_due(
    pool: asyncpg.Pool,
    platform: str,
    send: Send,
    send_to_admins: SendToAdmins | None = None,
    now: datetime | None = None,
    send_to_channel: SendToChannel | None = None,
) -> int:
    """Send this platform's unsent, unexpired notifications; returns how many were delivered.

    Admin alerts wait (not counted as failed) while the adapter has no admin place to post to.
    """
    now = now or datetime.now(UTC)
    audiences = ["member", *(["admins"] if send_to_admins else []), *(["channel"] if send_to_channel else [])]
    async with pool.acquire() as conn:
        await conn.execute(_SWEEP, now)
        due = [
            Notification(
                r["id"], r["audience"], r["platform_user_id"], r["body"], r["user_id"], r["event_key"]
            )
            for r in await conn.fetch(_DUE, platform, now, MAX_ATTEMPTS, audiences)
        ]
    delivered = 0
    for notification in due:
        try:
            sent_id: str | None = None
            if notification.audience == "admins" and send_to_admins is not None:
                ok = await send_to_admins(notification.body)
            elif notification.audience == "channel" and send_to_channel is not None:
                ok = await send_to_channel(notification.platform_user_id, notification.body)
            else:
                result = await send(notification.platform_user_id, notification.body)
                ok = bool(result)
                sent_id = result if isinstance(result, str) else None
            error = None if ok else "the platform refused the message"
        except Exception as exc:  # one bad recipient must not stop the others
            log.warning("%s notification %s failed: %s", platform, notification.id, type(exc).__name__)
            ok, error = False, type(exc).__name__
        async with pool.acquire() as conn:
            if ok:
                sent_at = datetime.now(UTC)
                async with conn.transaction():
                    await conn.execute(_SENT, notification.id, sent_at)
                    if sent_id is not None and notification.user_id is not None:
                        await conn.execute(
                            _RECORD_SENT,
                            notification.user_id,
                            platform,
                            sent_id,
                            notification.event_key,
                            notification.body,
                            sent_at,
                        )
                delivered += 1
            else:
                await conn.execute(_FAILED, notification.id, error)
    return delivered


async def record_reaction(
    conn: asyncpg.Connection,
    platform: str,
    reply_message_id: str,
    reactor_platform_user_id: str,
    emoji: str,
    added: bool,
) -> bool:
    """A 👍/❌ added or removed on a notification; True when it changed its row (only the recipient counts)."""
    which = {THUMBS_UP: "thumbs_up", WRONG: "wrong"}.get(emoji)
    if which is None:
        return False
    changed = await conn.fetchval(
        _REACTED, platform, reply_message_id, reactor_platform_user_id, which, added
    )
    return changed is not None


class Outbox:
    """What a chat adapter is handed to deliver its platform's notifications while it is connected."""

    def __init__(self, pool: asyncpg.Pool, *, interval_seconds: float = 1.0) -> None:
        self.pool = pool
        self.interval_seconds = interval_seconds

    async def run(
        self,
        platform: str,
        send: Send,
        connected: Callable[[], bool],
        send_to_admins: SendToAdmins | None = None,
        send_to_channel: SendToChannel | None = None,
    ) -> None:
        await run_outbox(
            self.pool,
            platform,
            send,
            connected,
            send_to_admins,
            interval_seconds=self.interval_seconds,
            send_to_channel=send_to_channel,
        )


async def run_outbox(
    pool: asyncpg.Pool,
    platform: str,
    send: Send,
    connected: Callable[[], bool] = lambda: True,
    send_to_admins: SendToAdmins | None = None,
    *,
    interval_seconds: float = 1.0,
    send_to_channel: SendToChannel | None = None,
) -> None:
    """Drain the outbox of ``platform`` until cancelled, only while the adapter is connected (a message
    tried while it is down would count as a failed attempt); a database hiccup is logged and retried."""
    while True:
        try:
            if connected():
                await deliver_due(pool, platform, send, send_to_admins, send_to_channel=send_to_channel)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s notifications: delivery round failed; retrying", platform)
            await asyncio.sleep(min(30.0, interval_seconds * 10))
        await asyncio.sleep(interval_seconds)
