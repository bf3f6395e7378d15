"""Applying one parsed webhook delivery: all of its writes in the caller's one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from core.announcements import record_arrivals
from core.ingest.events import record_deletion
from core.ingest.media import upsert_media
from core.ingest.plays import upsert_plays, upsert_user_item_states
from core.ingest.records import (
    DeletionRecord,
    MediaRecord,
    PlayRecord,
    RequestRecord,
    UserItemState,
    UserRecord,
)
from core.ingest.requests import upsert_request
from core.ingest.stats import refresh_user_stats
from core.ingest.users import upsert_user
from core.media_requests.notifications import RequestNotice, enqueue_notice


@dataclass(frozen=True)
class WebhookEvent:
    """What one delivery means. No records at all means the event is of no interest (logged as ignored)."""

    event_type: str
    users: tuple[UserRecord, ...] = ()
    media: tuple[MediaRecord, ...] = ()
    plays: tuple[PlayRecord, ...] = ()
    states: tuple[UserItemState, ...] = ()
    requests: tuple[RequestRecord, ...] = ()
    deletions: tuple[DeletionRecord, ...] = ()
    # Events the requester hears about (approved, declined, available, failed).
    notices: tuple[RequestNotice, ...] = ()
    note: str | None = None

    @property
    def ignored(self) -> bool:
        return not (self.users or self.media or self.plays or self.states or self.requests or self.deletions)


@dataclass
class AppliedEvent:
    counts: dict[str, int] = field(default_factory=dict)


async def apply_webhook_event(conn: asyncpg.Connection, event: WebhookEvent) -> AppliedEvent:
    """Write the event; the caller holds the transaction so a failure leaves nothing half-written."""
    applied = AppliedEvent()
    for user in event.users:
        await upsert_user(conn, user)
    if event.users:
        applied.counts["users"] = len(event.users)
    # Shows before their episodes.
    shows_first = sorted(event.media, key=lambda record: record.media_type == "episode")
    if shows_first:
        result = await upsert_media(conn, shows_first)
        applied.counts["media"] = result.inserted + result.updated
        # New movies and episodes wait to be announced to their library's channel (core.announcements).
        arrivals = await record_arrivals(conn, event.event_type, shows_first)
        if arrivals:
            applied.counts["arrivals"] = arrivals
    if event.plays:
        applied.counts["plays"] = (await upsert_plays(conn, event.plays)).written
    if event.states:
        applied.counts["states"] = await upsert_user_item_states(conn, event.states)
    if event.plays or event.states:
        applied.counts["user_stats"] = await refresh_user_stats(conn)
    for request in event.requests:
        await upsert_request(conn, request)
    if event.requests:
        applied.counts["requests"] = len(event.requests)
    # After the requests: the notice finds its request (and requester) as the sync and this delivery left it.
    notified = 0
    for notice in event.notices:
        notified += await enqueue_notice(conn, notice)
    if notified:
        applied.counts["notifications"] = notified
    for deletion in event.deletions:
        await record_deletion(conn, deletion)
    if event.deletions:
        applied.counts["deletions"] = len(event.deletions)
    return applied
