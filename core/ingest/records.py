"""What the media adapters hand to core: one dataclass per kind of fact, already parsed and typed.

Every record names the service it came from and that service's own id, so the
ingest functions can match it to the one row it belongs to however many
services report it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

MediaType = Literal["movie", "show", "episode"]
RequestStatus = Literal["pending", "approved", "declined", "available", "failed"]
# The catalogue ids an item can be matched by across services.
CATALOGUES = ("tmdb", "tvdb", "imdb")


@dataclass(frozen=True)
class UserRecord:
    service: str
    # The service's own id for the person; with the aliases, the only thing that matches
    # a record to a users row (names and e-mail addresses are user-edited and match nothing).
    external_id: str | None
    username: str
    display_name: str | None = None
    email: str | None = None
    is_admin: bool = False
    last_login_at: datetime | None = None
    # The same person's id in other services that share this id space
    # (Tautulli reports Plex account ids), as (service, id) pairs.
    aliases: tuple[tuple[str, str], ...] = ()
    discord_id: str | None = None
    # False when the service says this person was removed from the server; None when it does not say.
    is_active: bool | None = None


@dataclass(frozen=True)
class MediaRecord:
    service: str
    external_id: str
    title: str
    media_type: MediaType
    year: int | None = None
    library_name: str | None = None
    genres: tuple[str, ...] = ()
    audience_rating: float | None = None
    duration_seconds: int | None = None
    file_size_bytes: int | None = None
    added_at: datetime | None = None
    # For episodes: the show's id in the same service, and the episode's place in it.
    parent_external_id: str | None = None
    season_number: int | None = None
    episode_number: int | None = None
    # Catalogue ids: {"tmdb": "1399", "imdb": "tt0944947"}.
    catalogue_ids: dict[str, str] = field(default_factory=dict)
    # What semantic search embeds (movies and shows): the overview, cast and crew, as the service lists them.
    summary: str | None = None
    cast: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlayRecord:
    """One viewing, identified by the service's id for it so a re-sync never duplicates it."""

    service: str
    source_id: str
    user_external_id: str
    item_external_id: str
    # A service that only says when a view ended (Plex history) leaves started_at
    # and watched_seconds out: they become stopped_at minus the item's duration.
    started_at: datetime | None
    stopped_at: datetime | None = None
    watched_seconds: int | None = None
    percent_complete: float | None = None
    # The service's own verdict on whether this view was finished (Tautulli's watched_status,
    # Plex's history, Jellyfin's PlayedToCompletion); None when it does not say, and then
    # MARQUEE_WATCHED_PERCENT of percent_complete decides.
    service_watched: bool | None = None
    # Which service's id space the user and item ids belong to (Tautulli uses Plex's).
    id_service: str | None = None

    @property
    def lookup_service(self) -> str:
        return self.id_service or self.service


@dataclass(frozen=True)
class UserItemState:
    """A service's own per-user counters for an item (Jellyfin UserData, Plex user ratings)."""

    service: str
    user_external_id: str
    item_external_id: str
    play_count: int | None = None
    played: bool | None = None
    last_played_at: datetime | None = None
    rating: float | None = None


@dataclass(frozen=True)
class RequestRecord:
    service: str
    source_request_id: str
    title: str
    media_type: Literal["movie", "show"]
    # None when the source does not identify the requester by an id (Overseerr's webhook):
    # the request then keeps the requester a sync learned, or waits for the next sync.
    requester: UserRecord | None
    status: RequestStatus
    requested_at: datetime
    approved_at: datetime | None = None
    approved_by: UserRecord | None = None
    declined_at: datetime | None = None
    available_at: datetime | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None


@dataclass(frozen=True)
class DeletionRecord:
    title: str
    media_type: MediaType | None
    file_size_bytes: int | None
    deleted_at: datetime
    reason: str | None = None
    catalogue_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BandwidthRecord:
    user_external_id: str | None
    item_external_id: str | None
    bytes_transferred: int | None
    stream_duration_seconds: int | None
    created_at: datetime
    id_service: str = "plex"
