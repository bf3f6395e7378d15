"""A fake Overseerr that answers the request endpoints as the real one does and keeps state.

Shapes follow ../shared/contracts/overseerr-api.yml (MovieResult, TvResult,
MediaInfo, MediaRequest, the quota object). Errors follow Overseerr's error
handler: ``{"message": ..., "errors": ...}`` with the status of the error —
403 for a missing permission or an exceeded quota, 409 for a duplicate, 202
when every season asked for is already requested.

Who acts follows server/middleware/auth.ts: with the API key, the user named in
``X-API-User`` (user 1 without it); an unknown user is no user, and the
permission middleware answers ``{"status": 403, "error": ...}``. Creating a
request follows MediaRequest.request(): a body ``userId`` needs MANAGE_USERS and
MANAGE_REQUESTS of the acting user, the request permissions and quota are the
requester's, auto-approval is the acting user's. Approve/decline need
MANAGE_REQUESTS (routes/request.ts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "overseerr-admin-key"
ADMIN, MANAGE_USERS, MANAGE_REQUESTS, REQUEST, AUTO_APPROVE = 2, 8, 16, 32, 128
REQUEST_4K, REQUEST_4K_MOVIE, REQUEST_4K_TV, REQUEST_VIEW = 1024, 2048, 4096, 16384
NO_PERMISSION: dict[str, Any] = {"status": 403, "error": "You do not have permission to access this endpoint"}


def has_any(user: FakeUser, *bits: int) -> bool:
    return bool(user.permissions & ADMIN) or any(user.permissions & bit for bit in bits)


def has_all(user: FakeUser, *bits: int) -> bool:
    return bool(user.permissions & ADMIN) or all(user.permissions & bit for bit in bits)


@dataclass
class FakeUser:
    id: int
    permissions: int = REQUEST
    movie_limit: int | None = None
    tv_limit: int | None = None
    quota_days: int = 7


ACTING = web.RequestKey("acting", FakeUser)


@dataclass
class FakeTitle:
    tmdb_id: int
    kind: str  # movie | tv
    title: str
    date: str
    overview: str
    status: int = 1  # MediaInfo.status
    status_4k: int = 1  # MediaInfo.status4k
    seasons: tuple[int, ...] = ()
    available_seasons: tuple[int, ...] = ()


@dataclass
class FakeOverseerr:
    users: dict[int, FakeUser] = field(default_factory=dict)
    titles: list[FakeTitle] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)
    # The acting Overseerr user of each POST /request, in order.
    posted_as: list[int] = field(default_factory=list)
    # (request id, decision, acting user) of each approve/decline Overseerr accepted.
    decided: list[tuple[int, str, int]] = field(default_factory=list)
    radarr_4k: bool = False
    sonarr_4k: bool = False
    down: bool = False

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/api/v1/search", self.search)
        app.router.add_get("/api/v1/tv/{id}", self.tv)
        app.router.add_get("/api/v1/user/{id}/quota", self.quota)
        app.router.add_post("/api/v1/request", self.create)
        app.router.add_get("/api/v1/request", self.list_requests)
        app.router.add_post("/api/v1/request/{id}/{status}", self.set_status)
        app.router.add_get("/api/v1/user/{id}", self.user)
        app.router.add_get("/api/v1/movie/{id}", self.movie)
        app.router.add_get("/api/v1/service/radarr", self.radarr)
        app.router.add_get("/api/v1/service/sonarr", self.sonarr)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.down:
            return web.json_response({"message": "Something went wrong."}, status=503)
        if request.headers.get("X-Api-Key") != API_KEY:
            return web.json_response(NO_PERMISSION, status=403)
        acting = self.users.get(int(request.headers.get("X-API-User") or 1))
        if acting is None:
            return web.json_response(NO_PERMISSION, status=403)
        request[ACTING] = acting
        return await handler(request)  # type: ignore[no-any-return]

    def _media_info(self, title: FakeTitle) -> dict[str, Any] | None:
        open_requests = [r for r in self.requests if r["media"]["tmdbId"] == title.tmdb_id]
        if title.status == 1 and not open_requests:
            return None
        status = title.status if title.status != 1 else 2
        return {
            "id": title.tmdb_id + 100000, "tmdbId": title.tmdb_id, "tvdbId": None, "status": status, "status4k": title.status_4k,
            "requests": open_requests, "createdAt": "2026-11-01T10:00:00.000Z", "updatedAt": "2026-11-01T10:00:00.000Z",
            "seasons": [{"id": n, "seasonNumber": n, "status": 5} for n in title.available_seasons],
        }  # fmt: skip

    def _result(self, title: FakeTitle) -> dict[str, Any]:
        common = {"id": title.tmdb_id, "mediaType": title.kind, "popularity": 50.1, "posterPath": "/p.jpg",
                  "backdropPath": "/b.jpg", "voteCount": 900, "voteAverage": 7.9, "genreIds": [878],
                  "overview": title.overview, "originalLanguage": "en", "mediaInfo": self._media_info(title)}  # fmt: skip
        if title.kind == "movie":
            return {**common, "title": title.title, "originalTitle": title.title, "releaseDate": title.date,
                    "adult": False, "video": False}  # fmt: skip
        return {**common, "name": title.title, "originalName": title.title, "originCountry": ["US"],
                "firstAirDate": title.date}  # fmt: skip

    async def search(self, request: web.Request) -> web.Response:
        words = request.query.get("query", "").lower().split()
        found = [self._result(t) for t in self.titles if words and all(w in t.title.lower() for w in words)]
        person = {
            "id": 9,
            "mediaType": "person",
            "name": "Someone " + " ".join(words),
            "adult": False,
            "knownFor": [],
        }
        results = [*found, person]
        return web.json_response(
            {"page": 1, "totalPages": 1, "totalResults": len(results), "results": results}
        )

    async def tv(self, request: web.Request) -> web.Response:
        tmdb_id = int(request.match_info["id"])
        title = next((t for t in self.titles if t.tmdb_id == tmdb_id and t.kind == "tv"), None)
        if title is None:
            return web.json_response({"message": "Unable to retrieve series."}, status=500)
        seasons = [{"id": n, "airDate": "2020-01-01", "episodeCount": 8, "name": f"Season {n}", "overview": "",
                    "posterPath": "/s.jpg", "seasonNumber": n} for n in (0, *title.seasons)]  # fmt: skip
        return web.json_response({"id": tmdb_id, "name": title.title, "firstAirDate": title.date, "seasons": seasons,
                                  "mediaInfo": self._media_info(title)})  # fmt: skip

    def _used(self, user_id: int, kind: str) -> int:
        mine = [r for r in self.requests if r["requestedBy"]["id"] == user_id and r["type"] == kind]
        return sum(len(r["seasons"]) if kind == "tv" else 1 for r in mine)

    def _quota(self, user: FakeUser) -> dict[str, Any]:
        def part(limit: int | None, kind: str) -> dict[str, Any]:
            used = self._used(user.id, kind)
            if limit is None:  # Overseerr leaves limit and remaining out (undefined) without a quota
                return {"days": user.quota_days, "used": used, "restricted": False}
            return {"days": user.quota_days, "limit": limit, "used": used,
                    "remaining": max(0, limit - used), "restricted": used >= limit}  # fmt: skip

        return {"movie": part(user.movie_limit, "movie"), "tv": part(user.tv_limit, "tv")}

    async def quota(self, request: web.Request) -> web.Response:
        user = self.users.get(int(request.match_info["id"]))
        if user is None:
            return web.json_response({"message": "User not found."}, status=404)
        return web.json_response(self._quota(user))

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        acting = request[ACTING]
        self.posted.append(body)
        self.posted_as.append(acting.id)
        user = acting
        if body.get("userId"):
            if not has_all(acting, MANAGE_USERS, MANAGE_REQUESTS):
                return web.json_response(
                    {"message": "You do not have permission to modify the request user.", "errors": []},
                    status=403,
                )
            found = self.users.get(int(body["userId"]))
            if found is None:
                return web.json_response({"message": "User not found.", "errors": []}, status=500)
            user = found
        kind = body["mediaType"]
        is_4k = bool(body.get("is4k"))
        title = next((t for t in self.titles if t.tmdb_id == body["mediaId"] and t.kind == kind), None)
        if title is None:
            return web.json_response({"message": "Unable to retrieve media.", "errors": []}, status=500)
        wanted = (REQUEST_4K, REQUEST_4K_MOVIE if kind == "movie" else REQUEST_4K_TV) if is_4k else (REQUEST,)
        if not has_any(user, *wanted):
            what = ("4K " if is_4k else "") + ("movie" if kind == "movie" else "series")
            return web.json_response(
                {"message": f"You do not have permission to make {what} requests.", "errors": []}, status=403
            )
        quota = self._quota(user)["movie" if kind == "movie" else "tv"]
        if quota["restricted"]:
            message = "Movie Quota exceeded." if kind == "movie" else "Series Quota exceeded."
            return web.json_response({"message": message, "errors": []}, status=403)
        seasons: list[int] = []
        if kind == "tv":
            asked = list(title.seasons) if body.get("seasons") == "all" else list(body.get("seasons") or [])
            taken = {
                s["seasonNumber"]
                for r in self.requests
                if r["media"]["tmdbId"] == title.tmdb_id and r["is4k"] == is_4k and r["status"] != 3
                for s in r["seasons"]
            }
            seasons = [n for n in asked if n not in taken and n not in title.available_seasons]
            if not seasons:
                return web.json_response(
                    {"message": "No seasons available to request", "errors": []}, status=202
                )
            if quota.get("limit") is not None and quota["used"] + len(seasons) > quota["limit"]:
                return web.json_response({"message": "Series Quota exceeded.", "errors": []}, status=403)
        elif any(r["media"]["tmdbId"] == title.tmdb_id and r["is4k"] == is_4k for r in self.requests):
            return web.json_response(
                {"message": "Request for this media already exists.", "errors": []}, status=409
            )
        # Auto-approval is the acting user's (MediaRequest.request: ``user.hasPermission``), not the requester's.
        status = 2 if has_any(acting, AUTO_APPROVE, MANAGE_REQUESTS) else 1
        created = {
            "id": 500 + len(self.requests), "status": status, "type": kind, "is4k": is_4k,
            "createdAt": "2026-12-01T02:00:00.000Z", "updatedAt": "2026-12-01T02:00:00.000Z",
            "requestedBy": {"id": user.id, "email": f"user{user.id}@example.com", "permissions": user.permissions},
            "modifiedBy": None, "seasons": [{"id": n, "seasonNumber": n, "status": status} for n in seasons],
            "media": {"id": title.tmdb_id + 100000, "tmdbId": title.tmdb_id, "tvdbId": None, "status": 2},
        }  # fmt: skip
        self.requests.append(created)
        return web.json_response(created, status=201)

    async def list_requests(self, request: web.Request) -> web.Response:
        acting = request[ACTING]
        wanted = request.query.get("filter", "all")
        found = [r for r in self.requests if wanted != "pending" or r["status"] == 1]
        if not has_any(acting, MANAGE_REQUESTS, REQUEST_VIEW):
            found = [r for r in found if r["requestedBy"]["id"] == acting.id]  # only their own
        take, skip = int(request.query.get("take", 10)), int(request.query.get("skip", 0))
        page = found[skip : skip + take]
        pages = max(1, -(-len(found) // take))
        info = {"pages": pages, "pageSize": take, "results": len(found), "page": skip // take + 1}
        return web.json_response({"pageInfo": info, "results": page})

    async def set_status(self, request: web.Request) -> web.Response:
        acting = request[ACTING]
        if not has_any(acting, MANAGE_REQUESTS):
            return web.json_response(NO_PERMISSION, status=403)
        status = {"approve": 2, "decline": 3, "pending": 1}.get(request.match_info["status"])
        found = next((r for r in self.requests if str(r["id"]) == request.match_info["id"]), None)
        if found is None or status is None:
            return web.json_response({"message": "Request not found."}, status=404)
        found["status"] = status
        found["modifiedBy"] = {"id": acting.id, "email": f"user{acting.id}@example.com"}
        self.decided.append((found["id"], request.match_info["status"], acting.id))
        return web.json_response(found)

    async def user(self, request: web.Request) -> web.Response:
        user = self.users.get(int(request.match_info["id"]))
        if user is None:
            return web.json_response({"message": "User not found."}, status=404)
        return web.json_response({"id": user.id, "email": f"user{user.id}@example.com", "permissions": user.permissions,
                                  "userType": 1, "requestCount": 0})  # fmt: skip

    async def movie(self, request: web.Request) -> web.Response:
        tmdb_id = int(request.match_info["id"])
        title = next((t for t in self.titles if t.tmdb_id == tmdb_id and t.kind == "movie"), None)
        if title is None:
            return web.json_response({"message": "Unable to retrieve movie."}, status=500)
        return web.json_response({"id": tmdb_id, "title": title.title, "releaseDate": title.date,
                                  "mediaInfo": self._media_info(title)})  # fmt: skip

    def _servers(self, name: str, with_4k: bool) -> list[dict[str, Any]]:
        servers = [{"id": 0, "name": name, "is4k": False, "isDefault": True, "activeDirectory": "/media",
                    "activeProfileId": 1, "activeTags": []}]  # fmt: skip
        if with_4k:
            servers.append({**servers[0], "id": 1, "name": f"{name} 4K", "is4k": True})
        return servers

    async def radarr(self, request: web.Request) -> web.Response:
        return web.json_response(self._servers("Radarr", self.radarr_4k))

    async def sonarr(self, request: web.Request) -> web.Response:
        return web.json_response(self._servers("Sonarr", self.sonarr_4k))

    def add_request(self, user_id: int, tmdb_id: int, *, status: int = 1) -> dict[str, Any]:
        """A request someone made in Overseerr's own web page."""
        title = next(t for t in self.titles if t.tmdb_id == tmdb_id)
        created = {
            "id": 500 + len(self.requests), "status": status, "type": title.kind, "is4k": False,
            "createdAt": "2026-12-01T02:00:00.000Z", "updatedAt": "2026-12-01T02:00:00.000Z",
            "requestedBy": {"id": user_id, "email": f"user{user_id}@example.com"}, "modifiedBy": None,
            "seasons": [{"id": n, "seasonNumber": n, "status": status} for n in title.seasons],
            "media": {"id": tmdb_id + 100000, "tmdbId": tmdb_id, "mediaType": title.kind, "tvdbId": None, "status": 2},
        }  # fmt: skip
        self.requests.append(created)
        return created


@asynccontextmanager
async def serving(fake: FakeOverseerr) -> AsyncIterator[str]:
    """The fake on a free local port; yields its base URL."""
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def sample_catalogue() -> list[FakeTitle]:
    return [
        FakeTitle(8000001, "movie", "Dune: Part Three", "2026-12-18",
                  "Paul Atreides faces the consequences of the holy war he unleashed.\nSecond line."),
        FakeTitle(438631, "movie", "Dune", "2021-09-15", "Paul Atreides, a brilliant young man...", status=5),
        FakeTitle(693134, "movie", "Dune: Part Two", "2024-02-27", "Follow the mythic journey...", status=4),
        FakeTitle(95396, "tv", "Severance", "2022-02-17", "Mark leads a team whose memories have been split.",
                  seasons=(1, 2, 3), available_seasons=(1,), status=4),
        FakeTitle(1396, "tv", "Breaking Bad", "2008-01-20", "A chemistry teacher turned **cook** [x](http://evil)",
                  seasons=(1, 2, 3, 4, 5)),
    ]  # fmt: skip
