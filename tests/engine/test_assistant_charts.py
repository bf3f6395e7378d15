"""An answer built on a charted tool result comes back with its chart; MARQUEE_CHAT_CHARTS=false leaves it out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from core.engines.base import EngineAnswer, SelfAssessment, ToolCall, ToolRunner, Turn
from core.scope import Scope
from core.tools.base import Coverage, ToolResult

from .doubles import People
from .test_assistant import ask, assistant_with

STORAGE = ToolResult(
    "storage_by_library",
    {},
    [{"library_name": "Movies", "size_bytes": 2 * 1024**3, "files": 2, "files_with_size": 2}],
    Coverage(["media_items.file_size_bytes"]),
    {"size_bytes": 2 * 1024**3, "files": 2, "files_with_size": 2},
)


@dataclass
class StorageEngine:
    """Answers as if it had called storage_by_library (or a tool with no chart)."""

    result: ToolResult
    name: str = "scripted"

    async def answer(
        self, question: str, scope: Scope, history: list[Turn], tools: ToolRunner
    ) -> EngineAnswer:
        call = ToolCall(self.result.tool, {}, result=self.result)
        failed = ToolCall("storage_by_library", {}, error="the database is away")
        return EngineAnswer(
            text="Storage used: 2.0 GB in total.\n- Movies: 2.0 GB (2 files)",
            assessment=SelfAssessment(confidence=0.9, had_sufficient_data=True),
            engine=self.name,
            tool_calls=[failed, call],
            model_calls=1,
        )


async def test_an_answer_on_storage_by_library_carries_its_chart_and_the_complete_text(
    db_pool: asyncpg.Pool, people: People
) -> None:
    reply = await assistant_with(db_pool, StorageEngine(STORAGE)).handle(ask("how much space per library?"))

    assert reply.chart is not None
    assert reply.chart.filename == "storage-by-library.png"
    assert reply.chart.png.startswith(b"\x89PNG")
    assert "Movies with 2 GiB" in reply.chart.alt_text
    assert "Movies: 2.0 GB" in reply.plain_text  # the text says it all without the picture


async def test_chat_charts_off_sends_no_chart(db_pool: asyncpg.Pool, people: People) -> None:
    reply = await assistant_with(db_pool, StorageEngine(STORAGE), chat_charts=False).handle(
        ask("how much space per library?")
    )
    assert reply.chart is None and "Movies: 2.0 GB" in reply.plain_text


async def test_an_answer_on_a_tool_without_a_chart_has_none(db_pool: asyncpg.Pool, people: People) -> None:
    rating: Any = ToolResult("average_rating", {}, [], Coverage(), {"ratings": 2, "average": 8.5})
    reply = await assistant_with(db_pool, StorageEngine(rating)).handle(ask("my average rating?"))
    assert reply.kind == "answer" and reply.chart is None
