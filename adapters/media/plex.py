"""Plex Media Server: accounts, libraries (movies, shows, episodes), play history, user ratings, webhooks.

Requests ask for JSON (``Accept: application/json``) with ``X-Plex-Token``; the
JSON carries the same attribute names as the XML samples of the contract
(``ratingKey``, ``viewedAt``, ``accountID`` ...). Pages are read with
``X-Plex-Container-Start``/``X-Plex-Container-Size``; history is incremental by
``viewedAt``.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Required

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic validates only this TypedDict before Python 3.12

from adapters.media.client import ServiceClient
from adapters.media.paging import offset_pages, prefetching
from adapters.media.payload import PayloadError, decode_json_object, media_type_of, validate
from adapters.media.plex_windows import ViewedWindow, plan_windows
from adapters.media.service_settings import ServiceSettings
from adapters.media.timeparse import from_unix
from core.ingest.records import MediaRecord, MediaType, PlayRecord, UserItemState, UserRecord
from core.ingest.webhooks import WebhookEvent
from core.sync.jobs import SyncContext
from core.sync.page_writer import Cursor, Page, PageCounts

log = logging.getLogger(__name__)

SERVICE = "plex"
# Plex's numeric library types for /library/sections/{key}/all?type=
PLEX_TYPE_MOVIE, PLEX_TYPE_SHOW, PLEX_TYPE_EPISODE = 1, 2, 4
KIND_NAMES = {PLEX_TYPE_MOVIE: "movies", PLEX_TYPE_SHOW: "shows", PLEX_TYPE_EPISODE: "episodes"}
# The server owner is local account 1; the token's own ratings are theirs.
OWNER_ACCOUNT_ID = "1"


class _PlexModel(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)


# Library items and history entries are TypedDicts, not models: a first sync
# parses 200,000 items and a million history entries, and validating into dicts
# costs a third of building model instances (the keys are Plex's own).
_WIRE = ConfigDict(coerce_numbers_to_str=True)


@with_config(_WIRE)
class PlexTag(TypedDict):
    tag: str


@with_config(_WIRE)
class PlexGuid(TypedDict):
    id: str


class PlexPart(TypedDict, total=False):
    size: int | None


class PlexMedia(TypedDict, total=False):
    Part: list[PlexPart]


@with_config(_WIRE)
class PlexItem(TypedDict, total=False):
    ratingKey: Required[str]
    title: Required[str]
    type: Required[str]
    year: int | None
    Genre: list[PlexTag]
    audienceRating: float | None
    duration: int | None  # milliseconds
    addedAt: int | None
    Media: list[PlexMedia]
    guid: str | None
    Guid: list[PlexGuid]
    grandparentRatingKey: str | None
    grandparentTitle: str | None
    parentIndex: int | None
    index: int | None
    userRating: float | None
    librarySectionTitle: str | None
    summary: str | None
    Role: list[PlexTag]
    Director: list[PlexTag]
    Writer: list[PlexTag]


@with_config(_WIRE)
class PlexKey(TypedDict):
    ratingKey: str


@with_config(_WIRE)
class PlexHistoryEntry(TypedDict, total=False):
    historyKey: Required[str]
    ratingKey: str | None
    accountID: Required[str]
    viewedAt: Required[int]


class PlexAccount(_PlexModel):
    id: str
    name: str = ""


class PlexSection(_PlexModel):
    key: str
    title: str
    type: str


class _ItemsContainer(_PlexModel):
    size: int = 0
    total_size: int | None = Field(default=None, alias="totalSize")
    library_section_title: str | None = Field(default=None, alias="librarySectionTitle")
    metadata: list[PlexItem] = Field(default_factory=list, alias="Metadata")


class _KeysContainer(_PlexModel):
    total_size: int | None = Field(default=None, alias="totalSize")
    metadata: list[PlexKey] = Field(default_factory=list, alias="Metadata")


class _HistoryContainer(_PlexModel):
    size: int = 0
    total_size: int | None = Field(default=None, alias="totalSize")
    metadata: list[PlexHistoryEntry] = Field(default_factory=list, alias="Metadata")


class _AccountsContainer(_PlexModel):
    accounts: list[PlexAccount] = Field(default_factory=list, alias="Account")


class _SectionsContainer(_PlexModel):
    sections: list[PlexSection] = Field(default_factory=list, alias="Directory")


class _ItemsPage(_PlexModel):
    media_container: _ItemsContainer = Field(alias="MediaContainer")


class _KeysPage(_PlexModel):
    media_container: _KeysContainer = Field(alias="MediaContainer")


class _HistoryPage(_PlexModel):
    media_container: _HistoryContainer = Field(alias="MediaContainer")


class _AccountsPage(_PlexModel):
    media_container: _AccountsContainer = Field(alias="MediaContainer")


class _SectionsPage(_PlexModel):
    media_container: _SectionsContainer = Field(alias="MediaContainer")


ITEMS_PAGE = TypeAdapter(_ItemsPage)
KEYS_PAGE = TypeAdapter(_KeysPage)
HISTORY_PAGE = TypeAdapter(_HistoryPage)
ACCOUNTS = TypeAdapter(_AccountsPage)
SECTIONS = TypeAdapter(_SectionsPage)

# Modern agents list ids as Guid entries ("tmdb://603"); legacy agents put one in guid.
_LEGACY_AGENTS = {"imdb": "imdb", "themoviedb": "tmdb", "thetvdb": "tvdb", "tmdb": "tmdb", "tvdb": "tvdb"}
_LEGACY_GUID = re.compile(r"^com\.plexapp\.agents\.(?P<agent>[a-z]+)://(?P<id>[^/?]+)")


def catalogue_ids(item: PlexItem) -> dict[str, str]:
    ids: dict[str, str] = {}
    for guid in item.get("Guid") or ():
        scheme, _, value = guid["id"].partition("://")
        if scheme in ("tmdb", "tvdb", "imdb") and value:
            ids[scheme] = value
    legacy = item.get("guid")
    if legacy and item["type"] in ("movie", "show"):
        match = _LEGACY_GUID.match(legacy)
        if match and match["agent"] in _LEGACY_AGENTS:
            ids.setdefault(_LEGACY_AGENTS[match["agent"]], match["id"])
    return ids


def media_record(item: PlexItem, library_name: str | None) -> MediaRecord | None:
    """The ingest record of a movie, show or episode; None for anything else (music, photos)."""
    kind = item["type"]
    if kind not in ("movie", "show", "episode"):
        return None
    media_type: MediaType = kind  # type: ignore[assignment]
    sizes = [
        size
        for media in item.get("Media") or ()
        for part in media.get("Part") or ()
        if (size := part.get("size")) is not None
    ]
    episode = media_type == "episode"
    duration_ms = item.get("duration")
    return MediaRecord(
        service=SERVICE,
        external_id=item["ratingKey"],
        title=item["title"],
        media_type=media_type,
        year=item.get("year"),
        library_name=library_name or item.get("librarySectionTitle"),
        genres=tuple(tag["tag"] for tag in item.get("Genre") or ()),
        audience_rating=item.get("audienceRating"),
        duration_seconds=duration_ms // 1000 if duration_ms is not None else None,
        file_size_bytes=sum(sizes) if sizes else None,
        added_at=from_unix(item.get("addedAt")),
        parent_external_id=item.get("grandparentRatingKey") if episode else None,
        season_number=item.get("parentIndex") if episode else None,
        episode_number=item.get("index") if episode else None,
        catalogue_ids=catalogue_ids(item),
        # What semantic search embeds; an episode is found through its show.
        summary=None if episode else (item.get("summary") or None),
        cast=() if episode else _tags(item.get("Role")),
        directors=() if episode else _tags(item.get("Director")),
        writers=() if episode else _tags(item.get("Writer")),
    )


def _tags(tags: list[PlexTag] | None) -> tuple[str, ...]:
    return tuple(tag["tag"] for tag in tags or () if tag.get("tag"))


def user_record(account: PlexAccount) -> UserRecord | None:
    # Account 0 is the server itself and has no name.
    if not account.name or account.id == "0":
        return None
    return UserRecord(
        service=SERVICE,
        external_id=account.id,
        username=account.name,
        is_admin=account.id == OWNER_ACCOUNT_ID,
    )


def play_record(entry: PlexHistoryEntry) -> PlayRecord | None:
    """A history entry is a completed view at ``viewedAt``; entries of deleted items have no ratingKey."""
    rating_key = entry.get("ratingKey")
    if rating_key is None:
        return None
    return PlayRecord(
        service=SERVICE,
        source_id=entry["historyKey"].rsplit("/", 1)[-1],
        user_external_id=entry["accountID"],
        item_external_id=rating_key,
        started_at=None,
        stopped_at=from_unix(entry["viewedAt"]),
        # Plex lists a view in its history once it marked the item watched.
        service_watched=True,
    )


def _kinds(section: PlexSection) -> tuple[int, ...]:
    """The kinds of item Marquee reads from a section: none from music or photo sections."""
    return {"movie": (PLEX_TYPE_MOVIE,), "show": (PLEX_TYPE_SHOW, PLEX_TYPE_EPISODE)}.get(section.type, ())


HISTORY_OVERLAP_SECONDS = 2 * 86400

# The fingerprints of the library pages last written: a page that comes back byte
# for byte the same is skipped, which makes a no-change re-sync of a large
# library cheap. The version changes whenever what is taken from a page changes.
PAGES_KEY = "library_pages"
# Pages written at once. Each waits on the database most of its time, so three
# keep two cores busy while the next page is fetched and parsed.
PAGE_WRITERS = 3
HISTORY_PATH = "/status/sessions/history/all"
# Pages per window of a large history read (see adapters/media/plex_windows.py).
WINDOW_PAGES = 4
FINGERPRINT_VERSION = "v1"


@dataclass(frozen=True)
class _ItemsPageRead:
    key: str
    seen: dict[str, Any]
    # None when the page is unchanged since the last sync.
    items: list[PlexItem] | None


@dataclass(frozen=True, kw_only=True)
class PlexSettings(ServiceSettings):
    token: str
    page_size: int = 5000
    sync_history: bool = True
    retry_delay_seconds: float = 1.0


class PlexSyncJob:
    name = SERVICE

    def __init__(self, settings: PlexSettings) -> None:
        self.settings = settings
        self.interval_seconds = settings.interval_seconds

    def client(self) -> ServiceClient:
        return ServiceClient(
            SERVICE,
            self.settings.url,
            headers={"X-Plex-Token": self.settings.token, "Accept": "application/json"},
            timeout_seconds=self.settings.timeout_seconds,
            key_setting="MARQUEE_PLEX_TOKEN",
            retry_delay_seconds=self.settings.retry_delay_seconds,
            label="Plex",
            credential="token",
        )

    async def run(self, context: SyncContext) -> dict[str, int]:
        counts = {
            "users": 0, "items_new": 0, "items_changed": 0, "items_removed": 0, "items_restored": 0,
            "plays_new": 0, "ratings_changed": 0,
        }  # fmt: skip
        async with self.client() as client:
            accounts = await client.get_model("/accounts", ACCOUNTS)
            users = (r for r in map(user_record, accounts.media_container.accounts) if r is not None)
            counts["users"] = await context.writer.write_users(users)

            sections = (await client.get_model("/library/sections/all", SECTIONS)).media_container.sections
            ratings: list[UserItemState] = []
            # What each (section, kind) listing says it holds, for the deleted-items check.
            totals: dict[tuple[str, int], int | None] = {}
            library = PageCounts()
            for section in sections:
                # One kind is written completely before the next: episodes need their shows.
                for kind in _kinds(section):
                    library.add(await self._sync_items(client, section, kind, context, ratings, totals))
            # Only here, after every section was read to its end: a pass that failed midway
            # has raised, and an item it did not reach is never taken for deleted.
            removed, restored = await self._settle_removed(client, sections, totals, context)
            counts["items_new"] = library.items_new
            counts["items_changed"] = library.items_changed
            counts["items_removed"] = removed
            counts["items_restored"] = library.items_restored + restored
            await context.writer.analyze_after_bulk_writes()
            counts["ratings_changed"] = (await context.writer.write(Page(states=ratings))).states_changed

            if self.settings.sync_history:
                counts["plays_new"] = await self._sync_history(client, context)
        return counts

    async def _sync_items(
        self,
        client: ServiceClient,
        section: PlexSection,
        kind: int,
        context: SyncContext,
        ratings: list[UserItemState],
        totals: dict[tuple[str, int], int | None],
    ) -> PageCounts:
        """Write the changed pages of one kind of one section, PAGE_WRITERS at a time."""
        reads = prefetching(self._items(client, section, kind, context, totals))
        return await context.writer.write_in_order(
            _changed_item_pages(reads, section, ratings), writers=PAGE_WRITERS
        )

    def _items(
        self,
        client: ServiceClient,
        section: PlexSection,
        kind: int,
        context: SyncContext,
        totals: dict[tuple[str, int], int | None],
    ) -> AsyncIterator[_ItemsPageRead]:
        known: dict[str, dict[str, Any]] = context.cursor.get(PAGES_KEY, {})
        path = f"/library/sections/{section.key}/all"
        stage = f"{section.title} ({KIND_NAMES.get(kind, kind)})"

        async def read_page(start: int) -> tuple[_ItemsPageRead, int, int | None]:
            body = await client.get_bytes(
                path,
                {
                    "type": kind,
                    "includeGuids": 1,
                    "X-Plex-Container-Start": start,
                    "X-Plex-Container-Size": self.settings.page_size,
                },
            )
            key = f"{FINGERPRINT_VERSION}:{section.key}:{kind}:{start}:{self.settings.page_size}"
            fingerprint = hashlib.sha256(body).hexdigest()
            previous = known.get(key)
            if previous is not None and previous.get("sha256") == fingerprint:
                count, total, items = int(previous["count"]), previous.get("total"), None
            else:
                page = client.parse(path, ITEMS_PAGE, body)
                items = page.media_container.metadata
                count, total = len(items), page.media_container.total_size
            totals[(section.key, kind)] = total
            return (
                _ItemsPageRead(key, {"sha256": fingerprint, "count": count, "total": total}, items),
                count,
                total,
            )

        return offset_pages(read_page, self.settings.page_size, on_page=partial(context.report, stage))

    async def _settle_removed(
        self,
        client: ServiceClient,
        sections: list[PlexSection],
        totals: dict[tuple[str, int], int | None],
        context: SyncContext,
    ) -> tuple[int, int]:
        """Mark what Plex no longer lists removed, and clear what it lists again: (removed, restored).

        Unchanged pages are not parsed, so the pass itself does not know every key.
        Plex's totals do: when they add up to what Marquee believes is there, nothing
        was deleted (or came back). Otherwise the keys are read again, without
        anything else, over every section: a deleted section, or an item another
        server files under another library name, is found the same way.
        """
        if any(total is None for total in totals.values()):
            return 0, 0  # a server that reports no totals: no cheap check, no guess
        present = await context.writer.count_present_links(SERVICE)
        if present == sum(total or 0 for total in totals.values()):
            return 0, 0
        listed: set[str] = set()
        for section in sections:
            for kind in _kinds(section):
                keys = await self._keys(client, section, kind, context)
                if keys is None:
                    log.warning(
                        "plex: %s changed while its keys were read; deleted items are checked next sync",
                        section.title,
                    )
                    return 0, 0
                listed.update(keys)
        result = await context.writer.settle_library(SERVICE, listed)
        return result.removed, result.restored

    async def _keys(
        self, client: ServiceClient, section: PlexSection, kind: int, context: SyncContext
    ) -> set[str] | None:
        """Every ratingKey of one kind in one section; None when the listing changed while it was read."""
        path = f"/library/sections/{section.key}/all"
        reported: set[int | None] = set()

        async def read_page(start: int) -> tuple[list[PlexKey], int, int | None]:
            page = await client.get_model(
                path,
                KEYS_PAGE,
                {
                    "type": kind,
                    "includeGuids": 0,
                    "X-Plex-Container-Start": start,
                    "X-Plex-Container-Size": self.settings.page_size,
                },
            )
            reported.add(page.media_container.total_size)
            keys = page.media_container.metadata
            return keys, len(keys), page.media_container.total_size

        stage = f"{section.title} ({KIND_NAMES.get(kind, kind)}, checking for deleted items)"
        keys: set[str] = set()
        async for page in offset_pages(
            read_page, self.settings.page_size, on_page=partial(context.report, stage)
        ):
            keys.update(entry["ratingKey"] for entry in page)
        # Offset paging skips an item when one before it is deleted mid-read: that item
        # would be taken for deleted. Only a listing whose size held still is trusted.
        if len(reported) != 1 or len(keys) != next(iter(reported)):
            return None
        return keys

    async def _probe(self, client: ServiceClient, since: int, order: str) -> tuple[int | None, int]:
        """The first view from ``since`` on in ``order`` ("asc": the oldest), and how many there are."""
        page = await client.get_model(
            HISTORY_PATH,
            HISTORY_PAGE,
            {"sort": f"viewedAt:{order}", **ViewedWindow(since).query(),
             "X-Plex-Container-Start": 0, "X-Plex-Container-Size": 1},
        )  # fmt: skip
        entries = page.media_container.metadata
        total = page.media_container.total_size
        return (entries[0]["viewedAt"] if entries else None), (total if total is not None else len(entries))

    async def _windows(self, client: ServiceClient, since: int) -> tuple[list[ViewedWindow], int]:
        """The windows of time to read from ``since`` on (one, unless there is more than a window's worth)."""
        per_window = self.settings.page_size * WINDOW_PAGES
        oldest, total = await self._probe(client, since, "asc")
        if oldest is None or total <= per_window:
            return [ViewedWindow(since)], total
        newest, _ = await self._probe(client, since, "desc")
        return plan_windows(since, oldest, newest if newest is not None else oldest, total, per_window), total

    async def _history(
        self, client: ServiceClient, since: int, context: SyncContext
    ) -> AsyncIterator[list[PlexHistoryEntry]]:
        """Every view from ``since`` on, oldest first, window by window, each window paged."""
        windows, total = await self._windows(client, since)
        read = 0
        for window in windows:

            async def read_page(
                start: int, window: ViewedWindow = window
            ) -> tuple[list[PlexHistoryEntry], int, int | None]:
                page = await client.get_model(
                    HISTORY_PATH,
                    HISTORY_PAGE,
                    {"sort": "viewedAt:asc", **window.query(),
                     "X-Plex-Container-Start": start, "X-Plex-Container-Size": self.settings.page_size},
                )  # fmt: skip
                entries = page.media_container.metadata
                return entries, len(entries), page.media_container.total_size

            async for entries in offset_pages(read_page, self.settings.page_size):
                read += len(entries)
                context.report("play history", read, max(total, read))
                yield entries

    async def _sync_history(self, client: ServiceClient, context: SyncContext) -> int:
        """Write history pages PAGE_WRITERS at a time; the cursor advances in page order, after each commit."""
        newest_seen = int(context.cursor.get("viewed_at", 0))
        # Plex dates a view when it records it, but a client that played offline (a synced
        # download) reports its views later with their own, older viewedAt: read the last
        # HISTORY_OVERLAP again every time. Entries are keyed by historyKey, so rereads are harmless.
        since = max(newest_seen - HISTORY_OVERLAP_SECONDS, 0) if newest_seen else 0
        pages = (
            _history_page(entries, newest_seen)
            async for entries in prefetching(self._history(client, since, context))
        )
        return (await context.writer.write_in_order(pages, writers=PAGE_WRITERS)).plays_written


async def _changed_item_pages(
    reads: AsyncIterator[_ItemsPageRead], section: PlexSection, ratings: list[UserItemState]
) -> AsyncIterator[Page]:
    """The pages that changed since the last sync, mapped; their ratings go to ``ratings``."""
    # Offset paging lists an item twice when the library changes while it is read.
    # Written sequentially, the repeat would find the item; written at the same
    # time as its first page, it would create it again. So only its first page writes it.
    claimed: set[str] = set()
    async for read in reads:
        if read.items is None:
            continue  # byte for byte what the last sync wrote
        fresh = [i for i in read.items if i["ratingKey"] not in claimed]
        claimed.update(i["ratingKey"] for i in fresh)
        ratings.extend(
            UserItemState(SERVICE, OWNER_ACCOUNT_ID, i["ratingKey"], rating=rating)
            for i in fresh
            if (rating := i.get("userRating")) is not None
        )
        yield Page(
            media=[r for r in (media_record(i, section.title) for i in fresh) if r is not None],
            listed_by_library=True,
            cursor_after=partial(_with_fingerprint, read.key, read.seen),
        )


def _with_fingerprint(key: str, seen: dict[str, Any], cursor: Cursor) -> Cursor:
    """The cursor once the page ``key`` is written: an unchanged page is skipped next sync."""
    return {**cursor, PAGES_KEY: {**cursor.get(PAGES_KEY, {}), key: seen}}


def _history_page(entries: list[PlexHistoryEntry], newest_seen: int) -> Page:
    # Views at exactly the cursor second are read again next time.
    viewed_at = max(max(entry["viewedAt"] for entry in entries), newest_seen)
    return Page(
        plays=[p for p in map(play_record, entries) if p is not None],
        cursor_after=lambda cursor: {**cursor, "viewed_at": viewed_at},
    )


# --- webhooks ------------------------------------------------------------------


class PlexWebhookAccount(_PlexModel):
    id: str
    title: str


class PlexWebhook(_PlexModel):
    event: str
    account: PlexWebhookAccount | None = Field(default=None, alias="Account")
    metadata: PlexItem | None = Field(default=None, alias="Metadata")


MAX_MULTIPART_PARTS = 4
_NESTED_MULTIPART = re.compile(rb"(?im)^content-type:\s*multipart/")


def extract_multipart_payload(body: bytes, content_type: str) -> bytes:
    """The ``payload`` field of Plex's multipart/form-data delivery (a thumbnail part may follow)."""
    if media_type_of(content_type) != "multipart/form-data" or "boundary=" not in content_type:
        raise PayloadError("Plex webhooks must be multipart/form-data with a 'payload' field", status=415)
    # Plex sends a payload part and at most a thumbnail, never a nested multipart: anything more
    # is refused before the email parser (which recurses into nested parts) sees it.
    boundary = content_type.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
    if not boundary or body.count(b"--" + boundary.encode("utf-8", "replace")) > MAX_MULTIPART_PARTS + 1:
        raise PayloadError(f"Plex webhook has more than {MAX_MULTIPART_PARTS} parts")
    if _NESTED_MULTIPART.search(body):
        raise PayloadError("Plex webhook parts must not be multipart themselves")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise PayloadError("Plex webhook body is not valid multipart/form-data")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "payload":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload
    raise PayloadError("Plex webhook has no 'payload' field", status=422)


def _show_of(item: PlexItem) -> MediaRecord | None:
    key, title = item.get("grandparentRatingKey"), item.get("grandparentTitle")
    if not key or not title:
        return None
    return MediaRecord(
        service=SERVICE,
        external_id=key,
        title=title,
        media_type="show",
        library_name=item.get("librarySectionTitle"),
    )


def parse_webhook(body: bytes, content_type: str, received_at: datetime) -> WebhookEvent:
    """library.new adds the item, media.rate records the rating; plays come from the history sync."""
    hook = validate(
        PlexWebhook, decode_json_object(extract_multipart_payload(body, content_type), SERVICE), SERVICE
    )
    event = hook.event
    user = (
        UserRecord(SERVICE, hook.account.id, hook.account.title, is_admin=hook.account.id == OWNER_ACCOUNT_ID)
        if hook.account is not None and hook.account.title
        else None
    )
    if event == "library.new":
        if hook.metadata is None:
            raise PayloadError("Plex library.new webhook has no Metadata", status=422)
        record = media_record(hook.metadata, None)
        if record is None:
            return WebhookEvent(event, note=f"{hook.metadata['type']} items are not tracked")
        # A new episode names its show: the show is known (and announced by name) before any library sync.
        show = _show_of(hook.metadata) if record.media_type == "episode" else None
        return WebhookEvent(event, media=(show, record) if show else (record,))
    if event == "media.rate":
        if hook.metadata is None or user is None:
            raise PayloadError("Plex media.rate webhook needs Account and Metadata", status=422)
        record = media_record(hook.metadata, None)
        if record is None:
            return WebhookEvent(event, note=f"{hook.metadata['type']} items are not tracked")
        rating = hook.metadata.get("userRating")
        state = UserItemState(SERVICE, user.external_id or "", record.external_id, rating=rating)
        return WebhookEvent(event, users=(user,), media=(record,), states=(state,))
    return WebhookEvent(event, note="plays are taken from Plex's history by the sync job")
