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
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

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
            await asyncio.sleep(1.5)
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
        "summary": f"{title}: what happens, in a sentence.",
        "Director": [{"tag": "Anthony Russo"}, {"tag": "Joe Russo"}],
        "Writer": [{"tag": "Christopher Markus"}],
        "Role": [{"tag": "Chris Evans"}, {"tag": "Scarlett Johansson"}],
        "type": "movie",
        "title": title,
        "year": year,
        "audienceRating": audience_rating,
        "duration": duration_ms,
        "addedAt": added_at,
        "updatedAt": added_at,
        "Genre": [{"tag": genre} for genre in genres],
        "Guid": [{"id": f"tmdb://{tmdb}"}] if tmdb else [],
        "Media": [
            {"id": int(rating_key), "duration": duration_ms, "Part": [{"id": int(rating_key), "size": size}]}
        ],
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
                plex_movie(
                    "218860",
                    "Captain America: The Winter Soldier",
                    2014,
                    added_at=1419000000,
                    size=8_000_000_000,
                    tmdb="100402",
                    user_rating=8.0,
                ),
                plex_movie(
                    "3001", "Pixar Short Films Collection 1", 2007, added_at=1418000000, size=2_000_000_000
                ),
            ],
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
        # A section whose listing breaks (Plex answers 500 when a library's database is busy or corrupt).
        self.broken_section: str | None = None
        # Called after each library page is answered: the library changing while it is read.
        self.after_items_page: Callable[[web.Request], None] | None = None
        self.before_history_page: Callable[[web.Request], Awaitable[None]] | None = None

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
        if request.match_info["key"] == self.broken_section:
            return web.Response(status=500, text="<html><head><title>Internal Server Error</title></head></html>",
                                content_type="text/html")  # fmt: skip
        items = self.items.get((request.match_info["key"], int(request.query["type"])), [])
        start, size = self.window(request)
        response = self.container(page(items, start, size), "Metadata", len(items), start)
        if self.after_items_page is not None:
            self.after_items_page(request)
        return response

    # Plex's filter operators, as they reach it in the query string ("viewedAt>=N" is the
    # pair "viewedAt>" = "=N"): >= and <= inclusive, >> and << strict, in unix seconds.
    VIEWED_AT_FILTERS: ClassVar[dict[str, Callable[[int, int], bool]]] = {
        "viewedAt>": lambda viewed, bound: viewed >= bound,
        "viewedAt<": lambda viewed, bound: viewed <= bound,
        "viewedAt>>": lambda viewed, bound: viewed > bound,
        "viewedAt<<": lambda viewed, bound: viewed < bound,
    }

    async def history_handler(self, request: web.Request) -> web.Response:
        rows = list(self.history)
        for name, value in request.query.items():
            if name in self.VIEWED_AT_FILTERS and value.startswith("="):
                bound, keep = int(value[1:]), self.VIEWED_AT_FILTERS[name]
                rows = [h for h in rows if keep(h["viewedAt"], bound)]
            elif name.startswith("viewedAt"):
                return web.Response(status=400, text="<html><head><title>Bad Request</title></head></html>",
                                    content_type="text/html")  # fmt: skip
        order = request.query.get("sort", "viewedAt:asc")
        rows.sort(key=lambda h: h["viewedAt"], reverse=order == "viewedAt:desc")
        start, size = self.window(request)
        # Called before a page is answered: a test may stop the sync there.
        if self.before_history_page is not None:
            await self.before_history_page(request)
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


# --- Jellyfin ------------------------------------------------------------------


def jellyfin_item(item_id: str, name: str, kind: str, folder: str, **fields: Any) -> dict[str, Any]:
    return {"Id": item_id, "Name": name, "Type": kind, "ServerId": "srv", "_folder": folder, **fields}


class FakeJellyfin(FakeService):
    token_header = "Authorization"
    token_value = 'MediaBrowser Token="jellyfin-key"'

    def __init__(self) -> None:
        super().__init__()
        self.users: list[dict[str, Any]] = [
            {"Id": "5f4a3c2e9b1d4e6f8a7b6c5d4e3f2a1b", "Name": "alice", "HasPassword": True,
             "LastLoginDate": "2026-11-20T20:01:02.1234567Z", "LastActivityDate": "2026-11-20T21:14:03.0000000Z",
             "Policy": {"IsAdministrator": True}},
            {"Id": "6a5b4c3d2e1f4a5b6c7d8e9f0a1b2c3d", "Name": "bob", "HasPassword": True,
             "LastLoginDate": None, "Policy": {"IsAdministrator": False}},
        ]  # fmt: skip
        self.folders = [
            {
                "Id": "f0000000000000000000000000000001",
                "Name": "Films",
                "Type": "CollectionFolder",
                "CollectionType": "movies",
            },
            {
                "Id": "f0000000000000000000000000000002",
                "Name": "Series",
                "Type": "CollectionFolder",
                "CollectionType": "tvshows",
            },
        ]
        movies, shows = self.folders[0]["Id"], self.folders[1]["Id"]
        self.items: list[dict[str, Any]] = [
            jellyfin_item("c0ffee00c0ffee00c0ffee00c0ffee00", "Arrival", "Movie", movies, ProductionYear=2016,
                          Genres=["Science Fiction", "Drama"], CommunityRating=7.6, RunTimeTicks=69_600_000_000,
                          DateCreated="2026-01-05T10:00:00.0000000Z", MediaSources=[{"Id": "ms1", "Size": 9_876_543_210}],
                          ProviderIds={"Tmdb": "329865", "Imdb": "tt2543164"},
                          Overview="A linguist works with the military to communicate with alien lifeforms.",
                          People=[{"Name": "Amy Adams", "Id": "p1", "Role": "Louise Banks", "Type": "Actor"},
                                  {"Name": "Jeremy Renner", "Id": "p2", "Role": "Ian Donnelly", "Type": "Actor"},
                                  {"Name": "Denis Villeneuve", "Id": "p3", "Type": "Director"},
                                  {"Name": "Eric Heisserer", "Id": "p4", "Type": "Writer"},
                                  {"Name": "Jóhann Jóhannsson", "Id": "p5", "Type": "Composer"}]),
            jellyfin_item("0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a", "Captain America: The Winter Soldier", "Movie", movies,
                          ProductionYear=2014, Genres=["Action"], RunTimeTicks=78_000_000_000,
                          DateCreated="2026-01-04T10:00:00.0000000Z", MediaSources=[{"Size": 8_000_000_000}],
                          ProviderIds={"Tmdb": "100402"}),
            jellyfin_item("0f9e8d7c6b5a49382716a5b4c3d2e1f0", "The 100", "Series", shows, ProductionYear=2014,
                          Genres=["Drama"], ProviderIds={"Tvdb": "268592"}, DateCreated="2026-01-01T00:00:00Z"),
            jellyfin_item("a1b2c3d4e5f60718293a4b5c6d7e8f90", "Pilot", "Episode", shows, ProductionYear=2014,
                          SeriesId="0f9e8d7c6b5a49382716a5b4c3d2e1f0", SeriesName="The 100", ParentIndexNumber=1,
                          IndexNumber=1, RunTimeTicks=26_000_000_000, MediaSources=[{"Size": 13_400_382}],
                          DateCreated="2026-01-01T00:00:00Z", ProviderIds={"Tvdb": "4590211"}),
        ]  # fmt: skip
        self.user_data: dict[str, dict[str, dict[str, Any]]] = {
            "5f4a3c2e9b1d4e6f8a7b6c5d4e3f2a1b": {
                "c0ffee00c0ffee00c0ffee00c0ffee00": {"PlayCount": 2, "Played": True, "IsFavorite": True,
                                                     "LastPlayedDate": "2026-11-19T22:00:00.0000000Z", "Rating": 9},
                "a1b2c3d4e5f60718293a4b5c6d7e8f90": {"PlayCount": 1, "Played": True,
                                                     "LastPlayedDate": "2026-11-20T21:14:03.0000000Z"},
            },
            "6a5b4c3d2e1f4a5b6c7d8e9f0a1b2c3d": {},
        }  # fmt: skip
        # A library whose listing breaks (Jellyfin answers 500 with a plain-text message).
        self.broken_folder: str | None = None
        # Called before an /Items page is answered: a test may stop the sync there.
        self.before_items_page: Callable[[web.Request], Awaitable[None]] | None = None

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/Users", self.users_handler)
        app.router.add_get("/Library/MediaFolders", self.folders_handler)
        app.router.add_get("/Items", self.items_handler)

    async def users_handler(self, request: web.Request) -> web.Response:
        return web.json_response(self.users)

    async def folders_handler(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"Items": self.folders, "TotalRecordCount": len(self.folders), "StartIndex": 0}
        )

    async def items_handler(self, request: web.Request) -> web.Response:
        query = request.query
        if self.before_items_page is not None:
            await self.before_items_page(request)
        if self.broken_folder is not None and query.get("parentId") == self.broken_folder:
            return web.Response(status=500, text="Error processing request.", content_type="text/plain")
        types = set(query.get("includeItemTypes", "").split(","))
        items = [i for i in self.items if i["Type"] in types]
        if "parentId" in query:
            items = [i for i in items if i["_folder"] == query["parentId"]]
        if "userId" in query:
            data = self.user_data.get(query["userId"], {})
            items = [{**i, "UserData": {**data[i["Id"]], "Key": i["Id"]}} for i in items if i["Id"] in data]
            if query.get("isPlayed") == "true":
                items = [i for i in items if i["UserData"].get("Played")]
        start, size = int(query.get("startIndex", 0)), int(query.get("limit", 100))
        # Like Jellyfin, the overview and people come only when asked for in ``fields``.
        asked = set(query.get("fields", "").split(","))
        hidden = {"_folder"} | ({"Overview", "People"} - asked)
        shown = [{k: v for k, v in i.items() if k not in hidden} for i in page(items, start, size)]
        return web.json_response({"Items": shown, "TotalRecordCount": len(items), "StartIndex": start})


# --- Tautulli --------------------------------------------------------------------


def tautulli_recorded(name: str) -> Any:
    """What the real Tautulli 2.17.2 answered (recorded by tests/media/tautulli_seed.py): its data part."""
    recorded = load_payload(f"tautulli-{name}.json")["body"]["response"]["data"]
    return copy.deepcopy(recorded)


_HISTORY_ROW = tautulli_recorded("get-history")["data"][0]


# Tautulli's default watched percentages (MOVIE_/TV_/MUSIC_WATCHED_PERCENT); photos are never watched.
TAUTULLI_WATCHED_PERCENT = {"movie": 85, "episode": 85, "track": 85, "clip": 85, "photo": 0}


def tautulli_watched_status(media_type: str, percent_complete: float) -> int | float:
    """get_history's ``watched_status`` as Tautulli 2.17.2 computes it (datafactory.get_history), with no credits marker.

    1 (an int) once watched, else the quarter of the way there it reached
    (0.75, 0.5, 0.25 as floats), else 0 (an int): the exact JSON the real one sends.
    """
    watched_percent = TAUTULLI_WATCHED_PERCENT.get(media_type, 0)
    if watched_percent and percent_complete >= watched_percent:
        return 1
    for share in (0.75, 0.5, 0.25):
        if percent_complete >= watched_percent * share:
            return share
    return 0


def tautulli_play(
    row_id: int, user_id: int, user: str, rating_key: int, started: int, **fields: Any
) -> dict[str, Any]:
    """A get_history row shaped like the real one (an episode of Game of Thrones unless ``fields`` say otherwise).

    ``watched_status`` follows ``percent_complete`` as Tautulli derives it, unless given
    (a credits marker makes Tautulli call a play watched earlier).
    """
    row = {**copy.deepcopy(_HISTORY_ROW), "reference_id": row_id, "row_id": row_id, "id": row_id, "date": started,
           "started": started, "stopped": started + 263, "user_id": user_id, "user": user, "friendly_name": user,
           "rating_key": rating_key, "group_ids": str(row_id)}  # fmt: skip
    row.update(fields)
    if "watched_status" not in fields:
        row["watched_status"] = tautulli_watched_status(row["media_type"], row["percent_complete"])
    return row


def tautulli_local_day(started: int, zone: str) -> str:
    """The day Tautulli files a play under: ``started`` in the server's local zone (SQLite's 'localtime')."""
    return datetime.fromtimestamp(started, ZoneInfo(zone)).date().isoformat()


def tautulli_grouped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """get_history with grouping=1: one row per reference_id, as Tautulli's GROUP BY sums and spans it."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["reference_id"], []).append(row)
    grouped = []
    for members in groups.values():
        last = max(members, key=lambda r: r["started"])  # SQLite takes bare columns from the MAX() row
        grouped.append({
            **last, "date": last["started"], "started": min(r["started"] for r in members),
            "stopped": max(r["stopped"] for r in members),
            "duration": sum(r["play_duration"] for r in members),
            "play_duration": sum(r["play_duration"] for r in members),
            "paused_counter": sum(r["paused_counter"] for r in members),
            "percent_complete": max(r["percent_complete"] for r in members),
            # Judged on the stream that got furthest (the MAX() row's view_offset).
            "watched_status": max((r for r in members), key=lambda r: r["percent_complete"])["watched_status"],
            "group_count": len(members), "group_ids": ",".join(str(r["id"]) for r in members),
        })  # fmt: skip
    return sorted(grouped, key=lambda r: r["date"])


def tautulli_duration(rows: list[dict[str, Any]]) -> str:
    """Play time as Tautulli words it ("1 hr 2 mins 6 secs"; "0" for none), for totals under three days."""
    seconds = sum(int(row["play_duration"] or 0) for row in rows)
    parts = [
        (seconds // 86400, "day"),
        (seconds // 3600 % 24, "hr"),
        (seconds // 60 % 60, "min"),
        (seconds % 60, "sec"),
    ]
    return " ".join(f"{n} {unit}{'s' if n > 1 else ''}" for n, unit in parts if n) or "0"


class FakeTautulli(FakeService):
    """Answers like Tautulli 2.17.2 (recorded from the real server in tests/media/real_tautulli.py)."""

    api_key = "tautulli-key"

    def __init__(self, zone: str = "UTC") -> None:
        super().__init__()
        self.zone = zone
        self.users: list[dict[str, Any]] = tautulli_recorded("get-users")
        self.users_table: list[dict[str, Any]] = tautulli_recorded("get-users-table")["data"]
        self.history: list[dict[str, Any]] = tautulli_recorded("get-history")["data"]
        # The library types Tautulli knows from its Plex server (graphs count only those).
        self.library_types: set[str] = {"movie", "show"}
        # Sessions need a Plex server behind Tautulli, so these follow its API documentation.
        self.sessions: list[dict[str, Any]] = [
            {"session_key": "27", "session_id": "helf15l3rxgw01xxe0jf3l3d", "user_id": 133788,
             "user": "LordCommanderSnow", "rating_key": "4348", "bandwidth": "25318", "media_type": "episode",
             "view_offset": "1000", "stream_duration": "2998272"},
        ]  # fmt: skip

    def authorized(self, request: web.Request) -> bool:
        return request.query.get("apikey") == self.api_key

    def plays_by_date(self, time_range: int) -> dict[str, Any]:
        """graphs.get_total_plays_per_day: every local day of the range, a series per library type it has.

        Plays count per (local day, reference_id) among rows stopped within the range;
        a Tautulli that knows no library (no Plex server behind it) answers no series.
        """
        today = datetime.now(ZoneInfo(self.zone)).date()
        days = [(today - timedelta(days=back)).isoformat() for back in range(time_range - 1, -1, -1)]
        since = datetime.now(UTC).timestamp() - time_range * 86_400
        seen: dict[str, set[tuple[str, Any]]] = {"episode": set(), "movie": set()}
        for row in self.history:
            if (row.get("stopped") or 0) >= since and row["media_type"] in seen:
                seen[row["media_type"]].add((tautulli_local_day(row["started"], self.zone), row["reference_id"]))
        per_type = {kind: Counter(day for day, _ in keys) for kind, keys in seen.items()}
        series = [{"name": name, "data": [per_type[kind][day] for day in days]}
                  for name, kind, library in (("TV", "episode", "show"), ("Movies", "movie", "movie"))
                  if library in self.library_types]  # fmt: skip
        if series:
            series.append({"name": "Total", "data": [sum(values) for values in zip(*(s["data"] for s in series), strict=True)]})
        return {"categories": days, "series": series}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.failure == "unauthorized" or not self.authorized(request):
            self.requests.append(request.path_qs)
            # What the real Tautulli answers a wrong key: 400, not 401.
            return web.json_response(
                {"response": {"result": "error", "message": "Invalid apikey", "data": {}}}, status=400
            )
        return await super().middleware(request, handler)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v2", self.api_handler)

    @staticmethod
    def respond(data: Any) -> web.Response:
        return web.json_response({"response": {"result": "success", "message": None, "data": data}})

    async def api_handler(self, request: web.Request) -> web.Response:
        query = request.query
        cmd = query.get("cmd")
        start, length = int(query.get("start", 0)), int(query.get("length", 25))
        if cmd == "get_users":
            return self.respond(self.users)
        if cmd == "get_users_table":
            # Its plays and last_seen come from the history, like the real one's.
            templates = {row["user_id"]: row for row in self.users_table}
            rows = []
            for user in self.users:
                plays = [r for r in self.history if r["user_id"] == user["user_id"]]
                row = {**templates.get(user["user_id"], templates[0]), "user_id": user["user_id"],
                       "username": user["username"], "friendly_name": user["friendly_name"],
                       "email": user["email"], "is_active": user["is_active"],
                       "plays": len({r["reference_id"] for r in plays}),
                       "last_seen": max((r["started"] for r in plays), default=None)}  # fmt: skip
                rows.append(row)
            return self.respond({"recordsFiltered": len(rows), "recordsTotal": len(rows),
                                 "data": page(rows, start, length), "draw": 1})  # fmt: skip
        if cmd == "get_history":
            rows = sorted(self.history, key=lambda r: r["date"])
            # Inclusive, on the server's local day of `started`, like the real one.
            if query.get("after"):
                rows = [r for r in rows if tautulli_local_day(r["started"], self.zone) >= query["after"]]
            if query.get("before"):
                rows = [r for r in rows if tautulli_local_day(r["started"], self.zone) <= query["before"]]
            if query.get("reference_id"):
                rows = [r for r in rows if str(r["reference_id"]) == query["reference_id"]]
            if query.get("grouping") == "1":
                rows = tautulli_grouped(rows)
            if query.get("order_dir", "desc") == "desc":
                rows.reverse()
            shown = page(rows, start, length)
            # Tautulli sums the page's play time into filter_duration, all matching rows' into total_duration.
            return self.respond({"recordsFiltered": len(rows), "recordsTotal": len(self.history), "data": shown,
                                 "draw": 1, "filter_duration": tautulli_duration(shown),
                                 "total_duration": tautulli_duration(rows)})  # fmt: skip
        if cmd == "get_plays_by_date":
            return self.respond(self.plays_by_date(int(query.get("time_range", 30))))
        if cmd == "get_activity":
            return self.respond({"lan_bandwidth": 0, "sessions": self.sessions, "stream_count": str(len(self.sessions)),
                                 "total_bandwidth": 25318, "wan_bandwidth": 25318})  # fmt: skip
        return web.json_response(
            {"response": {"result": "error", "message": f"Unknown command: {cmd}", "data": {}}}, status=400
        )


# --- Overseerr / Jellyseerr ------------------------------------------------------------


def seerr_user(user_id: int, email: str, username: str, **fields: Any) -> dict[str, Any]:
    return {"id": user_id, "email": email, "username": username, "plexUsername": username, "userType": 1,
            "permissions": 32, "avatar": "/avatar.png", "createdAt": "2026-01-02T05:02:23.000Z",
            "updatedAt": "2026-01-02T05:02:23.000Z", "requestCount": 1, **fields}  # fmt: skip


class FakeSeerr(FakeService):
    token_header = "X-Api-Key"
    token_value = "seerr-key"

    def __init__(self) -> None:
        super().__init__()
        admin = seerr_user(1, "admin@example.com", "PlexUser", permissions=2)
        # Jellyseerr links a user who signs in with Jellyfin to that Jellyfin user's id.
        alice = seerr_user(2, "alice@example.com", "alice", jellyfinUserId="5f4a3c2e9b1d4e6f8a7b6c5d4e3f2a1b")
        self.users = [admin, alice]
        self.discord_ids = {2: "123456789012345678"}
        self.titles = {
            ("movie", 329865): "Arrival",
            ("tv", 1412): "The 100",
            ("movie", 100402): "Captain America",
        }
        self.media_requests: list[dict[str, Any]] = [
            {"id": 11, "status": 2, "type": "movie", "is4k": False, "createdAt": "2026-02-01T10:00:00.000Z",
             "updatedAt": "2026-02-01T12:00:00.000Z", "requestedBy": alice, "modifiedBy": admin,
             "media": {"id": 5, "tmdbId": 329865, "tvdbId": None, "status": 5, "mediaAddedAt": "2026-02-03T08:00:00.000Z",
                       "createdAt": "2026-02-01T10:00:00.000Z", "updatedAt": "2026-02-03T08:00:00.000Z"}},
            {"id": 12, "status": 1, "type": "tv", "is4k": False, "createdAt": "2026-03-01T10:00:00.000Z",
             "updatedAt": "2026-03-01T10:00:00.000Z", "requestedBy": alice, "modifiedBy": None,
             "media": {"id": 6, "tmdbId": 1412, "tvdbId": 268592, "status": 2,
                       "createdAt": "2026-03-01T10:00:00.000Z", "updatedAt": "2026-03-01T10:00:00.000Z"}},
            {"id": 13, "status": 3, "type": "movie", "is4k": False, "createdAt": "2026-03-05T10:00:00.000Z",
             "updatedAt": "2026-03-06T09:30:00.000Z", "requestedBy": admin, "modifiedBy": admin,
             "media": {"id": 7, "tmdbId": 100402, "status": 1}},
        ]  # fmt: skip

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v1/user", self.users_handler)
        app.router.add_get("/api/v1/user/{id}/settings/notifications", self.notifications_handler)
        app.router.add_get("/api/v1/request", self.requests_handler)
        app.router.add_get("/api/v1/movie/{id}", self.details_handler)
        app.router.add_get("/api/v1/tv/{id}", self.details_handler)

    @staticmethod
    def paged(items: list[Any], request: web.Request) -> web.Response:
        take, skip = int(request.query.get("take", 20)), int(request.query.get("skip", 0))
        pages = max(1, -(-len(items) // take))
        info = {"pages": pages, "pageSize": take, "results": len(items), "page": skip // take + 1}
        return web.json_response({"pageInfo": info, "results": page(items, skip, take)})

    async def users_handler(self, request: web.Request) -> web.Response:
        return self.paged(self.users, request)

    async def notifications_handler(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["id"])
        discord_id = self.discord_ids.get(user_id)
        return web.json_response({"notificationTypes": {}, "emailEnabled": True, "pgpKey": None,
                                  "discordEnabled": discord_id is not None, "discordEnabledTypes": 0,
                                  "discordId": discord_id, "telegramChatId": None})  # fmt: skip

    async def requests_handler(self, request: web.Request) -> web.Response:
        return self.paged(self.media_requests, request)

    async def details_handler(self, request: web.Request) -> web.Response:
        kind = "movie" if "/movie/" in request.path else "tv"
        title = self.titles.get((kind, int(request.match_info["id"])))
        if title is None:
            return web.json_response({"message": "Unable to retrieve details."}, status=500)
        return web.json_response(
            {"id": int(request.match_info["id"]), "title" if kind == "movie" else "name": title}
        )


class HeldTautulli(FakeTautulli):
    """A Tautulli that answers the first ``answered`` date windows of history, then holds the next until ``release``.

    That is a big server's first sync mid-way: each window takes Tautulli a while.
    ``holding`` is set once a window is being held; with ``held_status`` the held
    window is answered with that status instead (503: Tautulli restarting), and
    ``holding`` is set once it was.
    """

    def __init__(self, answered: int = 1, held_status: int | None = None) -> None:
        super().__init__()
        self.answered = answered
        self.held_status = held_status
        self.release = asyncio.Event()
        self.holding = asyncio.Event()
        self.windows_asked = 0

    async def api_handler(self, request: web.Request) -> web.Response:
        if request.query.get("cmd") == "get_history" and "reference_id" not in request.query:
            self.windows_asked += 1
            if self.windows_asked > self.answered and not self.release.is_set():
                if self.held_status is not None:
                    self.holding.set()
                    return web.Response(status=self.held_status, text="Service Unavailable")
                self.holding.set()
                await self.release.wait()
        return await super().api_handler(request)
