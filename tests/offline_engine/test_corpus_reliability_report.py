"""The corpus reliability table on the insights page is what the runner computes on the current code.

The corpus lives in tests/, so the page reads a report shipped as package data
(``core/engines/offline/corpus_reliability.json``). When the router, the
confidence or the corpus changes, this fails until the report is rewritten:

    python benchmarks/understanding.py --write-report
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from core.engines.offline.corpus_reliability import REPORT_PATH, corpus_reliability

from .corpus.runner import reliability_report

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_report_is_what_the_runner_computes_now() -> None:
    shipped = json.loads(REPORT_PATH.read_text())
    assert shipped == reliability_report(), (
        "the corpus reliability report is stale: run `python benchmarks/understanding.py --write-report`"
    )


def test_the_report_is_package_data_and_reads_as_held_out_and_tuning_parts() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert REPORT_PATH.name in package_data["core.engines.offline"]
    report = corpus_reliability()
    assert report is not None and report.confidently == 0.7
    held_out, tuning = report.parts
    assert (held_out.name, tuning.name) == ("held_out", "tuning")
    assert held_out.questions == 100 and tuning.questions >= 300
    for part in report.parts:
        assert sum(b.questions for b in part.bands) == part.questions
        assert sum(b.right for b in part.bands) == part.right
