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

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from core.engines.base import EngineAnswer, SelfAssessment, ToolCall, ToolRunner, Turn
from core.engines.offline import follow_ups as follow_up
from core.engines.offline import phrasing
from core.engines.offline.date_ranges import DateRangeParser
from core.engines.offline.member_names import correct_member_in_question, correct_member_name
from core.engines.offline.router import MIN_SCORE, Route, Router
from core.engines.offline.spelling import normalise
from core.scope import Scope
from core.tools.answer_text import render_text
from core.tools.base import Tool, ToolError, ToolNotAllowed, ToolResult

log = logging.getLogger(__name__)

# One thread for the process: routes are computed one at a time, so a burst of questions costs
# one core at most and the event loop none.
_ROUTING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="offline-routing")

# A match score at or above this is as good as the spec's own wording.
FULL_MATCH = 0.85
# A runner-up this close means the question could have been meant either way. (0.05 let "what do
# people watch most" answer genres at 0.77 with popular titles 0.074 behind: on the tuning corpus
# every reading with a runner-up within 0.08 that was wrong sat in that gap.)
CLOSE_MARGIN = 0.08
EMPTY_RESULT_CAP = 0.5
# The tool said data it needed is missing (a table empty, a column mostly NULL).
MISSING_DATA_CAP = 0.6
WRONG_MODE_CONFIDENCE = 0.9
ASK_BACK_CONFIDENCE = 0.3
OUT_OF_DOMAIN_CONFIDENCE = 0.1
DROPPED_SLOT_PENALTY = 0.12


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
        member_names: Callable[[], Awaitable[Sequence[str]]] | None = None,
    ) -> None:
        tools: Iterable[Tool[Any]] = _tools_of(catalogue)
        # The server's usernames, read only for an admin's question in admin mode (see member_names.py).
        self._member_names = member_names
        dates = DateRangeParser(holiday_country, holiday_subdivision, southern_hemisphere=southern_hemisphere)
        self.router = Router(tools, dates)
        self._clock = clock or (lambda: datetime.now(UTC))

    async def answer(
        self, question: str, scope: Scope, history: list[Turn], tools: ToolRunner
    ) -> EngineAnswer:
        now = self._clock().astimezone(scope.timezone)
        names: Sequence[str] = ()
        if self._member_names is not None and scope.mode == "admin" and scope.role == "admin":
            names = await self._member_names()
        # Understanding is pure CPU (fuzzy matching, date parsing): it runs on the engine's own thread,
        # not on the event loop that Discord, Matrix and the webhooks share.
        loop = asyncio.get_running_loop()
        route = await loop.run_in_executor(_ROUTING, self.understand, question, scope, history, now, names)
        if route.kind == "unsupported":
            return self._unsupported(route, scope)
        if route.kind in ("needs_admin", "needs_personal"):
            return self._wrong_mode(route, scope)
        assert route.tool is not None
        if route.missing_required:
            return self._ask_for_missing(route)
        return await self._run(route, tools, scope)

    # -- understanding ----------------------------------------------------------------------
    def understand(
        self, question: str, scope: Scope, history: list[Turn], now: datetime, member_names: Sequence[str] = ()
    ) -> Route:
        """The tool and slots the question asks for, follow-ups resolved against the earlier questions.

        No database and no await: this is the part the corpus runner measures. ``member_names``
        (the server's usernames) correct a misspelt member name, in an admin's question only.
        """
        earlier_questions = [turn.content for turn in history if turn.role == "user"]
        question, corrected = correct_member_in_question(question, scope, member_names)
        route = self._understand(question, scope, earlier_questions, now, follow_up.MAX_DEPTH)
        # A follow-up names its member in a word of its own ("and for alcie?"): corrected on the route.
        route = correct_member_name(route, scope, member_names)
        if corrected:
            route = replace(route, corrected={**corrected, **route.corrected})
        return route

    def _understand(
        self, question: str, scope: Scope, earlier: list[str], now: datetime, depth: int
    ) -> Route:
        fresh = self.router.route(question, scope.mode, now)
        if depth <= 0 or not earlier or not follow_up.is_elliptical(question, fresh):
            return fresh
        previous = self._understand(earlier[-1], scope, earlier[:-1], now, depth - 1)
        resolved = follow_up.resolve(self.router, normalise(question), fresh, previous, scope.mode, now)
        return resolved or fresh

    @staticmethod
    def understanding_confidence(route: Route) -> float:
        """How sure the engine is that it understood, before any data is read (data only lowers it)."""
        if route.kind == "unsupported":
            return OUT_OF_DOMAIN_CONFIDENCE if route.out_of_domain else round(min(0.2, route.score), 2)
        if route.kind in ("needs_admin", "needs_personal"):
            return WRONG_MODE_CONFIDENCE
        if route.missing_required:
            return ASK_BACK_CONFIDENCE
        confidence = 0.5 + 0.45 * min(max((route.score - MIN_SCORE) / (FULL_MATCH - MIN_SCORE), 0.0), 1.0)
        if route.margin < CLOSE_MARGIN:
            confidence -= 0.1
        # Every slot the tool could not honour makes the answer less the one asked for.
        confidence -= DROPPED_SLOT_PENALTY * len(route.dropped)
        return round(min(max(confidence, 0.05), 0.95), 2)

    def _unsupported(self, route: Route, scope: Scope) -> EngineAnswer:
        away = route.out_of_domain
        if away is not None:
            return EngineAnswer(
                text=phrasing.out_of_domain(away.topic),
                assessment=SelfAssessment(
                    confidence=OUT_OF_DOMAIN_CONFIDENCE,
                    had_sufficient_data=False,
                    missing_data=[f"no media-server data is about {away.topic}"],
                    could_improve_with=[away.would_need],
                    reasoning=f"out of domain: {away.topic}",
                    question_type="other",
                    complexity="simple",
                ),
                engine=self.name,
                why_failed="unsupported_question",
            )
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
        # How well the question was understood, before the data's own gaps lower the confidence:
        # only a weak match earns the "I read this as ..." hedge, never an empty result.
        confidence = understanding = self.understanding_confidence(route)
        confidence -= min(0.1 * len(coverage.gaps), 0.3)
        found_nothing = result.is_empty
        if found_nothing:
            confidence = min(confidence, EMPTY_RESULT_CAP)
        if coverage.missing_tables:
            confidence = min(confidence, MISSING_DATA_CAP)
        confidence = round(min(max(confidence, 0.05), 0.95), 2)

        text = render_text(tool, result)
        period = route.slots.period
        if period is not None and "start" in route.params:
            text = phrasing.with_period(text, period.label)
        reading = next((e for e in tool.examples if "[" not in e), None) or phrasing.first_sentence(
            tool.description
        )
        if route.dropped:
            text = phrasing.unhonoured(text, reading, route.dropped)
        else:
            text = phrasing.hedge(text, understanding, reading)
        for asked, member in route.corrected.items():
            text = f"(I read “{asked}” as {member}.) {text}"

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
