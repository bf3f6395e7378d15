"""Test doubles of the engine tests: a ToolRunner over two canned tools and a scripted Engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from core.engines.base import EngineAnswer, SelfAssessment, ToolCall, ToolRunner, Turn
from core.scope import Scope
from core.tools.base import Coverage, ToolInputError, ToolNotAllowed, ToolResult, UnknownTool


@dataclass(frozen=True)
class People:
    alice: UUID
    bob: UUID
    root: UUID


NOVEMBER = {
    "start": "2026-11-01T00:00:00+00:00",
    "end": "2026-12-01T00:00:00+00:00",
    "label": "November 2026",
}


def watch_time_result(params: dict[str, Any], hours: float = 12.5) -> ToolResult:
    """Shaped like the real ``watch_time``'s answer: a row per media type, the period and the totals."""
    seconds = int(hours * 3600)
    return ToolResult(
        tool="my_watch_time",
        params=params,
        rows=[
            {
                "media_type": "episode",
                "sessions": 14,
                "watched_seconds": seconds,
                "completed": 12,
                "titles": 3,
            }
        ],
        coverage=Coverage(tables_used=["watch_history", "media_items"]),
        summary={
            "period": NOVEMBER,
            "sessions": 14,
            "watched_seconds": seconds,
            "completed": 12,
            "titles": 3,
            "by_month": [{"month": "2026-11", "sessions": 14, "watched_seconds": seconds}],
        },
    )


@dataclass
class RecordingToolRunner:
    """The ToolRunner contract over two canned tools; remembers the scope it was built for and each call."""

    scope: Scope
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    empty: bool = False

    def definitions(self) -> list[dict[str, Any]]:
        defs = [
            {
                "name": "my_watch_time",
                "description": "Hours the asker watched in a period.",
                "input_schema": {
                    "type": "object",
                    "properties": {"period": {"type": "string"}},
                    "required": ["period"],
                },
            }
        ]
        if self.scope.mode == "admin":
            defs.append(
                {
                    "name": "most_active_users",
                    "description": "Users ranked by plays.",
                    "input_schema": {"type": "object", "properties": {}},
                }
            )
        return defs

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        self.calls.append((name, arguments))
        if name == "most_active_users":
            if self.scope.mode != "admin":
                raise ToolNotAllowed("most_active_users is not available in personal mode")
            # Shaped like the real leaderboard: ranked rows, and the period in the summary.
            return ToolResult(
                name,
                arguments,
                [{"rank": 1, "display_name": "bob", "sessions": 40, "watched_seconds": 144_000}],
                Coverage(["watch_history (per-user totals)", "users.last_login_at"]),
                summary={"period": NOVEMBER, "metric": "sessions"},
            )
        if name != "my_watch_time":
            raise UnknownTool(f"there is no tool named {name!r}")
        if not isinstance(arguments.get("period"), str):
            raise ToolInputError("invalid arguments for my_watch_time: period: Field required")
        if self.empty:
            # Shaped like the real watch_time's answer for a period without plays:
            # no rows, the period asked about, and zero counts.
            return ToolResult(
                name,
                arguments,
                [],
                Coverage(["watch_history"], gaps=["no plays in that period"]),
                summary={
                    "period": {
                        "start": "2025-12-24T00:00:00+00:00",
                        "end": "2025-12-27T00:00:00+00:00",
                        "label": "24–26 Dec 2025",
                    },
                    "sessions": 0,
                    "watched_seconds": 0,
                    "completed": 0,
                    "titles": 0,
                    "by_month": [],
                },
            )
        return watch_time_result(arguments)


@dataclass
class ScriptedEngine:
    """A test double of an engine: answers from a script and uses the tool runner it is given."""

    name: str = "scripted"
    confidence: float = 0.9
    tool: str | None = "my_watch_time"
    fail_with: Exception | None = None
    question_type: str = "analytics"
    seen: list[tuple[str, Scope, list[Turn]]] = field(default_factory=list)

    async def answer(
        self, question: str, scope: Scope, history: list[Turn], tools: ToolRunner
    ) -> EngineAnswer:
        self.seen.append((question, scope, list(history)))
        if self.fail_with is not None:
            raise self.fail_with
        calls = []
        if self.tool:
            call = ToolCall(self.tool, {"period": "this month"})
            try:
                call.result = await tools.run(self.tool, call.params)
            except Exception as exc:
                call.error = str(exc)
            calls.append(call)
        return EngineAnswer(
            text=f"Answer to: {question}",
            assessment=SelfAssessment(
                confidence=self.confidence,
                had_sufficient_data=True,
                data_sources_used=["users", "everything"],
                question_type=self.question_type,
            ),
            engine=self.name,
            tool_calls=calls,
            input_tokens=100,
            output_tokens=20,
            model_calls=1,
        )
