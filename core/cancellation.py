"""Stopping a task without losing a cancel meant for the one stopping it."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait until it has ended; its own cancel is dropped, a cancel of the waiter is not.

    ``contextlib.suppress(CancelledError)`` around the wait would drop both: a
    Ctrl-C landing while the task winds down (a connection closing) would be
    lost, and a stopped sync would carry on. Any other exception of the task
    is raised.
    """
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
