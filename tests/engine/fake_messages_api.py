"""A local stand-in for the Anthropic Messages API, scripted per test.

Each POST /v1/messages takes the next scripted step: a Messages API response
body (exact shape, usage included), an error status with headers, or a delay.
Request bodies are kept so tests can assert what the engine sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_ids = itertools.count(1)


def message(content: list[dict[str, Any]], stop_reason: str = "tool_use", **usage: int) -> dict[str, Any]:
    return {
        "id": f"msg_01Fake{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": usage.get("input_tokens", 812),
            "output_tokens": usage.get("output_tokens", 64),
            "cache_creation_input_tokens": usage.get("cache_creation_input_tokens", 0),
            "cache_read_input_tokens": usage.get("cache_read_input_tokens", 0),
        },
    }


def tool_use(name: str, tool_input: dict[str, Any], tool_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": tool_id or f"toolu_01Fake{next(_ids):06d}",
        "name": name,
        "input": tool_input,
    }


def submit_answer(answer: str, confidence: float = 0.9, **assessment: Any) -> dict[str, Any]:
    return tool_use(
        "submit_answer",
        {
            "answer": answer,
            "confidence": confidence,
            "had_sufficient_data": assessment.pop("had_sufficient_data", True),
            "missing_data": assessment.pop("missing_data", []),
            "data_sources_used": assessment.pop("data_sources_used", []),
            "could_improve_with": assessment.pop("could_improve_with", []),
            "reasoning": assessment.pop("reasoning", "Based on the tool results."),
            "question_type": assessment.pop("question_type", "analytics"),
            "complexity": assessment.pop("complexity", "simple"),
            **assessment,
        },
    )


@dataclass
class Error:
    status: int
    error_type: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Delay:
    seconds: float
    then: dict[str, Any]


@dataclass
class FakeMessagesAPI:
    steps: list[Any] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    repeat_last: bool = False

    def script(self, *steps: Any) -> None:
        self.steps.extend(steps)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        if not self.steps:
            return web.json_response(
                {"type": "error", "error": {"type": "api_error", "message": "no scripted response"}},
                status=500,
            )
        step = self.steps[0] if self.repeat_last and len(self.steps) == 1 else self.steps.pop(0)
        if isinstance(step, Delay):
            await asyncio.sleep(step.seconds)
            step = step.then
        if isinstance(step, Error):
            body = {"type": "error", "error": {"type": step.error_type, "message": "scripted failure"}}
            return web.Response(
                status=step.status,
                text=json.dumps(body),
                content_type="application/json",
                headers=step.headers,
            )
        return web.json_response(step, headers={"request-id": "req_fake"})
