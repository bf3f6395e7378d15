"""Core overhead of the Assistant per message, with a zero-latency model.

    python benchmarks/engine.py [--database-url DSN] [--users 2000] [--items 200000] [--watch-rows 5000000]
                                [--messages 300] [--conversations 100] [--per-conversation 5]
                                [--engine anthropic|openai|offline]

The real Assistant, the real tool catalogue (row-level security included) and,
with ``--engine anthropic`` (the default), the real ``AnthropicEngine`` and
``anthropic`` SDK talking HTTP to a local fake Messages API that answers at once
from its own thread: a tool call chosen from the question, then
``submit_answer``. With ``--engine openai``, the real ``OpenAIEngine`` and ``openai``
SDK against the same fake speaking Chat Completions (Ollama's shape). So every figure is Marquee's own cost — identity, scope,
limits, conversation memory, the SDK, the tools' SQL on the large demo server,
the grounded assessment and the records — and none of it is model time.

The large demo server (2,000 users, 200,000 items, 5,000,000 watch rows) is
generated once into the database ``marquee_bench_large`` (embedded PostgreSQL
under the data directory unless ``--database-url``/``MARQUEE_DATABASE_URL``
points elsewhere) and reused by later runs.

Prints: sequential latency p50/p99 (target p50 ≤ 25 ms, p99 ≤ 100 ms),
messages per second and latency with N concurrent conversations, and model
calls per answer (target: one per answer plus one per tool round).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anthropic  # noqa: E402
import asyncpg  # noqa: E402
import openai  # noqa: E402
from aiohttp import web  # noqa: E402

from benchmarks.large_server import LARGE_SERVER_DATABASE, prepare_large_server  # noqa: E402
from bot.settings import default_data_dir  # noqa: E402
from core.assistant import Assistant, AssistantConfig  # noqa: E402
from core.chat import ChatRequest  # noqa: E402
from core.db import create_pool  # noqa: E402
from core.engines.anthropic_engine import AnthropicEngine  # noqa: E402
from core.engines.base import Engine  # noqa: E402
from core.engines.offline.engine import OfflineEngine  # noqa: E402
from core.engines.openai_engine import OpenAIEngine  # noqa: E402
from core.identity import link_account  # noqa: E402
from core.rate_limits import Limits  # noqa: E402
from core.scope import Scope  # noqa: E402
from core.tools.catalogue import build_catalogue  # noqa: E402
from core.tools.database_wall import ToolDatabase  # noqa: E402
from core.tools.scoped_connection import ScopedToolRunner  # noqa: E402

TARGET_P50_MS = 25
TARGET_P99_MS = 100

# What members ask, and the catalogue tool a model would call for it.
QUESTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("What should I watch tonight?", "recommend_tonight", {}),
    ("What are my most watched genres?", "top_genres", {}),
    ("How much have I watched this month?", "watch_time", {}),
    ("What's my average rating?", "average_rating", {}),
    ("What did I request?", "my_requests", {}),
    ("Which shows have I abandoned?", "abandoned_shows", {}),
    ("What's new in my library this week?", "new_in_library", {}),
    ("What's trending on my server?", "trending", {}),
    ("Show my watch history", "watch_history", {}),
    ("When do I watch the most?", "watch_time_by_hour", {}),
]
TOOL_FOR_QUESTION = {question: (tool, params) for question, tool, params in QUESTIONS}
# Questions a model answers without a tool: the same path minus the tools' SQL, so the
# concurrent run of these measures what the core and the SDK alone can carry.
NO_TOOL_QUESTIONS = ["Hi! What can you do?", "Thanks, that was helpful.", "Who are you?"]


# Where the time of the current message goes: {"tools": seconds, "model": seconds}.
SPENT: contextvars.ContextVar[dict[str, float]] = contextvars.ContextVar("spent")


class TimedToolRunner(ScopedToolRunner):
    async def run(self, name: str, arguments: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return await super().run(name, arguments)
        finally:
            SPENT.get()["tools"] += time.perf_counter() - started


class TimedAnthropicEngine(AnthropicEngine):
    """Counts the time of each model call (SDK, HTTP and the zero-latency fake) apart from the rest."""

    async def _complete(self, state: Any, final: bool) -> Any:
        started = time.perf_counter()
        try:
            return await super()._complete(state, final)
        finally:
            SPENT.get()["model"] += time.perf_counter() - started


class TimedOpenAIEngine(OpenAIEngine):
    """The same timing for the OpenAI-compatible engine."""

    async def _complete(self, state: Any, final: bool) -> Any:
        started = time.perf_counter()
        try:
            return await super()._complete(state, final)
        finally:
            SPENT.get()["model"] += time.perf_counter() - started


# -- a zero-latency Messages API in its own thread ------------------------------------------------


class FakeModel:
    def __init__(self) -> None:
        self.calls = 0
        self._ids = 0
        self.loop = asyncio.new_event_loop()
        self.url = ""
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}_01Bench{self._ids:08d}"

    def _reply(self, content: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self._next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": content,
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 120,
                "output_tokens": 60,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 2400,
            },
        }

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.json()
        last = body["messages"][-1]["content"]
        if isinstance(last, str) and last.split("\n\n")[-1] in NO_TOOL_QUESTIONS:
            block = self._submit()
        elif isinstance(last, str):  # the question: call the tool a model would pick
            tool, params = TOOL_FOR_QUESTION.get(last, ("recommend_tonight", {}))
            block = {"type": "tool_use", "id": self._next_id("toolu"), "name": tool, "input": params}
        else:  # tool results are back: answer with the self-assessment
            block = self._submit()
        return web.json_response(self._reply([block]))

    async def handle_chat(self, request: web.Request) -> web.Response:
        """The same script in Chat Completions' shape, as Ollama answers (arguments as a JSON string)."""
        self.calls += 1
        body = await request.json()
        last = body["messages"][-1]
        if last["role"] == "user" and last["content"].split("\n\n")[-1] not in NO_TOOL_QUESTIONS:
            tool, params = TOOL_FOR_QUESTION.get(last["content"], ("recommend_tonight", {}))
        else:
            tool, params = "submit_answer", self._submit()["input"]
        call = {
            "id": self._next_id("call"),
            "index": 0,
            "type": "function",
            "function": {"name": tool, "arguments": json.dumps(params)},
        }
        return web.json_response(
            {
                "id": self._next_id("chatcmpl"),
                "object": "chat.completion",
                "created": 1_764_547_200,
                "model": "qwen2.5:7b",
                "system_fingerprint": "fp_ollama",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "", "tool_calls": [call]},
                        "finish_reason": "tool_calls",
                    }
                ],
                "usage": {"prompt_tokens": 2400, "completion_tokens": 60, "total_tokens": 2460},
            }
        )

    def _submit(self) -> dict[str, Any]:
        return {
            "type": "tool_use",
            "id": self._next_id("toolu"),
            "name": "submit_answer",
            "input": {
                "answer": "Here is what I found on your server.",
                "confidence": 0.86,
                "had_sufficient_data": True,
                "missing_data": [],
                "data_sources_used": ["watch_history"],
                "could_improve_with": [],
                "reasoning": "from the tool result",
                "question_type": "analytics",
                "complexity": "simple",
            },
        }

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/v1/messages", self.handle)
        app.router.add_post("/v1/chat/completions", self.handle_chat)
        runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> str:
        self._thread.start()
        self._ready.wait()
        return self.url


# -- the database --------------------------------------------------------------------------------


async def bench_accounts(pool: asyncpg.Pool, count: int) -> list[str]:
    """Discord accounts for the first ``count`` ordinary users (the members who chat)."""
    async with pool.acquire() as conn:
        usernames = await conn.fetch(
            "SELECT username FROM users WHERE role = 'user' ORDER BY username LIMIT $1", count
        )
        accounts = []
        for n, row in enumerate(usernames):
            account = f"bench{n:04d}"
            await link_account(conn, "discord", account, row["username"], linked_by="benchmark")
            accounts.append(account)
        # earlier runs leave their exchanges behind; the figures are about answering, not a full table
        await conn.execute(
            "DELETE FROM chat_history WHERE platform = 'discord' AND conversation_id LIKE 'bench-%'"
        )
    return accounts


# -- measuring -----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Sample:
    total_ms: float
    tools_ms: float
    model_ms: float

    @property
    def core_ms(self) -> float:
        return self.total_ms - self.tools_ms - self.model_ms


async def timed(assistant: Assistant, request: ChatRequest) -> Sample:
    spent = {"tools": 0.0, "model": 0.0}
    SPENT.set(spent)
    started = time.perf_counter()
    reply = await assistant.handle(request)
    elapsed = (time.perf_counter() - started) * 1000
    if reply.kind not in ("answer", "admin"):
        raise RuntimeError(f"unexpected reply {reply.kind}: {reply.text}")
    return Sample(elapsed, spent["tools"] * 1000, spent["model"] * 1000)


def describe(samples: list[Sample], what: str) -> str:
    def line(name: str, values: list[float]) -> str:
        return (
            f"  {name:<34} p50 {statistics.median(values):6.1f}  p95 {percentile(values, 0.95):6.1f}  "
            f"p99 {percentile(values, 0.99):6.1f}  max {max(values):6.1f} ms"
        )

    return "\n".join(
        [
            f"{what}:",
            line("whole message", [s.total_ms for s in samples]),
            line("  tools (their SQL)", [s.tools_ms for s in samples]),
            line("  model calls (SDK + HTTP, fake 0 ms)", [s.model_ms for s in samples]),
            line("  core (all the rest)", [s.core_ms for s in samples]),
        ]
    )


async def run(args: argparse.Namespace) -> int:
    dsn = await prepare_large_server(
        admin_dsn=args.database_url,
        database=args.database_name,
        data_dir=default_data_dir() / "benchmarks",
        users=args.users,
        items=args.items,
        watch_rows=args.watch_rows,
    )
    pool = await create_pool(dsn, max_size=args.pool_size)
    tool_database = ToolDatabase(pool, max_size=args.pool_size)
    fake = FakeModel()
    client: anthropic.AsyncAnthropic | openai.AsyncOpenAI | None = None
    try:
        accounts = await bench_accounts(pool, args.conversations)
        catalogue = build_catalogue()
        engine: Engine
        if args.engine == "anthropic":
            client = anthropic.AsyncAnthropic(api_key="bench", base_url=fake.start(), max_retries=0)
            engine = TimedAnthropicEngine(client, "claude-sonnet-4-6")
        elif args.engine == "openai":
            client = openai.AsyncOpenAI(api_key="bench", base_url=fake.start() + "/v1", max_retries=0)
            engine = TimedOpenAIEngine(client, "qwen2.5:7b")
        else:
            engine = OfflineEngine(catalogue)

        def tools(scope: Scope) -> ScopedToolRunner:
            return TimedToolRunner(tool_database, scope, catalogue)

        assistant = Assistant(
            pool,
            engine,
            tools,
            config=AssistantConfig(limits=Limits(messages_per_minute=1_000_000, daily_token_budget=0)),
        )

        def request(n: int, account: str, conversation: str) -> ChatRequest:
            return ChatRequest("discord", account, conversation, QUESTIONS[n % len(QUESTIONS)][0])

        for n in range(10):  # warm-up: connections, plans, SDK
            await timed(assistant, request(n, accounts[n % len(accounts)], "bench-warmup"))

        # 1. one message at a time
        calls_before = fake.calls
        sequential = [
            await timed(assistant, request(n, accounts[n % len(accounts)], f"bench-seq-{n % len(accounts)}"))
            for n in range(args.messages)
        ]
        calls_sequential = fake.calls - calls_before

        # 2. many conversations at once, each asking its questions in turn
        async def conversation(index: int) -> list[Sample]:
            account = accounts[index % len(accounts)]
            return [
                await timed(assistant, request(index + k, account, f"bench-conc-{index}"))
                for k in range(args.per_conversation)
            ]

        started, cpu_started = time.perf_counter(), time.process_time()
        per_conversation = await asyncio.gather(*(conversation(i) for i in range(args.conversations)))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        concurrent = [sample for samples in per_conversation for sample in samples]

        # 3. the same, with questions that need no tool (model engines only)
        async def chat_only(index: int) -> list[Sample]:
            account = accounts[index % len(accounts)]
            return [
                await timed(
                    assistant,
                    ChatRequest(
                        "discord", account, f"bench-chat-{index}", NO_TOOL_QUESTIONS[(index + k) % 3]
                    ),
                )
                for k in range(args.per_conversation)
            ]

        chat_samples: list[Sample] = []
        chat_wall = chat_cpu = 0.0
        calls_chat = 0
        if args.engine != "offline":
            calls_before = fake.calls
            started, cpu_started = time.perf_counter(), time.process_time()
            chats = await asyncio.gather(*(chat_only(i) for i in range(args.conversations)))
            calls_chat = fake.calls - calls_before
            chat_wall, chat_cpu = time.perf_counter() - started, time.process_time() - cpu_started
            chat_samples = [sample for samples in chats for sample in samples]

        print(f"\nengine: {args.engine} (zero-latency model); pool {args.pool_size} connections")
        print(describe(sequential, f"one message at a time ({len(sequential)} messages)"))
        for name, values in (
            ("whole message", [s.total_ms for s in sequential]),
            ("core (without tools and model calls)", [s.core_ms for s in sequential]),
        ):
            p50, p99 = statistics.median(values), percentile(values, 0.99)
            verdict_50 = "met" if p50 <= TARGET_P50_MS else "missed"
            verdict_99 = "met" if p99 <= TARGET_P99_MS else "missed"
            print(
                f"  targets, {name}: p50 ≤ {TARGET_P50_MS} ms {verdict_50}, p99 ≤ {TARGET_P99_MS} ms {verdict_99}"
            )
        print(
            describe(
                concurrent,
                f"{args.conversations} concurrent conversations × {args.per_conversation} messages: "
                f"{len(concurrent) / wall:.0f} messages/s",
            )
        )
        print(
            f"  CPU of this process (core, SDK and the fake model's thread): "
            f"{cpu / len(concurrent) * 1000:.1f} ms per message; load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores"
        )
        if chat_samples:
            print(
                describe(
                    chat_samples,
                    f"{args.conversations} concurrent conversations × {args.per_conversation} messages "
                    f"that need no tool: {len(chat_samples) / chat_wall:.0f} messages/s",
                )
            )
            print(f"  CPU of this process: {chat_cpu / len(chat_samples) * 1000:.1f} ms per message")
            print(f"  model calls per answer: {calls_chat / len(chat_samples):.2f} (submit_answer only)")
        if args.engine != "offline":
            print(
                f"model calls per answer: {calls_sequential / len(sequential):.2f} "
                "(one tool round + the submit_answer call; no separate self-assessment call)"
            )
        return 0
    finally:
        if client is not None:
            await client.close()
        await tool_database.close()
        await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="admin DSN of a PostgreSQL server (default: embedded)")
    parser.add_argument("--database-name", default=LARGE_SERVER_DATABASE, help="generated once, reused later")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--watch-rows", type=int, default=5_000_000)
    parser.add_argument("--messages", type=int, default=300, help="sequential messages")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--per-conversation", type=int, default=5)
    parser.add_argument("--pool-size", type=int, default=20)
    parser.add_argument("--engine", choices=("anthropic", "openai", "offline"), default="anthropic")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
