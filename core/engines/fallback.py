"""When the configured engine fails: the offline engine's answer behind a short apology.

The user always gets an answer (or, if even the fallback fails, an apology),
and the failure is kept for health() and the feedback row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.engines.base import Engine, EngineAnswer, SelfAssessment, ToolRunner, Turn
from core.engines.tool_loop import EngineUnavailable, ToolCallingUnsupported
from core.errors import APOLOGY
from core.scope import Scope

log = logging.getLogger(__name__)

FALLBACK_NOTE = "_Sorry, the AI model is not reachable right now, so this is my offline answer:_\n\n"


@dataclass
class Outcome:
    answer: EngineAnswer
    used_fallback: bool = False
    engine_error: str | None = None


def _apology(engine: str, error: str) -> EngineAnswer:
    return EngineAnswer(
        text=APOLOGY,
        assessment=SelfAssessment(confidence=0.0, had_sufficient_data=False, reasoning=error),
        engine=engine,
        why_failed="engine_error",
    )


def _describe(exc: BaseException) -> str:
    # The class and message of our own exceptions; never a traceback or a request body.
    return f"{type(exc).__name__}: {exc}"[:300]


async def answer_with_fallback(
    engine: Engine,
    fallback: Engine | None,
    question: str,
    scope: Scope,
    history: list[Turn],
    tools: ToolRunner,
) -> Outcome:
    try:
        return Outcome(await engine.answer(question, scope, history, tools))
    except Exception as exc:
        error = _describe(exc)
        # a server that cannot call tools was reported once, with what to change; not again per message
        level = logging.DEBUG if isinstance(exc, ToolCallingUnsupported) else logging.WARNING
        log.log(
            level, "engine %s failed: %s", engine.name, error, exc_info=not isinstance(exc, EngineUnavailable)
        )
    if fallback is None or fallback is engine:
        return Outcome(_apology(engine.name, error), engine_error=error)
    try:
        answer = await fallback.answer(question, scope, history, tools)
    except Exception as exc:
        log.exception("fallback engine %s failed too", fallback.name)
        return Outcome(_apology(fallback.name, f"{error}; fallback: {_describe(exc)}"), engine_error=error)
    answer.text = FALLBACK_NOTE + answer.text
    answer.assessment.reasoning = (
        f"fallback after {engine.name} failed; {answer.assessment.reasoning}".strip()
    )
    return Outcome(answer, used_fallback=True, engine_error=error)
