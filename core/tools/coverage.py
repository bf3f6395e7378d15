"""Measuring how complete the data behind an answer is.

Tools pass the counts they already computed (rows considered, rows with the
column filled) so that measuring coverage costs no extra scan of a big table.
"""

from __future__ import annotations

import asyncpg

from core.tools.base import Coverage

# A column filled for fewer than this share of the rows makes the answer shaky.
MOSTLY_NULL_SHARE = 0.2


def null_share_gap(table: str, column: str, total: int, filled: int, what: str = "rows") -> str | None:
    """A sentence when a column is NULL for a notable share of the rows used, else None."""
    if total <= 0:
        return None
    missing = total - filled
    if missing == 0:
        return None
    share = missing / total
    if share < MOSTLY_NULL_SHARE and filled > 0:
        return f"{table}.{column} is unknown for {missing} of {total} {what} ({share:.0%})"
    return f"{table}.{column} is NULL for {share:.0%} of the {total} {what}, so this is incomplete"


def add_null_share(
    coverage: Coverage, table: str, column: str, total: int, filled: int, what: str = "rows"
) -> None:
    gap = null_share_gap(table, column, total, filled, what)
    if gap:
        coverage.gaps.append(gap)
        if filled < total * (1 - MOSTLY_NULL_SHARE):
            coverage.missing_tables.append(f"{table}.{column}")


async def note_if_empty(conn: asyncpg.Connection, coverage: Coverage, table: str, why: str) -> bool:
    """Add a gap when ``table`` has no rows visible in this scope; return whether it was empty."""
    # Table names come from the tools' own constants, never from input.
    empty = not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})")
    if empty:
        coverage.gaps.append(f"{table} has no rows yet ({why})")
        coverage.missing_tables.append(table)
    return bool(empty)
