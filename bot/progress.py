"""Progress of long commands (demo data, a first sync) on stderr, for the person waiting at the terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from core.progress import ProgressCallback, pace


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
