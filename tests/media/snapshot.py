"""Table snapshots, to show that a re-sync changed nothing (or only what changed upstream)."""

from __future__ import annotations

from typing import Any

import asyncpg

TABLES = (
    "users", "user_external_ids", "chat_accounts", "media_items", "media_external_ids", "watch_history",
    "user_stats", "media_user_state", "content_requests", "bandwidth_logs", "deletion_log",
)  # fmt: skip


async def snapshot(pool: asyncpg.Pool, tables: tuple[str, ...] = TABLES) -> dict[str, list[tuple[Any, ...]]]:
    result: dict[str, list[tuple[Any, ...]]] = {}
    async with pool.acquire() as conn:
        for table in tables:
            rows = await conn.fetch(f"SELECT * FROM {table}")
            result[table] = sorted(tuple(str(v) for v in row.values()) for row in rows)
    return result


def differences(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> dict[str, tuple[int, int]]:
    """Per table: (rows gone, rows new) between two snapshots; unchanged tables are left out."""
    changed = {}
    for table in before:
        old, new = set(before[table]), set(after[table])
        if old != new:
            changed[table] = (len(old - new), len(new - old))
    return changed
