"""How reliable the offline engine's confidence is on its own labelled corpus, for the insights page.

The corpus lives in ``tests/offline_engine/corpus``; its figures are written to
``corpus_reliability.json`` next to this module (``python benchmarks/understanding.py
--write-report``) and shipped as package data. A test recomputes them on the
current code and fails when the shipped file differs, so the page never shows a
stale table.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

REPORT_PATH = Path(__file__).with_name("corpus_reliability.json")


@dataclass(frozen=True)
class ReliabilityBand:
    low: float
    high: float
    questions: int
    right: int

    @property
    def share_right(self) -> float | None:
        return self.right / self.questions if self.questions else None


@dataclass(frozen=True)
class CorpusPart:
    name: str  # "held_out" (written before the router changed, never tuned on) or "tuning"
    questions: int
    routed_right: int
    with_slots: int
    slots_right: int
    right: int
    confidently_wrong: int
    bands: list[ReliabilityBand]

    @property
    def routing(self) -> float:
        return self.routed_right / self.questions if self.questions else 0.0

    @property
    def slots(self) -> float:
        return self.slots_right / self.with_slots if self.with_slots else 1.0

    @property
    def confidently_wrong_rate(self) -> float:
        return self.confidently_wrong / self.questions if self.questions else 0.0


@dataclass(frozen=True)
class CorpusReliability:
    confidently: float  # the confidence at or above which a wrong reading counts as "confidently wrong"
    parts: list[CorpusPart]


@cache
def corpus_reliability() -> CorpusReliability | None:
    """The shipped report, or None (logged) when it is missing or unreadable."""
    try:
        data = json.loads(REPORT_PATH.read_text())
        parts = [
            CorpusPart(
                name,
                part["questions"],
                part["routed_right"],
                part["with_slots"],
                part["slots_right"],
                part["right"],
                part["confidently_wrong"],
                [ReliabilityBand(b["low"], b["high"], b["questions"], b["right"]) for b in part["buckets"]],
            )
            for name, part in data["parts"].items()
        ]
        return CorpusReliability(float(data["confidently"]), parts)
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("the corpus reliability report %s cannot be read: %s", REPORT_PATH, error)
        return None
