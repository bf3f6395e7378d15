"""The offline engine understands the labelled corpus well enough, and its confidence means something.

Targets from issue 12: at least 95 % of the questions routed right and at most 1 %
answered wrongly with a confidence of 0.7 or more, over the whole corpus (the held-out
part, written before the router changed, and the tuning part). The runner prints the
full report: ``python -m tests.offline_engine.corpus.runner``.
"""

from __future__ import annotations

from core.engines.offline.engine import OfflineEngine
from core.tools.catalogue import build_catalogue

from .corpus.held_out import HELD_OUT
from .corpus.runner import CONFIDENTLY, judge
from .corpus.tuning import TUNING


def test_the_corpus_has_a_held_out_part_and_at_least_four_hundred_questions() -> None:
    assert len(HELD_OUT) == 100
    assert len(HELD_OUT) + len(TUNING) >= 400
    assert not {q.question.lower() for q in HELD_OUT} & {q.question.lower() for q in TUNING}


def test_routing_and_calibration_meet_the_targets() -> None:
    engine = OfflineEngine(build_catalogue())
    outcomes = [judge(engine, item) for item in [*HELD_OUT, *TUNING]]
    routed = sum(o.tool_right for o in outcomes) / len(outcomes)
    confidently_wrong = [o for o in outcomes if not o.right and o.confidence >= CONFIDENTLY]
    assert routed >= 0.95, [o.item.question for o in outcomes if not o.tool_right]
    assert len(confidently_wrong) / len(outcomes) <= 0.01, [o.item.question for o in confidently_wrong]


def test_unanswerable_questions_stay_at_or_below_a_confidence_of_0_3() -> None:
    engine = OfflineEngine(build_catalogue())
    loud = [
        (item.question, outcome.confidence)
        for item in [*HELD_OUT, *TUNING]
        if item.tool is None and (outcome := judge(engine, item)).confidence > 0.3
    ]
    assert loud == []
