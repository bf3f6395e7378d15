"""What the library holds: do we have a title, how big is it, how many, the biggest, oldest, newest.

Definitions
-----------
*Do we have X*: the movie or show closest to the words (``title_lookup.find_title``,
typos forgiven), with its library, year, size (a show's is the sum of its
episodes' ``file_size_bytes``), running time and when it arrived. The library
keeps no video version (resolution, codec), so a question about the version is
answered with the size and that gap.

*How many*: movies, shows and episodes (``media_items.media_type``), per library.
*Biggest*: movies and episodes by ``file_size_bytes``. *Oldest*/*newest*: movies
and shows by release ``year``. Library facts are the same for every asker.
"""

from __future__ import annotations

from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, Field

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.coverage import add_null_share
from core.tools.phrasing import hours, listing, plural, size, title_of
from core.tools.records import plain_rows, plain_value
from core.tools.title_lookup import find_title

BOTH: frozenset[Mode] = frozenset({"personal", "admin"})

Measure = Literal["have", "count", "biggest", "oldest", "newest"]


class LibraryLookupParams(BaseModel):
    title: str | None = Field(
        default=None, max_length=200, description="A movie or show to look for ('do we have X')."
    )
    measure: Measure = Field(
        default="have",
        description="have: is a title there; count: how many items; biggest by file size; oldest/newest by year.",
    )
    media_type: Literal["movie", "show"] | None = Field(
        default=None, description="Only movies or only shows."
    )
    limit: int = Field(default=5, ge=1, le=25)


_TITLE_DETAIL = """
SELECT mi.library_name, mi.duration_seconds, mi.added_at,
       CASE WHEN mi.media_type = 'show'
            THEN (SELECT sum(e.file_size_bytes) FROM media_items e WHERE e.parent_id = mi.id AND e.removed_at IS NULL)
            ELSE mi.file_size_bytes END::bigint AS size_bytes,
       (SELECT count(*) FROM media_items e
        WHERE e.parent_id = mi.id AND e.media_type = 'episode' AND e.removed_at IS NULL) AS episodes,
       (SELECT count(DISTINCT e.season_number) FROM media_items e
        WHERE e.parent_id = mi.id AND e.media_type = 'episode' AND e.removed_at IS NULL) AS seasons,
       mi.removed_at
FROM media_items mi WHERE mi.id = $1
"""

_COUNTS = """
SELECT coalesce(library_name, 'Unsorted') AS library_name, media_type, count(*) AS items
FROM media_items
WHERE ($1::text IS NULL OR media_type = $1) AND removed_at IS NULL
GROUP BY 1, 2
ORDER BY 1, 2
"""

_BIGGEST = """
SELECT mi.title, mi.year, mi.media_type, mi.file_size_bytes AS size_bytes, show.title AS show_title,
       mi.season_number, mi.episode_number
FROM media_items mi LEFT JOIN media_items show ON show.id = mi.parent_id
WHERE mi.file_size_bytes IS NOT NULL AND mi.removed_at IS NULL
  AND mi.media_type = ANY($1::text[])
ORDER BY mi.file_size_bytes DESC
LIMIT $2
"""

_SIZED_SHARE = """
SELECT count(*) AS files, count(file_size_bytes) AS sized FROM media_items WHERE media_type = ANY($1::text[]) AND removed_at IS NULL
"""

_BY_YEAR = """
SELECT title, year, media_type FROM media_items
WHERE year IS NOT NULL AND media_type = ANY($1::text[]) AND removed_at IS NULL
ORDER BY year {direction}, title
LIMIT $2
"""


async def library_lookup(conn: asyncpg.Connection, scope: Scope, p: LibraryLookupParams) -> ToolResult:
    coverage = Coverage(tables_used=["media_items"])
    measure = "have" if p.title else ("count" if p.measure == "have" else p.measure)
    summary: dict[str, Any] = {"measure": measure, "media_type": p.media_type, "asked": p.title}
    if measure == "have":
        assert p.title is not None
        wanted: tuple[str, ...] = (p.media_type,) if p.media_type else ("movie", "show")
        item = await find_title(conn, p.title, wanted)
        summary["found"] = item is not None
        if item is None:
            return ToolResult(rows=[], coverage=coverage, summary=summary)
        detail = await conn.fetchrow(_TITLE_DETAIL, item["id"])
        summary.update(
            title=item["title"],
            year=item["year"],
            kind=item["media_type"],
            **{k: plain_value(v, scope.timezone) for k, v in detail.items()},
        )
        coverage.tables_used.append("media_items.file_size_bytes")
        coverage.gaps.append("the library keeps no video version (resolution, codec), only the file size")
        coverage.missing_tables.append("media_items.video_resolution")
        return ToolResult(rows=[], coverage=coverage, summary=summary)
    if measure == "count":
        rows = await conn.fetch(_COUNTS, p.media_type)
        totals: dict[str, int] = {}
        for r in rows:
            totals[r["media_type"]] = totals.get(r["media_type"], 0) + int(r["items"])
        summary["totals"] = totals
        return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)
    if measure == "biggest":
        kinds: list[str] = (
            ["movie"]
            if p.media_type == "movie"
            else ["episode"]
            if p.media_type == "show"
            else ["movie", "episode"]
        )
        rows = await conn.fetch(_BIGGEST, kinds, p.limit)
        share = await conn.fetchrow(_SIZED_SHARE, kinds)
        add_null_share(
            coverage, "media_items", "file_size_bytes", int(share["files"]), int(share["sized"]), "files"
        )
        return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)
    listed: list[str] = [p.media_type] if p.media_type else ["movie", "show"]
    # The direction is one of two constants, never input.
    query = _BY_YEAR.format(direction="ASC" if measure == "oldest" else "DESC")
    rows = await conn.fetch(query, listed, p.limit)
    return ToolResult(rows=plain_rows(rows, scope.timezone), coverage=coverage, summary=summary)


def _render_library_lookup(result: ToolResult) -> str:
    s = result.summary
    measure = s["measure"]
    if measure == "have":
        if not s["found"]:
            return f"No, I can't find anything like {s['asked']!r} in the library."
        name = f"{s['title']} ({s['year']})" if s.get("year") else s["title"]
        where = f" in {s['library_name']}" if s.get("library_name") else ""
        if s.get("removed_at"):
            # Kept for its history, but no longer on the server.
            return f"No, {name} was{where} but has been deleted from the server (noticed {str(s['removed_at'])[:10]})."
        text = f"Yes, {name} is{where}"
        if s["kind"] == "show":
            text += f": {plural(s['seasons'], 'season')}, {plural(s['episodes'], 'episode')}"
        elif s.get("duration_seconds"):
            text += f" ({hours(s['duration_seconds'])})"
        text += f", {size(s['size_bytes'])} on disk" if s.get("size_bytes") else ", size unknown"
        if s.get("added_at"):
            text += f", added {str(s['added_at'])[:10]}"
        return text + ". (I can't see its video version — resolution or codec — only the size.)"
    if not result.rows:
        return "The library has nothing to count there yet."
    if measure == "count":
        totals = ", ".join(plural(n, kind) for kind, n in sorted(s["totals"].items()))
        per_library = listing(
            f"{r['library_name']}: {plural(r['items'], r['media_type'])}" for r in result.rows
        )
        return f"The library has {totals}.\n{per_library}"
    if measure == "biggest":
        lines = []
        for r in result.rows:
            name = (
                f"{r['show_title']} S{r['season_number'] or 0:02d}E{r['episode_number'] or 0:02d}"
                if r["media_type"] == "episode" and r.get("show_title")
                else title_of(r)
            )
            lines.append(f"{name} — {size(r['size_bytes'])}")
        return "The biggest files in the library:\n" + listing(lines)
    heading = "The oldest" if measure == "oldest" else "The newest"
    return f"{heading} titles in the library by release year:\n" + listing(title_of(r) for r in result.rows)


TOOLS: list[Tool[Any]] = [
    Tool(
        name="library_lookup",
        description=(
            "What the library holds: whether a title is there (with library, size, length, seasons), how many "
            "movies/shows/episodes there are per library, the biggest files, the oldest or newest titles."
        ),
        params=LibraryLookupParams,
        modes=BOTH,
        question_type="content_analytics",
        run=library_lookup,
        render=_render_library_lookup,
        examples=(
            "Do we have [title]?",
            "Is [title] on the server?",
            "How many movies are in the library?",
            "What is the biggest file in the library?",
            "What's the oldest movie we have?",
        ),
        routing="cue_first",
    ),
]
