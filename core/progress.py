"""How long-running core work (generating demo data, a sync) reports how far it is."""

from __future__ import annotations

from collections.abc import Callable

# (stage, done, total): called as each stage advances, e.g. ("watch history", 120_000, 5_000_000).
ProgressCallback = Callable[[str, int, int], None]


def pace(done: int, total: int, seconds: float) -> str:
    """How fast a stage goes and how long it has left, e.g. "1,234/s, about 3 min left"."""
    if done <= 0 or seconds <= 0:
        return ""
    rate = done / seconds
    text = f"{rate:,.0f}/s"
    left = (total - done) / rate
    if done >= total:
        return text
    if left < 60:
        return f"{text}, under a minute left"
    minutes = round(left / 60)
    return f"{text}, about {minutes} min left" if minutes < 120 else f"{text}, about {minutes / 60:.1f} h left"
