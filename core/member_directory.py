"""The server's usernames, for reading a misspelt member name in an admin's question.

Read at most once every few minutes (a new member can wait that long to be
recognised in a typo; an exact name always works, the tools look it up).
Only the offline engine asks, and only for an admin's question in admin mode.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import asyncpg

REFRESH_SECONDS = 300.0
# More names than this and typo correction would guess among too many: it is not tried.
MAX_NAMES = 5000


class MemberDirectory:
    def __init__(self, pool: asyncpg.Pool, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.pool = pool
        self.refresh_seconds = refresh_seconds
        self._names: tuple[str, ...] = ()
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def usernames(self) -> Sequence[str]:
        async with self._lock:
            if self._read_at is None or time.monotonic() - self._read_at > self.refresh_seconds:
                rows = await self.pool.fetch(
                    "SELECT username FROM users WHERE removed_at IS NULL ORDER BY username LIMIT $1",
                    MAX_NAMES + 1,
                )
                names = tuple(r["username"] for r in rows)
                self._names = names if len(names) <= MAX_NAMES else ()
                self._read_at = time.monotonic()
            return self._names
