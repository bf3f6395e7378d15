"""One title, for the asker: have I watched it, when, how often, did I finish it, what did I request.

Definitions
-----------
*Title facts* (personal): the movie or show the asker names (typos forgiven,
``title_lookup.find_title``). For a movie: completed plays (``user_stats.play_count``),
the first and last session (``watch_history.started_at``), the asker's rating.
For a show the same over its episodes, plus how many episodes the asker completed
(``play_count > 0``) of how many the library has; *finished* means every
episode completed; the *next episode* is the first episode (by season and number)
after the last one the asker completed.

*Request status* (personal: the asker's requests; admin: the requests row-level
security shows, i.e. of members who share their activity): the request whose
title is closest to the words asked (trigram similarity or containment), with
its status, dates and decline reason.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult
from core.tools.phrasing import plural
from core.tools.records import plain_rows, plain_value
from core.tools.title_lookup import find_title

PERSONAL: frozenset[Mode] = frozenset({"personal"})
BOTH: frozenset[Mode] = frozenset({"personal", "admin"})


class TitleFactsParams(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="The movie or show, as the asker wrote it.")


# The item itself (a movie) or its episodes (a show); the asker's rows only (RLS and user_id).
_FACTS = """
SELECT count(*) AS items,
       count(*) FILTER (WHERE us.play_count > 0) AS completed_items,
       coalesce(sum(us.play_count), 0)::bigint AS completed_plays,
       avg(us.rating)::double precision AS rating,
       max(us.last_played_at) AS last_played_at
FROM media_items mi
LEFT JOIN user_stats us ON us.media_item_id = mi.id AND us.user_id = $2
WHERE (mi.id = $1 AND mi.media_type = 'movie') OR (mi.parent_id = $1 AND mi.media_type = 'episode')
"""

_SESSIONS = """
SELECT count(*) AS sessions, min(wh.started_at) AS first_watched, max(wh.started_at) AS last_watched
FROM watch_history wh JOIN media_items mi ON mi.id = wh.media_item_id
WHERE wh.user_id = $2 AND (mi.id = $1 OR mi.parent_id = $1)
"""

_SHOW_RATING = "SELECT rating FROM user_stats WHERE user_id = $2 AND media_item_id = $1"

# The first episode after the last one the asker completed, in season/episode order.
_NEXT_EPISODE = """
WITH episodes AS (
    SELECT mi.id, mi.title, mi.season_number, mi.episode_number,
           coalesce(us.play_count, 0) > 0 AS completed
    FROM media_items mi
    LEFT JOIN user_stats us ON us.media_item_id = mi.id AND us.user_id = $2
    WHERE mi.parent_id = $1 AND mi.media_type = 'episode'
), last_done AS (
    SELECT season_number, episode_number FROM episodes WHERE completed
    ORDER BY season_number DESC NULLS LAST, episode_number DESC NULLS LAST LIMIT 1
)
SELECT e.title, e.season_number, e.episode_number
FROM episodes e
WHERE NOT e.completed
  AND (NOT EXISTS (SELECT 1 FROM last_done)
       OR (e.season_number, e.episode_number) > (SELECT season_number, episode_number FROM last_done))
ORDER BY e.season_number NULLS LAST, e.episode_number NULLS LAST
LIMIT 1
"""


async def title_facts(conn: asyncpg.Connection, scope: Scope, p: TitleFactsParams) -> ToolResult:
    coverage = Coverage(tables_used=["media_items", "user_stats", "watch_history.started_at"])
    item = await find_title(conn, p.title)
    summary: dict[str, Any] = {"asked": p.title, "found": item is not None}
    if item is None:
        coverage.gaps.append(f"no movie or show in the library matches {p.title!r}")
        return ToolResult(rows=[], coverage=coverage, summary=summary)
    facts = await conn.fetchrow(_FACTS, item["id"], scope.user_id)
    sessions = await conn.fetchrow(_SESSIONS, item["id"], scope.user_id)
    summary.update(
        title=item["title"],
        year=item["year"],
        media_type=item["media_type"],
        items=int(facts["items"]),
        completed_items=int(facts["completed_items"]),
        completed_plays=int(facts["completed_plays"]),
        sessions=int(sessions["sessions"]),
        first_watched=plain_value(sessions["first_watched"], scope.timezone),
        last_watched=plain_value(sessions["last_watched"] or facts["last_played_at"], scope.timezone),
        rating=facts["rating"],
        next_episode=None,
    )
    if item["media_type"] == "show":
        own = await conn.fetchval(_SHOW_RATING, item["id"], scope.user_id)
        if own is not None:
            summary["rating"] = float(own)
        next_episode = await conn.fetchrow(_NEXT_EPISODE, item["id"], scope.user_id)
        if next_episode is not None:
            summary["next_episode"] = plain_rows([next_episode], scope.timezone)[0]
        if not summary["items"]:
            coverage.gaps.append("the library has no episodes of this show")
    summary["finished"] = bool(summary["items"]) and summary["completed_items"] == summary["items"]
    if summary["rating"] is not None:
        summary["rating"] = round(float(summary["rating"]), 1)
    return ToolResult(rows=[], coverage=coverage, summary=summary)


def _day(moment: str | None) -> str:
    return moment[:10] if moment else "an unknown day"


def _render_title_facts(result: ToolResult) -> str:
    s = result.summary
    if not s["found"]:
        return f"I couldn't find {s['asked']!r} in the library."
    name = f"{s['title']} ({s['year']})" if s.get("year") else s["title"]
    if not s["sessions"] and not s["completed_plays"]:
        return f"You haven't watched {name} yet."
    parts = []
    if s["media_type"] == "show":
        done = "finished it" if s["finished"] else "not finished it yet"
        parts.append(
            f"You have watched {s['completed_items']} of {plural(s['items'], 'episode')} of {name} — {done}."
        )
        episode = s.get("next_episode")
        if episode and not s["finished"]:
            parts.append(
                f"Next up: S{episode['season_number'] or 0:02d}E{episode['episode_number'] or 0:02d} "
                f"“{episode['title']}”."
            )
    else:
        times = plural(s["completed_plays"], "time")
        finished = (
            f"You finished {name} {times}"
            if s["completed_plays"]
            else f"You started {name} but never finished it"
        )
        parts.append(f"{finished} ({plural(s['sessions'], 'session')}).")
    if s["first_watched"]:
        if s["first_watched"][:10] == (s["last_watched"] or "")[:10]:
            parts.append(f"You watched it on {_day(s['first_watched'])}.")
        else:
            parts.append(f"First watched {_day(s['first_watched'])}, last {_day(s['last_watched'])}.")
    if s["rating"] is not None:
        parts.append(f"You rated it {s['rating']:.1f}/10.")
    return " ".join(parts)


class RequestStatusParams(BaseModel):
    title: str = Field(
        min_length=1, max_length=200, description="The requested title, as the asker wrote it."
    )


def _contains_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Row-level security limits this to the asker's requests (personal) or opted-in members' (admin).
_REQUEST_BY_TITLE = """
SELECT cr.title, cr.media_type, cr.status, cr.requested_at, cr.approved_at, cr.declined_at,
       cr.decline_reason, cr.available_at, approver.username AS approved_by,
       greatest(similarity(cr.title, $1), CASE WHEN cr.title ILIKE $2 THEN 0.9 ELSE 0 END) AS score
FROM content_requests cr
LEFT JOIN users approver ON approver.id = cr.approved_by_user_id
WHERE ($3::uuid IS NULL OR cr.requested_by_user_id = $3)
  AND (cr.title ILIKE $2 OR similarity(cr.title, $1) >= 0.3)
ORDER BY score DESC, cr.requested_at DESC
LIMIT 3
"""


async def request_status(conn: asyncpg.Connection, scope: Scope, p: RequestStatusParams) -> ToolResult:
    own = scope.user_id if scope.mode == "personal" else None
    rows = await conn.fetch(_REQUEST_BY_TITLE, p.title.strip(), _contains_pattern(p.title.strip()), own)
    coverage = Coverage(tables_used=["content_requests.status", "content_requests.title"])
    summary: dict[str, Any] = {"asked": p.title, "found": bool(rows), "mode": scope.mode}
    if not rows:
        whose = "your requests" if scope.mode == "personal" else "the requests I can see"
        coverage.gaps.append(f"no request in {whose} matches {p.title!r}")
    return ToolResult(rows=plain_rows(rows[:1], scope.timezone), coverage=coverage, summary=summary)


def _render_request_status(result: ToolResult) -> str:
    s = result.summary
    if not s["found"]:
        if s["mode"] == "personal":
            return f"You have no request for anything like {s['asked']!r}."
        # Row-level security shows admins the requests of members who share their activity only.
        return (
            f"I see no request for anything like {s['asked']!r} among the members who share their activity "
            "with admins."
        )
    r = result.rows[0]
    requested = f"requested {_day(r['requested_at'])}"
    status = r["status"]
    if status == "available":
        text = f"{r['title']} ({requested}) is available: it arrived {_day(r['available_at'])}."
    elif status == "approved":
        by = f" by {r['approved_by']}" if r.get("approved_by") else ""
        text = f"{r['title']} ({requested}) was approved{by} on {_day(r['approved_at'])} and is on its way."
    elif status == "declined":
        reason = f" — reason: {r['decline_reason']}" if r.get("decline_reason") else " (no reason was given)"
        text = f"{r['title']} ({requested}) was declined on {_day(r['declined_at'])}{reason}."
    elif status == "failed":
        text = f"{r['title']} ({requested}) failed to download; an admin has to retry it."
    else:
        text = f"{r['title']} ({requested}) is still pending: nobody has approved it yet."
    return text


TOOLS: list[Tool[Any]] = [
    Tool(
        name="title_facts",
        description=(
            "One movie or show for the asker: have they watched it, when first and last, how many times, did "
            "they finish it (episodes done of all), the next episode, and the rating they gave. Needs a title."
        ),
        params=TitleFactsParams,
        modes=PERSONAL,
        question_type="analytics",
        run=title_facts,
        render=_render_title_facts,
        examples=(
            "Have I seen [title]?",
            "When did I last watch [title]?",
            "Did I finish [title]?",
            "How many times have I watched [title]?",
            "What's my next episode of [title]?",
            "What did I rate [title]?",
        ),
        routing="cue_only",
    ),
    Tool(
        name="request_status",
        description=(
            "The status of a request by its title: pending, approved (by whom, when), available (when it "
            "arrived) or declined (with the reason). Personal mode: the asker's own requests."
        ),
        params=RequestStatusParams,
        modes=BOTH,
        question_type="requests",
        run=request_status,
        render=_render_request_status,
        examples=(
            "Is [title] ready yet?",
            "What's the status of my request for [title]?",
            "Was my [title] request approved?",
            "Why was my request for [title] declined?",
        ),
        routing="cue_only",
    ),
]
