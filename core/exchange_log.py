"""What one exchange leaves behind: both chat turns, the feedback row with its grounded assessment.

The engine's self-assessment is merged with facts it cannot talk its way
around: the tables the tools actually read, the coverage gaps they reported,
and a confidence cap when a tool failed or found nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from core.engines.base import Complexity, EngineAnswer, Turn
from core.redaction import redact
from core.scope import Scope

LOW_CONFIDENCE = 0.7
# Caps on the stored confidence when the data behind an answer was not there.
CAP_WHEN_TOOL_FAILED = 0.5
CAP_WHEN_NOTHING_FOUND = 0.6
HISTORY_TURNS = 6
# Answers below this confidence are flagged for a human to look at.
REVIEW_BELOW = 0.4


@dataclass
class GroundedAssessment:
    confidence: float
    had_sufficient_data: bool
    missing_data: list[str]
    data_sources_used: list[str]
    could_improve_with: list[str]
    missing_tables: list[str]
    reasoning: str
    question_type: str
    complexity: Complexity
    why_failed: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def was_successful(self) -> bool:
        return self.confidence >= LOW_CONFIDENCE and self.had_sufficient_data and self.why_failed is None

    @property
    def needs_learning(self) -> bool:
        return self.confidence < LOW_CONFIDENCE or bool(self.missing_data)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def ground_assessment(answer: EngineAnswer) -> GroundedAssessment:
    claimed = answer.assessment
    tables: list[str] = []
    tools: list[str] = []
    gaps: list[str] = []
    missing_tables: list[str] = []
    notes: list[str] = []
    failed = [call for call in answer.tool_calls if call.error is not None or call.result is None]
    results = [call.result for call in answer.tool_calls if call.result is not None and call.error is None]
    for result in results:
        tools.append(f"tool:{result.tool}")
        tables.extend(result.coverage.tables_used)
        gaps.extend(result.coverage.gaps)
        missing_tables.extend(result.coverage.missing_tables)

    confidence = max(0.0, min(1.0, float(claimed.confidence)))
    sufficient = claimed.had_sufficient_data
    if failed:
        confidence = min(confidence, CAP_WHEN_TOOL_FAILED)
        sufficient = False
        notes.append(f"{len(failed)} tool call(s) failed: " + ", ".join(c.name for c in failed))
    if results and all(result.is_empty for result in results):
        confidence = min(confidence, CAP_WHEN_NOTHING_FOUND)
        sufficient = False
        notes.append("the tools found no data")
    if gaps:
        sufficient = False

    why_failed = answer.why_failed
    missing = _unique(list(claimed.missing_data) + gaps)
    if why_failed is None and confidence < LOW_CONFIDENCE:
        why_failed = "missing_data" if missing or not sufficient else "low_confidence"
    elif why_failed is None and missing:
        why_failed = "missing_data"
    return GroundedAssessment(
        confidence=round(confidence, 2),
        had_sufficient_data=sufficient,
        missing_data=missing,
        # only what was really read: a claimed source no tool touched is dropped
        data_sources_used=_unique(tables + tools),
        could_improve_with=_unique(list(claimed.could_improve_with)),
        missing_tables=_unique(missing_tables),
        reasoning="; ".join(part for part in [claimed.reasoning, *notes] if part),
        question_type=claimed.question_type or "other",
        complexity=claimed.complexity,
        why_failed=why_failed,
        notes=notes,
    )


_HISTORY = """
SELECT role, content FROM (
    SELECT role, content, created_at FROM chat_history
    WHERE user_id = $1 AND platform = $2 AND conversation_id = $3
    ORDER BY created_at DESC LIMIT $4
) recent ORDER BY created_at
"""


async def conversation_history(
    conn: asyncpg.Connection, scope: Scope, platform: str, conversation_id: str, turns: int = HISTORY_TURNS
) -> list[Turn]:
    """The last turns of this user's own conversation (never another user's, even in a shared room)."""
    rows = await conn.fetch(_HISTORY, scope.user_id, platform, conversation_id, turns)
    return [Turn(row["role"], row["content"]) for row in rows]


@dataclass(frozen=True)
class Exchange:
    scope: Scope
    platform: str
    conversation_id: str
    question: str
    answer: EngineAnswer
    assessment: GroundedAssessment
    latency_ms: int
    asked_at: datetime
    answered_at: datetime
    used_fallback: bool = False
    engine_error: str | None = None


# One statement, so the answer is written whole or not at all in a single round trip. The
# question turn is already in (recorded at admission, before the engine ran); the reply turn
# carries the time the answer was ready, so the turns sort in order.
_RECORD = """
WITH reply AS (
    INSERT INTO chat_history (user_id, platform, conversation_id, role, content, mode, created_at)
    VALUES ($1, $2, $3, 'assistant', $6, $5, $7)
    RETURNING id
)
INSERT INTO ai_conversation_feedback (
    chat_history_id, user_id, platform, conversation_id, user_message, ai_response, mode, created_at,
    confidence_score, data_sources_used, missing_data, had_sufficient_data, could_improve_with, reasoning,
    question_type, complexity, was_successful, requires_human_review, engine, latency_ms, input_tokens,
    output_tokens, engine_error, used_fallback, model_calls
)
SELECT reply.id, $1, $2, $3, $4, $6, $5, $7,
       $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24
FROM reply
RETURNING id
"""


async def record_exchange(conn: asyncpg.Connection, exchange: Exchange) -> UUID:
    """Write the reply turn and the feedback row (one statement); returns the feedback id."""
    scope, answer, grounded = exchange.scope, exchange.answer, exchange.assessment
    answered_at = max(exchange.answered_at, exchange.asked_at + timedelta(microseconds=1))
    feedback_id: UUID = await conn.fetchval(
        _RECORD,
        scope.user_id,
        exchange.platform,
        exchange.conversation_id,
        exchange.question,
        scope.mode,
        without_nul(answer.text),
        answered_at,
        grounded.confidence,
        grounded.data_sources_used,
        grounded.missing_data,
        grounded.had_sufficient_data,
        grounded.could_improve_with,
        without_nul(grounded.reasoning) or None,
        grounded.question_type,
        grounded.complexity,
        grounded.was_successful,
        grounded.confidence < REVIEW_BELOW or exchange.used_fallback,
        answer.engine,
        exchange.latency_ms,
        answer.input_tokens,
        answer.output_tokens,
        redact(without_nul(exchange.engine_error)) if exchange.engine_error is not None else None,
        exchange.used_fallback,
        answer.model_calls,
    )
    return feedback_id


def without_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL; an engine's answer or error could carry one."""
    return text.replace("\x00", "")


async def link_learning_row(conn: asyncpg.Connection, feedback_id: UUID, queue_id: UUID) -> None:
    await conn.execute(
        "UPDATE ai_conversation_feedback SET learning_queue_id = $2 WHERE id = $1", feedback_id, queue_id
    )
