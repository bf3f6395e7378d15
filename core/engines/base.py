"""The contract between the Assistant and an answer engine.

An engine gets the question, the asker's scope, the last turns of the same
conversation and a ``ToolRunner`` bound to that scope. It returns the answer
text with its self-assessment and the record of every tool call it made; the
Assistant merges that with objective signals before storing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from core.scope import Scope
from core.tools.base import ToolResult

Complexity = Literal["simple", "medium", "complex"]


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    content: str


@dataclass
class ToolCall:
    name: str
    params: dict[str, Any]
    result: ToolResult | None = None
    error: str | None = None
    # the arguments were unreadable or failed the tool's schema (the model gets one corrective round)
    invalid_arguments: bool = False


@dataclass
class SelfAssessment:
    confidence: float
    had_sufficient_data: bool
    missing_data: list[str] = field(default_factory=list)
    data_sources_used: list[str] = field(default_factory=list)
    could_improve_with: list[str] = field(default_factory=list)
    reasoning: str = ""
    question_type: str = "other"
    complexity: Complexity = "simple"


@dataclass
class EngineAnswer:
    text: str
    assessment: SelfAssessment
    engine: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    model_calls: int = 0
    # Set when the engine could not answer: 'missing_data', 'ambiguous_query',
    # 'unsupported_question', 'engine_error', ...
    why_failed: str | None = None


class ToolRunner(Protocol):
    """Runs catalogue tools for one scope; raises ``core.tools.base.ToolError`` on expected failures."""

    def definitions(self) -> list[dict[str, Any]]:
        """Tool definitions allowed in this scope: ``name``, ``description``, ``input_schema``."""
        ...

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolResult: ...


class Engine(Protocol):
    name: str

    async def answer(
        self, question: str, scope: Scope, history: list[Turn], tools: ToolRunner
    ) -> EngineAnswer: ...
