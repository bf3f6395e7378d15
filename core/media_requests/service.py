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
    # The 4K version's own availability (Overseerr's ``mediaInfo.status4k``).
    availability_4k: Availability = "unknown"


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


Decision = Literal["approve", "decline"]

# Overseerr's permission bits (server/lib/permissions.ts); ADMIN holds every permission.
PERMISSION_ADMIN = 2
PERMISSION_MANAGE_REQUESTS = 16
PERMISSION_REQUEST_4K = 1024
PERMISSION_REQUEST_4K_MOVIE = 2048
PERMISSION_REQUEST_4K_TV = 4096


def has_permission(permissions: int, *wanted: int) -> bool:
    """Overseerr's own rule: ADMIN has everything, otherwise any one of ``wanted`` will do."""
    return bool(permissions & PERMISSION_ADMIN) or any(permissions & bit for bit in wanted)


@dataclass(frozen=True)
class OpenRequest:
    """A request waiting for an admin, as Overseerr lists it (``GET /request?filter=pending``)."""

    request_id: int
    kind: MediaKind
    tmdb_id: int
    title: str
    year: int | None
    requested_by: int | None  # the requester's Overseerr user id
    seasons: tuple[int, ...] = ()
    is_4k: bool = False


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
    """Overseerr or Jellyseerr as the request flow uses it.

    Every call carries the API key and names the Overseerr user it acts as (``X-API-User``): the member
    for their own search, quota and request, the admin for listing and deciding. Overseerr then applies
    that user's own permissions, auto-approval and quota.
    """

    @property
    def service(self) -> str:
        """'overseerr' or 'jellyseerr': the service of the member's id in user_external_ids."""
        ...

    async def search(self, query: str) -> list[Match]: ...

    async def seasons(self, tmdb_id: int) -> list[Season]: ...

    async def quota(self, seerr_user_id: int) -> Quota: ...

    async def create(
        self,
        seerr_user_id: int,
        match: Match,
        seasons: list[int] | Literal["all"] | None,
        *,
        is_4k: bool = False,
    ) -> Created:
        """POST the request as ``seerr_user_id`` so Overseerr applies that user's rights."""
        ...

    async def permissions(self, seerr_user_id: int) -> int | None:
        """The user's Overseerr permission bits; None when Overseerr has no such user."""
        ...

    async def has_4k_server(self, kind: MediaKind) -> bool:
        """Whether a 4K Radarr (movies) or Sonarr (shows) is configured in Overseerr."""
        ...

    async def open_requests(self, seerr_user_id: int, limit: int) -> list[OpenRequest]:
        """The oldest requests waiting for approval, listed as ``seerr_user_id`` sees them."""
        ...

    async def decide(self, seerr_user_id: int, request_id: int, decision: Decision) -> None:
        """Approve or decline as ``seerr_user_id``; RequestRefused when Overseerr says no."""
        ...
