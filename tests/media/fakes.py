"""Local fake media servers answering like the real ones (shapes from the contract samples), paging included.

Each fake holds its data in plain dicts shaped like the service's JSON, so a
test changes "upstream" by editing them. ``failure`` switches a fake into a
broken mode: "unauthorized" (401), "garbage" (a 200 that is not JSON),
"slow" (answers after the client gave up).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

PAYLOADS = Path(__file__).parent / "payloads"


def load_payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


class FakeService:
    token_header = ""
    token_value = ""

    def __init__(self) -> None:
        self.failure: str | None = None
        self.requests: list[str] = []

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get(self.token_header) == self.token_value

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        if self.failure == "unauthorized" or not self.authorized(request):
            return web.Response(status=401, text="Unauthorized")
        if self.failure == "garbage":
            return web.Response(status=200, text="<html>not what you asked for", content_type="text/html")
        if self.failure == "slow":
            await asyncio.sleep(5)
        return await handler(request)

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.middleware])
        self.routes(app)
        return app


def page(items: list[Any], start: int, size: int) -> list[Any]:
    return items[start : start + size]


# --- Plex ----------------------------------------------------------------------

def plex_movie(rating_key: str, title: str, year: int, *, added_at: int, size: int, tmdb: str | None = None,
               genres: tuple[str, ...] = ("Action",), audience_rating: float = 7.5, duration_ms: int = 7_800_000,
               user_rating: float | None = None) -> dict[str, Any]:  # fmt: skip
    item: dict[str, Any] = {
        "ratingKey": rating_key,
        "key": f"/library/metadata/{rating_key}",
        "guid": f"plex://movie/{rating_key}",
        "type": "movie",
        "title": title,
        "year": year,
        "audienceRating": audience_rating,
        "duration": duration_ms,
        "addedAt": added_at,
        "updatedAt": added_at,
        "Genre": [{"tag": genre} for genre in genres],
        "Guid": [{"id": f"tmdb://{tmdb}"}] if tmdb else [],
        "Media": [{"id": int(rating_key), "duration": duration_ms, "Part": [{"id": int(rating_key), "size": size}]}],
    }
    if user_rating is not None:
        item["userRating"] = user_rating
    return item


def plex_show(rating_key: str, title: str, year: int, *, added_at: int, tvdb: str) -> dict[str, Any]:
    return {
        "ratingKey": rating_key,
        "key": f"/library/metadata/{rating_key}/children",
        "guid": f"com.plexapp.agents.thetvdb://{tvdb}?lang=en",
        "type": "show",
        "title": title,
        "year": year,
        "addedAt": added_at,
        "Genre": [{"tag": "Drama"}],
    }


class FakePlex(FakeService):
    token_header = "X-Plex-Token"
    token_value = "plex-token"

    def __init__(self) -> None:
        super().__init__()
        self.accounts = load_payload("plex-accounts.json")["MediaContainer"]["Account"]
        episodes = load_payload("plex-tv-episodes.json")["MediaContainer"]["Metadata"]
        history = load_payload("plex-history.json")["MediaContainer"]["Metadata"]
        self.sections: list[dict[str, Any]] = [
            {"key": "1", "title": "Movies", "type": "movie"},
            {"key": "2", "title": "TV Shows", "type": "show"},
        ]
        self.items: dict[tuple[str, int], list[dict[str, Any]]] = {
            ("1", 1): [
                plex_movie("218860", "Captain America: The Winter Soldier", 2014, added_at=1419000000,
                           size=8_000_000_000, tmdb="100402", user_rating=8.0),
                plex_movie("3001", "Pixar Short Films Collection 1", 2007, added_at=1418000000, size=2_000_000_000),
            ],  # fmt: skip
            ("2", 2): [
                plex_show("22", "The 100", 2014, added_at=1579514154, tvdb="268592"),
                plex_show("871", "Mighty Machines", 1994, added_at=1400000000, tvdb="77777"),
            ],
            ("2", 4): [
                *copy.deepcopy(episodes),
                {
                    "ratingKey": "917",
                    "type": "episode",
                    "title": "At the Garbage Dump",
                    "grandparentRatingKey": "871",
                    "grandparentTitle": "Mighty Machines",
                    "index": 7,
                    "parentIndex": 1,
                    "duration": 1_500_000,
                    "addedAt": 1400000000,
                    "Media": [{"Part": [{"size": 300_000_000}]}],
                },
            ],
        }
        self.history: list[dict[str, Any]] = copy.deepcopy(history)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/accounts", self.accounts_handler)
        app.router.add_get("/library/sections/all", self.sections_handler)
        app.router.add_get("/library/sections/{key}/all", self.items_handler)
        app.router.add_get("/status/sessions/history/all", self.history_handler)

    @staticmethod
    def container(entries: list[Any], name: str, total: int, start: int = 0) -> web.Response:
        return web.json_response(
            {"MediaContainer": {"size": len(entries), "totalSize": total, "offset": start, name: entries}}
        )

    @staticmethod
    def window(request: web.Request) -> tuple[int, int]:
        return int(request.query.get("X-Plex-Container-Start", 0)), int(
            request.query.get("X-Plex-Container-Size", 50)
        )

    async def accounts_handler(self, request: web.Request) -> web.Response:
        return self.container(self.accounts, "Account", len(self.accounts))

    async def sections_handler(self, request: web.Request) -> web.Response:
        return self.container(self.sections, "Directory", len(self.sections))

    async def items_handler(self, request: web.Request) -> web.Response:
        items = self.items.get((request.match_info["key"], int(request.query["type"])), [])
        start, size = self.window(request)
        return self.container(page(items, start, size), "Metadata", len(items), start)

    async def history_handler(self, request: web.Request) -> web.Response:
        since = int(request.query.get("viewedAt>", "=0").lstrip("="))
        rows = sorted((h for h in self.history if h["viewedAt"] >= since), key=lambda h: h["viewedAt"])
        start, size = self.window(request)
        return self.container(page(rows, start, size), "Metadata", len(rows), start)


@asynccontextmanager
async def serve(fake: FakeService) -> AsyncIterator[str]:
    """Run the fake on a free local port; yields its base URL."""
    server = TestServer(fake.app())
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
