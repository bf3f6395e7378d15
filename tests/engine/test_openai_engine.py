"""The OpenAI-compatible engine through the real ``openai`` SDK against a local fake Chat Completions server.

The fake answers as Ollama and llama.cpp's server do (see fake_chat_completions.py
for the shapes); the loop under test is the same one the Anthropic engine runs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from uuid import uuid4

import openai
import pytest

from core.engines.base import Turn
from core.engines.fallback import FALLBACK_NOTE, answer_with_fallback
from core.engines.health import EngineHealth
from core.engines.openai_engine import OpenAIEngine
from core.engines.tool_loop import (
    PLAIN_TEXT_CONFIDENCE,
    SUBMIT_ANSWER,
    EngineUnavailable,
    ToolCallingUnsupported,
)
from core.scope import Scope

from .doubles import RecordingToolRunner, ScriptedEngine
from .fake_chat_completions import (
    Delay,
    FakeChatCompletions,
    ServerError,
    completion,
    llamacpp_error,
    ollama_error,
    submit_call,
    tool_call,
)

ALICE = Scope(user_id=uuid4(), username="alice", role="user", mode="personal")
ROOT = Scope(user_id=uuid4(), username="root", role="admin", mode="admin")

FakeChat = tuple[FakeChatCompletions, str]


def engine_for(client: openai.AsyncOpenAI, **options: object) -> tuple[OpenAIEngine, list[float]]:
    waits: list[float] = []

    async def record_sleep(seconds: float) -> None:
        waits.append(seconds)

    options.setdefault("backoff_base_seconds", 0.01)
    engine = OpenAIEngine(
        client,
        "qwen2.5:7b",
        options=replace(OpenAIEngine.default_options, **options),  # type: ignore[arg-type]
        sleep=record_sleep,
    )
    return engine, waits


def tool_names(request: dict[str, object]) -> list[str]:
    return [t["function"]["name"] for t in request["tools"]]  # type: ignore[attr-defined, index]


async def test_an_ollama_tool_round_then_submit_answer_gives_the_answer_and_its_assessment(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(
        completion([tool_call("my_watch_time", {"period": "this month"})], usage=(900, 30)),
        completion(
            [
                submit_call(
                    "You watched **12.5 hours** this month.", 0.92, data_sources_used=["watch_history"]
                )
            ],
            usage=(1100, 60),
        ),
    )
    engine, _ = engine_for(openai_client)
    tools = RecordingToolRunner(ALICE)

    answer = await engine.answer("How much have I watched this month?", ALICE, [], tools)

    assert answer.text == "You watched **12.5 hours** this month."
    assert answer.engine == "openai"
    assert answer.assessment.confidence == pytest.approx(0.92)
    assert answer.assessment.data_sources_used == ["watch_history"]
    assert (answer.input_tokens, answer.output_tokens, answer.model_calls) == (2000, 90, 2)
    assert tools.calls == [("my_watch_time", {"period": "this month"})]

    first, second = server.requests
    assert server.headers[0]["Authorization"] == "Bearer test"
    assert first["model"] == "qwen2.5:7b"
    # one system message, first: strict chat templates reject any other place
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert "alice" in first["messages"][0]["content"]
    # the catalogue as function tools, JSON Schema as parameters, submit_answer last
    assert tool_names(first) == ["my_watch_time", SUBMIT_ANSWER]
    assert first["tools"][0]["function"]["parameters"]["required"] == ["period"]
    assert first["tools"][1]["function"]["parameters"]["properties"]["confidence"]["maximum"] == 1
    assert first["tool_choice"] == "auto"
    # the tool result goes back as a tool message with the call's id, after the assistant's call
    call_id = second["messages"][-2]["tool_calls"][0]["id"]
    assert call_id.startswith("call_")
    assert json.loads(second["messages"][-2]["tool_calls"][0]["function"]["arguments"]) == {
        "period": "this month"
    }
    assert second["messages"][-1]["role"] == "tool" and second["messages"][-1]["tool_call_id"] == call_id
    assert json.loads(second["messages"][-1]["content"])["summary"]["watched_seconds"] == 45_000


async def test_a_llamacpp_reply_with_null_content_and_no_index_works_and_the_last_round_offers_only_submit_answer(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(
        completion([tool_call("my_watch_time", {"period": "today"}, "llamacpp")], family="llamacpp"),
        completion([submit_call("One hour today.", 0.8, "llamacpp")], family="llamacpp"),
    )
    engine, _ = engine_for(openai_client, max_tool_rounds=1)

    answer = await engine.answer("today?", ALICE, [], RecordingToolRunner(ALICE))

    assert answer.text == "One hour today."
    first, last = server.requests
    assert first["tool_choice"] == "auto"
    # a named tool_choice is "auto" on llama.cpp, so the forced round offers nothing else
    assert tool_names(last) == [SUBMIT_ANSWER] and last["tool_choice"] == "required"
    assert last["messages"][-2]["content"] is None


async def test_a_server_that_refuses_tool_choice_required_gets_the_last_round_without_it(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    vllm_refusal = ServerError(
        400,
        {
            "object": "error",
            "message": 'Invalid value for tool_choice: "required" is not supported',
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
    )
    server.script(
        completion([tool_call("my_watch_time", {"period": "today"})]),
        vllm_refusal,
        completion([submit_call("One hour.", 0.8)]),
        completion([tool_call("my_watch_time", {"period": "today"})]),
        completion([submit_call("Still one hour.", 0.8)]),
    )
    engine, _ = engine_for(openai_client, max_tool_rounds=1)

    first = await engine.answer("today?", ALICE, [], RecordingToolRunner(ALICE))
    second = await engine.answer("and now?", ALICE, [], RecordingToolRunner(ALICE))

    assert (first.text, second.text) == ("One hour.", "Still one hour.")
    # the refused final round is sent again with "auto", and later final rounds skip "required"
    assert [r["tool_choice"] for r in server.requests] == ["auto", "required", "auto", "auto", "auto"]
    assert tool_names(server.requests[2]) == tool_names(server.requests[4]) == [SUBMIT_ANSWER]


async def test_an_older_ollama_that_finishes_tool_calls_with_stop_still_gets_its_tools_run(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(
        completion([tool_call("my_watch_time", {"period": "today"})], finish_reason="stop"),
        completion([submit_call("Done.", 0.8)], finish_reason="stop"),
    )
    engine, _ = engine_for(openai_client)

    answer = await engine.answer("today?", ALICE, [], RecordingToolRunner(ALICE))

    assert answer.text == "Done." and answer.tool_calls[0].result is not None


async def test_without_reported_usage_the_tokens_are_estimated(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(completion([submit_call("Hello!", 0.95)], usage=None))
    engine, _ = engine_for(openai_client)

    answer = await engine.answer("hi", ALICE, [], RecordingToolRunner(ALICE))

    assert answer.text == "Hello!"
    # the request carries the system prompt and two tool schemas: hundreds of tokens, not zero
    assert answer.input_tokens > 300
    assert 0 < answer.output_tokens < 100


async def test_invalid_json_arguments_get_one_corrective_round_with_the_error(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(
        completion([tool_call("my_watch_time", '{"period": "this month"')]),
        completion([tool_call("my_watch_time", {"period": "this month"})]),
        completion([submit_call("12.5 hours.", 0.85)]),
    )
    engine, _ = engine_for(openai_client)
    tools = RecordingToolRunner(ALICE)

    answer = await engine.answer("how much did I watch", ALICE, [], tools)

    assert answer.text == "12.5 hours."
    error = server.requests[1]["messages"][-1]
    assert error["role"] == "tool" and "not valid JSON" in error["content"]
    # the broken call never reached the tool
    assert tools.calls == [("my_watch_time", {"period": "this month"})]
    assert [c.invalid_arguments for c in answer.tool_calls] == [True, False]


async def test_a_second_invalid_round_ends_the_tool_rounds_with_the_forced_submit_answer(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(
        completion([tool_call("my_watch_time", "period=today")]),
        completion([tool_call("my_watch_time", {"when": "today"})]),
        completion([submit_call("I could not read your watch time.", 0.2, had_sufficient_data=False)]),
    )
    engine, _ = engine_for(openai_client, max_tool_rounds=6)

    answer = await engine.answer("today?", ALICE, [], RecordingToolRunner(ALICE))

    assert answer.text == "I could not read your watch time."
    schema_error = server.requests[2]["messages"][-1]["content"]
    assert "period: Field required" in schema_error
    assert tool_names(server.requests[1]) == ["my_watch_time", SUBMIT_ANSWER]
    assert tool_names(server.requests[2]) == [SUBMIT_ANSWER]
    assert server.requests[2]["tool_choice"] == "required"


async def test_an_invalid_submit_answer_is_sent_back_with_the_validation_error(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(
        completion([tool_call(SUBMIT_ANSWER, {"answer": "ok", "confidence": "very"})]),
        completion([submit_call("ok", 0.7)]),
    )
    engine, _ = engine_for(openai_client)

    answer = await engine.answer("hi", ALICE, [], RecordingToolRunner(ALICE))

    assert answer.text == "ok"
    assert "confidence" in server.requests[1]["messages"][-1]["content"]


async def test_a_plain_text_answer_without_submit_answer_is_kept_with_a_capped_confidence(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(
        completion([tool_call("my_watch_time", {"period": "today"})]),
        completion(content="You watched 12.5 hours. I'm completely sure!"),
    )
    engine, _ = engine_for(openai_client)

    answer = await engine.answer("today?", ALICE, [], RecordingToolRunner(ALICE))

    assert answer.text == "You watched 12.5 hours. I'm completely sure!"
    assert answer.assessment.confidence == PLAIN_TEXT_CONFIDENCE <= 0.5
    assert answer.assessment.had_sufficient_data is False
    assert answer.assessment.data_sources_used == ["my_watch_time"]


async def test_a_tool_call_written_into_the_content_is_run_as_a_tool_call(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(
        completion(content='```json\n{"name": "my_watch_time", "arguments": {"period": "today"}}\n```'),
        completion(
            content='{"name": "submit_answer", "parameters": {"answer": "12.5 hours.", "confidence": 0.7, "had_sufficient_data": true}}'
        ),
    )
    engine, _ = engine_for(openai_client)
    tools = RecordingToolRunner(ALICE)

    answer = await engine.answer("today?", ALICE, [], tools)

    assert tools.calls == [("my_watch_time", {"period": "today"})]
    assert answer.text == "12.5 hours." and answer.assessment.confidence == pytest.approx(0.7)
    assert server.requests[1]["messages"][-1]["role"] == "tool"


async def test_json_in_the_content_that_names_no_offered_tool_stays_text(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(completion(content='{"name": "most_active_users", "arguments": {}}'))
    engine, _ = engine_for(openai_client)
    tools = RecordingToolRunner(ALICE)

    answer = await engine.answer("who watches most?", ALICE, [], tools)

    assert tools.calls == [] and answer.assessment.confidence == PLAIN_TEXT_CONFIDENCE


async def test_a_reasoning_models_thinking_is_not_part_of_the_answer(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(completion(content="<think>The user greets me.\nI should greet back.</think>\n\nHello!"))
    engine, _ = engine_for(openai_client)

    answer = await engine.answer("hi", ALICE, [], RecordingToolRunner(ALICE))

    assert answer.text == "Hello!"


async def test_an_empty_reply_raises_engine_unavailable(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(completion(content=""))
    engine, _ = engine_for(openai_client)

    with pytest.raises(EngineUnavailable, match="no answer"):
        await engine.answer("hi", ALICE, [], RecordingToolRunner(ALICE))


async def test_429_is_retried_after_the_time_the_server_asks_for(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(
        ollama_error(429, "too many requests", {"retry-after": "3"}),
        llamacpp_error(503, "Loading model", "unavailable_error"),
        completion([submit_call("Hello!", 0.95)]),
    )
    engine, waits = engine_for(openai_client)

    answer = await engine.answer("hi", ALICE, [], RecordingToolRunner(ALICE))

    assert answer.text == "Hello!"
    assert len(server.requests) == 3
    assert waits[0] == 3.0 and 0 < waits[1] < 1
    assert engine.health.errors == {"HTTP 429": 1, "HTTP 503": 1}
    assert engine.health.last_success_at is not None


async def test_persistent_500_raises_engine_unavailable_and_the_fallback_answers(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(*[ollama_error(500, "llama runner process has terminated")] * 3)
    engine, waits = engine_for(openai_client, max_attempts=3)
    offline = ScriptedEngine(name="offline", tool=None)

    outcome = await answer_with_fallback(engine, offline, "hi", ALICE, [], RecordingToolRunner(ALICE))

    assert len(server.requests) == 3 and len(waits) == 2
    assert outcome.used_fallback and outcome.answer.text.startswith(FALLBACK_NOTE)
    assert outcome.engine_error is not None and "HTTP 500" in outcome.engine_error


async def test_a_400_is_not_retried(fake_chat: FakeChat, openai_client: openai.AsyncOpenAI) -> None:
    server, _ = fake_chat
    server.script(ollama_error(400, "invalid message format"))
    engine, _ = engine_for(openai_client)

    with pytest.raises(EngineUnavailable, match="HTTP 400"):
        await engine.answer("hi", ALICE, [], RecordingToolRunner(ALICE))
    assert len(server.requests) == 1


async def test_a_model_that_does_not_answer_in_time_times_out(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    late = Delay(2.0, completion([submit_call("too late")]))
    server.script(late, late)
    engine, _ = engine_for(openai_client, timeout_seconds=0.2, max_attempts=2, answer_deadline_seconds=5.0)

    with pytest.raises(EngineUnavailable, match="Timeout"):
        await engine.answer("hi", ALICE, [], RecordingToolRunner(ALICE))
    assert len(server.requests) == 2
    assert engine.health.errors["APITimeoutError"] == 2


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (ollama_error(400, "registry.ollama.ai/library/gemma2:2b does not support tools"), "'tools' tag"),
        (llamacpp_error(500, "tools param requires --jinja flag"), "--jinja"),
    ],
    ids=["ollama", "llamacpp"],
)
async def test_a_server_without_tool_calling_is_reported_once_and_the_fallback_answers_meanwhile(
    fake_chat: FakeChat,
    openai_client: openai.AsyncOpenAI,
    caplog: pytest.LogCaptureFixture,
    error: object,
    hint: str,
) -> None:
    server, _ = fake_chat
    server.script(error)
    engine, waits = engine_for(openai_client)
    offline = ScriptedEngine(name="offline", tool=None)

    with caplog.at_level(logging.WARNING, logger="core.engines.tool_loop"):
        first = await answer_with_fallback(engine, offline, "hi", ALICE, [], RecordingToolRunner(ALICE))
        second = await answer_with_fallback(
            engine, offline, "hi again", ALICE, [], RecordingToolRunner(ALICE)
        )

    assert first.used_fallback and second.used_fallback
    assert len(server.requests) == 1  # not retried, and not asked again while the problem stands
    assert waits == []
    assert engine.health.tool_calling_problem is not None and hint in engine.health.tool_calling_problem
    assert engine.health.as_dict()["tool_calling_problem"] == engine.health.tool_calling_problem
    reports = [r for r in caplog.records if "cannot call tools" in r.getMessage()]
    assert len(reports) == 1 and hint in reports[0].getMessage()
    with pytest.raises(ToolCallingUnsupported):
        await engine.answer("hi", ALICE, [], RecordingToolRunner(ALICE))


async def test_only_the_askers_mode_tools_are_sent_and_a_setting_caps_how_many(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.repeat_last = True
    server.script(completion([submit_call("ok", 0.9)]))
    uncapped, _ = engine_for(openai_client)
    capped, _ = engine_for(openai_client, max_tools=1)

    await uncapped.answer("hi", ALICE, [], RecordingToolRunner(ALICE))
    await uncapped.answer("hi", ROOT, [], RecordingToolRunner(ROOT))
    await capped.answer("hi", ROOT, [], RecordingToolRunner(ROOT))

    assert tool_names(server.requests[0]) == ["my_watch_time", SUBMIT_ANSWER]
    assert tool_names(server.requests[1]) == ["my_watch_time", "most_active_users", SUBMIT_ANSWER]
    assert tool_names(server.requests[2]) == ["my_watch_time", SUBMIT_ANSWER]


async def test_conversation_memory_follows_the_system_message_as_alternating_turns(
    fake_chat: FakeChat, openai_client: openai.AsyncOpenAI
) -> None:
    server, _ = fake_chat
    server.script(completion([submit_call("Season 2 is next.", 0.8)]))
    engine, _ = engine_for(openai_client)
    history = [
        Turn("assistant", "a reply whose question was cut off"),
        Turn("user", "What am I watching?"),
        Turn("assistant", "You're in the middle of Severance."),
    ]

    await engine.answer("What's next?", ALICE, history, RecordingToolRunner(ALICE))

    assert server.requests[0]["messages"][1:] == [
        {"role": "user", "content": "What am I watching?"},
        {"role": "assistant", "content": "You're in the middle of Severance."},
        {"role": "user", "content": "What's next?"},
    ]


async def test_health_shows_the_endpoint_and_model_without_credentials(
    fake_chat: FakeChat,
) -> None:
    server, base_url = fake_chat
    server.script(completion([submit_call("ok", 0.9)]))
    with_secrets = base_url.replace("http://", "http://user:hunter2@")
    client = openai.AsyncOpenAI(base_url=with_secrets, api_key="sk-or-secret", max_retries=0)
    try:
        engine, _ = engine_for(client)
        await engine.answer("hi", ALICE, [], RecordingToolRunner(ALICE))
    finally:
        await client.close()

    shown = json.dumps(engine.health.as_dict())
    assert "hunter2" not in shown and "sk-" not in shown and "user" not in shown
    assert engine.health.endpoint == base_url.rstrip("/") + "/"
    assert engine.health.model == "qwen2.5:7b"
    assert engine.health.median_latency_ms is not None


def test_health_median_latency_and_errors() -> None:
    health = EngineHealth("openai", model="m", endpoint="https://openrouter.ai/api/v1")
    for seconds in (0.1, 0.3, 0.2):
        health.record_success(seconds)
    health.record_error("HTTP 500")

    assert health.median_latency_ms == 200.0
    assert health.as_dict()["errors"] == {"HTTP 500": 1}
    assert health.endpoint == "https://openrouter.ai/api/v1"
