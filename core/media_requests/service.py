"""What core needs from Overseerr/Jellyseerr to request a title, independent of HTTP.

The adapter (``adapters.media.overseerr.SeerrRequestClient``) implements
``RequestService``; core never sees a URL, a key or a status code, only these
types and two exceptions whose messages are safe to show a member.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from core.errors import UserFacingError

MediaKind = Literal["movie", "tv"]
Availability = Literal["unknown", "pending", "processing", "partially_available", "available"]


@dataclass(frozen=True)
class Match:
    """One search result. ``requested_by`` holds the Overseerr user ids of the open requests for it."""

    tmdb_id: int
    kind: MediaKind
    title: str
    year: int | None = None
    overview: str = ""
    availability: Availability = "unknown"
    requested_by: tuple[int, ...] = ()


@dataclass(frozen=True)
class Season:
    number: int
    availability: Availability = "unknown"


@dataclass(frozen=True)
class QuotaPart:
    limit: int | None
    remaining: int | None
    days: int | None
    restricted: bool


@dataclass(frozen=True)
class Quota:
    movie: QuotaPart
    tv: QuotaPart


@dataclass(frozen=True)
class Created:
    request_id: int
    # Overseerr's request status: 1 pending approval, 2 approved (auto-approval), ...
    approved: bool
    seasons: tuple[int, ...] = field(default_factory=tuple)


class ServiceUnavailable(UserFacingError):
    """Overseerr could not be reached or answered nonsense; the reason is one sentence for the member."""


class RequestRefused(UserFacingError):
    """Overseerr refused the request; ``reason`` is what it said (quota, permission, duplicate)."""

    def __init__(
        self, kind: Literal["duplicate", "quota", "permission", "nothing_to_request", "other"], reason: str
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class RequestService(Protocol):
    """Overseerr or Jellyseerr as the request flow uses it; every call acts with the admin's API key."""

    @property
    def service(self) -> str:
        """'overseerr' or 'jellyseerr': the service of the member's id in user_external_ids."""
        ...

    async def search(self, query: str) -> list[Match]: ...

    async def seasons(self, tmdb_id: int) -> list[Season]: ...

    async def quota(self, seerr_user_id: int) -> Quota: ...

    async def create(
        self, seerr_user_id: int, match: Match, seasons: list[int] | Literal["all"] | None
    ) -> Created:
        """POST the request with ``userId`` = ``seerr_user_id`` so Overseerr applies that user's rights."""
        ...
