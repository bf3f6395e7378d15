"""A fake Overseerr that answers the request endpoints as the real one does and keeps state.

Shapes follow ../shared/contracts/overseerr-api.yml (MovieResult, TvResult,
MediaInfo, MediaRequest, the quota object). Errors follow Overseerr's error
handler: ``{"message": ..., "errors": ...}`` with the status of the error —
403 for a missing permission or an exceeded quota, 409 for a duplicate, 202
when every season asked for is already requested.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "overseerr-admin-key"
ADMIN, REQUEST, AUTO_APPROVE = 2, 32, 128


@dataclass
class FakeUser:
    id: int
    permissions: int = REQUEST
    movie_limit: int | None = None
    tv_limit: int | None = None
    quota_days: int = 7


@dataclass
class FakeTitle:
    tmdb_id: int
    kind: str  # movie | tv
    title: str
    date: str
    overview: str
    status: int = 1  # MediaInfo.status
    seasons: tuple[int, ...] = ()
    available_seasons: tuple[int, ...] = ()


@dataclass
class FakeOverseerr:
    users: dict[int, FakeUser] = field(default_factory=dict)
    titles: list[FakeTitle] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/api/v1/search", self.search)
        app.router.add_get("/api/v1/tv/{id}", self.tv)
        app.router.add_get("/api/v1/user/{id}/quota", self.quota)
        app.router.add_post("/api/v1/request", self.create)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.down:
            return web.json_response({"message": "Something went wrong."}, status=503)
        if request.headers.get("X-Api-Key") != API_KEY:
            return web.json_response(
                {"status": 403, "error": "You do not have permission to access this endpoint"}, status=403
            )
        return await handler(request)  # type: ignore[no-any-return]

    def _media_info(self, title: FakeTitle) -> dict[str, Any] | None:
        open_requests = [r for r in self.requests if r["media"]["tmdbId"] == title.tmdb_id]
        if title.status == 1 and not open_requests:
            return None
        status = title.status if title.status != 1 else 2
        return {
            "id": title.tmdb_id + 100000, "tmdbId": title.tmdb_id, "tvdbId": None, "status": status,
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
        return web.json_response({"id": tmdb_id, "name": title.title, "seasons": seasons,
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
        self.posted.append(body)
        user = self.users.get(int(body.get("userId") or 1))
        if user is None:
            return web.json_response({"message": "User not found.", "errors": []}, status=404)
        kind = body["mediaType"]
        title = next((t for t in self.titles if t.tmdb_id == body["mediaId"] and t.kind == kind), None)
        if title is None:
            return web.json_response({"message": "Unable to retrieve media.", "errors": []}, status=500)
        if not user.permissions & (ADMIN | REQUEST):
            return web.json_response(
                {"message": f"You do not have permission to make {kind} requests.", "errors": []}, status=403
            )
        quota = self._quota(user)["movie" if kind == "movie" else "tv"]
        if quota["restricted"]:
            message = "Movie Quota exceeded." if kind == "movie" else "Series Quota exceeded."
            return web.json_response({"message": message, "errors": []}, status=403)
        seasons: list[int] = []
        if kind == "tv":
            asked = list(title.seasons) if body.get("seasons") == "all" else list(body.get("seasons") or [])
            taken = {n for r in self.requests if r["media"]["tmdbId"] == title.tmdb_id for n in r["seasons"]}
            seasons = [n for n in asked if n not in taken and n not in title.available_seasons]
            if not seasons:
                return web.json_response(
                    {"message": "No seasons available to request", "errors": []}, status=202
                )
            if quota.get("limit") is not None and quota["used"] + len(seasons) > quota["limit"]:
                return web.json_response({"message": "Series Quota exceeded.", "errors": []}, status=403)
        elif any(r["media"]["tmdbId"] == title.tmdb_id for r in self.requests):
            return web.json_response(
                {"message": "Request for this media already exists.", "errors": []}, status=409
            )
        status = 2 if user.permissions & (ADMIN | AUTO_APPROVE) else 1
        created = {
            "id": 500 + len(self.requests), "status": status, "type": kind, "is4k": False,
            "createdAt": "2026-12-01T02:00:00.000Z", "updatedAt": "2026-12-01T02:00:00.000Z",
            "requestedBy": {"id": user.id, "email": f"user{user.id}@example.com", "permissions": user.permissions},
            "modifiedBy": None, "seasons": seasons,
            "media": {"id": title.tmdb_id + 100000, "tmdbId": title.tmdb_id, "tvdbId": None, "status": 2},
        }  # fmt: skip
        self.requests.append(created)
        return web.json_response(created, status=201)


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
