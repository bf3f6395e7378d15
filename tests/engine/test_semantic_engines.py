"""Semantic search and explained recommendations through both model engines, the CLI and ``/health``.

The library is embedded through the real ``openai`` SDK against the fake server's
``/v1/embeddings`` (the same server that answers Chat Completions, as Ollama does);
the Anthropic engine talks to the fake Messages API.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.http.server import WebhookConfig, build_app
from bot.cli import main
from bot.integrations import embedding_config, embedding_job
from bot.settings import Settings, load_settings
from bot.wiring import build_assistant
from core.chat import ChatRequest
from core.sync.jobs import run_job

from .doubles import People
from .fake_chat_completions import FakeChatCompletions, completion, ollama_error, submit_call, tool_call
from .fake_messages_api import FakeMessagesAPI, message, submit_answer, tool_use

FakeChat = tuple[FakeChatCompletions, str]
BOB = ("discord", "222222222222222222", "dm-bob")

LIBRARY = [
    # title, year, genres, cast, directors, vector (heist, dreams, family)
    ("Heat", 1995, ["Crime", "Thriller"], ["Al Pacino", "Robert De Niro"], ["Michael Mann"], [1.0, 0.1, 0.0]),
    (
        "Inception",
        2010,
        ["Sci-Fi", "Thriller"],
        ["Leonardo DiCaprio"],
        ["Christopher Nolan"],
        [0.6, 1.0, 0.0],
    ),
    ("The Town", 2010, ["Crime", "Drama"], ["Ben Affleck"], ["Ben Affleck"], [0.95, 0.0, 0.1]),
    ("Collateral", 2004, ["Crime", "Thriller"], ["Tom Cruise"], ["Michael Mann"], [0.9, 0.2, 0.0]),
    ("Paddington", 2014, ["Family", "Comedy"], ["Ben Whishaw"], ["Paul King"], [0.0, 0.1, 1.0]),
]


async def seed_library(pool: asyncpg.Pool, people: People) -> dict[str, Any]:
    """The library; bob finished Heat and Inception (rated 9) and has seen nothing else."""
    ids = {}
    for title, year, genres, cast, directors, _ in LIBRARY:
        ids[title] = await pool.fetchval(
            "INSERT INTO media_items (title, media_type, year, metadata) VALUES ($1, 'movie', $2, $3) RETURNING id",
            title,
            year,
            {"genres": genres, "cast": cast, "directors": directors, "rating": 7.5},
        )
    for title in ("Heat", "Inception"):
        await pool.execute(
            "INSERT INTO user_stats (user_id, media_item_id, play_count, rating) VALUES ($1, $2, 1, 9)",
            people.bob,
            ids[title],
        )
    return ids


def with_vectors(server: FakeChatCompletions) -> None:
    server.embeddings.vectors = {title: vector for title, *_, vector in LIBRARY}
    server.embeddings.vectors["heist"] = [1.0, 0.0, 0.05]


def openai_settings(database_url: str, base_url: str, **extra: Any) -> Settings:
    return load_settings(
        database_url=database_url, engine="openai", openai_base_url=base_url, embeddings_base_url=base_url,
        embeddings_dimension=3, **extra,
    )  # fmt: skip


async def embed_library(pool: asyncpg.Pool, settings: Settings) -> None:
    configured = embedding_job(settings)
    assert configured is not None
    job, embedder = configured
    try:
        assert (await run_job(pool, job)).ok
    finally:
        await embedder.close()


async def test_the_openai_engine_searches_by_meaning_and_explains_recommendations(
    db_pool: asyncpg.Pool, people: People, database_url: str, fake_chat: FakeChat
) -> None:
    await seed_library(db_pool, people)
    server, base_url = fake_chat
    with_vectors(server)
    settings = openai_settings(database_url, base_url)
    await embed_library(db_pool, settings)
    server.script(
        completion([tool_call("search_library", {"query": "a slow-burn heist film"})]),
        completion([submit_call("Try The Town.", 0.8, question_type="recommendation")]),
        completion([tool_call("recommend_tonight", {"limit": 2})]),
        completion([submit_call("The Town and Collateral.", 0.8, question_type="recommendation")]),
    )
    assistant = await build_assistant(settings, db_pool)

    searched = await assistant.handle(ChatRequest(*BOB, "something like a slow-burn heist film"))
    tonight = await assistant.handle(ChatRequest(*BOB, "what should I watch tonight?"))

    assert searched.details["engine"] == "openai" and tonight.details["engine"] == "openai"
    search_result = json.loads(server.requests[1]["messages"][-1]["content"])
    assert search_result["summary"]["method"] == "semantic"
    assert [row["title"] for row in search_result["rows"]][:3] == ["The Town", "Heat", "Collateral"]
    assert "a slow-burn heist film" in server.embeddings.texts_embedded
    recommended = json.loads(server.requests[3]["messages"][-1]["content"])
    assert [row["title"] for row in recommended["rows"]] == ["Collateral", "The Town"]
    assert recommended["rows"][0]["because_text"] == "because you finished Heat (1995)"
    assert "search_library" in [t["function"]["name"] for t in server.requests[0]["tools"]]


async def test_the_anthropic_engine_gets_recommendations_explained_without_embeddings(
    db_pool: asyncpg.Pool, people: People, database_url: str, fake_api: tuple[FakeMessagesAPI, str]
) -> None:
    await seed_library(db_pool, people)
    api, base_url = fake_api
    api.script(
        message([tool_use("recommend_tonight", {"limit": 3})]),
        message([submit_answer("Collateral, because you finished Heat.", question_type="recommendation")]),
    )
    settings = load_settings(
        database_url=database_url,
        engine="anthropic",
        anthropic_api_key="sk-test",
        anthropic_base_url=base_url,
    )
    assistant = await build_assistant(settings, db_pool)

    reply = await assistant.handle(ChatRequest(*BOB, "what should I watch tonight?"))

    assert reply.details["engine"] == "anthropic"
    result = json.loads(api.requests[1]["messages"][-1]["content"][0]["content"])
    assert result["summary"]["method"] == "metadata"
    by_title = {row["title"]: row for row in result["rows"]}
    # Collateral shares Crime, Thriller and Michael Mann with Heat, and Thriller with Inception
    assert by_title["Collateral"]["because_text"] == "because you finished Heat (1995) and Inception (2010)"
    assert by_title["Collateral"]["because"][0]["shared"] == ["Crime", "Thriller", "Michael Mann"]


async def test_health_reports_embedded_titles_model_and_the_last_error(
    db_pool: asyncpg.Pool, people: People, database_url: str, fake_chat: FakeChat
) -> None:
    await seed_library(db_pool, people)
    server, base_url = fake_chat
    settings = openai_settings(database_url, base_url, embeddings_api_key="sk-embed-secret")
    config = embedding_config(settings)
    assert config is not None
    await embed_library(db_pool, settings)
    await db_pool.execute(
        "UPDATE media_items SET title = 'Heat (Director''s Definitive Edition)' WHERE title = 'Heat'"
    )
    server.embeddings.errors.extend([ollama_error(500, "model 'nomic-embed-text' not found")] * 4)
    configured = embedding_job(settings)
    assert configured is not None
    assert not (await run_job(db_pool, configured[0])).ok
    await configured[1].close()

    app = build_app(db_pool, WebhookConfig(), embeddings=config)
    async with TestClient(TestServer(app)) as http:
        text = await (await http.get("/health")).text()
    shown = json.loads(text)["embeddings"]
    assert (shown["model"], shown["dimension"], shown["embedded"], shown["total"]) == (
        "nomic-embed-text",
        3,
        5,
        5,
    )
    assert shown["vector_extension"] is True and shown["endpoint"] == base_url
    assert "HTTP 500" in shown["last_error"] and "not found" in shown["last_error"]
    assert "sk-embed-secret" not in text


@pytest.fixture
def embeddings_env(
    database_url: str, fake_chat: FakeChat, monkeypatch: pytest.MonkeyPatch
) -> FakeChatCompletions:
    server, base_url = fake_chat
    monkeypatch.setenv("MARQUEE_DATABASE_URL", database_url)
    monkeypatch.delenv("MARQUEE_ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("MARQUEE_ENGINE", "offline")
    monkeypatch.setenv("MARQUEE_EMBEDDINGS_BASE_URL", base_url)
    monkeypatch.setenv("MARQUEE_EMBEDDINGS_DIMENSION", "3")
    monkeypatch.setenv("MARQUEE_EMBEDDINGS_API_KEY", "sk-never-printed")
    return server


async def test_marquee_embed_then_health_engine_report_the_embeddings(
    embeddings_env: FakeChatCompletions,
    db_pool: asyncpg.Pool,
    people: People,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seed_library(db_pool, people)

    assert await asyncio.to_thread(main, ["embed"]) == 0
    embedded = capsys.readouterr().out
    assert "embeddings: ok" in embedded and "5 titles checked, 5 embedded with nomic-embed-text" in embedded
    assert await asyncio.to_thread(main, ["embed"]) == 0
    assert "5 titles checked, 0 embedded" in capsys.readouterr().out

    assert await asyncio.to_thread(main, ["health", "--engine"]) == 0
    out = capsys.readouterr().out
    assert "embeddings: 5/5 titles embedded · model: nomic-embed-text (3 dimensions)" in out
    assert "embeddings check: ok — embeddings work" in out
    assert "sk-never-printed" not in out

    embeddings_env.embeddings.errors.append(
        ollama_error(404, 'model "nomic-embed-text" not found, try pulling it first')
    )
    assert await asyncio.to_thread(main, ["health", "--engine"]) == 1
    assert "embeddings check: FAILED" in capsys.readouterr().out


async def test_marquee_embed_without_an_endpoint_says_what_to_set(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARQUEE_DATABASE_URL", database_url)
    monkeypatch.delenv("MARQUEE_EMBEDDINGS_BASE_URL", raising=False)
    assert await asyncio.to_thread(main, ["embed"]) == 2
    assert "MARQUEE_EMBEDDINGS_BASE_URL" in capsys.readouterr().err


async def test_the_question_embedder_is_closed_when_the_console_stops(
    db_pool: asyncpg.Pool, people: People, database_url: str, fake_chat: FakeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``marquee ask``/``console`` (and ``marquee run``) close the query embedder's HTTP client when they stop."""
    from bot import wiring
    from bot.commands.ask import _ask

    await seed_library(db_pool, people)
    server, base_url = fake_chat
    with_vectors(server)
    settings = openai_settings(database_url, base_url)
    await embed_library(db_pool, settings)
    server.script(
        completion([tool_call("search_library", {"query": "a slow-burn heist film"})]),
        completion([submit_call("Try The Town.", 0.8, question_type="recommendation")]),
    )
    made: list[Any] = []

    def recorded(settings: Settings) -> Any:
        embedder = query_embedder(settings)
        made.append(embedder)
        return embedder

    query_embedder = wiring.query_embedder
    monkeypatch.setattr(wiring, "query_embedder", recorded)
    args = argparse.Namespace(question=["something like a slow-burn heist film"], as_user="bob", admin=False, json=False)
    assert await _ask(settings, args) == 0
    assert "a slow-burn heist film" in server.embeddings.texts_embedded
    [embedder] = made
    assert embedder.closed
