"""What ``/health`` and ``marquee health [--engine]`` say about the answer engine."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import openai
import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.http.server import WebhookConfig, build_app
from bot.cli import main
from core.engines.fallback import answer_with_fallback
from core.engines.health import engine_status
from core.engines.openai_engine import OpenAIEngine

from .doubles import People, RecordingToolRunner, ScriptedEngine
from .fake_chat_completions import FakeChatCompletions, completion, llamacpp_error, submit_call, tool_call
from .test_openai_engine import ALICE

FakeChat = tuple[FakeChatCompletions, str]


async def test_health_shows_the_engine_its_model_endpoint_errors_and_what_to_change(
    db_pool: asyncpg.Pool, fake_chat: FakeChat
) -> None:
    server, base_url = fake_chat
    server.script(
        completion([submit_call("Hello!", 0.9)]), llamacpp_error(500, "tools param requires --jinja flag")
    )
    client = openai.AsyncOpenAI(
        base_url=base_url.replace("http://", "http://admin:s3cret@"), api_key="sk-secret", max_retries=0
    )
    engine = OpenAIEngine(client, "qwen2.5:7b")
    offline = ScriptedEngine(name="offline", tool=None)
    await engine.answer("hi", ALICE, [], RecordingToolRunner(ALICE))
    await answer_with_fallback(engine, offline, "hi", ALICE, [], RecordingToolRunner(ALICE))

    app = build_app(db_pool, WebhookConfig(), engine_status=lambda: engine_status(engine, offline))
    async with TestClient(TestServer(app)) as http:
        response = await http.get("/health")
        body = await response.json()
        text = await (await http.get("/health")).text()
    await client.close()

    assert response.status == 200 and body["status"] == "ok"
    shown = body["engine"]
    assert (shown["engine"], shown["model"], shown["fallback"]) == ("openai", "qwen2.5:7b", "offline")
    assert shown["endpoint"] == base_url + "/"
    assert shown["last_success_at"] is not None and shown["median_latency_ms"] is not None
    assert shown["errors"] == {"no_tools": 1}
    assert "--jinja" in shown["tool_calling_problem"]
    assert "s3cret" not in text and "sk-secret" not in text and "admin:" not in text


async def test_health_without_an_engine_status_is_unchanged(db_pool: asyncpg.Pool) -> None:
    async with TestClient(TestServer(build_app(db_pool, WebhookConfig()))) as http:
        assert await (await http.get("/healthz")).json() == {"status": "ok"}


@pytest.fixture
def openai_env(
    database_url: str, fake_chat: FakeChat, monkeypatch: pytest.MonkeyPatch
) -> FakeChatCompletions:
    server, base_url = fake_chat
    monkeypatch.setenv("MARQUEE_DATABASE_URL", database_url)
    monkeypatch.delenv("MARQUEE_ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("MARQUEE_ENGINE", "openai")
    monkeypatch.setenv("MARQUEE_OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("MARQUEE_OPENAI_API_KEY", "sk-never-printed")
    return server


async def test_marquee_ask_answers_through_the_openai_engine(
    openai_env: FakeChatCompletions, db_pool: asyncpg.Pool, people: People, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_env.script(
        completion([tool_call("watch_time", {})]),
        completion(
            [submit_call("You watched nothing yet this month.", 0.8, data_sources_used=["watch_history"])]
        ),
    )

    status = await asyncio.to_thread(
        main, ["ask", "--as", "alice", "--json", "How much did I watch this month?"]
    )

    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["answer"] == "You watched nothing yet this month."
    row = await db_pool.fetchrow(
        "SELECT user_id, engine, model_calls, used_fallback FROM ai_conversation_feedback"
    )
    assert (row["user_id"], row["engine"], row["model_calls"], row["used_fallback"]) == (
        people.alice,
        "openai",
        2,
        False,
    )


async def test_health_engine_reports_that_tool_calling_works(
    openai_env: FakeChatCompletions, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_env.script(
        completion([tool_call("server_time", {})]),
        completion([submit_call("It is 02:30 UTC.", 0.9)]),
    )

    status = await asyncio.to_thread(main, ["health", "--engine"])

    out = capsys.readouterr().out
    assert status == 0, out
    assert "engine: openai · model: qwen2.5:7b" in out
    assert "engine check: ok — tool calling works" in out
    assert "sk-never-printed" not in out
    assert [t["function"]["name"] for t in openai_env.requests[0]["tools"]] == [
        "server_time",
        "submit_answer",
    ]


async def test_health_engine_says_what_to_change_when_the_server_cannot_call_tools(
    openai_env: FakeChatCompletions, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_env.script(llamacpp_error(500, "tools param requires --jinja flag"))

    status = await asyncio.to_thread(main, ["health", "--engine"])

    out = capsys.readouterr().out
    assert status == 1
    assert "cannot call tools" in out and "--jinja" in out


async def test_health_engine_flags_a_model_that_answers_in_plain_text(
    openai_env: FakeChatCompletions, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_env.script(completion(content="It is half past two."))

    status = await asyncio.to_thread(main, ["health", "--engine"])

    assert status == 1
    assert "without calling tools" in capsys.readouterr().out
