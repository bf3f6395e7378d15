"""Measure how well the offline engine understands the labelled corpus.

    .venv/bin/python -m tests.offline_engine.corpus.runner [held_out|tuning|all] [--misses]

No database: each question goes through the engine's understanding step (router,
follow-up resolution, confidence before any data is read) exactly as the engine
does it before running a tool. Reported:

- routing accuracy: the right tool (or the honest refusal / "I can't" for
  needs-admin and unanswerable questions);
- slot accuracy: of the correctly routed questions that name slots, the share
  whose every labelled slot the tool's parameters honour;
- confidently wrong: wrong tool or slots at a confidence of 0.7 or more;
- a reliability table: confidence bucket -> how many, how many right;
- p95 time to understand one question.

Data can only lower an answer's confidence further (empty results, coverage gaps),
so the confidence measured here is an upper bound of what the asker sees.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from rapidfuzz import fuzz

from core.engines.base import Turn
from core.engines.offline.engine import OfflineEngine
from core.scope import Scope
from core.tools.catalogue import build_catalogue

from .labels import NEEDS_ADMIN, Labelled

# A Tuesday evening: "this week" and "this month" are not empty windows here.
NOW = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
CONFIDENTLY = 0.7
UNANSWERABLE_MAX_CONFIDENCE = 0.3
TITLE_SIMILARITY = 85
TITLE_FIELDS = ("title", "like_title", "similar_to", "show_title", "query")
BUCKETS = ((0.0, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.85), (0.85, 1.01))
# The corpus server's members. Every question gets them, members' too: the engine itself must use them
# for an admin's question only (a member never gets another member's name suggested).
MEMBERS = ("alice", "bob", "carol", "dave", "erin", "root")


@dataclass
class Outcome:
    item: Labelled
    kind: str
    tool: str | None
    params: dict[str, Any]
    confidence: float
    tool_right: bool
    slots_right: bool
    seconds: float

    @property
    def right(self) -> bool:
        return self.tool_right and self.slots_right


def _scope(mode: str) -> Scope:
    return Scope(user_id=uuid4(), username="corpus", role="admin", mode=mode)  # type: ignore[arg-type]


def _understand(engine: OfflineEngine, item: Labelled) -> tuple[str, str | None, dict[str, Any], float]:
    """(route kind, tool name, params, confidence) the engine would act on."""
    history = [Turn("user", text) for text in item.history]
    scope = _scope(item.mode)
    now = NOW.astimezone(scope.timezone)
    understand = getattr(engine, "understand", None)
    if understand is not None:
        route = understand(item.question, scope, history, now, MEMBERS)
        confidence = engine.understanding_confidence(route)
    else:  # the engine before issue 12, replayed step by step
        route = engine.router.route(item.question, scope.mode, now)
        if route.kind == "unsupported":
            route = engine._follow_up(item.question, route, scope, history, now) or route
        confidence = _old_confidence(route)
    name = route.tool.name if route.tool is not None else None
    return route.kind, name, dict(route.params), confidence


def _old_confidence(route: Any) -> float:
    from core.engines.offline.engine import CLOSE_MARGIN, FULL_MATCH
    from core.engines.offline.router import MIN_SCORE

    if route.kind == "unsupported":
        return round(min(0.2, route.score), 2)
    if route.kind in ("needs_admin", "needs_personal"):
        return 0.9
    if route.missing_required:
        return 0.3
    value = 0.5 + 0.45 * min(max((route.score - MIN_SCORE) / (FULL_MATCH - MIN_SCORE), 0.0), 1.0)
    if route.margin < CLOSE_MARGIN:
        value -= 0.1
    if route.dropped:
        value -= 0.1
    return round(min(max(value, 0.05), 0.95), 2)


def _slot_right(name: str, expected: Any, params: dict[str, Any]) -> bool:
    if name == "title":
        got = next((params[f] for f in TITLE_FIELDS if params.get(f)), None)
        return got is not None and fuzz.ratio(str(got).lower(), str(expected).lower()) >= TITLE_SIMILARITY
    if name == "period":
        start = params.get("start")
        if expected == "none":
            return start is None and params.get("end") is None
        if expected == "all_time":
            return start is not None and str(start).startswith("1970")
        return start is not None and not str(start).startswith("1970")
    got = params.get(name)
    if isinstance(expected, str) and isinstance(got, str):
        return got.lower() == expected.lower()
    return bool(got == expected)


def judge(engine: OfflineEngine, item: Labelled) -> Outcome:
    started = time.perf_counter()
    kind, tool, params, confidence = _understand(engine, item)
    seconds = time.perf_counter() - started
    if item.tool is None:
        tool_right = kind == "unsupported" or confidence <= UNANSWERABLE_MAX_CONFIDENCE
        slots_right = True
    elif item.tool == NEEDS_ADMIN:
        tool_right, slots_right = kind == "needs_admin", True
    else:
        tool_right = kind == "tool" and tool == item.tool
        slots_right = tool_right and all(_slot_right(n, v, params) for n, v in item.slots.items())
    return Outcome(item, kind, tool, params, confidence, tool_right, slots_right, seconds)


def report(name: str, outcomes: Sequence[Outcome], *, misses: bool = False) -> dict[str, float]:
    total = len(outcomes)
    routed = sum(o.tool_right for o in outcomes)
    with_slots = [o for o in outcomes if o.tool_right and o.item.slots]
    slot_right = sum(o.slots_right for o in with_slots)
    confidently_wrong = [o for o in outcomes if not o.right and o.confidence >= CONFIDENTLY]
    times = sorted(o.seconds for o in outcomes)
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))] * 1000 if times else 0.0
    figures = {
        "questions": total,
        "routing": routed / total if total else 0.0,
        "slots": slot_right / len(with_slots) if with_slots else 1.0,
        "right": sum(o.right for o in outcomes) / total if total else 0.0,
        "confidently_wrong": len(confidently_wrong) / total if total else 0.0,
        "p95_ms": p95,
    }
    print(f"== {name}: {total} questions")
    print(f"routing accuracy      {figures['routing']:.1%} ({routed}/{total})")
    print(
        f"slot accuracy         {figures['slots']:.1%} ({slot_right}/{len(with_slots)} routed right with slots)"
    )
    print(f"right (tool + slots)  {figures['right']:.1%}")
    print(
        f"confidently wrong     {figures['confidently_wrong']:.1%} ({len(confidently_wrong)} at >= {CONFIDENTLY})"
    )
    print(f"understanding p95     {p95:.2f} ms (median {statistics.median(times) * 1000:.2f} ms)")
    print("confidence   questions  right")
    for low, high in BUCKETS:
        bucket = [o for o in outcomes if low <= o.confidence < high]
        share = f"{sum(o.right for o in bucket) / len(bucket):.0%}" if bucket else "-"
        print(f"{low:.2f}-{min(high, 1.0):.2f}   {len(bucket):9d}  {share}")
    if misses:
        for o in outcomes:
            if not o.right:
                flag = "!!" if o.confidence >= CONFIDENTLY else "  "
                print(
                    f"{flag} {o.confidence:.2f} [{o.item.mode}] {o.item.question!r} -> {o.kind}:{o.tool} "
                    f"{o.params} (want {o.item.tool} {o.item.slots})"
                )
    return figures


def reliability(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Counts only (no shares, no times): the same code and corpus always give the same report."""
    with_slots = [o for o in outcomes if o.tool_right and o.item.slots]
    return {
        "questions": len(outcomes),
        "routed_right": sum(o.tool_right for o in outcomes),
        "with_slots": len(with_slots),
        "slots_right": sum(o.slots_right for o in with_slots),
        "right": sum(o.right for o in outcomes),
        "confidently_wrong": sum(not o.right and o.confidence >= CONFIDENTLY for o in outcomes),
        "buckets": [
            {
                "low": low,
                "high": min(high, 1.0),
                "questions": sum(low <= o.confidence < high for o in outcomes),
                "right": sum(low <= o.confidence < high and o.right for o in outcomes),
            }
            for low, high in BUCKETS
        ],
    }


def reliability_report() -> dict[str, Any]:
    """The offline engine on its own corpus, held-out part apart: what the insights page shows
    (``core/engines/offline/corpus_reliability.json``, written by ``benchmarks/understanding.py --write-report``)."""
    from .held_out import HELD_OUT
    from .tuning import TUNING

    engine = OfflineEngine(build_catalogue(), clock=lambda: NOW)
    return {
        "confidently": CONFIDENTLY,
        "parts": {
            name: reliability([judge(engine, item) for item in items])
            for name, items in (("held_out", HELD_OUT), ("tuning", TUNING))
        },
    }


def main(argv: Sequence[str]) -> None:
    from .held_out import HELD_OUT

    parts: dict[str, list[Labelled]] = {"held_out": HELD_OUT}
    try:
        from .tuning import TUNING

        parts["tuning"] = TUNING
    except ImportError:
        pass
    wanted = [a for a in argv if not a.startswith("--")] or list(parts)
    if "all" in wanted:
        wanted = list(parts)
    engine = OfflineEngine(build_catalogue(), clock=lambda: NOW)
    everything: list[Outcome] = []
    for name in wanted:
        outcomes = [judge(engine, item) for item in parts[name]]
        everything.extend(outcomes)
        report(name, outcomes, misses="--misses" in argv)
        print()
    if len(wanted) > 1:
        report("all", everything)


if __name__ == "__main__":
    main(sys.argv[1:])
