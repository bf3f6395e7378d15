"""A local stand-in for OpenAI-compatible Chat Completions servers, scripted per test.

Each POST /v1/chat/completions takes the next scripted step: a response body
shaped as Ollama or llama.cpp's server answer (``completion``), an error with the
server's own status and body (``ServerError``), or a delay. Request bodies are kept
so tests can assert what the engine sent.

Shapes, from the servers' OpenAI-compatible endpoints:
- Ollama: ``content`` is ``""`` beside tool calls, each call has ``id`` ``call_…`` and an
  ``index``, ``finish_reason`` is ``tool_calls`` (``stop`` before Ollama 0.3), usage is
  reported; errors are ``{"error": {"message", "type": "api_error", "param", "code"}}``,
  e.g. HTTP 400 "… does not support tools".
- llama.cpp: ``content`` is null beside tool calls, a random alphanumeric ``id``, no
  ``index``, ``finish_reason`` ``tool_calls``, usage and ``timings``; errors are
  ``{"error": {"code", "message", "type"}}``, e.g. HTTP 500 "tools param requires --jinja flag".

POST /v1/embeddings answers as Ollama's and OpenAI's do: ``{"object": "list", "data":
[{"object": "embedding", "embedding": [...], "index": i}], "model", "usage":
{"prompt_tokens", "total_tokens"}}``, one vector per input in order (``FakeEmbeddings``).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import random
import string
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

Family = Literal["ollama", "llamacpp"]
_ids = itertools.count(1)


def tool_call(name: str, arguments: dict[str, Any] | str, family: Family = "ollama") -> dict[str, Any]:
    """One tool call; ``arguments`` given as a string is sent verbatim (e.g. invalid JSON)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    if family == "ollama":
        return {
            "id": f"call_{next(_ids):08x}",
            "index": 0,
            "type": "function",
            "function": {"name": name, "arguments": raw},
        }
    return {
        "type": "function",
        "function": {"name": name, "arguments": raw},
        "id": "".join(random.choices(string.ascii_letters + string.digits, k=32)),
    }


def submit_call(
    answer: str, confidence: float = 0.9, family: Family = "ollama", **assessment: Any
) -> dict[str, Any]:
    return tool_call(
        "submit_answer",
        {
            "answer": answer,
            "confidence": confidence,
            "had_sufficient_data": assessment.pop("had_sufficient_data", True),
            "data_sources_used": assessment.pop("data_sources_used", []),
            "question_type": assessment.pop("question_type", "analytics"),
            **assessment,
        },
        family,
    )


def completion(
    tool_calls: list[dict[str, Any]] | None = None,
    content: str | None = None,
    *,
    family: Family = "ollama",
    finish_reason: str | None = None,
    usage: tuple[int, int] | None = (640, 48),
) -> dict[str, Any]:
    """A non-streamed chat.completion body as the family sends it."""
    calls = tool_calls or []
    if family == "ollama":
        for index, call in enumerate(calls):
            call["index"] = index
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content if content is not None else ("" if family == "ollama" else None),
    }
    if calls:
        message["tool_calls"] = calls
    body: dict[str, Any] = {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": 1_764_547_200,
        "model": "qwen2.5:7b" if family == "ollama" else "gpt-3.5-turbo",
        "system_fingerprint": "fp_ollama" if family == "ollama" else "b6100-e8c2ffc5",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason or ("tool_calls" if calls else "stop"),
            }
        ],
    }
    if usage is not None:
        body["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
    if family == "llamacpp":
        body["timings"] = {"prompt_n": 12, "prompt_ms": 30.5, "predicted_n": 48, "predicted_ms": 700.1}
    return body


@dataclass
class ServerError:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def ollama_error(status: int, message: str, headers: dict[str, str] | None = None) -> ServerError:
    return ServerError(
        status,
        {"error": {"message": message, "type": "api_error", "param": None, "code": None}},
        headers or {},
    )


def llamacpp_error(status: int, message: str, error_type: str = "server_error") -> ServerError:
    return ServerError(status, {"error": {"code": status, "message": message, "type": error_type}})


@dataclass
class Delay:
    seconds: float
    then: Any


def hashed_vector(text: str, dimension: int) -> list[float]:
    """A fixed unit vector for a text: the same text always gets the same vector."""
    numbers = []
    counter = 0
    while len(numbers) < dimension:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        numbers.extend((byte - 127.5) / 127.5 for byte in digest)
        counter += 1
    numbers = numbers[:dimension]
    norm = math.sqrt(sum(x * x for x in numbers)) or 1.0
    return [x / norm for x in numbers]


@dataclass
class FakeEmbeddings:
    """An embeddings endpoint: ``vectors`` maps a word found in an input to its vector; else a hashed one.

    ``errors`` are answered first, one per request (429 with ``retry-after``, 500, ...).
    """

    dimension: int = 3
    vectors: dict[str, list[float]] = field(default_factory=dict)
    errors: list[ServerError] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    model: str = "nomic-embed-text"

    def vector_for(self, text: str) -> list[float]:
        lowered = text.lower()
        for word, vector in self.vectors.items():
            if word.lower() in lowered:
                return vector
        return hashed_vector(text, self.dimension)

    @property
    def texts_embedded(self) -> list[str]:
        return [text for request in self.requests for text in request["input"]]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.errors:
            error = self.errors.pop(0)
            self.requests.append({**body, "input": [], "refused": error.status})
            return web.json_response(error.body, status=error.status, headers=error.headers)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        self.requests.append({**body, "input": inputs})
        tokens = sum(len(text.split()) for text in inputs)
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"object": "embedding", "embedding": self.vector_for(text), "index": index}
                    for index, text in enumerate(inputs)
                ],
                "model": body.get("model", self.model),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


@dataclass
class FakeChatCompletions:
    steps: list[Any] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    repeat_last: bool = False
    embeddings: FakeEmbeddings = field(default_factory=FakeEmbeddings)

    def script(self, *steps: Any) -> None:
        self.steps.extend(steps)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        if not self.steps:
            return web.json_response(ollama_error(500, "no scripted response").body, status=500)
        step = self.steps[0] if self.repeat_last and len(self.steps) == 1 else self.steps.pop(0)
        if isinstance(step, Delay):
            await asyncio.sleep(step.seconds)
            step = step.then
        if isinstance(step, ServerError):
            return web.json_response(step.body, status=step.status, headers=step.headers)
        return web.json_response(step)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.handle)
        app.router.add_post("/v1/embeddings", self.embeddings.handle)
        return app
