"""Tools reformulated for speed give exactly the answers they gave before.

``reference_tools.py`` keeps each changed tool as it was before issue 17 (its
SQL and its Python). Every changed tool is asked the same questions twice on
the same server, as it is now and as it was; rows, summaries and coverage must
be equal. On the hand-built server (with requests for single episodes and a
repeated request added), and on a small generated demo server (many users,
requests, shows, ratings) where ties and edge cases are plenty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from core.demo_data import DemoConfig, generate_demo_data
from core.scope import Scope
from core.tools.base import ToolResult
from core.tools.catalogue import ToolCatalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool

from .fixture_server import FixtureServer
from .reference_tools import REFERENCE_RUNS, create_reference_functions, word_match_rows

# (tool, arguments), asked in every scope the tool allows; periods are relative to the server's now.
Question = tuple[str, dict[str, Any]]


def questions(now: datetime) -> list[Question]:
    def day(days_ago: int) -> str:
        return (now - timedelta(days=days_ago)).date().isoformat()

    asked: list[Question] = []
    for tool in ("requests_watched_by_others", "content_discoverers", "power_users"):
        asked += [
            (tool, {}),
            (tool, {"limit": 1}),
            (tool, {"start": day(30)}),
            (tool, {"start": day(365), "limit": 100}),
            (tool, {"start": day(20), "end": day(3)}),
            (tool, {"start": day(1), "end": day(1)}),
            (tool, {"start": day(3000), "end": day(400)}),
        ]
    for tool in ("requesters_who_skip_their_requests",):
        asked += [
            (tool, {}),
            (tool, {"limit": 50}),
            (tool, {"start": day(20), "end": day(3)}),
            (tool, {"start": day(400), "limit": 50}),
        ]
    for tool in ("most_active_users", "top_watchers"):
        asked += [
            (tool, {}),
            (tool, {"limit": 1}),
            (tool, {"limit": 2}),
            (tool, {"start": day(7)}),
            (tool, {"start": day(365), "limit": 100}),
            (tool, {"start": now.date().replace(month=1, day=1).isoformat()}),  # this year
            (tool, {"start": day(20), "end": day(3)}),
            (tool, {"start": day(1), "end": day(1)}),
            (tool, {"start": day(0)}),
            (tool, {"start": day(3000), "limit": 100}),
        ]
    asked += [
        ("never_watched_content", {}),
        ("never_watched_content", {"limit": 1}),
        ("never_watched_content", {"limit": 200}),
        ("admin_counts", {}),
        ("admin_counts", {"measure": "active_users"}),
        ("admin_counts", {"measure": "active_users", "start": day(20), "end": day(3)}),
        ("admin_counts", {"measure": "users", "start": day(400)}),
        ("admin_counts", {"measure": "active_users", "start": day(1), "end": day(1)}),
        ("top_genres", {}),
        ("top_genres", {"limit": 30}),
        ("top_genres", {"start": day(20), "end": day(3)}),
        ("top_genres", {"start": day(1), "end": day(1)}),
        ("average_rating", {}),
        ("average_rating", {"media_type": "movie"}),
        ("average_rating", {"media_type": "episode"}),
        ("unwatched_content", {}),
        ("unwatched_content", {"limit": 50}),
        ("unwatched_content", {"media_type": "show", "limit": 50}),
        ("unwatched_content", {"media_type": "movie", "limit": 1}),
        ("similar_titles", {"title": "Inception"}),
        ("similar_titles", {"title": "Breaking Bad", "limit": 25}),
        ("similar_titles", {"title": "Twin A", "limit": 25}),
        ("similar_titles", {"title": "Zebra Undated", "limit": 25}),
        ("similar_titles", {"title": "no such title at all"}),
    ]
    asked += [("search_library", arguments) for arguments in SEARCHES]
    return asked


# search_library's word match (no embeddings endpoint in the tests' catalogue): ordinary questions, and
# every kind of hostile text a member can type. The words reach to_tsquery as letters and digits only.
SEARCHES: list[dict[str, Any]] = [
    {"query": "a slow-burn heist film"},
    {"query": "something like a gritty crime drama", "limit": 25},
    {"query": "comedy", "limit": 25},
    {"query": "drama", "media_type": "show", "limit": 25},
    {"query": "drama", "media_type": "movie", "limit": 1},
    {"query": "running runners ran"},
    {"query": "heist", "limit": 2},
    {"query": "twin heist", "limit": 25},
    {"query": "It's \"quoted\", isn't it? O'Brien's `heist`; DROP TABLE media_items; --"},
    {"query": "heist & crime | !comedy : drama * (noir) <-> space:* 'x' \\ %_"},
    {"query": "&|!:*()<>"},
    {"query": "   "},
    {"query": "the a an of for me"},
    {"query": "has been very"},
    {"query": "東京物語 Ψυχώ кино 강남 المسافر"},
    {"query": "café noir naïve Ångström heist"},
    {"query": "2001 1999 3"},
    {"query": "x" * 300},
    {"query": " ".join(f"word{n}" for n in range(60))[:300]},
    {"query": ("noir " * 60)[:300], "limit": 25},
]


async def _answers(
    pool: asyncpg.Pool, catalogue: ToolCatalogue, scopes: list[Scope], asked: list[Question]
) -> list[tuple[Any, ...]]:
    tools = ToolDatabase(pool, max_size=2, session_settings={"default_transaction_read_only": "off"})
    try:
        answers = []
        for scope in scopes:
            for name, arguments in asked:
                if scope.mode not in catalogue.get(name).modes:
                    continue
                result: ToolResult = await run_tool(tools, scope, catalogue, name, arguments)
                # A default period ends "now", a moment later on the second pass; no play sits at its edges.
                summary = {k: v for k, v in result.summary.items() if k != "period"}
                answers.append(
                    (scope.username, scope.mode, name, arguments, result.rows, summary, result.coverage)
                )
        return answers
    finally:
        await tools.close()


async def assert_same_answers_as_reference(
    pool: asyncpg.Pool, catalogue: ToolCatalogue, scopes: list[Scope], asked: list[Question]
) -> None:
    async with pool.acquire() as conn:
        await create_reference_functions(conn)
    current = await _answers(pool, catalogue, scopes, asked)
    assert any(answer[4] for answer in current), "the questions should find something to compare"
    reference_catalogue = ToolCatalogue(
        [
            dataclasses.replace(tool, run=REFERENCE_RUNS.get(name, tool.run))
            for name, tool in catalogue.tools.items()
        ]
    )
    reference = await _answers(pool, reference_catalogue, scopes, asked)
    assert len(current) == len(reference)
    for now_answer, before in zip(current, reference, strict=True):
        assert now_answer == before, f"{now_answer[:4]} differs from the reference"


async def add_searchable_titles(conn: asyncpg.Connection, items: dict[str, Any]) -> None:
    """Titles with text to match (the hand-built ones have genres only), hostile text among it.

    Two titles tie on everything the order looks at (same text, rating and title); one is removed, one
    has no rating, an episode has the words (episodes are never found), and one title's text changes
    after it was written.
    """
    heist = {"summary": "A slow-burn heist: a crew runs one last job.", "cast": ["Ana Noir"], "rating": 7.0}
    for title, media_type, metadata, removed in [
        ("Twin Heist", "movie", heist, False),
        ("Twin Heist", "movie", heist, False),
        ("The Long Con", "movie", {**heist, "rating": None, "directors": ["Kim Heist"]}, False),
        ("Gone Heist", "movie", heist, True),
        ("Café Noir", "show", {"summary": "Naïve Ångström runs a café; «Ψυχώ» 東京物語 кино.", "rating": 8.0,
                               "genres": ["Comedy", "Drama"], "writers": ["O'Brien \"Q\" & Co | !x:*"]}, False),
        ("Drama Drama Drama", "movie", {"summary": "drama, drama and more drama", "genres": ["Drama"]}, False),
        ("Space Odyssey 2001", "movie", {"summary": "Runners ran through space in 1999.", "rating": 7.0}, False),
        ("Crime Nights", "show", {"summary": "Gritty crime drama noir. " * 200, "rating": 7.0}, False),
    ]:  # fmt: skip
        items[title] = await conn.fetchval(
            "INSERT INTO media_items (title, media_type, library_name, metadata, removed_at)"
            " VALUES ($1, $2, 'Movies', $3, CASE WHEN $4 THEN now() END) RETURNING id",
            title,
            media_type,
            metadata,
            removed,
        )
    await conn.execute(
        "INSERT INTO media_items (title, media_type, parent_id, season_number, episode_number, metadata)"
        " VALUES ('The Heist Episode', 'episode', $1, 1, 9, $2)",
        items["Breaking Bad"],
        heist,
    )
    await conn.execute(
        "UPDATE media_items SET metadata = metadata || $2 WHERE id = $1",
        items["Paddington"],
        {"summary": "Now a heist comedy."},
    )


@pytest.mark.writes_database
async def test_reformulated_tools_answer_as_before_on_the_hand_built_server(
    seeded_pool: asyncpg.Pool,
    server: FixtureServer,
    catalogue: ToolCatalogue,
    scope_of: Callable[..., Scope],
) -> None:
    # Requests the hand-built server lacks: single episodes (their own plays, not their show's), a
    # title requested twice by the same person, and one by someone who played it with others.
    requests = [
        ("carol", "The Office E1", 5),
        ("carol", "The Office E2", 6),
        ("dave", "Inception", 40),
        ("dave", "Inception", 30),
        ("alice", "The Matrix", 8),
    ]
    async with seeded_pool.acquire() as conn:
        for requester, item, days_ago in requests:
            await conn.execute(
                "INSERT INTO content_requests (title, media_type, requested_by_user_id, status, requested_at,"
                " media_item_id) VALUES ($1, 'movie', $2, 'available', $3, $4)",
                item,
                server.users[requester],
                server.ago(days_ago),
                server.items[item],
            )
        # Titles of unknown arrival (first seen in play history), two arriving at the same moment, a genre
        # listed twice, one in no library and one in a library named 'Unsorted', a play of no length, and
        # ratings of them.
        added = server.ago(50)
        for title, genres, added_at in [
            ("Zebra Undated", ["Drama", "Drama"], None),
            ("Aardvark Undated", ["Comedy"], None),
            ("Twin A", ["Drama", "Comedy"], added),
            ("Twin B", ["Drama"], added),
            ("Unfiled", ["Drama"], added),
        ]:
            server.items[title] = await conn.fetchval(
                "INSERT INTO media_items (title, media_type, library_name, metadata, added_at)"
                " VALUES ($1, 'movie', $2, $3, $4) RETURNING id",
                title,
                {"Unfiled": None, "Twin B": "Unsorted"}.get(title, "Movies"),
                {"genres": genres, "rating": 6.5},
                added_at,
            )
        await add_searchable_titles(conn, server.items)
        # Plays on the edges of UTC days: at midnight and a microsecond before it.
        for viewer, title, moment in [
            ("dave", "Inception", server.ago(3, hour=0)),
            ("dave", "Arrival", server.ago(3, hour=0) - timedelta(microseconds=1)),
            ("carol", "Arrival", server.ago(1, hour=0)),
            ("alice", "Paddington", server.ago(12, hour=0) - timedelta(microseconds=1)),
        ]:
            await conn.execute(
                "INSERT INTO watch_history (user_id, media_item_id, started_at, watched_seconds, percent_complete)"
                " VALUES ($1, $2, $3, 1800, 50)",
                server.users[viewer],
                server.items[title],
                moment,
            )
        # Plays changed and removed after they were written: the rollups must follow.
        await conn.execute(
            "UPDATE watch_history SET started_at = started_at - interval '2 days', watched_seconds = watched_seconds + 60"
            " WHERE user_id = $1",
            server.users["carol"],
        )
        await conn.execute(
            "DELETE FROM watch_history WHERE id = (SELECT id FROM watch_history WHERE user_id = $1"
            " ORDER BY started_at DESC LIMIT 1)",
            server.users["alice"],
        )
        for viewer, title, days_ago, seconds, rating in [
            ("bob", "Zebra Undated", 4, 3600, 9.0),
            ("bob", "Arrival", 6, 0, 9.0),
            ("carol", "Twin A", 6, 0, 9.0),
        ]:
            await conn.execute(
                "INSERT INTO watch_history (user_id, media_item_id, started_at, stopped_at, watched_seconds,"
                " percent_complete) VALUES ($1, $2, $3, $3, $4, 100)",
                server.users[viewer],
                server.items[title],
                server.ago(days_ago),
                seconds,
            )
            await conn.execute(
                "INSERT INTO user_stats (user_id, media_item_id, play_count, rating, last_played_at)"
                " VALUES ($1, $2, 1, $3, $4)",
                server.users[viewer],
                server.items[title],
                rating,
                server.ago(days_ago),
            )
    scopes = [
        scope_of("root", "admin"),
        scope_of("bob", "personal"),
        scope_of("carol", "personal"),
        scope_of("root", "admin", min_group_size=1),
        # Local midnights off UTC midnights, by whole hours and by half an hour.
        scope_of("mia", "admin", timezone="America/New_York"),
        scope_of("mia", "admin", timezone="Asia/Kolkata"),
    ]
    await assert_same_answers_as_reference(seeded_pool, catalogue, scopes, questions(server.now))


async def test_reformulated_tools_answer_as_before_on_a_generated_server(
    db_pool: asyncpg.Pool, catalogue: ToolCatalogue
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await generate_demo_data(db_pool, DemoConfig(seed=11, users=25, items=600, days=400, now=now))
    async with db_pool.acquire() as conn:
        admin = await conn.fetchrow(
            "SELECT id, username FROM users WHERE role = 'admin' ORDER BY username LIMIT 1"
        )
        member = await conn.fetchrow(
            "SELECT id, username FROM users WHERE role = 'user' ORDER BY username LIMIT 1"
        )
    scopes = [
        Scope(user_id=admin["id"], username=admin["username"], role="admin", mode="admin"),
        Scope(user_id=member["id"], username=member["username"], role="user", mode="personal"),
    ]
    await assert_same_answers_as_reference(db_pool, catalogue, scopes, questions(now))


# Raw to_tsquery text, as no member can send it (search_library passes letters and digits joined by |):
# the function must still answer as the old query did, errors included.
RAW_QUERIES = [
    "heist", "heist | crime | drama", "heist & !comedy", "slow <-> burn", "heist:*", "noir:A", "run:* & !x",
    "'quoted' | o''brien", "drama | drama", "café | naïve", "東京物語 | кино", "the", "2001 | 1999", "",
    " | ".join(f"word{n}" for n in range(200)) + " | heist",
]  # fmt: skip
BAD_QUERIES = ["heist &", "(heist", "heist | | crime", "!", "heist)"]


@pytest.mark.writes_database
async def test_the_word_match_function_matches_and_ranks_as_the_old_query(
    seeded_pool: asyncpg.Pool, server: FixtureServer
) -> None:
    async with seeded_pool.acquire() as conn:
        await add_searchable_titles(conn, dict(server.items))
        compared = 0
        for query in RAW_QUERIES:
            for media_type in (None, "movie", "show"):
                for limit in (1, 3, 50):
                    now = await conn.fetch(
                        "SELECT * FROM analytics.title_text_match($1, $2, $3)", query, media_type, limit
                    )
                    before = await word_match_rows(conn, query, media_type, limit)
                    assert [dict(row) for row in now] == before, (query, media_type, limit)
                    compared += len(before)
        assert compared > 100
        for query in BAD_QUERIES:
            with pytest.raises(asyncpg.PostgresSyntaxError) as now_error:
                await conn.fetch("SELECT * FROM analytics.title_text_match($1, NULL, 8)", query)
            with pytest.raises(asyncpg.PostgresSyntaxError) as before_error:
                await word_match_rows(conn, query, None, 8)
            assert str(now_error.value) == str(before_error.value)


async def test_user_rankings_answer_as_before_across_utc_days_and_months(
    db_pool: asyncpg.Pool, catalogue: ToolCatalogue
) -> None:
    # Fixed dates, so periods start and end on, just before and just after UTC month boundaries
    # whatever day the test runs; in three zones, so local midnights fall off UTC ones too.
    now = datetime(2026, 11, 21, 20, tzinfo=UTC)
    await generate_demo_data(db_pool, DemoConfig(seed=3, users=15, items=300, days=150, now=now))
    async with db_pool.acquire() as conn:
        admin = await conn.fetchrow(
            "SELECT id, username FROM users WHERE role = 'admin' ORDER BY username LIMIT 1"
        )
    scopes = [
        Scope(
            user_id=admin["id"],
            username=admin["username"],
            role="admin",
            mode="admin",
            timezone=ZoneInfo(zone),
        )
        for zone in ("UTC", "America/New_York", "Asia/Kolkata")
    ]
    periods = [
        ("2026-07-01", "2026-09-30"),  # whole months
        ("2026-07-15", "2026-10-14"),  # months with days either side
        ("2026-08-01", "2026-08-31"),  # one month
        ("2026-08-02", "2026-08-30"),  # inside one month
        ("2026-06-30", "2026-11-01"),  # a day either side of whole months
        ("2026-09-01", "2026-09-01"),  # one day
        ("2026-10-31", "2026-11-01"),  # across a month's end
        ("2026-01-01", "2026-12-31"),  # the year, past the last play
    ]
    asked: list[Question] = [
        (tool, {"start": start, "end": end, "limit": limit})
        for tool in ("most_active_users", "top_watchers")
        for start, end in periods
        for limit in (3, 100)
    ]
    await assert_same_answers_as_reference(db_pool, catalogue, scopes, asked)
