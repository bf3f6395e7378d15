"""Limits that hold: whatever is typed, however fast, one member cannot spend past the budget.

Each attack goes through the real Assistant on a real PostgreSQL; the engine is a double that
spends a known number of tokens (or the real offline engine, for routing).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from core.assistant import Assistant, AssistantConfig
from core.chat import ChatRequest
from core.engines.base import EngineAnswer, SelfAssessment, ToolRunner, Turn
from core.engines.offline.engine import OfflineEngine
from core.question_text import clean_question
from core.rate_limits import Limits
from core.scope import Scope
from core.tools.catalogue import build_catalogue
from core.tools.title_lookup import MAX_TITLE_CHARS, find_title

ALICE = "111111111111111111"
ANSWER_TOKENS = (100, 20)


@pytest.fixture
async def alice(db_pool: asyncpg.Pool) -> uuid.UUID:
    user_id: uuid.UUID = await db_pool.fetchval(
        "INSERT INTO users (username, role) VALUES ('alice', 'user') RETURNING id"
    )
    await db_pool.execute(
        "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ('discord', $1, $2)",
        ALICE,
        user_id,
    )
    return user_id


class NoTools:
    def definitions(self) -> list[dict[str, Any]]:
        return []

    async def run(self, name: str, arguments: dict[str, Any]) -> Any:
        raise AssertionError("no tool is used here")


@dataclass
class SpendingEngine:
    """Answers after ``delay`` seconds with a known token usage; notes what it saw in the database."""

    pool: asyncpg.Pool
    delay: float = 0.0
    name: str = "anthropic"
    questions: list[str] = field(default_factory=list)
    recorded_while_answering: list[tuple[int, int]] = field(default_factory=list)

    async def answer(
        self, question: str, scope: Scope, history: list[Turn], tools: ToolRunner
    ) -> EngineAnswer:
        self.questions.append(question)
        self.recorded_while_answering.append(
            (
                await self.pool.fetchval("SELECT count(*) FROM chat_history WHERE content = $1", question),
                await self.pool.fetchval("SELECT coalesce(sum(tokens_reserved), 0) FROM user_daily_usage"),
            )
        )
        await asyncio.sleep(self.delay)
        return EngineAnswer(
            text=f"Answer to: {question}",
            assessment=SelfAssessment(confidence=0.9, had_sufficient_data=True, question_type="analytics"),
            engine=self.name,
            input_tokens=ANSWER_TOKENS[0],
            output_tokens=ANSWER_TOKENS[1],
            model_calls=1,
        )


def assistant(pool: asyncpg.Pool, engine: Any, **config: Any) -> Assistant:
    return Assistant(pool, engine, lambda scope: NoTools(), config=AssistantConfig(**config))


def ask(text: str, conversation: str = "dm-alice") -> ChatRequest:
    return ChatRequest("discord", ALICE, conversation, text, False, False)


async def test_a_question_ending_in_nul_is_recorded_and_its_tokens_counted(
    db_pool: asyncpg.Pool, alice: uuid.UUID
) -> None:
    engine = SpendingEngine(db_pool)
    reply = await assistant(db_pool, engine).handle(ask("How much did I watch this month?\x00"))

    assert reply.kind == "answer"
    assert engine.questions == ["How much did I watch this month?"]
    turns = await db_pool.fetch("SELECT role, content FROM chat_history ORDER BY created_at")
    assert [(t["role"], t["content"]) for t in turns] == [
        ("user", "How much did I watch this month?"),
        ("assistant", "Answer to: How much did I watch this month?"),
    ]
    assert await db_pool.fetchval("SELECT input_tokens + output_tokens FROM ai_conversation_feedback") == 120
    usage = await db_pool.fetchrow("SELECT messages, tokens_used, tokens_reserved FROM user_daily_usage")
    assert dict(usage) == {"messages": 1, "tokens_used": 120, "tokens_reserved": 0}


async def test_the_question_and_its_reservation_are_recorded_before_the_engine_runs(
    db_pool: asyncpg.Pool, alice: uuid.UUID
) -> None:
    engine = SpendingEngine(db_pool)
    await assistant(db_pool, engine, limits=Limits(10, 50_000, token_reservation=5_000)).handle(
        ask("What did I watch?")
    )
    assert engine.recorded_while_answering == [(1, 5_000)]
    assert await db_pool.fetchval("SELECT tokens_reserved FROM user_daily_usage") == 0


async def test_ten_concurrent_questions_cannot_overspend_a_budget_for_one(
    db_pool: asyncpg.Pool, alice: uuid.UUID
) -> None:
    engine = SpendingEngine(db_pool, delay=0.3)
    marquee = assistant(db_pool, engine, limits=Limits(messages_per_minute=100, daily_token_budget=100))
    replies = await asyncio.gather(*(marquee.handle(ask(f"question {n}", f"dm-{n}")) for n in range(10)))

    kinds = sorted(reply.kind for reply in replies)
    assert kinds == ["answer"] + ["rate_limited"] * 9
    assert {r.details["limit"] for r in replies if r.kind == "rate_limited"} == {"token_budget"}
    assert len(engine.questions) == 1
    assert await db_pool.fetchval("SELECT tokens_used FROM user_daily_usage") == 120


async def test_ten_concurrent_questions_cannot_pass_the_message_rate(
    db_pool: asyncpg.Pool, alice: uuid.UUID
) -> None:
    engine = SpendingEngine(db_pool, delay=0.3)
    marquee = assistant(db_pool, engine, limits=Limits(messages_per_minute=3, daily_token_budget=0))
    replies = await asyncio.gather(*(marquee.handle(ask(f"question {n}", f"dm-{n}")) for n in range(10)))

    assert sorted(reply.kind for reply in replies) == ["answer"] * 3 + ["rate_limited"] * 7
    assert len(engine.questions) == 3


async def test_a_100_kb_question_gets_a_clear_reply_and_never_reaches_the_engine(
    db_pool: asyncpg.Pool, alice: uuid.UUID
) -> None:
    engine = SpendingEngine(db_pool)
    huge = "something like " + "Alien " * 17_000
    reply = await assistant(db_pool, engine).handle(ask(huge))

    assert reply.kind == "rate_limited" and reply.details == {"limit": "length"}
    assert "too long" in reply.text and "2,000" in reply.text
    assert engine.questions == []
    assert await db_pool.fetchval("SELECT count(*) FROM chat_history") == 0


async def test_the_cap_is_a_setting(db_pool: asyncpg.Pool, alice: uuid.UUID) -> None:
    engine = SpendingEngine(db_pool)
    marquee = assistant(db_pool, engine, max_question_chars=50)
    assert (await marquee.handle(ask("x" * 51))).details == {"limit": "length"}
    assert (await marquee.handle(ask("x" * 50))).kind == "answer"


def test_questions_are_cleaned_before_anything_else() -> None:
    assert clean_question("How much\x00 did I\x07 watch?\x1b[31m\r\n") == "How much did I watch?[31m"
    assert clean_question("ｗｈａｔ ｄｉｄ Ｉ ｗａｔｃｈ") == "what did I watch"  # full-width forms, NFKC
    assert clean_question("tab\tand\nnewline stay") == "tab\tand\nnewline stay"
    assert clean_question("lone \ud800surrogate") == "lone surrogate"
    assert clean_question("👩‍👩‍👧 family") == "👩‍👩‍👧 family"  # zero-width joiners are text


async def test_offline_routing_runs_off_the_event_loop(db_pool: asyncpg.Pool) -> None:
    engine = OfflineEngine(build_catalogue())
    threads: list[threading.Thread] = []
    route = engine.router.route

    def recording_route(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return route(*args, **kwargs)

    engine.router.route = recording_route  # type: ignore[method-assign]
    scope = Scope(
        user_id=uuid.uuid4(), username="alice", role="user", mode="personal", timezone=ZoneInfo("UTC")
    )
    await engine.answer("hello there, what can you do?", scope, [], NoTools())
    assert threads and all(thread is not threading.main_thread() for thread in threads)


async def test_text_handed_to_trigram_search_is_bounded(db_pool: asyncpg.Pool) -> None:
    await db_pool.execute("INSERT INTO media_items (title, media_type, year) VALUES ('Alien', 'movie', 1979)")
    arguments: list[Any] = []
    async with db_pool.acquire() as conn:
        conn.add_query_logger(lambda record: arguments.extend(record.args or ()))
        async with conn.transaction():
            found = await find_title(conn, "Alien" + " and more" * 7_000)
    assert found is None or found["title"] == "Alien"
    texts = [a for a in arguments if isinstance(a, str)]
    assert texts and max(len(text) for text in texts) <= MAX_TITLE_CHARS + 2  # the %…% of ILIKE
