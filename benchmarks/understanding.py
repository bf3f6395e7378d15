"""How long the offline engine takes to understand a question (router, cues, follow-ups), no database.

    python benchmarks/understanding.py [--rounds 5]
    python benchmarks/understanding.py --write-report   # the corpus figures the insights page shows

Runs every question of the labelled corpus (tests/offline_engine/corpus) through
``OfflineEngine.understand`` several times and prints p50/p95/p99 in milliseconds
(target: p95 under 5 ms), then the corpus report (routing, slots, confidently
wrong, reliability table).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.engines.base import Turn  # noqa: E402
from core.engines.offline import date_ranges  # noqa: E402
from core.engines.offline.corpus_reliability import REPORT_PATH  # noqa: E402
from core.engines.offline.engine import OfflineEngine  # noqa: E402
from core.tools.catalogue import build_catalogue  # noqa: E402
from tests.offline_engine.corpus.held_out import HELD_OUT  # noqa: E402
from tests.offline_engine.corpus.runner import MEMBERS, NOW, _scope, main, reliability_report  # noqa: E402
from tests.offline_engine.corpus.tuning import TUNING  # noqa: E402

TARGET_P95_MS = 5.0


def measure(rounds: int) -> list[float]:
    engine = OfflineEngine(build_catalogue(), clock=lambda: NOW)
    items = [*HELD_OUT, *TUNING]
    scopes = {mode: _scope(mode) for mode in ("personal", "admin")}
    for item in items:  # warm-up: dateparser and rapidfuzz load lazily
        engine.understand(item.question, scopes[item.mode], [Turn("user", h) for h in item.history], NOW, MEMBERS)
    times: list[float] = []
    for _ in range(rounds):
        for item in items:
            history = [Turn("user", h) for h in item.history]
            # Every question as if new: nothing remembered from an earlier round.
            date_ranges._search_dates.cache_clear()
            started = time.perf_counter()
            engine.understand(item.question, scopes[item.mode], history, NOW, MEMBERS)
            times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def main_cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--write-report",
        action="store_true",
        help=f"write the corpus reliability report the insights page shows ({REPORT_PATH.name}) and stop",
    )
    args = parser.parse_args()
    if args.write_report:
        REPORT_PATH.write_text(json.dumps(reliability_report(), indent=2) + "\n")
        print(f"wrote {REPORT_PATH}")
        return
    times = measure(args.rounds)
    p95 = times[int(0.95 * (len(times) - 1))]
    p99 = times[int(0.99 * (len(times) - 1))]
    print(
        f"understanding {len(times)} questions: p50 {statistics.median(times):.2f} ms, p95 {p95:.2f} ms "
        f"(target < {TARGET_P95_MS:.0f} ms), p99 {p99:.2f} ms, max {times[-1]:.2f} ms"
    )
    print()
    main(["all"])


if __name__ == "__main__":
    main_cli()
