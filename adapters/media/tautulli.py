"""Tautulli: per-play history (duration, percent complete), users with last seen, bandwidth from activity; webhooks.

Every call is ``GET /api/v2?apikey=...&cmd=...`` answering
``{"response": {"result": "success"|"error", "message": ..., "data": ...}}``.
Tautulli speaks in Plex's ids (user ids, rating keys), so its plays and
items land on the same rows as the Plex sync's. A play's id is
"user:item:started", which the history sync and the webhook both know, so the
same play arriving both ways is one row.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from adapters.media.client import ServiceClient
from adapters.media.history_window import first_day, next_anchor
from adapters.media.paging import offset_pages, prefetching
from adapters.media.payload import PayloadError, decode_json_object, require_content_type, validate
from adapters.media.service_settings import ServiceSettings
from adapters.media.tautulli_windows import DayWindow, plan_windows
from adapters.media.timeparse import from_unix
from core.ingest.records import BandwidthRecord, MediaRecord, MediaType, PlayRecord, UserRecord
from core.ingest.webhooks import WebhookEvent
from core.redaction import redact
from core.sync.jobs import SyncContext, SyncError
from core.sync.page_writer import Cursor, CursorAfter, Page

SERVICE = "tautulli"
ID_SERVICE = "plex"
# Tautulli's admin is the Plex server's owner, whom the server itself (and so the Plex
# sync) knows as local account 1 rather than by their plex.tv id: the same person.
PLEX_OWNER_LOCAL_ID = "1"

DataT = TypeVar("DataT")


class _TautulliModel(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # Tautulli writes "" for values it does not have.
        return None if value == "" else value


class TautulliHistoryRow(_TautulliModel):
    user_id: str
    user: str | None = None
    rating_key: str | None = None
    grandparent_rating_key: str | None = None
    media_type: str | None = None
    title: str | None = None
    grandparent_title: str | None = None
    full_title: str | None = None
    year: int | None = None
    media_index: int | None = None
    parent_media_index: int | None = None
    started: int
    stopped: int | None = None
    play_duration: int | None = None
    duration: int | None = None
    percent_complete: float | None = None
    # Tautulli's own verdict: 1 once watched (by default from 85 % of the item, or its
    # credits marker if earlier: plexpy/helpers.check_watched), else how far towards that
    # in quarters (0, 0.25, 0.5, 0.75).
    watched_status: float | None = None
    # Tautulli groups a stream resumed after a stop with the one it continues under the
    # first one's row id; grouped rows list the row ids they hold.
    reference_id: str | None = None
    group_count: int | None = None
    group_ids: str | None = None

    def holds_whole_group(self) -> bool:
        """Whether a grouped row includes its first stream (a window can cut a group's earlier streams off)."""
        if self.reference_id is None or self.group_ids is None:
            return True  # not grouped, or no way to tell
        return self.reference_id in self.group_ids.split(",")


class TautulliUser(_TautulliModel):
    user_id: str
    username: str | None = None
    friendly_name: str | None = None
    email: str | None = None
    is_admin: int | None = None
    is_active: int | None = None
    last_seen: int | None = None


class TautulliSession(_TautulliModel):
    user_id: str | None = None
    rating_key: str | None = None
    bandwidth: int | None = None


class TautulliTable(_TautulliModel, Generic[DataT]):
    records_filtered: int | None = Field(default=None, alias="recordsFiltered")
    data: list[DataT] = Field(default_factory=list)


class TautulliSeries(_TautulliModel):
    name: str
    data: list[int | None] = Field(default_factory=list)


class TautulliPlaysByDate(_TautulliModel):
    categories: list[str] = Field(default_factory=list)
    series: list[TautulliSeries] = Field(default_factory=list)

    def days(self) -> list[tuple[date, int]]:
        """(local day, movie and episode plays): the kinds the sync reads. Empty when Tautulli knows no such library."""
        counted = [s for s in self.series if s.name in ("TV", "Movies")]
        if not counted:
            return []
        days = []
        for index, day in enumerate(self.categories):
            try:
                parsed = date.fromisoformat(day)
            except ValueError:
                continue
            days.append((parsed, sum((s.data[index] or 0) if index < len(s.data) else 0 for s in counted)))
        return days


class TautulliActivity(_TautulliModel):
    sessions: list[TautulliSession] = Field(default_factory=list)


class TautulliResponse(BaseModel, Generic[DataT]):
    result: str
    message: str | None = None
    data: DataT | None = None


class TautulliEnvelope(BaseModel, Generic[DataT]):
    response: TautulliResponse[DataT]


HISTORY = TypeAdapter(TautulliEnvelope[TautulliTable[TautulliHistoryRow]])
USERS = TypeAdapter(TautulliEnvelope[list[TautulliUser]])
USERS_TABLE = TypeAdapter(TautulliEnvelope[TautulliTable[TautulliUser]])
ACTIVITY = TypeAdapter(TautulliEnvelope[TautulliActivity])
PLAYS_BY_DATE = TypeAdapter(TautulliEnvelope[TautulliPlaysByDate])


# The cursor: when nothing last streamed (see adapters/media/history_window.py). Older
# versions kept the UTC day of the newest play read, which it replaces.
ANCHOR = "quiet_at"
LEGACY_CURSOR = "after"
# A first sync in progress: the last local day read whole, and the ``after`` day from
# which plays still streaming when it started must be read again (see _backfill_from).
BACKFILL_THROUGH = "backfill_through"
BACKFILL_FLOOR = "backfill_floor"
# How far back a first sync asks Tautulli for per-day counts; older plays land in the first window.
COUNTED_DAYS = 3650


def _anchor(cursor: dict[str, Any]) -> datetime | None:
    if cursor.get(ANCHOR):
        return datetime.fromisoformat(cursor[ANCHOR])
    if cursor.get(LEGACY_CURSOR):
        return datetime.fromisoformat(cursor[LEGACY_CURSOR]).replace(tzinfo=UTC)
    return None


def play_id(user_id: str, rating_key: str, started: int) -> str:
    return f"{user_id}:{rating_key}:{started}"


# Tautulli's own "Local" user (plays from the server's own network before Plex
# accounts existed): not a person on the server.
LOCAL_USER_ID = "0"


def user_record(user: TautulliUser, last_seen: int | None = None) -> UserRecord | None:
    username = user.username or user.friendly_name
    if not username or user.user_id == LOCAL_USER_ID:
        return None
    return UserRecord(
        service=SERVICE,
        external_id=user.user_id,
        username=username,
        display_name=user.friendly_name if user.friendly_name != username else None,
        email=user.email,
        is_admin=bool(user.is_admin),
        last_login_at=from_unix(last_seen if last_seen is not None else user.last_seen),
        aliases=_plex_ids(user),
        # 0 once the Plex server no longer shares with them (Tautulli keeps them and their history).
        is_active=None if user.is_active is None else bool(user.is_active),
    )


def _plex_ids(user: TautulliUser) -> tuple[tuple[str, str], ...]:
    own = (ID_SERVICE, user.user_id)
    return (own, (ID_SERVICE, PLEX_OWNER_LOCAL_ID)) if user.is_admin else (own,)


def unsanitized(text: str | None) -> str | None:
    """Undo Tautulli's HTML sanitising of text (``<`` and ``>`` only; it never escapes ``&``)."""
    return None if text is None else text.replace("&lt;", "<").replace("&gt;", ">")


def history_media(row: TautulliHistoryRow) -> list[MediaRecord]:
    """The items a play names, so plays match even where the Plex library is not synced."""
    if not row.rating_key or row.media_type not in ("movie", "episode"):
        return []
    records = []
    if row.media_type == "episode" and row.grandparent_rating_key and row.grandparent_title:
        show = unsanitized(row.grandparent_title) or row.grandparent_title
        records.append(MediaRecord(ID_SERVICE, row.grandparent_rating_key, show, "show"))
    records.append(
        MediaRecord(
            service=ID_SERVICE,
            external_id=row.rating_key,
            title=unsanitized(row.title or row.full_title) or row.rating_key,
            media_type="movie" if row.media_type == "movie" else "episode",
            year=row.year,
            parent_external_id=row.grandparent_rating_key if row.media_type == "episode" else None,
            season_number=row.parent_media_index if row.media_type == "episode" else None,
            episode_number=row.media_index if row.media_type == "episode" else None,
        )
    )
    return records


def play_record(row: TautulliHistoryRow) -> PlayRecord | None:
    if not row.rating_key or row.media_type not in ("movie", "episode") or row.user_id == LOCAL_USER_ID:
        return None
    watched = row.play_duration if row.play_duration is not None else row.duration
    percent = None if row.percent_complete is None else min(max(row.percent_complete, 0.0), 100.0)
    return PlayRecord(
        service=SERVICE,
        source_id=play_id(row.user_id, row.rating_key, row.started),
        user_external_id=row.user_id,
        item_external_id=row.rating_key,
        started_at=from_unix(row.started),
        stopped_at=from_unix(row.stopped),
        watched_seconds=max(watched or 0, 0),
        percent_complete=percent,
        service_watched=None if row.watched_status is None else row.watched_status >= 1,
        id_service=ID_SERVICE,
    )


@dataclass(frozen=True, kw_only=True)
class TautulliSettings(ServiceSettings):
    api_key: str
    # Per call. A window of history is one call; on a big server Tautulli takes a while.
    timeout_seconds: float = 120.0
    # History rows per call, and the plays a first sync's date window aims at.
    page_size: int = 10_000
    # Between two calls (only one is ever in flight: Tautulli's SQLite has one writer).
    pause_seconds: float = 0.5


def _names_the_key(message: str) -> bool:
    return "apikey" in message.lower().replace(" ", "")


def is_key_refusal(status: int, body: bytes) -> bool:
    """Tautulli answers a wrong key with HTTP 400 and ``{"response": {"result": "error", "message": "Invalid apikey"}}``."""
    try:
        message = json.loads(body)["response"]["message"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(message, str) and _names_the_key(message)


class TautulliSyncJob:
    name = SERVICE

    def __init__(self, settings: TautulliSettings, clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.interval_seconds = settings.interval_seconds
        # Tests move time; the sync itself only needs now.
        self._clock = clock or partial(datetime.now, UTC)
        self._one_call = asyncio.Lock()
        self._last_call_ended = 0.0

    def client(self) -> ServiceClient:
        return ServiceClient(
            SERVICE,
            f"{self.settings.url.rstrip('/')}",
            params={"apikey": self.settings.api_key},
            timeout_seconds=self.settings.timeout_seconds,
            label="Tautulli",
            is_refusal=is_key_refusal,
            key_setting="MARQUEE_TAUTULLI_API_KEY",
        )

    async def _call(self, client: ServiceClient, adapter: TypeAdapter[Any], cmd: str, **params: Any) -> Any:
        # One call at a time, and a breath between calls, whatever reads ahead.
        async with self._one_call:
            wait = self._last_call_ended + self.settings.pause_seconds - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                envelope = await client.get_model("/api/v2", adapter, {"cmd": cmd, **params})
            finally:
                self._last_call_ended = time.monotonic()
        if envelope.response.result != "success" or envelope.response.data is None:
            message = envelope.response.message or "no data"
            if _names_the_key(message):
                raise SyncError("Tautulli refused the API key")
            # Tautulli's own words, redacted and short: a proxy in between may echo the request.
            raise SyncError(f"Tautulli refused {cmd}: {redact(message)[:200]}")
        return envelope.response.data

    async def run(self, context: SyncContext) -> dict[str, int]:
        counts = {"users": 0, "plays_new": 0, "bandwidth_samples": 0}
        async with self.client() as client:
            users: list[TautulliUser] = await self._call(client, USERS, "get_users")
            last_seen: dict[str, int | None] = {}
            async for rows in self._table(client, USERS_TABLE, "get_users_table", order_column="last_seen"):
                last_seen.update({row.user_id: row.last_seen for row in rows})
            records = (r for r in (user_record(u, last_seen.get(u.user_id)) for u in users) if r is not None)
            counts["users"] = await context.writer.write_users(records)

            # Activity first: the history window may only move past a moment when nothing streamed.
            activity_read_at = self._clock()
            activity: TautulliActivity = await self._call(client, ACTIVITY, "get_activity")
            counts["bandwidth_samples"] = await self._sample_bandwidth(context, activity, activity_read_at)
            floor = first_day(next_anchor(None, activity_read_at, len(activity.sessions)))
            counts["plays_new"] = await self._read_history(client, context, floor)
            anchor = next_anchor(_anchor(context.cursor), activity_read_at, len(activity.sessions))
            await context.writer.save_cursor(partial(_anchored_at, anchor))
        return counts

    async def _windows(self, client: ServiceClient, context: SyncContext, floor: date) -> list[DayWindow]:
        """The date windows to read: one from the anchor on, or a first sync's (the rest of them when resuming)."""
        anchor = _anchor(context.cursor)
        if anchor is not None:
            return [DayWindow(first_day(anchor), None)]
        start = self._backfill_from(context, floor)
        by_date: TautulliPlaysByDate = await self._call(
            client, PLAYS_BY_DATE, "get_plays_by_date", time_range=COUNTED_DAYS, y_axis="plays", grouping=1
        )
        return plan_windows(by_date.days(), self.settings.page_size, start)

    @staticmethod
    def _backfill_from(context: SyncContext, floor: date) -> date | None:
        """Where an interrupted first sync resumes: the day after the last one it read whole.

        A play still streaming when an earlier attempt began is written when it stops,
        dated by its start, possibly on a day already read: from the earliest attempt's
        floor on (the day its incremental read would have started from), days are read again.
        """
        through = context.cursor.get(BACKFILL_THROUGH)
        if not through:
            return None
        earliest = min(floor, date.fromisoformat(context.cursor.get(BACKFILL_FLOOR) or floor.isoformat()))
        return min(date.fromisoformat(through) + timedelta(days=1), earliest)

    async def _read_history(self, client: ServiceClient, context: SyncContext, floor: date) -> int:
        """Read the history window by window (everything on a first sync); returns plays written.

        Plays are read grouped as Tautulli shows them (a stream resumed after a stop is
        part of the play it continues), so Marquee's plays are Tautulli's plays.
        """
        windows = await self._windows(client, context, floor)
        expected = sum(window.plays for window in windows)

        async def pages() -> AsyncIterator[tuple[DayWindow, list[TautulliHistoryRow], bool]]:
            """Every page of every window, each marked whether it ends its window (an empty window yields none)."""
            for window in windows:
                query: dict[str, Any] = {"order_column": "date", "order_dir": "asc", "grouping": 1, **window.query()}
                history = self._table(client, HISTORY, "get_history", **query)
                page = await anext(history, None)
                while page is not None:
                    following = await anext(history, None)
                    yield window, page, following is None
                    page = following

        # One page at a time, unlike Plex: history rows also create their items, and two
        # pages written at once could each create the same new show.
        written = read = 0
        async for window, page, window_done in prefetching(pages()):
            rows = [row if row.holds_whole_group() else await self._whole_group(client, row) for row in page]
            media = [record for row in rows for record in history_media(row)]
            plays = [(row, play) for row in rows if (play := play_record(row)) is not None]
            page_written = await context.writer.write(
                Page(
                    media=sorted(media, key=lambda r: r.media_type == "episode"),
                    plays=[play for _, play in plays],
                    # The same streams may have arrived one by one through the webhook.
                    plays_merging_streams=[play for row, play in plays if (row.group_count or 1) > 1],
                    cursor_after=_backfilled_through(window, window_done, floor, context.cursor),
                )
            )
            written += page_written.plays_written
            read += len(page)
            context.report("play history", read, max(expected, read))
        return written

    async def _whole_group(self, client: ServiceClient, row: TautulliHistoryRow) -> TautulliHistoryRow:
        """The whole play a window cut short: all streams of its group, whatever their day."""
        table = await self._call(
            client, HISTORY, "get_history", grouping=1, reference_id=row.reference_id, start=0, length=1
        )
        return table.data[0] if table.data else row

    def _table(
        self,
        client: ServiceClient,
        adapter: TypeAdapter[Any],
        cmd: str,
        on_page: Callable[[int, int | None], None] | None = None,
        **params: Any,
    ) -> AsyncIterator[list[Any]]:
        async def read_page(start: int) -> tuple[list[Any], int, int | None]:
            table = await self._call(
                client, adapter, cmd, start=start, length=self.settings.page_size, **params
            )
            return table.data, len(table.data), table.records_filtered

        return offset_pages(read_page, self.settings.page_size, on_page=on_page)

    async def _sample_bandwidth(self, context: SyncContext, activity: TautulliActivity, now: datetime) -> int:
        """One row per active stream: its bandwidth over the time since the previous sample (at most one interval)."""
        previous = context.cursor.get("activity_sampled_at")
        seconds = self.interval_seconds
        if previous:
            elapsed = (now - datetime.fromisoformat(previous)).total_seconds()
            seconds = int(min(max(elapsed, 0), self.interval_seconds))
        samples = [
            BandwidthRecord(
                user_external_id=session.user_id,
                item_external_id=session.rating_key,
                # Tautulli reports kbit/s: 125 bytes per kbit.
                bytes_transferred=session.bandwidth * 125 * seconds
                if session.bandwidth is not None
                else None,
                stream_duration_seconds=seconds,
                created_at=now,
            )
            for session in activity.sessions
        ]
        sampled = Page(
            bandwidth=samples, cursor_after=lambda cursor: {**cursor, "activity_sampled_at": now.isoformat()}
        )
        return (await context.writer.write(sampled)).bandwidth_samples


def _backfilled_through(
    window: DayWindow, window_done: bool, floor: date, cursor: Cursor
) -> CursorAfter | None:
    """A first sync's cursor once the last page of a window is written: it resumes the day after.

    Only a first sync (no anchor in ``cursor``) keeps such resume points; other runs move the anchor at their end.
    """
    last_day = window.last
    if not window_done or last_day is None or _anchor(cursor) is not None:
        return None

    def cursor_after(cursor: Cursor) -> Cursor:
        earliest = cursor.get(BACKFILL_FLOOR) or floor.isoformat()
        return {
            **cursor,
            BACKFILL_THROUGH: last_day.isoformat(),
            BACKFILL_FLOOR: min(earliest, floor.isoformat()),
        }

    return cursor_after


def _anchored_at(anchor: datetime, cursor: Cursor) -> Cursor:
    """The cursor of a completed run: read from ``anchor`` on next time; a first sync's resume points go."""
    dropped = (LEGACY_CURSOR, BACKFILL_THROUGH, BACKFILL_FLOOR)
    return {**{k: v for k, v in cursor.items() if k not in dropped}, ANCHOR: anchor.isoformat()}


# --- webhooks ------------------------------------------------------------------

RECOMMENDED_TEMPLATE = """{
  "action": "{action}", "unixtime": "{unixtime}",
  "user_id": "{user_id}", "username": "{username}", "user_email": "{user_email}",
  "rating_key": "{rating_key}", "grandparent_rating_key": "{grandparent_rating_key}",
  "media_type": "{media_type}", "title": "{title}", "episode_name": "{episode_name}",
  "show_name": "{show_name}", "season_num": "{season_num}", "episode_num": "{episode_num}", "year": "{year}",
  "library_name": "{library_name}", "file_size_bytes": "{file_size_bytes}",
  "themoviedb_id": "{themoviedb_id}", "thetvdb_id": "{thetvdb_id}", "imdb_id": "{imdb_id}",
  "started_unixtime": "{started_unixtime}", "stopped_unixtime": "{stopped_unixtime}",
  "stream_duration_sec": "{stream_duration_sec}", "progress_percent": "{progress_percent}"
}"""


class TautulliWebhook(_TautulliModel):
    action: str
    unixtime: int | None = None
    user_id: str | None = None
    username: str | None = None
    user_email: str | None = None
    rating_key: str | None = None
    grandparent_rating_key: str | None = None
    media_type: str | None = None
    title: str | None = None
    episode_name: str | None = None
    show_name: str | None = None
    season_num: int | None = None
    episode_num: int | None = None
    year: int | None = None
    library_name: str | None = None
    file_size_bytes: int | None = None
    themoviedb_id: str | None = None
    thetvdb_id: str | None = None
    imdb_id: str | None = None
    started_unixtime: int | None = None
    stopped_unixtime: int | None = None
    stream_duration_sec: int | None = None
    progress_percent: float | None = None


def _hook_media(hook: TautulliWebhook, event: str) -> list[MediaRecord]:
    if hook.media_type not in ("movie", "episode", "show"):
        return []
    if not hook.rating_key:
        raise PayloadError(f"Tautulli {event} webhook has no rating_key", status=422)
    ids = {"tmdb": hook.themoviedb_id, "tvdb": hook.thetvdb_id, "imdb": hook.imdb_id}
    catalogue = {k: v for k, v in ids.items() if v and v != "0"}
    if hook.media_type != "episode":
        title = hook.title or hook.show_name
        if not title:
            raise PayloadError(f"Tautulli {event} webhook has no title", status=422)
        kind: MediaType = "movie" if hook.media_type == "movie" else "show"
        return [
            MediaRecord(
                ID_SERVICE, hook.rating_key, title, kind, year=hook.year, library_name=hook.library_name,
                file_size_bytes=hook.file_size_bytes if kind == "movie" else None, catalogue_ids=catalogue,
            )
        ]  # fmt: skip
    records = []
    if hook.grandparent_rating_key and hook.show_name:
        records.append(MediaRecord(ID_SERVICE, hook.grandparent_rating_key, hook.show_name, "show"))
    records.append(
        MediaRecord(
            ID_SERVICE, hook.rating_key, hook.episode_name or hook.title or hook.rating_key, "episode",
            year=hook.year, library_name=hook.library_name, file_size_bytes=hook.file_size_bytes,
            parent_external_id=hook.grandparent_rating_key, season_number=hook.season_num,
            episode_number=hook.episode_num,
        )
    )  # fmt: skip
    return records


def parse_webhook(body: bytes, content_type: str, received_at: datetime) -> WebhookEvent:
    """stop and watched record the play; created (recently added) adds the item; other actions are ignored."""
    require_content_type(content_type, ("application/json",), "Tautulli")
    hook = validate(TautulliWebhook, decode_json_object(body, SERVICE), SERVICE)
    event = hook.action
    if event == "created":
        media = _hook_media(hook, event)
        return (
            WebhookEvent(event, media=tuple(media))
            if media
            else WebhookEvent(event, note="not a movie or show")
        )
    if event not in ("stop", "watched"):
        return WebhookEvent(event, note="event type not used")
    media = _hook_media(hook, event)
    if not media or hook.media_type == "show":
        return WebhookEvent(event, note="not a movie or episode")
    if not hook.user_id or not hook.username:
        raise PayloadError(f"Tautulli {event} webhook has no user_id or username", status=422)
    if hook.started_unixtime is None:
        raise PayloadError(f"Tautulli {event} webhook has no started_unixtime", status=422)
    user = UserRecord(
        SERVICE, hook.user_id, hook.username, email=hook.user_email, aliases=((ID_SERVICE, hook.user_id),)
    )
    started_at = from_unix(hook.started_unixtime)
    stopped_at = from_unix(hook.stopped_unixtime) or from_unix(hook.unixtime) or received_at
    watched = hook.stream_duration_sec
    if watched is None and started_at is not None:
        watched = int((stopped_at - started_at) / timedelta(seconds=1))
    play = PlayRecord(
        service=SERVICE,
        source_id=play_id(hook.user_id, hook.rating_key or "", hook.started_unixtime),
        user_external_id=hook.user_id,
        item_external_id=hook.rating_key or "",
        started_at=started_at,
        stopped_at=stopped_at,
        watched_seconds=max(watched or 0, 0),
        percent_complete=None
        if hook.progress_percent is None
        else min(max(hook.progress_percent, 0.0), 100.0),
        # Tautulli sends "watched" once its own rule says so; a "stop" gives no verdict.
        service_watched=True if event == "watched" else None,
        id_service=ID_SERVICE,
    )
    return WebhookEvent(event, users=(user,), media=tuple(media), plays=(play,))
