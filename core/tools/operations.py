"""Operational insights: bandwidth, deletions, library growth.

Definitions
-----------
*Bandwidth*: the sum of ``bandwidth_logs.bytes_transferred`` of streams logged
in the period (default: this month). Personal mode: the asker's own streams.
Admin mode: the server total and per-user totals (a deleted account shows as
"unknown user").

*Deletions*: ``deletion_log`` rows in the period (default: this month), with
the space freed.

*Library growth*: movies, shows and episodes added per month in the period
(default: last 12 months), the bytes they added, and the average per month
against the size of the library before the period.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import Field

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.coverage import add_null_share
from core.tools.periods import PeriodParams, resolve_period
from core.tools.phrasing import (
    hours,
    in_period,
    in_period_opening,
    listing,
    plural,
    size,
    with_gaps,
)
from core.tools.records import plain_rows

ADMIN: frozenset[Mode] = frozenset({"admin"})
BOTH: frozenset[Mode] = frozenset({"personal", "admin"})


class BandwidthParams(PeriodParams):
    limit: int = Field(default=10, ge=1, le=100, description="How many top users to list (admin mode).")


_MY_BANDWIDTH = """
SELECT NULL::uuid AS user_id, NULL::text AS username, count(*) AS streams,
       coalesce(sum(bytes_transferred), 0)::bigint AS bytes, count(bytes_transferred) AS logged_bytes,
       coalesce(sum(stream_duration_seconds), 0)::bigint AS stream_seconds
FROM bandwidth_logs
WHERE user_id = $1 AND created_at >= $2 AND created_at < $3
"""

_ALL_BANDWIDTH = """
SELECT user_id, coalesce(username, 'unknown user') AS username, streams, bytes, logged_bytes, stream_seconds
FROM analytics.bandwidth_by_user($1, $2)
ORDER BY bytes DESC, username
"""


async def bandwidth_usage(conn: asyncpg.Connection, scope: Scope, p: BandwidthParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "this_month")
    if scope.mode == "personal":
        records = await conn.fetch(_MY_BANDWIDTH, scope.user_id, period.start, period.end)
        records = [r for r in records if r["streams"]]
    else:
        records = await conn.fetch(_ALL_BANDWIDTH, period.start, period.end)
    streams = sum(int(r["streams"]) for r in records)
    summary = {
        "period": period.as_dict(),
        "whose": scope.mode,
        "streams": streams,
        "bytes": sum(int(r["bytes"]) for r in records),
        "stream_seconds": sum(int(r["stream_seconds"]) for r in records),
    }
    coverage = Coverage(tables_used=["bandwidth_logs.bytes_transferred"])
    if streams:
        add_null_share(
            coverage,
            "bandwidth_logs",
            "bytes_transferred",
            streams,
            sum(int(r["logged_bytes"]) for r in records),
            "streams",
        )
    else:
        # No EXISTS probe of the whole table here: under row-level security it would scan every row.
        coverage.gaps.append(f"no stream was logged in bandwidth_logs for {period.label}")
        coverage.missing_tables.append("bandwidth_logs")
    rows = plain_rows(records[: p.limit] if scope.mode == "admin" else [], scope.timezone)
    for row in rows:
        row.pop("user_id", None)
    return ToolResult(rows=rows, coverage=coverage, summary=summary)


def _render_bandwidth(result: ToolResult) -> str:
    s = result.summary
    who = "You" if s["whose"] == "personal" else "The server"
    if not s["streams"]:
        return with_gaps(f"{who} streamed nothing that was logged {in_period(result)}.", result)
    text = (
        f"{who} used {size(s['bytes'])} of bandwidth {in_period(result)} over "
        f"{plural(s['streams'], 'stream')} ({hours(s['stream_seconds'])})."
    )
    if result.rows:
        text += "\n" + listing(
            f"{r['username']}: {size(r['bytes'])}, {plural(r['streams'], 'stream')}" for r in result.rows
        )
    return with_gaps(text, result)


class DeletionParams(PeriodParams):
    limit: int = Field(default=20, ge=1, le=200)


_DELETIONS = """
SELECT title, media_type, file_size_bytes, deleted_at, reason
FROM deletion_log
WHERE deleted_at >= $1 AND deleted_at < $2
ORDER BY deleted_at DESC
"""


async def deletions(conn: asyncpg.Connection, scope: Scope, p: DeletionParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "this_month")
    rows = await conn.fetch(_DELETIONS, period.start, period.end)
    coverage = Coverage(tables_used=["deletion_log"])
    add_null_share(
        coverage,
        "deletion_log",
        "file_size_bytes",
        len(rows),
        sum(1 for r in rows if r["file_size_bytes"] is not None),
        "deletions",
    )
    reasons: dict[str, int] = {}
    for r in rows:
        key = r["reason"] or "no reason recorded"
        reasons[key] = reasons.get(key, 0) + 1
    summary = {
        "period": period.as_dict(),
        "deletions": len(rows),
        "bytes_freed": sum(int(r["file_size_bytes"] or 0) for r in rows),
        "by_reason": reasons,
    }
    return ToolResult(rows=plain_rows(rows[: p.limit], scope.timezone), coverage=coverage, summary=summary)


def _render_deletions(result: ToolResult) -> str:
    s = result.summary
    if not s["deletions"]:
        return with_gaps(f"Nothing was deleted {in_period(result)}.", result)
    lines = [
        f"{r['title']} ({r['media_type'] or 'item'}), {r['deleted_at'][:10]}: {r['reason'] or 'no reason recorded'}"
        for r in result.rows
    ]
    return with_gaps(
        f"{plural(s['deletions'], 'deletion')} {in_period(result)}, freeing {size(s['bytes_freed'])}:\n{listing(lines)}",
        result,
    )


class GrowthParams(PeriodParams):
    pass


_GROWTH = """
SELECT to_char(date_trunc('month', added_at AT TIME ZONE $3), 'YYYY-MM') AS month,
       count(*) FILTER (WHERE media_type = 'movie') AS movies,
       count(*) FILTER (WHERE media_type = 'show') AS shows,
       count(*) FILTER (WHERE media_type = 'episode') AS episodes,
       coalesce(sum(file_size_bytes), 0)::bigint AS bytes_added,
       count(*) FILTER (WHERE media_type <> 'show') AS files, count(file_size_bytes) AS files_with_size
FROM media_items
WHERE added_at >= $1 AND added_at < $2
GROUP BY 1 ORDER BY 1
"""

_BEFORE = (
    "SELECT count(*) FILTER (WHERE media_type IN ('movie', 'show')) FROM media_items WHERE added_at < $1"
)


async def library_growth(conn: asyncpg.Connection, scope: Scope, p: GrowthParams) -> ToolResult:
    period = resolve_period(scope, p.start, p.end, "last_12_months")
    rows = await conn.fetch(_GROWTH, period.start, period.end, scope.timezone.key)
    before = int(await conn.fetchval(_BEFORE, period.start))
    titles_added = sum(int(r["movies"]) + int(r["shows"]) for r in rows)
    months = max(len(rows), 1)
    summary = {
        "period": period.as_dict(),
        "titles_before": before,
        "titles_added": titles_added,
        "episodes_added": sum(int(r["episodes"]) for r in rows),
        "bytes_added": sum(int(r["bytes_added"]) for r in rows),
        "titles_per_month": round(titles_added / months, 1),
        "growth_rate": round(titles_added / before, 4) if before else None,
    }
    coverage = Coverage(tables_used=["media_items.added_at", "media_items.file_size_bytes"])
    add_null_share(
        coverage,
        "media_items",
        "file_size_bytes",
        sum(int(r["files"]) for r in rows),
        sum(int(r["files_with_size"]) for r in rows),
        "files added",
    )
    data = plain_rows(rows, scope.timezone)
    for row in data:
        row.pop("files", None)
        row.pop("files_with_size", None)
    return ToolResult(rows=data, coverage=coverage, summary=summary)


def _render_growth(result: ToolResult) -> str:
    s = result.summary
    if not result.rows:
        return with_gaps(f"Nothing was added to the library {in_period(result)}.", result)
    rate = f", {s['growth_rate']:.0%} more titles than before" if s["growth_rate"] is not None else ""
    lines = [
        f"{r['month']}: {r['movies']} movies, {r['shows']} shows, {r['episodes']} episodes, {size(r['bytes_added'])}"
        for r in result.rows
    ]
    return with_gaps(
        f"{in_period_opening(result)} the library grew by {plural(s['titles_added'], 'title')} and "
        f"{plural(s['episodes_added'], 'episode')} ({s['titles_per_month']} titles a month{rate}; "
        f"{size(s['bytes_added'])} added).\n{listing(lines)}",
        result,
    )


TOOLS: list[Tool[Any]] = [
    Tool(
        name="bandwidth_usage",
        description=(
            "Bandwidth used in a period (default: this month): bytes, streams and stream time — the asker's own in "
            "personal mode, the server total and top users in admin mode."
        ),
        params=BandwidthParams,
        modes=BOTH,
        question_type="operations",
        run=bandwidth_usage,
        render=_render_bandwidth,
        examples=(
            "How much bandwidth are we using?",
            "How much data did I stream this month?",
            "Who uses the most bandwidth?",
        ),
        phrasings=(
            "how much data do we stream",
            "bandwidth used this month",
            "total data transferred",
        ),
    ),
    Tool(
        name="deletions",
        description="Items deleted from the library in a period (default: this month), with reasons and space freed.",
        params=DeletionParams,
        modes=ADMIN,
        question_type="operations",
        run=deletions,
        render=_render_deletions,
        examples=(
            "How many deletions this month?",
            "What was deleted recently?",
            "How much space did deletions free?",
        ),
        phrasings=(
            "what was removed from the library",
            "how many titles were deleted",
            "deleted items",
        ),
    ),
    Tool(
        name="library_growth",
        description="How fast the library grows: titles, episodes and bytes added per month in a period (default: last 12 months).",
        params=GrowthParams,
        modes=BOTH,
        question_type="operations",
        run=library_growth,
        render=_render_growth,
        examples=(
            "What's the library growth rate?",
            "How many movies were added per month this year?",
            "How fast is the library growing?",
        ),
        phrasings=(
            "how many titles are added each month",
            "library growth trend",
            "is the library growing",
        ),
    ),
]
