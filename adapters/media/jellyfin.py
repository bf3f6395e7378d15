"""Jellyfin: users, items (with MediaSources size and provider ids) and each user's UserData; webhooks.

Authentication is ``Authorization: MediaBrowser Token="..."``. Jellyfin keeps no
per-play history in its API, so the sync records each user's counters
(play count, played, last played, rating) and the webhook plugin's
PlaybackStop deliveries record the plays themselves.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from adapters.media.client import ServiceClient
from adapters.media.paging import offset_pages, prefetching
from adapters.media.payload import PayloadError, decode_json_object, require_content_type, validate
from adapters.media.service_settings import ServiceSettings
from adapters.media.timeparse import from_iso
from core.ingest.records import DeletionRecord, MediaRecord, MediaType, PlayRecord, UserItemState, UserRecord
from core.ingest.webhooks import WebhookEvent
from core.sync.jobs import SyncContext
from core.sync.page_writer import Cursor, Page

log = logging.getLogger(__name__)

SERVICE = "jellyfin"
TICKS_PER_SECOND = 10_000_000
_TYPES: dict[str, MediaType] = {"Movie": "movie", "Series": "show", "Episode": "episode"}
_ITEM_FIELDS = "Genres,MediaSources,ProviderIds,DateCreated,Overview,People"


class _JellyfinModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class JellyfinPolicy(_JellyfinModel):
    is_administrator: bool = Field(default=False, alias="IsAdministrator")


class JellyfinUser(_JellyfinModel):
    id: str = Field(alias="Id")
    name: str = Field(alias="Name")
    last_login_date: str | None = Field(default=None, alias="LastLoginDate")
    policy: JellyfinPolicy | None = Field(default=None, alias="Policy")


class JellyfinMediaSource(_JellyfinModel):
    size: int | None = Field(default=None, alias="Size")


class JellyfinUserData(_JellyfinModel):
    play_count: int | None = Field(default=None, alias="PlayCount")
    played: bool | None = Field(default=None, alias="Played")
    last_played_date: str | None = Field(default=None, alias="LastPlayedDate")
    rating: float | None = Field(default=None, alias="Rating")


class JellyfinPerson(_JellyfinModel):
    name: str | None = Field(default=None, alias="Name")
    type: str | None = Field(default=None, alias="Type")


class JellyfinItem(_JellyfinModel):
    id: str = Field(alias="Id")
    name: str = Field(alias="Name")
    type: str = Field(alias="Type")
    production_year: int | None = Field(default=None, alias="ProductionYear")
    genres: list[str] = Field(default_factory=list, alias="Genres")
    community_rating: float | None = Field(default=None, alias="CommunityRating")
    run_time_ticks: int | None = Field(default=None, alias="RunTimeTicks")
    date_created: str | None = Field(default=None, alias="DateCreated")
    media_sources: list[JellyfinMediaSource] = Field(default_factory=list, alias="MediaSources")
    series_id: str | None = Field(default=None, alias="SeriesId")
    parent_index_number: int | None = Field(default=None, alias="ParentIndexNumber")
    index_number: int | None = Field(default=None, alias="IndexNumber")
    provider_ids: dict[str, str | None] = Field(default_factory=dict, alias="ProviderIds")
    user_data: JellyfinUserData | None = Field(default=None, alias="UserData")
    overview: str | None = Field(default=None, alias="Overview")
    people: list[JellyfinPerson] = Field(default_factory=list, alias="People")

    @field_validator("genres", "people", mode="before")
    @classmethod
    def _lists_are_never_null(cls, value: object) -> object:
        return value or []


class JellyfinItemsPage(_JellyfinModel):
    items: list[JellyfinItem] = Field(default_factory=list, alias="Items")
    total_record_count: int | None = Field(default=None, alias="TotalRecordCount")


class JellyfinFolder(_JellyfinModel):
    id: str = Field(alias="Id")
    name: str = Field(alias="Name")


class JellyfinFoldersPage(_JellyfinModel):
    items: list[JellyfinFolder] = Field(default_factory=list, alias="Items")


USERS = TypeAdapter(list[JellyfinUser])
FOLDERS = TypeAdapter(JellyfinFoldersPage)
ITEMS_PAGE = TypeAdapter(JellyfinItemsPage)


def catalogue_ids(provider_ids: dict[str, str | None]) -> dict[str, str]:
    ids = {}
    for key, value in provider_ids.items():
        catalogue = key.lower()
        if catalogue in ("tmdb", "tvdb", "imdb") and value:
            ids[catalogue] = value
    return ids


def media_record(item: JellyfinItem, library_name: str | None) -> MediaRecord | None:
    media_type = _TYPES.get(item.type)
    if media_type is None:
        return None
    sizes = [source.size for source in item.media_sources if source.size is not None]
    episode = media_type == "episode"
    return MediaRecord(
        service=SERVICE,
        external_id=item.id,
        title=item.name,
        media_type=media_type,
        year=item.production_year,
        library_name=library_name,
        genres=tuple(item.genres),
        audience_rating=item.community_rating,
        duration_seconds=item.run_time_ticks // TICKS_PER_SECOND if item.run_time_ticks else None,
        # Several sources are versions of one item; the biggest is what the disk holds at least.
        file_size_bytes=max(sizes) if sizes else None,
        added_at=from_iso(item.date_created),
        parent_external_id=item.series_id if episode else None,
        season_number=item.parent_index_number if episode else None,
        episode_number=item.index_number if episode else None,
        catalogue_ids={} if episode else catalogue_ids(item.provider_ids),
        # What semantic search embeds; an episode is found through its show.
        summary=None if episode else (item.overview or None),
        cast=() if episode else _people(item, "Actor"),
        directors=() if episode else _people(item, "Director"),
        writers=() if episode else _people(item, "Writer"),
    )


def _people(item: JellyfinItem, kind: str) -> tuple[str, ...]:
    return tuple(person.name for person in item.people if person.type == kind and person.name)


def user_record(user: JellyfinUser) -> UserRecord:
    return UserRecord(
        service=SERVICE,
        external_id=user.id,
        username=user.name,
        is_admin=bool(user.policy and user.policy.is_administrator),
        last_login_at=from_iso(user.last_login_date),
    )


def _rating(value: float | None) -> float | None:
    return None if value is None else min(max(value, 0.0), 10.0)


def user_state(user_id: str, item: JellyfinItem) -> UserItemState | None:
    data = item.user_data
    if data is None:
        return None
    return UserItemState(
        service=SERVICE,
        user_external_id=user_id,
        item_external_id=item.id,
        play_count=data.play_count,
        played=data.played,
        last_played_at=from_iso(data.last_played_date),
        rating=_rating(data.rating),
    )


# The cursor of a viewing-data pass in progress: the users read whole so far. Jellyfin has
# no filter on when a user played something (its MinDateLastSaved and MinDateLastSavedForUser
# both compare the item's own DateLastSaved, which playing does not change), so every pass
# reads each user's played items; an interrupted one resumes with the users it had not read.
VIEWING_READ_FOR = "viewing_data_read_for"


@dataclass(frozen=True, kw_only=True)
class JellyfinSettings(ServiceSettings):
    api_key: str
    page_size: int = 1000


class JellyfinSyncJob:
    name = SERVICE

    def __init__(self, settings: JellyfinSettings) -> None:
        self.settings = settings
        self.interval_seconds = settings.interval_seconds

    def client(self) -> ServiceClient:
        return ServiceClient(
            SERVICE,
            self.settings.url,
            headers={
                "Authorization": f'MediaBrowser Token="{self.settings.api_key}"',
                "Accept": "application/json",
            },
            timeout_seconds=self.settings.timeout_seconds,
            key_setting="MARQUEE_JELLYFIN_API_KEY",
        )

    async def run(self, context: SyncContext) -> dict[str, int]:
        counts = {
            "users": 0, "items_new": 0, "items_changed": 0, "items_removed": 0, "items_restored": 0,
            "user_data_changed": 0,
        }  # fmt: skip
        async with self.client() as client:
            users = await client.get_model("/Users", USERS)
            counts["users"] = await context.writer.write_users(map(user_record, users))

            folders = (await client.get_model("/Library/MediaFolders", FOLDERS)).items
            # Every item is read on every pass, so the pass itself knows what the server lists.
            listed: set[str] = set()
            complete = True
            for folder in folders:
                # Shows first, so their episodes find them.
                for types in ("Series", "Movie,Episode"):
                    stage = f"{folder.name} ({'shows' if types == 'Series' else 'movies and episodes'})"
                    query = {
                        "parentId": folder.id,
                        "recursive": "true",
                        "includeItemTypes": types,
                        "fields": _ITEM_FIELDS,
                    }
                    totals: set[int | None] = set()
                    pages = self._pages(client, query, partial(context.report, stage), totals)
                    ids: set[str] = set()
                    async for page in prefetching(pages):
                        ids.update(item.id for item in page)
                        records = [r for r in (media_record(i, folder.name) for i in page) if r is not None]
                        written = await context.writer.write(Page(media=records, listed_by_library=True))
                        counts["items_new"] += written.items_new
                        counts["items_changed"] += written.items_changed
                        counts["items_restored"] += written.items_restored
                    # Offset paging skips an item when one before it is deleted mid-read.
                    complete = complete and len(totals) == 1 and len(ids) == next(iter(totals))
                    listed |= ids
            # Only after every library was read to its end (a failure has raised by now).
            if complete:
                removal = await context.writer.settle_library(SERVICE, listed)
                counts["items_removed"] += removal.removed
                counts["items_restored"] += removal.restored
            else:
                log.warning(
                    "jellyfin: a library changed while it was read; deleted items are checked next sync"
                )
            await context.writer.analyze_after_bulk_writes()

            # A pass stopped part-way (Ctrl-C, a restart) goes on with the users it had not read.
            already_read = set(context.cursor.get(VIEWING_READ_FOR, []))
            for done, user in enumerate(users):
                context.report("viewing data (users)", done, len(users))
                if user.id not in already_read:
                    counts["user_data_changed"] += await self._read_viewing_data(client, context, user.id)
                    already_read.add(user.id)
                    await self._save_viewing_cursor(context, sorted(already_read))
            context.report("viewing data (users)", len(users), len(users))
            await self._save_viewing_cursor(context, None)
        return counts

    async def _read_viewing_data(self, client: ServiceClient, context: SyncContext, user_id: str) -> int:
        """One user's played movies and episodes, page by page; returns the states that changed."""
        query = {
            "userId": user_id,
            "recursive": "true",
            "includeItemTypes": "Movie,Episode",
            "isPlayed": "true",
            "enableUserData": "true",
        }
        changed = 0
        async for page in prefetching(self._pages(client, query)):
            states = [s for s in (user_state(user_id, i) for i in page) if s is not None]
            changed += (await context.writer.write(Page(states=states))).states_changed
        return changed

    @staticmethod
    async def _save_viewing_cursor(context: SyncContext, read_for: list[str] | None) -> None:
        """The users whose viewing data this pass has read (None: the pass is complete)."""
        await context.writer.save_cursor(partial(_with_viewing_read_for, read_for))

    def _pages(
        self,
        client: ServiceClient,
        query: dict[str, str],
        on_page: Callable[[int, int | None], None] | None = None,
        totals: set[int | None] | None = None,
    ) -> AsyncIterator[list[JellyfinItem]]:
        """The pages of an /Items query; ``totals`` collects the TotalRecordCount of every page."""

        async def read_page(start: int) -> tuple[list[JellyfinItem], int, int | None]:
            page = await client.get_model(
                "/Items", ITEMS_PAGE, {**query, "startIndex": start, "limit": self.settings.page_size}
            )
            if totals is not None:
                totals.add(page.total_record_count)
            return page.items, len(page.items), page.total_record_count

        return offset_pages(read_page, self.settings.page_size, on_page=on_page)


def _with_viewing_read_for(read_for: list[str] | None, cursor: Cursor) -> Cursor:
    without = {k: v for k, v in cursor.items() if k != VIEWING_READ_FOR}
    return without if read_for is None else {**without, VIEWING_READ_FOR: read_for}


# --- webhooks ------------------------------------------------------------------
# The plugin sends whatever template it is given; Marquee documents one (see
# RECOMMENDED_TEMPLATE) that names the fields below. Handlebars writes every
# value as an HTML-escaped string.


class JellyfinWebhook(_JellyfinModel):
    notification_type: str = Field(alias="NotificationType")
    timestamp: str | None = Field(default=None, alias="Timestamp")
    user_id: str | None = Field(default=None, alias="UserId")
    username: str | None = Field(default=None, alias="NotificationUsername")
    item_id: str | None = Field(default=None, alias="ItemId")
    item_type: str | None = Field(default=None, alias="ItemType")
    name: str | None = Field(default=None, alias="Name")
    year: str | None = Field(default=None, alias="Year")
    series_id: str | None = Field(default=None, alias="SeriesId")
    series_name: str | None = Field(default=None, alias="SeriesName")
    season_number: str | None = Field(default=None, alias="SeasonNumber")
    episode_number: str | None = Field(default=None, alias="EpisodeNumber")
    run_time_ticks: str | None = Field(default=None, alias="RunTimeTicks")
    playback_position_ticks: str | None = Field(default=None, alias="PlaybackPositionTicks")
    played_to_completion: str | None = Field(default=None, alias="PlayedToCompletion")
    play_count: str | None = Field(default=None, alias="PlayCount")
    played: str | None = Field(default=None, alias="Played")
    last_played_date: str | None = Field(default=None, alias="LastPlayedDate")
    rating: str | None = Field(default=None, alias="Rating")
    provider_tmdb: str | None = Field(default=None, alias="Provider_tmdb")
    provider_tvdb: str | None = Field(default=None, alias="Provider_tvdb")
    provider_imdb: str | None = Field(default=None, alias="Provider_imdb")

    model_config = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)


RECOMMENDED_TEMPLATE = """{
  "NotificationType": "{{NotificationType}}", "Timestamp": "{{UtcTimestamp}}",
  "UserId": "{{UserId}}", "NotificationUsername": "{{NotificationUsername}}",
  "ItemId": "{{ItemId}}", "ItemType": "{{ItemType}}", "Name": "{{Name}}", "Year": "{{Year}}",
  "SeriesId": "{{SeriesId}}", "SeriesName": "{{SeriesName}}",
  "SeasonNumber": "{{SeasonNumber}}", "EpisodeNumber": "{{EpisodeNumber}}",
  "RunTimeTicks": "{{RunTimeTicks}}", "PlaybackPositionTicks": "{{PlaybackPositionTicks}}",
  "PlayedToCompletion": "{{PlayedToCompletion}}", "PlayCount": "{{PlayCount}}", "Played": "{{Played}}",
  "LastPlayedDate": "{{LastPlayedDate}}", "Rating": "{{Rating}}",
  "Provider_tmdb": "{{Provider_tmdb}}", "Provider_tvdb": "{{Provider_tvdb}}", "Provider_imdb": "{{Provider_imdb}}"
}"""


def _text(value: str | None) -> str | None:
    value = html.unescape(value).strip() if value is not None else None
    return value or None


def _int(value: str | None) -> int | None:
    text = _text(value)
    try:
        return int(float(text)) if text is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    text = _text(value)
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _bool(value: str | None) -> bool | None:
    text = _text(value)
    return None if text is None else text.lower() == "true"


def _guid(value: str | None) -> str | None:
    """A Jellyfin id as the API writes it (32 lower-case hex digits); the plugin writes 8-4-4-4-12."""
    text = _text(value)
    return None if text is None else text.replace("-", "").lower()


def _required(value: str | None, field: str, event: str) -> str:
    text = _text(value)
    if text is None:
        raise PayloadError(f"Jellyfin {event} webhook has no {field}", status=422)
    return text


def _hook_item(hook: JellyfinWebhook, event: str) -> MediaRecord | None:
    item_type = _required(hook.item_type, "ItemType", event)
    media_type = _TYPES.get(item_type)
    if media_type is None:
        return None
    episode = media_type == "episode"
    ticks = _int(hook.run_time_ticks)
    ids = {
        "tmdb": _text(hook.provider_tmdb),
        "tvdb": _text(hook.provider_tvdb),
        "imdb": _text(hook.provider_imdb),
    }
    return MediaRecord(
        service=SERVICE,
        external_id=_required(_guid(hook.item_id), "ItemId", event),
        title=_required(hook.name, "Name", event),
        media_type=media_type,
        year=_int(hook.year),
        duration_seconds=ticks // TICKS_PER_SECOND if ticks else None,
        parent_external_id=_guid(hook.series_id) if episode else None,
        season_number=_int(hook.season_number) if episode else None,
        episode_number=_int(hook.episode_number) if episode else None,
        catalogue_ids={} if episode else {k: v for k, v in ids.items() if v},
    )


def _show_of(hook: JellyfinWebhook) -> MediaRecord | None:
    series_id, series_name = _guid(hook.series_id), _text(hook.series_name)
    if series_id is None or series_name is None:
        return None
    return MediaRecord(service=SERVICE, external_id=series_id, title=series_name, media_type="show")


def _hook_user(hook: JellyfinWebhook, event: str) -> UserRecord:
    return UserRecord(
        SERVICE,
        # The id decides who this is; the name only labels a user seen here first.
        _required(_guid(hook.user_id), "UserId", event),
        _required(hook.username, "NotificationUsername", event),
    )


def parse_webhook(body: bytes, content_type: str, received_at: datetime) -> WebhookEvent:
    """ItemAdded adds the item, PlaybackStop records a play, UserDataSaved the user's counters, ItemDeleted a deletion."""
    # The plugin sends its JSON as text/plain unless told otherwise.
    require_content_type(content_type, ("text/plain", "application/json"), "Jellyfin")
    hook = validate(JellyfinWebhook, decode_json_object(body, SERVICE), SERVICE)
    event = hook.notification_type
    if event == "ItemAdded":
        item = _hook_item(hook, event)
        if item is None:
            return WebhookEvent(event, note=f"{hook.item_type} items are not tracked")
        show = _show_of(hook) if item.media_type == "episode" else None
        return WebhookEvent(event, media=(show, item) if show else (item,))
    if event in ("PlaybackStop", "UserDataSaved"):
        item = _hook_item(hook, event)
        if item is None:
            return WebhookEvent(event, note=f"{hook.item_type} items are not tracked")
        user = _hook_user(hook, event)
        show = _show_of(hook) if item.media_type == "episode" else None
        media = (show, item) if show else (item,)
        if event == "UserDataSaved":
            state = UserItemState(
                SERVICE,
                user.external_id or "",
                item.external_id,
                play_count=_int(hook.play_count),
                played=_bool(hook.played),
                last_played_at=from_iso(_text(hook.last_played_date)),
                rating=_rating(_float(hook.rating)),
            )
            return WebhookEvent(event, users=(user,), media=media, states=(state,))
        stopped_at = from_iso(_text(hook.timestamp)) or received_at
        position = _int(hook.playback_position_ticks)
        watched = position // TICKS_PER_SECOND if position else 0
        percent = None
        if item.duration_seconds:
            percent = min(100.0, round(100.0 * watched / item.duration_seconds, 1))
        if _bool(hook.played_to_completion):
            percent = 100.0
        # The same stop delivered twice has the same user, item and time, hence the same id.
        key = hashlib.sha256(
            f"{user.external_id}|{item.external_id}|{stopped_at.isoformat()}".encode()
        ).hexdigest()
        play = PlayRecord(
            service=SERVICE,
            source_id=key[:32],
            user_external_id=user.external_id or "",
            item_external_id=item.external_id,
            started_at=None,
            stopped_at=stopped_at,
            watched_seconds=watched,
            percent_complete=percent,
            # Jellyfin's own verdict: whether this stop marked the item played.
            service_watched=_bool(hook.played_to_completion),
        )
        return WebhookEvent(event, users=(user,), media=media, plays=(play,))
    if event == "ItemDeleted":
        name = _required(hook.name, "Name", event)
        media_type = _TYPES.get(hook.item_type or "")
        ids = {"jellyfin": _guid(hook.item_id)}
        return WebhookEvent(
            event,
            deletions=(
                DeletionRecord(
                    title=name,
                    media_type=media_type,
                    file_size_bytes=None,
                    deleted_at=from_iso(_text(hook.timestamp)) or received_at,
                    reason="deleted in Jellyfin",
                    catalogue_ids={k: v for k, v in ids.items() if v},
                ),
            ),
        )
    return WebhookEvent(event, note="event type not used")
