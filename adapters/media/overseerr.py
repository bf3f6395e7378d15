"""Overseerr and Jellyseerr (same API): users with their Discord ids, requests with requester, decision and availability; webhooks.

Authentication is ``X-Api-Key``. An Overseerr user is matched to a Marquee
user only by ids nobody can edit: Overseerr's own user id, and the ``plexId``
(Plex account id) or ``jellyfinUserId`` it links that user to; never by the
username, display name or e-mail, which each user edits. A user's Discord id
lives in their notification settings (``/user/{id}/settings/notifications`` →
``discordId``), which they edit too: it becomes a link *suggestion* that the
Discord account's owner confirms in a DM. Requests are matched to media items
by TMDB or TVDB id.

The webhook names its requester only by those editable fields, so a delivery
changes only a request the sync already knows (whose requester the sync
learned by id); a request the sync has not seen yet waits for the next sync.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, RootModel, TypeAdapter

from adapters.media.client import ServiceClient
from adapters.media.paging import offset_pages
from adapters.media.payload import PayloadError, decode_json_object, require_content_type, validate
from adapters.media.service_settings import ServiceSettings
from adapters.media.timeparse import from_iso
from core.ingest.records import RequestRecord, RequestStatus, UserRecord
from core.ingest.webhooks import WebhookEvent
from core.media_requests.notifications import RequestNotice
from core.media_requests.service import (
    Availability,
    Created,
    Decision,
    Match,
    MediaKind,
    OpenRequest,
    Quota,
    QuotaPart,
    RequestRefused,
    Season,
    ServiceUnavailable,
)
from core.sync.jobs import SyncContext, SyncError
from core.sync.page_writer import Page

log_requests = logging.getLogger(__name__)
_ModelT = TypeVar("_ModelT", bound=BaseModel)

ADMIN_PERMISSION = 2  # Overseerr's Permission.ADMIN bit
MEDIA_AVAILABLE = 5  # MediaInfo.status: 5 = AVAILABLE
_REQUEST_STATUS: dict[int, RequestStatus] = {
    1: "pending",
    2: "approved",
    3: "declined",
    4: "failed",
    5: "approved",
}


class _SeerrModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SeerrUserSettings(_SeerrModel):
    discord_id: str | None = Field(default=None, alias="discordId")


class SeerrUser(_SeerrModel):
    id: int
    email: str | None = None
    username: str | None = None
    plex_username: str | None = Field(default=None, alias="plexUsername")
    jellyfin_username: str | None = Field(default=None, alias="jellyfinUsername")
    display_name: str | None = Field(default=None, alias="displayName")
    permissions: int = 0
    settings: SeerrUserSettings | None = None
    # The Plex account id (plex.tv) and Jellyfin user id this user signed in with:
    # set by Overseerr/Jellyseerr on sign-in, not editable by the user.
    plex_id: int | None = Field(default=None, alias="plexId")
    jellyfin_user_id: str | None = Field(default=None, alias="jellyfinUserId")


class SeerrMedia(_SeerrModel):
    tmdb_id: int | None = Field(default=None, alias="tmdbId")
    tvdb_id: int | None = Field(default=None, alias="tvdbId")
    status: int | None = None
    media_added_at: str | None = Field(default=None, alias="mediaAddedAt")
    updated_at: str | None = Field(default=None, alias="updatedAt")


class SeerrRequest(_SeerrModel):
    id: int
    status: int
    type: Literal["movie", "tv"] | None = None
    media: SeerrMedia | None = None
    created_at: str | None = Field(default=None, alias="createdAt")
    updated_at: str | None = Field(default=None, alias="updatedAt")
    requested_by: SeerrUser | None = Field(default=None, alias="requestedBy")
    # Overseerr documents modifiedBy as a user or a string/null.
    modified_by: SeerrUser | str | None = Field(default=None, alias="modifiedBy")


class PageInfo(_SeerrModel):
    pages: int | None = None
    page: int | None = None
    results: int | None = None


class UsersPage(_SeerrModel):
    page_info: PageInfo | None = Field(default=None, alias="pageInfo")
    results: list[SeerrUser] = Field(default_factory=list)


class RequestsPage(_SeerrModel):
    page_info: PageInfo | None = Field(default=None, alias="pageInfo")
    results: list[SeerrRequest] = Field(default_factory=list)


class TitleDetails(_SeerrModel):
    title: str | None = None  # movies
    name: str | None = None  # tv


USERS_PAGE = TypeAdapter(UsersPage)
REQUESTS_PAGE = TypeAdapter(RequestsPage)
NOTIFICATION_SETTINGS = TypeAdapter(SeerrUserSettings)
DETAILS = TypeAdapter(TitleDetails)


def linked_ids(user: SeerrUser) -> tuple[tuple[str, str], ...]:
    """The same person's ids on Plex and Jellyfin, as Overseerr/Jellyseerr learned them at sign-in."""
    ids: list[tuple[str, str]] = []
    if user.plex_id:
        ids.append(("plex", str(user.plex_id)))
    if user.jellyfin_user_id:
        # Jellyfin writes its ids as 32 lower-case hex digits; some clients add dashes.
        ids.append(("jellyfin", user.jellyfin_user_id.replace("-", "").lower()))
    return tuple(ids)


def user_record(service: str, user: SeerrUser, discord_id: str | None = None) -> UserRecord:
    # The name is only what a new users row is called; it never matches anyone.
    username = user.username or user.plex_username or user.jellyfin_username or user.display_name
    if not username:
        username = (user.email or f"{service}-user-{user.id}").split("@", 1)[0]
    return UserRecord(
        service=service,
        external_id=str(user.id),
        aliases=linked_ids(user),
        username=username,
        display_name=user.display_name if user.display_name and user.display_name != username else None,
        email=user.email or None,
        is_admin=bool(user.permissions & ADMIN_PERMISSION),
        discord_id=discord_id or (user.settings.discord_id if user.settings else None) or None,
    )


def request_record(service: str, request: SeerrRequest, title: str) -> RequestRecord | None:
    if request.requested_by is None or request.type is None:
        return None
    media = request.media or SeerrMedia()
    available = media.status == MEDIA_AVAILABLE
    status: RequestStatus = "available" if available else _REQUEST_STATUS.get(request.status, "pending")
    decided_at = from_iso(request.updated_at)
    approver = request.modified_by if isinstance(request.modified_by, SeerrUser) else None
    approved = status in ("approved", "available")
    return RequestRecord(
        service=service,
        source_request_id=str(request.id),
        title=title,
        media_type="movie" if request.type == "movie" else "show",
        requester=user_record(service, request.requested_by),
        status=status,
        requested_at=from_iso(request.created_at) or decided_at or datetime.now(UTC),
        approved_at=decided_at if approved else None,
        approved_by=user_record(service, approver) if approved and approver is not None else None,
        declined_at=decided_at if status == "declined" else None,
        available_at=(from_iso(media.media_added_at) or from_iso(media.updated_at)) if available else None,
        tmdb_id=media.tmdb_id,
        tvdb_id=media.tvdb_id,
    )


@dataclass(frozen=True, kw_only=True)
class SeerrSettings(ServiceSettings):
    # Overseerr and Jellyseerr share one API; the name tells them apart in the database and in messages.
    service: Literal["overseerr", "jellyseerr"]
    api_key: str
    page_size: int = 100


class SeerrSyncJob:
    def __init__(self, settings: SeerrSettings) -> None:
        self.settings = settings
        self.name = settings.service
        self.interval_seconds = settings.interval_seconds

    def client(self) -> ServiceClient:
        return ServiceClient(
            self.settings.service,
            f"{self.settings.url.rstrip('/')}/api/v1",
            headers={"X-Api-Key": self.settings.api_key, "Accept": "application/json"},
            timeout_seconds=self.settings.timeout_seconds,
            key_setting=f"MARQUEE_{self.settings.service.upper()}_API_KEY",
        )

    async def run(self, context: SyncContext) -> dict[str, int]:
        service = self.settings.service
        counts = {"users": 0, "discord_suggestions": 0, "requests_changed": 0}
        async with self.client() as client:
            users: list[UserRecord] = []
            async for page in self._pages(client, "/user", USERS_PAGE):
                for user in page:
                    settings = await client.get_model(
                        f"/user/{user.id}/settings/notifications", NOTIFICATION_SETTINGS
                    )
                    users.append(user_record(service, user, settings.discord_id))
            counts["users"] = await context.writer.write_users(users)
            counts["discord_suggestions"] = sum(1 for user in users if user.discord_id)

            titles: dict[tuple[str, int], str] = {}
            async for requests in self._pages(client, "/request", REQUESTS_PAGE, filter="all", sort="added"):
                request_records: list[RequestRecord] = []
                for request in requests:
                    title = await self._title(client, request, titles)
                    parsed = request_record(service, request, title)
                    if parsed is not None:
                        request_records.append(parsed)
                written = await context.writer.write(Page(requests=request_records))
                counts["requests_changed"] += written.requests_changed
            await context.writer.link_requests_to_items()
        return counts

    async def _title(
        self, client: ServiceClient, request: SeerrRequest, cache: dict[tuple[str, int], str]
    ) -> str:
        tmdb_id = request.media.tmdb_id if request.media else None
        kind = "movie" if request.type == "movie" else "tv"
        if tmdb_id is None:
            return f"{self.settings.service} request {request.id}"
        if (kind, tmdb_id) not in cache:
            try:
                details = await client.get_model(f"/{kind}/{tmdb_id}", DETAILS)
                cache[(kind, tmdb_id)] = details.title or details.name or f"TMDB {tmdb_id}"
            except SyncError:
                # The title lookup goes through TMDB and may fail on its own; the request still counts.
                cache[(kind, tmdb_id)] = f"TMDB {tmdb_id}"
        return cache[(kind, tmdb_id)]

    def _pages(
        self, client: ServiceClient, path: str, adapter: TypeAdapter[Any], **params: Any
    ) -> AsyncIterator[list[Any]]:
        async def read_page(skip: int) -> tuple[list[Any], int, int | None]:
            page = await client.get_model(
                path, adapter, {**params, "take": self.settings.page_size, "skip": skip}
            )
            total = page.page_info.results if page.page_info else None
            return page.results, len(page.results), total

        return offset_pages(read_page, self.settings.page_size)


# --- webhooks ------------------------------------------------------------------
# Overseerr's default JSON template: every value is a string, blocks whose
# subject is absent (no request, no issue) arrive as null.

_NOTIFICATION_STATUS: dict[str, RequestStatus] = {
    "MEDIA_PENDING": "pending",
    "MEDIA_APPROVED": "approved",
    "MEDIA_AUTO_APPROVED": "approved",
    "MEDIA_DECLINED": "declined",
    "MEDIA_FAILED": "failed",
    "MEDIA_AVAILABLE": "available",
}
_YEAR_SUFFIX = re.compile(r"\s*\(\d{4}\)\s*$")


class SeerrWebhookMedia(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)
    media_type: str
    tmdb_id: str | None = Field(default=None, alias="tmdbId")
    tvdb_id: str | None = Field(default=None, alias="tvdbId")


class SeerrWebhookRequest(BaseModel):
    """The request block. Its ``requestedBy_*`` fields (username, e-mail, Discord id, avatar)
    are all edited by the requester and are not read: the requester is whoever the sync
    learned, by Overseerr user id, for this request id."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)
    request_id: str


class SeerrWebhookExtra(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
    name: str | None = None
    value: str | None = None


class SeerrWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
    notification_type: str
    subject: str | None = None
    message: str | None = None
    media: SeerrWebhookMedia | None = None
    request: SeerrWebhookRequest | None = None
    # {{extra}}: name/value pairs some notifications carry (requested seasons, a decline reason).
    extra: list[SeerrWebhookExtra] | None = None


def _decline_reason(hook: SeerrWebhook) -> str | None:
    for item in hook.extra or ():
        if item.name and "reason" in item.name.lower() and item.value and item.value.strip():
            return item.value.strip()
    return None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value and value.strip() not in ("", "0") else None
    except ValueError:
        return None


def parse_webhook(service: str, body: bytes, content_type: str, received_at: datetime) -> WebhookEvent:
    """MEDIA_* notifications upsert the request with the time of delivery; others are ignored."""
    require_content_type(content_type, ("application/json",), service.capitalize())
    hook = validate(SeerrWebhook, decode_json_object(body, service), service)
    event = hook.notification_type
    status = _NOTIFICATION_STATUS.get(event)
    if status is None:
        return WebhookEvent(event, note="event type not used")
    if hook.request is None or hook.media is None or not hook.subject:
        raise PayloadError(f"{service} {event} webhook needs subject, media and request", status=422)
    request = hook.request
    if not request.request_id.strip():
        raise PayloadError(f"{service} {event} webhook has no request_id", status=422)
    if hook.media.media_type not in ("movie", "tv"):
        raise PayloadError(f"{service} {event} webhook has unknown media_type {hook.media.media_type!r}", 422)
    record = RequestRecord(
        service=service,
        source_request_id=request.request_id,
        title=_YEAR_SUFFIX.sub("", hook.subject),
        media_type="movie" if hook.media.media_type == "movie" else "show",
        requester=None,
        status=status,
        requested_at=received_at,
        approved_at=received_at if status in ("approved", "available") else None,
        declined_at=received_at if status == "declined" else None,
        available_at=received_at if status == "available" else None,
        tmdb_id=_int_or_none(hook.media.tmdb_id),
        tvdb_id=_int_or_none(hook.media.tvdb_id),
    )
    notice = RequestNotice(
        service, request.request_id, event, _decline_reason(hook) if event == "MEDIA_DECLINED" else None
    )
    return WebhookEvent(event, requests=(record,), notices=(notice,))


# --- requests from chat --------------------------------------------------------
# core.media_requests.service.RequestService over Overseerr's API. Every call uses
# the admin's API key and names the Overseerr user it acts as in ``X-API-User``
# (server/middleware/auth.ts: with the API key, the request runs as that user,
# user 1 without the header). So a member's POST /request is checked against the
# member's own permissions, auto-approval and quota, and an admin's approve or
# decline against that admin's MANAGE_REQUESTS. (A ``userId`` in the body would
# not do: Overseerr auto-approves by the *acting* user, user 1, so every request
# would be approved.) A POST is never retried: a lost answer must not become two.

_AVAILABILITY: dict[int, Availability] = {
    1: "unknown",
    2: "pending",
    3: "processing",
    4: "partially_available",
    5: "available",
}
_DECLINED = 3  # MediaRequest.status: 3 = DECLINED
_REQUEST_APPROVED = 2


class SeerrRequestedBy(_SeerrModel):
    id: int


class SeerrMediaRequest(_SeerrModel):
    id: int
    status: int
    requested_by: SeerrRequestedBy | None = Field(default=None, alias="requestedBy")


class SeerrSeasonStatus(_SeerrModel):
    season_number: int = Field(alias="seasonNumber")
    status: int | None = None


class SeerrMediaInfo(_SeerrModel):
    status: int | None = None
    status4k: int | None = None
    requests: list[SeerrMediaRequest] = Field(default_factory=list)
    seasons: list[SeerrSeasonStatus] = Field(default_factory=list)


class SeerrSearchResult(_SeerrModel):
    id: int
    media_type: str = Field(alias="mediaType")
    title: str | None = None
    name: str | None = None
    overview: str | None = None
    release_date: str | None = Field(default=None, alias="releaseDate")
    first_air_date: str | None = Field(default=None, alias="firstAirDate")
    media_info: SeerrMediaInfo | None = Field(default=None, alias="mediaInfo")


class SeerrSearchPage(_SeerrModel):
    results: list[SeerrSearchResult] = Field(default_factory=list)


class SeerrSeason(_SeerrModel):
    season_number: int = Field(alias="seasonNumber")


class SeerrTvDetails(_SeerrModel):
    seasons: list[SeerrSeason] = Field(default_factory=list)
    media_info: SeerrMediaInfo | None = Field(default=None, alias="mediaInfo")


class SeerrQuotaPart(_SeerrModel):
    days: int | None = None
    limit: int | None = None
    used: int | None = None
    remaining: int | None = None
    restricted: bool = False


class SeerrQuota(_SeerrModel):
    movie: SeerrQuotaPart = Field(default_factory=SeerrQuotaPart)
    tv: SeerrQuotaPart = Field(default_factory=SeerrQuotaPart)


class SeerrError(_SeerrModel):
    # Route errors carry ``message``; the permission middleware answers ``{"status", "error"}``.
    message: str | None = None
    error: str | None = None


class SeerrUserPermissions(_SeerrModel):
    id: int
    permissions: int = 0


class SeerrServer(_SeerrModel):
    id: int
    is4k: bool = False


class SeerrServers(RootModel[list[SeerrServer]]):
    pass


class SeerrRequestMedia(_SeerrModel):
    tmdb_id: int = Field(alias="tmdbId")
    media_type: str | None = Field(default=None, alias="mediaType")


class SeerrSeasonRequest(_SeerrModel):
    season_number: int = Field(alias="seasonNumber")


class SeerrOpenRequest(_SeerrModel):
    id: int
    type: str | None = None
    is4k: bool = False
    media: SeerrRequestMedia
    requested_by: SeerrRequestedBy | None = Field(default=None, alias="requestedBy")
    seasons: list[SeerrSeasonRequest] = Field(default_factory=list)


class SeerrOpenRequestsPage(_SeerrModel):
    results: list[SeerrOpenRequest] = Field(default_factory=list)


class SeerrTitle(_SeerrModel):
    title: str | None = None
    name: str | None = None
    release_date: str | None = Field(default=None, alias="releaseDate")
    first_air_date: str | None = Field(default=None, alias="firstAirDate")


def _year(date: str | None) -> int | None:
    return int(date[:4]) if date and len(date) >= 4 and date[:4].isdigit() else None


def _reason(body: bytes) -> str:
    """Overseerr's own ``message``, one clean line of at most 200 characters."""
    try:
        error = SeerrError.model_validate_json(body)
        message = error.message or error.error or ""
    except ValueError:
        message = ""
    message = " ".join("".join(ch for ch in message if ch.isprintable()).split())[:200]
    if message and message[-1] not in ".!?":
        message += "."
    return message


def search_match(result: SeerrSearchResult) -> Match | None:
    if result.media_type not in ("movie", "tv"):
        return None  # people
    info = result.media_info or SeerrMediaInfo()
    return Match(
        tmdb_id=result.id,
        kind="movie" if result.media_type == "movie" else "tv",
        title=result.title or result.name or f"TMDB {result.id}",
        year=_year(result.release_date or result.first_air_date),
        overview=result.overview or "",
        availability=_AVAILABILITY.get(info.status or 1, "unknown"),
        availability_4k=_AVAILABILITY.get(info.status4k or 1, "unknown"),
        requested_by=tuple(
            r.requested_by.id for r in info.requests if r.requested_by is not None and r.status != _DECLINED
        ),
    )


class SeerrRequestClient:
    """Implements ``core.media_requests.service.RequestService``; one aiohttp session, closed by ``close()``."""

    def __init__(self, settings: SeerrSettings, *, timeout_seconds: float = 10.0) -> None:
        self.service = settings.service
        self.label = "Jellyseerr" if settings.service == "jellyseerr" else "Overseerr"
        self._base = f"{settings.url.rstrip('/')}/api/v1"
        self._headers = {"X-Api-Key": settings.api_key, "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _down(self) -> ServiceUnavailable:
        return ServiceUnavailable(f"{self.label} isn't answering right now.")

    async def _send(self, method: str, path: str, act_as: int | None, **kwargs: Any) -> tuple[int, bytes]:
        headers = {"X-API-User": str(act_as)} if act_as is not None else {}
        try:
            async with self._client().request(
                method, f"{self._base}{path}", headers=headers, **kwargs
            ) as response:
                return response.status, await response.content.read(1_000_000)
        except (aiohttp.ClientError, TimeoutError):
            # aiohttp's text names the URL; the member needs only the sentence.
            log_requests.info("%s %s %s: unreachable", self.label, method, path)
            raise self._down() from None

    async def _get(
        self,
        path: str,
        model: type[_ModelT],
        params: dict[str, str] | None = None,
        *,
        act_as: int | None = None,
    ) -> _ModelT:
        status, body = await self._send("GET", path, act_as, params=params or {})
        if status in (401, 403):
            log_requests.warning("%s refused the API key (HTTP %d on GET %s)", self.label, status, path)
            raise ServiceUnavailable(f"{self.label} refused Marquee's API key; an admin needs to check it.")
        if status != 200:
            log_requests.warning("%s answered HTTP %d on GET %s", self.label, status, path)
            raise self._down()
        try:
            return model.model_validate_json(body)
        except ValueError:
            log_requests.warning("%s answered GET %s with something unexpected", self.label, path)
            raise ServiceUnavailable(f"{self.label} answered something I don't understand.") from None

    async def search(self, query: str, *, act_as: int | None = None) -> list[Match]:
        page = await self._get("/search", SeerrSearchPage, {"query": query, "page": "1"}, act_as=act_as)
        return [match for result in page.results if (match := search_match(result)) is not None]

    async def seasons(self, tmdb_id: int) -> list[Season]:
        details = await self._get(f"/tv/{tmdb_id}", SeerrTvDetails)
        have = {s.season_number: s.status for s in (details.media_info or SeerrMediaInfo()).seasons}
        return [
            Season(s.season_number, _AVAILABILITY.get(have.get(s.season_number) or 1, "unknown"))
            for s in details.seasons
        ]

    async def quota(self, seerr_user_id: int) -> Quota:
        quota = await self._get(f"/user/{seerr_user_id}/quota", SeerrQuota, act_as=seerr_user_id)

        def part(p: SeerrQuotaPart) -> QuotaPart:
            return QuotaPart(limit=p.limit, remaining=p.remaining, days=p.days, restricted=p.restricted)

        return Quota(movie=part(quota.movie), tv=part(quota.tv))

    async def create(
        self,
        seerr_user_id: int,
        match: Match,
        seasons: list[int] | Literal["all"] | None,
        *,
        is_4k: bool = False,
    ) -> Created:
        # As the member (X-API-User), not with a body userId: see the note at the top of this section.
        body: dict[str, Any] = {"mediaType": match.kind, "mediaId": match.tmdb_id}
        if match.kind == "tv":
            body["seasons"] = seasons if seasons is not None else "all"
        if is_4k:
            body["is4k"] = True
        status, answer = await self._send("POST", "/request", seerr_user_id, json=body)
        if status == 201:
            try:
                created = SeerrMediaRequest.model_validate_json(answer)
            except ValueError:
                raise ServiceUnavailable(f"{self.label} answered something I don't understand.") from None
            return Created(created.id, created.status == _REQUEST_APPROVED)
        reason = _reason(answer)
        if status == 202:
            raise RequestRefused("nothing_to_request", reason or "No seasons available to request.")
        if status == 409:
            raise RequestRefused("duplicate", reason or "Request for this media already exists.")
        if status == 403:
            kind: Literal["quota", "permission"] = "quota" if "quota" in reason.lower() else "permission"
            return_reason = reason or "You do not have permission to make this request."
            raise RequestRefused(kind, return_reason)
        if status == 401:
            log_requests.warning("%s refused the API key (HTTP 401 on POST /request)", self.label)
            raise ServiceUnavailable(f"{self.label} refused Marquee's API key; an admin needs to check it.")
        log_requests.warning("%s answered HTTP %d on POST /request", self.label, status)
        if status >= 500:
            raise self._down()
        raise RequestRefused("other", reason or f"HTTP {status}.")

    async def permissions(self, seerr_user_id: int) -> int | None:
        status, body = await self._send("GET", f"/user/{seerr_user_id}", seerr_user_id)
        if status in (403, 404):
            # An unknown X-API-User is no user at all: Overseerr's middleware answers 403.
            return None
        if status != 200:
            log_requests.warning("%s answered HTTP %d on GET /user/{id}", self.label, status)
            raise self._down()
        try:
            return SeerrUserPermissions.model_validate_json(body).permissions
        except ValueError:
            raise ServiceUnavailable(f"{self.label} answered something I don't understand.") from None

    async def has_4k_server(self, kind: MediaKind) -> bool:
        path = "/service/radarr" if kind == "movie" else "/service/sonarr"
        servers = await self._get(path, SeerrServers)
        return any(server.is4k for server in servers.root)

    async def _title(self, kind: MediaKind, tmdb_id: int) -> tuple[str, int | None]:
        try:
            found = await self._get(f"/{kind}/{tmdb_id}", SeerrTitle)
        except ServiceUnavailable:
            return f"TMDB {tmdb_id}", None
        return found.title or found.name or f"TMDB {tmdb_id}", _year(
            found.release_date or found.first_air_date
        )

    async def open_requests(self, seerr_user_id: int, limit: int) -> list[OpenRequest]:
        params = {"filter": "pending", "take": str(limit), "skip": "0", "sort": "added"}
        page = await self._get("/request", SeerrOpenRequestsPage, params, act_as=seerr_user_id)
        found: list[OpenRequest] = []
        for request in page.results[:limit]:
            raw_kind = request.type or request.media.media_type
            kind: MediaKind = "tv" if raw_kind == "tv" else "movie"
            title, year = await self._title(kind, request.media.tmdb_id)
            found.append(
                OpenRequest(
                    request_id=request.id,
                    kind=kind,
                    tmdb_id=request.media.tmdb_id,
                    title=title,
                    year=year,
                    requested_by=request.requested_by.id if request.requested_by else None,
                    seasons=tuple(s.season_number for s in request.seasons),
                    is_4k=request.is4k,
                )
            )
        return found

    async def decide(self, seerr_user_id: int, request_id: int, decision: Decision) -> None:
        status, answer = await self._send("POST", f"/request/{request_id}/{decision}", seerr_user_id)
        if status == 200:
            return
        reason = _reason(answer)
        if status == 403:
            raise RequestRefused(
                "permission", reason or "You do not have permission to access this endpoint."
            )
        if status == 404:
            raise RequestRefused("other", reason or "Request not found.")
        log_requests.warning("%s answered HTTP %d on POST /request/{id}/%s", self.label, status, decision)
        if status >= 500 or status == 401:
            raise self._down()
        raise RequestRefused("other", reason or f"HTTP {status}.")
