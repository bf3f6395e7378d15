"""``marquee health --engine``: one tiny question to the configured model, to see that tool calling works.

The probe has one harmless tool (the time on the server) and touches no table:
the answer says whether the model was reached, whether it called the tool and
``submit_answer``, how long it took and what it cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from core.engines.base import Engine
from core.engines.tool_loop import EngineUnavailable, ToolCallingUnsupported
from core.scope import Scope
from core.tools.base import Coverage, ToolResult, UnknownTool

PROBE_TOOL = "server_time"
PROBE_QUESTION = f"Health check: call the {PROBE_TOOL} tool, then submit_answer with the time it gave."
PROBE_SCOPE = Scope(user_id=UUID(int=0), username="health-check", role="user", mode="personal")


class ProbeTools:
    """A ToolRunner of one tool that reads nothing from the database."""

    def definitions(self) -> list[dict[str, Any]]:
        return [
            {
                "name": PROBE_TOOL,
                "description": "The current time on the server (UTC).",
                "input_schema": {"type": "object", "properties": {}},
            }
        ]

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if name != PROBE_TOOL:
            raise UnknownTool(f"there is no tool named {name!r}")
        now = datetime.now(UTC).strftime("%H:%M UTC")
        return ToolResult(name, arguments, [], Coverage([]), summary={"time": now})


@dataclass
class ProbeReport:
    reached: bool
    tool_calling: bool
    detail: str
    seconds: float
    tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.reached and self.tool_calling


async def probe_engine(engine: Engine) -> ProbeReport:
    started = time.perf_counter()
    try:
        answer = await engine.answer(PROBE_QUESTION, PROBE_SCOPE, [], ProbeTools())
    except ToolCallingUnsupported as exc:
        return ProbeReport(True, False, f"the server cannot call tools: {exc}", time.perf_counter() - started)
    except EngineUnavailable as exc:
        return ProbeReport(False, False, str(exc), time.perf_counter() - started)
    seconds = time.perf_counter() - started
    tokens = answer.input_tokens + answer.output_tokens
    called = any(c.name == PROBE_TOOL and c.result is not None for c in answer.tool_calls)
    submitted = answer.assessment.reasoning != "answered without submit_answer"
    if called and submitted:
        detail = f"tool calling works: {answer.model_calls} model calls, answer {answer.text[:80]!r}"
    elif submitted:
        detail = "the model answered through submit_answer but skipped the tool"
    else:
        detail = (
            "the model answered in plain text without calling tools: pick a model trained for tool calling"
        )
    return ProbeReport(True, called and submitted, detail, seconds, tokens)
