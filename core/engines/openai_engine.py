"""Any model behind an OpenAI-compatible Chat Completions API: the OpenAI dialect of the tool loop.

Ollama, llama.cpp's server, vLLM, LM Studio and OpenRouter all speak this
dialect, each with its quirks: ``arguments`` arrive as a JSON string (sometimes
not valid JSON), ``finish_reason`` is ``tool_calls`` or ``stop``, ``usage`` may be
missing, tool-call ids may be missing, and a named ``tool_choice`` is not
always honoured. So the final round sends ``submit_answer`` as the only tool,
the system prompt is one message at the start (strict chat templates reject any
other place), and a server or model that cannot call tools is recognised from
its error and reported with what to change.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import openai

from core.engines.base import Turn
from core.engines.health import EngineHealth
from core.engines.tool_loop import (
    SYSTEM_PROMPT,
    CallFailure,
    LoopOptions,
    ModelTurn,
    RequestedTool,
    ToolDefinition,
    ToolLoopEngine,
    ToolOutcome,
    Understanding,
    estimate_tokens,
    who_is_asking,
)
from core.scope import Scope

MAX_TOKENS = 1500
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
# Reasoning models on some servers (older Ollama, llama-server --reasoning-format none) leave
# their thinking in the content; it is not part of the answer.
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)

# What servers say when the model or the server cannot call tools, and what to change.
_NO_TOOLS: list[tuple[str, str]] = [
    (
        "does not support tools",  # Ollama
        "the model cannot call tools in Ollama: pick one with the 'tools' tag (e.g. qwen2.5:7b, "
        "llama3.1:8b) and set MARQUEE_OPENAI_MODEL",
    ),
    (
        "requires --jinja",  # llama.cpp's server
        "start llama-server with --jinja (and a model whose chat template supports tools)",
    ),
    (
        "--enable-auto-tool-choice",  # vLLM
        "start vLLM with --enable-auto-tool-choice and the --tool-call-parser of the model",
    ),
    (
        "support tool use",  # OpenRouter: "No endpoints found that support tool use"
        "pick a model that supports tool use (set MARQUEE_OPENAI_MODEL)",
    ),
]


@dataclass
class _Request:
    tools: list[dict[str, Any]]
    final_tools: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def _function(tool: ToolDefinition) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": tool.input_schema},
    }


def _read_arguments(raw: object) -> tuple[dict[str, Any] | None, str | None]:
    """The call's arguments as a dict, or None and why not (the model then gets one chance to fix them)."""
    if isinstance(raw, dict):
        return raw, None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}, None
    if not isinstance(raw, str):
        return None, "arguments must be a JSON object"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, f"arguments are not valid JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(value, dict):
        return None, "arguments must be a JSON object"
    return value, None


def tool_call_in_text(text: str, offered: set[str]) -> tuple[str, object] | None:
    """A tool call written into the content, as small models do when the server did not parse it out.

    Accepted only when the whole content is one JSON object (optionally in a code fence) naming an
    offered tool: ``{"name": ..., "arguments": {...}}`` (or ``"parameters"``).
    """
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    if not (body.startswith("{") and body.endswith("}")):
        return None
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict) or value.get("name") not in offered:
        return None
    return value["name"], value.get("arguments", value.get("parameters", {}))


def tool_calling_hint(message: str) -> str | None:
    """What to change, when a server's error says it cannot call tools; None for other errors."""
    lowered = message.lower()
    for marker, hint in _NO_TOOLS:
        if marker in lowered:
            return hint
    return None


class OpenAIDialect:
    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model
        self._tools: dict[object, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
        # servers that refuse tool_choice "required" (older vLLM) get the last round without it
        self._required_choice = True

    def start(
        self,
        scope: Scope,
        turns: list[Turn],
        tools: list[ToolDefinition],
        cache_key: object,
        hint: str | None = None,
    ) -> _Request:
        converted = self._tools.get(cache_key)
        if converted is None:
            functions = [_function(t) for t in tools]
            converted = (functions, functions[-1:])  # submit_answer is last
            self._tools[cache_key] = converted
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": "\n\n".join(filter(None, (SYSTEM_PROMPT, who_is_asking(scope), hint)))}
        ]
        messages.extend({"role": t.role, "content": t.content} for t in turns)
        return _Request(converted[0], converted[1], messages)

    async def complete(self, state: _Request, *, final: bool, timeout_seconds: float) -> ModelTurn:
        # A named tool_choice is silently "auto" on some servers, so the last round offers nothing else.
        request: dict[str, Any] = {
            "messages": state.messages,
            "tools": state.final_tools if final else state.tools,
            "tool_choice": "required" if final and self._required_choice else "auto",
        }
        try:
            response = await self._client.chat.completions.create(
                model=self._model, max_tokens=MAX_TOKENS, timeout=timeout_seconds, **request
            )
        except openai.BadRequestError as exc:
            if request["tool_choice"] != "required" or "tool_choice" not in str(exc):
                raise
            self._required_choice = False
            request["tool_choice"] = "auto"
            response = await self._client.chat.completions.create(
                model=self._model, max_tokens=MAX_TOKENS, timeout=timeout_seconds, **request
            )
        if not response.choices:
            return ModelTurn("", [], 0, 0, stop_reason="no choices")
        choice = response.choices[0]
        message = choice.message
        calls: list[RequestedTool] = []
        for index, call in enumerate(message.tool_calls or []):
            function = getattr(call, "function", None)
            if function is None:
                continue
            arguments, problem = _read_arguments(function.arguments)
            calls.append(
                RequestedTool(
                    call.id or f"call_{len(state.messages)}_{index}", function.name, arguments, problem
                )
            )
        text = _THINKING.sub("", message.content or "").strip()
        if not calls and text:
            offered = {t["function"]["name"] for t in request["tools"]}
            written = tool_call_in_text(text, offered)
            if written is not None:
                arguments, problem = _read_arguments(written[1])
                calls.append(
                    RequestedTool(f"call_{len(state.messages)}_text", written[0], arguments, problem)
                )
                text = ""
        usage = response.usage
        if usage is not None and usage.prompt_tokens:
            input_tokens, output_tokens = usage.prompt_tokens, usage.completion_tokens or 0
        else:
            input_tokens = estimate_tokens(json.dumps(request, ensure_ascii=False, default=str))
            output_tokens = estimate_tokens(
                text
                + "".join(
                    str(c.function.arguments) for c in message.tool_calls or [] if hasattr(c, "function")
                )
            )
        return ModelTurn(text, calls, input_tokens, output_tokens, choice.finish_reason, raw=calls)

    def add_round(self, state: _Request, turn: ModelTurn, outcomes: list[ToolOutcome]) -> None:
        state.messages.append(
            {
                "role": "assistant",
                "content": turn.text or None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {
                            "name": call.name,
                            "arguments": json.dumps(call.arguments if call.arguments is not None else {}),
                        },
                    }
                    for call in turn.tool_calls
                ],
            }
        )
        for outcome in outcomes:
            content = f"Error: {outcome.content}" if outcome.is_error else outcome.content
            state.messages.append({"role": "tool", "tool_call_id": outcome.call_id, "content": content})

    def failure(self, error: Exception) -> CallFailure | None:
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            hint = tool_calling_hint(f"{error.message} {json.dumps(error.body, default=str)}")
            if hint is not None:
                return CallFailure("no_tools", hint)
            if status not in RETRY_STATUSES and status < 500:
                return CallFailure("refused", f"HTTP {status}")
            return CallFailure("retry", f"HTTP {status}", error.response.headers)
        if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
            return CallFailure("retry", type(error).__name__)
        return None


class OpenAIEngine(ToolLoopEngine):
    name = "openai"

    # Local models are slower and lose track sooner: fewer rounds, more time per call.
    default_options = LoopOptions(max_tool_rounds=4, timeout_seconds=120.0)

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str,
        *,
        options: LoopOptions | None = None,
        understanding: Understanding | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            OpenAIDialect(client, model),
            EngineHealth("openai", model=model, endpoint=str(client.base_url)),
            options=options,
            understanding=understanding,
            sleep=sleep,
        )
