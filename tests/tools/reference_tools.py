"""Tool implementations as they were before they were reformulated for speed (issue 17).

The reference for ``test_same_answers_as_before``: each keeps the SQL and the
Python of the tool it stands for, unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from core.scope import Scope
from core.tools.base import Coverage, ToolResult
from core.tools.content import NeverWatchedParams
from core.tools.coverage import add_null_share
from core.tools.records import plain_rows

_NEVER_WATCHED = """
SELECT media_item_id AS id, title, media_type, year, library_name, added_at, size_bytes, files, files_with_size
FROM analytics.title_engagement($1)
WHERE stat_rows = 0
ORDER BY added_at, title
"""


async def never_watched_content(conn: asyncpg.Connection, scope: Scope, p: NeverWatchedParams) -> ToolResult:
    rows = await conn.fetch(_NEVER_WATCHED, datetime.now(scope.timezone))
    files = sum(int(r["files"]) for r in rows)
    sized = sum(int(r["files_with_size"]) for r in rows)
    summary = {
        "titles": len(rows),
        "movies": sum(1 for r in rows if r["media_type"] == "movie"),
        "shows": sum(1 for r in rows if r["media_type"] == "show"),
        "size_bytes": sum(int(r["size_bytes"] or 0) for r in rows),
    }
    coverage = Coverage(tables_used=["media_items", "user_stats"])
    add_null_share(coverage, "media_items", "file_size_bytes", files, sized, "files of never-watched titles")
    return ToolResult(
        "never_watched_content",
        p.model_dump(mode="json"),
        plain_rows(rows[: p.limit], scope.timezone),
        coverage,
        summary,
    )


REFERENCE_RUNS: dict[str, Callable[..., Awaitable[ToolResult]]] = {
    "never_watched_content": never_watched_content,
}
