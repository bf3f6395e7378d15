"""The offline engine: no network, no key, no model calls.

The router picks a tool and its arguments; the tool runs through the scoped
``ToolRunner`` the Assistant hands in (so the scope and row-level security
apply exactly as for the LLM engine); the tool's own ``render`` writes the
sentences. The self-assessment is computed, not guessed:

- confidence starts from the router's match score (0.5 at the threshold, 0.95
  for a near-verbatim match), loses 0.1 when the runner-up tool was almost as
  good, 0.1 per coverage gap (at most 0.3) and 0.1 when the question named a
  filter the tool cannot apply, is capped at 0.6 when the tool reported
  missing tables/columns and at 0.5 when it found nothing;
- ``data_sources_used`` is ``tool:<name>`` plus the tables its coverage names
  (the same shape the Assistant's grounding uses);
- ``missing_data`` is the coverage gaps, ``could_improve_with`` the missing
  tables/columns.

A question it cannot map gets "I can't answer that yet" with
``why_failed='unsupported_question'``; one that needs a title it did not name
gets a question back with ``why_failed='ambiguous_query'``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from core.engines.base import EngineAnswer, SelfAssessment, ToolCall, ToolRunner, Turn
from core.engines.offline import phrasing
from core.engines.offline.date_ranges import DateRangeParser
from core.engines.offline.router import MIN_SCORE, Route, Router, Slots
from core.scope import Scope
from core.tools.base import Tool, ToolError, ToolNotAllowed, ToolResult

log = logging.getLogger(__name__)

# A match score at or above this is as good as the spec's own wording.
FULL_MATCH = 0.85
# A runner-up this close means the question could have been meant either way.
CLOSE_MARGIN = 0.05
EMPTY_RESULT_CAP = 0.5
# The tool said data it needed is missing (a table empty, a column mostly NULL).
MISSING_DATA_CAP = 0.6
# Follow-ups such as "and last month?" reuse the previous question's tool when they are this short.
FOLLOW_UP_MAX_WORDS = 7


def _tools_of(catalogue: Any) -> list[Tool[Any]]:
    """A ``ToolCatalogue`` (``.tools`` name -> Tool) or any iterable of tools."""
    tools = getattr(catalogue, "tools", catalogue)
    if isinstance(tools, dict):
        return list(tools.values())
    return list(tools)


class OfflineEngine:
    name = "offline"

    def __init__(
        self,
        catalogue: Any,
        *,
        holiday_country: str = "US",
        holiday_subdivision: str | None = None,
        southern_hemisphere: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        tools: Iterable[Tool[Any]] = _tools_of(catalogue)
        dates = DateRangeParser(holiday_country, holiday_subdivision, southern_hemisphere=southern_hemisphere)
        self.router = Router(tools, dates)
        self._clock = clock or (lambda: datetime.now(UTC))

    async def answer(
        self, question: str, scope: Scope, history: list[Turn], tools: ToolRunner
    ) -> EngineAnswer:
        now = self._clock().astimezone(scope.timezone)
        route = self.router.route(question, scope.mode, now)
        if route.kind == "unsupported":
            route = self._follow_up(question, route, scope, history, now) or route
        if route.kind == "unsupported":
            return self._unsupported(route, scope)
        if route.kind in ("needs_admin", "needs_personal"):
            return self._wrong_mode(route, scope)
        assert route.tool is not None
        if route.missing_required:
            return self._ask_for_missing(route)
        return await self._run(route, tools, scope)

    # -- the paths ------------------------------------------------------------------------
    def _follow_up(
        self, question: str, route: Route, scope: Scope, history: list[Turn], now: datetime
    ) -> Route | None:
        """'and last month?' / 'what about comedies?': the previous question's tool with the new slots."""
        slots = route.slots
        if not (slots.period or slots.title or slots.genre or slots.media_type or slots.username):
            return None
        if len(question.split()) > FOLLOW_UP_MAX_WORDS:
            return None
        previous = next((t.content for t in reversed(history) if t.role == "user"), None)
        if previous is None:
            return None
        earlier = self.router.route(previous, scope.mode, now)
        if earlier.kind != "tool" or earlier.tool is None:
            return None
        merged = Slots(
            period=slots.period or earlier.slots.period,
            title=slots.title or earlier.slots.title,
            media_type=slots.media_type or earlier.slots.media_type,
            genre=slots.genre or earlier.slots.genre,
            limit=slots.limit or earlier.slots.limit,
            integration=slots.integration or earlier.slots.integration,
            days=slots.days or earlier.slots.days,
            status=slots.status or earlier.slots.status,
            username=slots.username or earlier.slots.username,
        )
        params, dropped, missing = self.router.parameters(earlier.tool, merged)
        # A follow-up is only as sure as the question it follows, and a little less.
        return replace(
            earlier,
            params=params,
            dropped=dropped,
            missing_required=missing,
            slots=merged,
            score=earlier.score - 0.05,
        )

    def _unsupported(self, route: Route, scope: Scope) -> EngineAnswer:
        closest = route.candidates[0] if route.candidates else None
        reasoning = "no tool matched the question"
        if closest is not None:
            reasoning += f"; closest was {closest.tool.name} (score {closest.score:.2f} < {MIN_SCORE})"
        return EngineAnswer(
            text=phrasing.cant_answer(self.router.examples_for(scope.mode)),
            assessment=SelfAssessment(
                confidence=round(min(0.2, route.score), 2),
                had_sufficient_data=False,
                reasoning=reasoning,
                question_type=closest.tool.question_type if closest and closest.score >= 0.3 else "other",
                complexity="simple",
            ),
            engine=self.name,
            why_failed="unsupported_question",
        )

    def _wrong_mode(self, route: Route, scope: Scope) -> EngineAnswer:
        assert route.tool is not None
        if route.kind == "needs_admin":
            text = phrasing.needs_admin_mode(scope.role == "admin")
            reasoning = f"{route.tool.name} is an admin-mode tool and the asker is in personal mode"
        else:
            text = phrasing.needs_personal_mode()
            reasoning = f"{route.tool.name} is a personal-mode tool and the asker is in admin mode"
        return EngineAnswer(
            text=text,
            assessment=SelfAssessment(
                confidence=0.9,
                had_sufficient_data=True,
                reasoning=reasoning,
                question_type=route.tool.question_type,
            ),
            engine=self.name,
        )

    def _ask_for_missing(self, route: Route) -> EngineAnswer:
        assert route.tool is not None
        example = next((e for e in route.tool.examples if "[" not in e), route.example)
        if "username" in route.missing_required:
            text = phrasing.which_user(example)
        else:
            text = phrasing.which_title(example)
        return EngineAnswer(
            text=text,
            assessment=SelfAssessment(
                confidence=0.3,
                had_sufficient_data=False,
                missing_data=[f"the question names no {' or '.join(route.missing_required)}"],
                reasoning=f"matched {route.tool.name} but it needs {', '.join(route.missing_required)}",
                question_type=route.tool.question_type,
            ),
            engine=self.name,
            why_failed="ambiguous_query",
        )

    async def _run(self, route: Route, tools: ToolRunner, scope: Scope) -> EngineAnswer:
        tool = route.tool
        assert tool is not None
        call = ToolCall(name=tool.name, params=dict(route.params))
        try:
            result = await tools.run(tool.name, route.params)
        except ToolNotAllowed as error:
            log.info("offline route to %s refused by the runner: %s", tool.name, error)
            call.error = str(error)
            kind: Literal["needs_admin", "needs_personal"] = (
                "needs_admin" if scope.mode == "personal" else "needs_personal"
            )
            answer = self._wrong_mode(replace(route, kind=kind), scope)
            answer.tool_calls.append(call)
            return answer
        except ToolError as error:
            log.info("tool %s failed for an offline answer: %s", tool.name, error)
            call.error = str(error)
            return EngineAnswer(
                text=phrasing.tool_failed(str(error)),
                assessment=SelfAssessment(
                    confidence=0.1,
                    had_sufficient_data=False,
                    data_sources_used=[f"tool:{tool.name}"],
                    reasoning=f"{tool.name} failed: {error}",
                    question_type=tool.question_type,
                ),
                engine=self.name,
                tool_calls=[call],
                why_failed="tool_error",
            )
        call.result = result
        return self._answer_from(route, tool, result, call)

    def _answer_from(self, route: Route, tool: Tool[Any], result: ToolResult, call: ToolCall) -> EngineAnswer:
        coverage = result.coverage
        confidence = 0.5 + 0.45 * min(max((route.score - MIN_SCORE) / (FULL_MATCH - MIN_SCORE), 0.0), 1.0)
        if route.margin < CLOSE_MARGIN:
            confidence -= 0.1
        # How well the question was understood, before the data's own gaps lower the confidence:
        # only a weak match earns the "I read this as ..." hedge, never an empty result.
        understanding = confidence
        confidence -= min(0.1 * len(coverage.gaps), 0.3)
        if route.dropped:
            confidence -= 0.1
        found_nothing = result.is_empty
        if found_nothing:
            confidence = min(confidence, EMPTY_RESULT_CAP)
        if coverage.missing_tables:
            confidence = min(confidence, MISSING_DATA_CAP)
        confidence = round(min(max(confidence, 0.05), 0.95), 2)

        text = tool.render(result)
        period = route.slots.period
        if period is not None and "start" in route.params:
            text = phrasing.with_period(text, period.label)
        if route.dropped:
            text += f"\n\n(I couldn't narrow this down by {', '.join(route.dropped)}.)"
        reading = tool.examples[0] if tool.examples else phrasing.first_sentence(tool.description)
        text = phrasing.hedge(text, understanding, reading)

        sources = [f"tool:{tool.name}"]
        for table in coverage.tables_used:
            if table not in sources:
                sources.append(table)
        reasoning = (
            f"routed to {tool.name} (match {route.score:.2f} on {route.example!r}, lead {route.margin:.2f}); "
            f"{len(result.rows)} rows; {len(coverage.gaps)} coverage gaps"
        )
        missing = list(coverage.gaps) + [f"a filter for {d}" for d in route.dropped]
        return EngineAnswer(
            text=text,
            assessment=SelfAssessment(
                confidence=confidence,
                had_sufficient_data=not found_nothing and not coverage.missing_tables,
                missing_data=missing,
                data_sources_used=sources,
                could_improve_with=list(coverage.missing_tables),
                reasoning=reasoning,
                question_type=tool.question_type,
                complexity="medium" if route.params else "simple",
            ),
            engine=self.name,
            tool_calls=[call],
            why_failed="missing_data" if coverage.missing_tables else None,
        )
