"""Progress of long commands (demo data, a first sync) on stderr, for the person waiting at the terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from core.progress import ProgressCallback


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


@contextmanager
def progress_display(clock: Callable[[], float] = time.monotonic) -> Iterator[ProgressCallback]:
    """A rich progress bar on a terminal; one plain line per stage (and every ~10 %) otherwise."""
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def show(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=max(total, 1))
                bar.update(tasks[stage], completed=done, total=max(total, 1))

            yield show
        return

    reported: dict[str, int] = {}
    began: dict[str, tuple[float, int]] = {}  # when a stage first reported, and how far it was then

    def print_line(stage: str, done: int, total: int) -> None:
        since, done_then = began.setdefault(stage, (clock(), done))
        step = -1 if done == 0 else (10 * done) // max(total, 1)
        if reported.get(stage) == step:
            return
        reported[stage] = step
        speed = pace(done - done_then, total - done_then, clock() - since)
        print(f"{stage}: {done:,}/{total:,}" + (f" ({speed})" if speed else ""), file=sys.stderr, flush=True)

    yield print_line
