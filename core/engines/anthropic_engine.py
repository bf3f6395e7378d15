"""Claude with tool use over the analytics catalogue: the Anthropic Messages dialect of the tool loop.

The loop itself (rounds, ``submit_answer``, retries, accounting) is
``core.engines.tool_loop``; this module only translates. The static prefix (tool
definitions, system prompt) is marked for prompt caching; what changes per
question (who asks, today's date) comes after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anthropic

from core.engines.health import EngineHealth
from core.engines.tool_loop import (
    SUBMIT_ANSWER,
    SUBMIT_ANSWER_SCHEMA,
    SYSTEM_PROMPT,
    CallFailure,
    EngineUnavailable,
    LoopOptions,
    ModelTurn,
    RequestedTool,
    SubmittedAnswer,
    ToolDefinition,
    ToolLoopEngine,
    ToolOutcome,
    Understanding,
    tool_result_payload,
    who_is_asking,
)
from core.scope import Scope

__all__ = [
    "SUBMIT_ANSWER",
    "SUBMIT_ANSWER_SCHEMA",
    "AnthropicEngine",
    "EngineUnavailable",
    "SubmittedAnswer",
    "tool_result_payload",
]

MAX_TOKENS = 1500
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


@dataclass
class _Request:
    system: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    messages: list[dict[str, Any]]


class AnthropicDialect:
    def __init__(self, client: anthropic.AsyncAnthropic, model: str) -> None:
        self._client = client
        self._model = model
        self._tools: dict[object, list[dict[str, Any]]] = {}

    def start(
        self,
        scope: Scope,
        turns: list[Any],
        tools: list[ToolDefinition],
        cache_key: object,
        hint: str | None = None,
    ) -> _Request:
        converted = self._tools.get(cache_key)
        if converted is None:
            converted = [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools
            ]
            # the end of the static prefix: everything up to here is cached
            converted[-1] = {**converted[-1], "cache_control": {"type": "ephemeral"}}
            self._tools[cache_key] = converted
        system: list[dict[str, Any]] = [
            {"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": who_is_asking(scope)},
        ]
        if hint is not None:
            # After the cached prefix: the hint changes with every question.
            system.append({"type": "text", "text": hint})
        messages: list[dict[str, Any]] = [{"role": t.role, "content": t.content} for t in turns]
        return _Request(system, converted, messages)

    async def complete(self, state: _Request, *, final: bool, timeout_seconds: float) -> ModelTurn:
        tool_choice = {"type": "tool", "name": SUBMIT_ANSWER} if final else {"type": "any"}
        request: dict[str, Any] = {
            "system": state.system,
            "tools": state.tools,
            "messages": state.messages,
            "tool_choice": tool_choice,
        }
        response = await self._client.messages.create(
            model=self._model, max_tokens=MAX_TOKENS, timeout=timeout_seconds, **request
        )
        usage = response.usage
        calls = [
            RequestedTool(block.id, block.name, block.input)
            if isinstance(block.input, dict)
            else RequestedTool(block.id, block.name, None, "tool input must be a JSON object")
            for block in response.content
            if block.type == "tool_use"
        ]
        return ModelTurn(
            text="".join(b.text for b in response.content if b.type == "text"),
            tool_calls=calls,
            input_tokens=usage.input_tokens
            + (usage.cache_creation_input_tokens or 0)
            + (usage.cache_read_input_tokens or 0),
            output_tokens=usage.output_tokens,
            stop_reason=response.stop_reason,
            raw=response.content,
        )

    def add_round(self, state: _Request, turn: ModelTurn, outcomes: list[ToolOutcome]) -> None:
        content: list[dict[str, Any]] = []
        for block in turn.raw:
            if block.type == "text":
                content.append({"type": "text", "text": block.text})
            elif block.type == "tool_use":
                content.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        state.messages.append({"role": "assistant", "content": content})
        results: list[dict[str, Any]] = []
        for outcome in outcomes:
            result: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": outcome.call_id,
                "content": outcome.content,
            }
            if outcome.is_error:
                result["is_error"] = True
            results.append(result)
        state.messages.append({"role": "user", "content": results})

    def failure(self, error: Exception) -> CallFailure | None:
        if isinstance(error, anthropic.APIStatusError):
            status = error.status_code
            if status not in RETRY_STATUSES and status < 500:
                return CallFailure("refused", f"HTTP {status}")
            return CallFailure("retry", f"HTTP {status}", error.response.headers)
        if isinstance(error, anthropic.APIConnectionError):  # includes APITimeoutError
            return CallFailure("retry", type(error).__name__)
        return None


class AnthropicEngine(ToolLoopEngine):
    name = "anthropic"

    default_options = LoopOptions(max_tool_rounds=6, timeout_seconds=60.0)

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        model: str,
        *,
        options: LoopOptions | None = None,
        understanding: Understanding | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            AnthropicDialect(client, model),
            EngineHealth("anthropic", model=model, endpoint=str(client.base_url)),
            options=options,
            understanding=understanding,
            sleep=sleep,
        )
