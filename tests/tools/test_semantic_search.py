"""Semantic search and explained recommendations on the hand-built server, with fixed vectors.

The library is embedded through the real ``openai`` SDK against the local fake
embeddings endpoint (tests/engine/fake_chat_completions.py), into pgvector on
this test's own clone of the hand-built server. Three dimensions are enough to
work the answers out on paper: science fiction, comedy, crime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from engine.fake_chat_completions import FakeChatCompletions, FakeEmbeddings, ollama_error

from core.scope import Scope
from core.semantic.embedder import EmbeddingConfig
from core.semantic.job import EmbeddingJob
from core.semantic.openai_embedder import OpenAIEmbedder
from core.semantic.store import embedding_counts
from core.sync.jobs import JobResult, run_job
from core.tools.base import ToolResult
from core.tools.catalogue import ToolCatalogue, build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool

from .fixture_server import FixtureServer

pytestmark = pytest.mark.writes_database

# One fixed vector per title of the hand-built server (found by its title in the embedded text),
# and the words of the questions asked below.
VECTORS = {
    "Inception": [1.0, 0.0, 0.1],
    "The Matrix": [0.95, 0.0, 0.2],
    "Arrival": [0.9, 0.2, 0.0],
    "Paddington": [0.0, 1.0, 0.0],
    "Old Flop": [0.1, 0.9, 0.0],
    "Breaking Bad": [0.0, 0.1, 1.0],
    "The Office": [0.0, 1.0, 0.1],
    "New Show": [0.3, 0.0, 0.9],
    "heist": [0.05, 0.0, 1.0],
    "aliens": [0.9, 0.0, 0.0],
}
LIBRARY = 8  # five movies, three shows; episodes are found through their show


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[FakeEmbeddings, str]]:
    server = FakeChatCompletions(embeddings=FakeEmbeddings(dimension=3, vectors=VECTORS))
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield server.embeddings, f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


@pytest.fixture
async def embedder(endpoint: tuple[FakeEmbeddings, str]) -> AsyncIterator[OpenAIEmbedder]:
    _, base_url = endpoint
    client = OpenAIEmbedder(
        EmbeddingConfig(base_url=base_url, model="nomic-embed-text", dimension=3), max_retries=2
    )
    try:
        yield client
    finally:
        await client.close()


async def embed(pool: asyncpg.Pool, embedder: OpenAIEmbedder, batch_size: int = 3) -> JobResult:
    return await run_job(pool, EmbeddingJob(embedder, interval_seconds=3600, batch_size=batch_size))


def titles(rows: list[dict[str, Any]]) -> list[str]:
    return [row["title"] for row in rows]


@pytest.fixture
def run(tool_database: ToolDatabase, scope_of: Callable[..., Scope]) -> Callable[..., Any]:
    async def call(
        catalogue: ToolCatalogue, name: str, as_user: str = "alice", **arguments: Any
    ) -> ToolResult:
        return await run_tool(tool_database, scope_of(as_user), catalogue, name, arguments)

    return call


async def test_the_library_is_embedded_in_batches_and_searched_by_meaning(
    seeded_pool: asyncpg.Pool, endpoint: tuple[FakeEmbeddings, str], embedder: OpenAIEmbedder, run: Any
) -> None:
    fake, _ = endpoint
    result = await embed(seeded_pool, embedder)
    assert result.ok, result.error
    assert result.counts["titles_embedded"] == LIBRARY
    assert [len(r["input"]) for r in fake.requests] == [3, 3, 2]
    assert all(r["model"] == "nomic-embed-text" and r["encoding_format"] == "float" for r in fake.requests)
    assert not any("Episode" in text for text in fake.texts_embedded)

    catalogue = build_catalogue(embedder)
    found = await run(catalogue, "search_library", query="a slow-burn heist film")
    assert found.summary["method"] == "semantic"
    assert titles(found.rows)[:2] == ["Breaking Bad", "New Show"]
    assert found.rows[0]["similarity"] > 0.99
    assert not found.coverage.gaps
    movies = await run(catalogue, "search_library", query="a heist", media_type="movie", limit=2)
    assert [r["media_type"] for r in movies.rows] == ["movie", "movie"]

    async with seeded_pool.acquire() as conn:
        counts = await embedding_counts(conn)
    assert (counts.embedded, counts.total, counts.model, counts.dimension) == (
        LIBRARY,
        LIBRARY,
        "nomic-embed-text",
        3,
    )
    assert counts.vector_ready and counts.last_error is None and counts.last_success_at is not None


async def test_only_new_or_changed_titles_are_embedded_again(
    seeded_pool: asyncpg.Pool,
    server: FixtureServer,
    endpoint: tuple[FakeEmbeddings, str],
    embedder: OpenAIEmbedder,
) -> None:
    fake, _ = endpoint
    assert (await embed(seeded_pool, embedder)).counts["titles_embedded"] == LIBRARY
    fake.requests.clear()
    again = await embed(seeded_pool, embedder)
    assert again.ok and again.counts == {
        "titles_checked": LIBRARY,
        "titles_embedded": 0,
        "user_stats_changed": 0,
    }
    assert fake.requests == []

    await seeded_pool.execute(
        'UPDATE media_items SET metadata = metadata || \'{"summary": "A thief who steals secrets in dreams."}\''
        " WHERE id = $1",
        server.items["Inception"],
    )
    await seeded_pool.execute(
        "INSERT INTO media_items (title, media_type, year, metadata) VALUES ('Heat', 'movie', 1995, $1)",
        {
            "genres": ["Crime", "Thriller"],
            "cast": ["Al Pacino", "Robert De Niro"],
            "directors": ["Michael Mann"],
        },
    )
    changed = await embed(seeded_pool, embedder)
    assert changed.counts["titles_embedded"] == 2
    embedded = fake.texts_embedded
    assert len(embedded) == 2
    assert any("Inception" in text and "steals secrets in dreams" in text for text in embedded)
    assert any(
        text.startswith("Heat (1995), movie") and "Directed by: Michael Mann" in text for text in embedded
    )


async def test_a_429_is_retried_and_a_failing_endpoint_is_recorded_with_nothing_lost(
    seeded_pool: asyncpg.Pool, endpoint: tuple[FakeEmbeddings, str], embedder: OpenAIEmbedder
) -> None:
    fake, _ = endpoint
    fake.errors.append(ollama_error(429, "too many requests", {"retry-after": "0"}))
    first = await embed(seeded_pool, embedder, batch_size=64)
    assert first.ok and first.counts["titles_embedded"] == LIBRARY
    assert [r.get("refused") for r in fake.requests] == [429, None]

    await seeded_pool.execute(
        "UPDATE media_items SET title = title || ' (Director''s Cut)' WHERE title = 'Arrival'"
    )
    fake.errors.extend([ollama_error(500, "model runner has unexpectedly stopped")] * 3)
    failed = await embed(seeded_pool, embedder)
    assert not failed.ok
    assert failed.error is not None
    assert "HTTP 500" in failed.error and "model runner has unexpectedly stopped" in failed.error
    async with seeded_pool.acquire() as conn:
        counts = await embedding_counts(conn)
    assert counts.last_error == failed.error
    assert counts.embedded == LIBRARY  # the earlier vectors stay; Arrival's is redone on the next run


async def test_a_model_of_another_dimension_is_refused_with_what_to_set(
    seeded_pool: asyncpg.Pool, endpoint: tuple[FakeEmbeddings, str]
) -> None:
    _, base_url = endpoint
    wrong = OpenAIEmbedder(
        EmbeddingConfig(base_url=base_url, model="nomic-embed-text", dimension=768), max_retries=0
    )
    try:
        result = await embed(seeded_pool, wrong)
    finally:
        await wrong.close()
    assert not result.ok
    assert result.error is not None and "MARQUEE_EMBEDDINGS_DIMENSION is 768: set it to 3" in result.error


async def test_without_embeddings_search_matches_words_and_says_so(run: Any) -> None:
    found = await run(build_catalogue(), "search_library", query="something like a gritty crime drama")
    assert found.summary["method"] == "text match"
    assert found.summary["words"] == ["gritty", "crime", "drama"]
    assert titles(found.rows)[0] == "Breaking Bad"
    assert "semantic search is not set up" in found.coverage.gaps[0]
    assert "not its meaning" in build_catalogue().get("search_library").render(found)


async def test_embedded_recommendations_say_which_finished_titles_they_come_from(
    seeded_pool: asyncpg.Pool, embedder: OpenAIEmbedder, run: Any
) -> None:
    assert (await embed(seeded_pool, embedder)).ok
    catalogue = build_catalogue()
    tonight = await run(catalogue, "recommend_tonight", limit=3)
    assert tonight.summary["method"] == "embeddings"
    # alice finished Inception (rated 9) and rated Breaking Bad 8: the nearest titles to those, unfinished.
    assert titles(tonight.rows) == ["The Matrix", "Arrival", "New Show"]
    assert tonight.rows[0]["because_text"] == "because you finished Inception (2010)"
    assert tonight.rows[2]["because_text"] == "because you rated Breaking Bad highly"
    assert "Inception" not in titles(tonight.rows)
    text = catalogue.get("recommend_tonight").render(tonight)
    assert (
        "The Matrix (1999) (movie, Sci-Fi, Action, rated 8.7) — because you finished Inception (2010)" in text
    )

    like = await run(catalogue, "similar_titles", title="inceptoin", limit=2)
    assert like.summary["method"] == "embeddings"
    assert titles(like.rows) == ["The Matrix", "Arrival"]
    assert like.rows[0]["because_text"] == "close to Inception (2010) in story and style"


async def test_another_members_history_never_changes_or_appears_in_my_recommendations(
    seeded_pool: asyncpg.Pool, server: FixtureServer, embedder: OpenAIEmbedder, run: Any
) -> None:
    catalogue = build_catalogue()

    async def alice_both_ways() -> list[ToolResult]:
        return [
            await run(catalogue, "recommend_tonight", limit=5),
            await run(catalogue, "similar_titles", title="Inception", limit=5),
        ]

    by_metadata = await alice_both_ways()
    assert (await embed(seeded_pool, embedder)).ok
    by_vectors = await alice_both_ways()
    # bob finishes and loves everything alice has not seen
    for title in ("Arrival", "Paddington", "Old Flop", "New Show E1", "New Show E2"):
        await seeded_pool.execute(
            "INSERT INTO user_stats (user_id, media_item_id, play_count, rating) VALUES ($1, $2, 1, 10)"
            " ON CONFLICT (user_id, media_item_id) DO UPDATE SET play_count = 1, rating = 10",
            server.users["bob"],
            server.items[title],
        )
    after = await alice_both_ways()
    assert [r.rows for r in after] == [r.rows for r in by_vectors]
    await seeded_pool.execute("DELETE FROM media_embeddings")
    assert [r.rows for r in await alice_both_ways()] == [r.rows for r in by_metadata]
    alices = {"Inception (2010)", "Breaking Bad"}
    for result in (*by_metadata, *by_vectors):
        for row in result.rows:
            for reason in row.get("because") or []:
                name = f"{reason['title']} ({reason['year']})" if reason.get("year") else reason["title"]
                assert name in alices


async def test_without_embeddings_recommendations_are_explained_by_genres_people_and_years(run: Any) -> None:
    catalogue = build_catalogue()
    tonight = await run(catalogue, "recommend_tonight", limit=10)
    assert tonight.summary["method"] == "metadata"
    by_title = {row["title"]: row for row in tonight.rows}
    assert by_title["The Matrix"]["because_text"] == "because you finished Inception (2010)"
    assert by_title["The Matrix"]["because"][0]["shared"] == ["Action", "Sci-Fi"]
    assert by_title["New Show"]["because_text"] == "because you rated Breaking Bad highly"
    assert by_title["Paddington"]["because_text"] is None  # nothing alice liked shares anything with it
    text = catalogue.get("recommend_tonight").render(tonight)
    assert "— because you finished Inception (2010)" in text
