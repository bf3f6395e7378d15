"""How long-running core work (generating demo data, a sync) reports how far it is."""

from __future__ import annotations

from collections.abc import Callable

# (stage, done, total): called as each stage advances, e.g. ("watch history", 120_000, 5_000_000).
ProgressCallback = Callable[[str, int, int], None]
