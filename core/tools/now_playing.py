"""What is playing right now: only a live-sessions source could say, and Marquee has none yet.

Plex (``/status/sessions``), Jellyfin (``/Sessions``) and Tautulli (``get_activity``)
report live sessions, but Marquee stores finished plays only (``watch_history``
comes from synced history and webhooks after the fact). So this tool answers
honestly that it cannot see live sessions, and names the data that would let it,
instead of passing recent history off as "now".
"""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import BaseModel

from core.scope import Mode, Scope
from core.tools.base import Coverage, Tool, ToolResult

BOTH: frozenset[Mode] = frozenset({"personal", "admin"})
LIVE_SOURCE = "live sessions (Plex /status/sessions, Jellyfin /Sessions or Tautulli get_activity)"


class NowPlayingParams(BaseModel):
    pass


async def now_playing(conn: asyncpg.Connection, scope: Scope, p: NowPlayingParams) -> ToolResult:
    coverage = Coverage(
        gaps=["Marquee stores finished plays only; no service's live sessions are read"],
        missing_tables=[LIVE_SOURCE],
    )
    return ToolResult(rows=[], coverage=coverage, summary={"live_source": False})


def _render_now_playing(result: ToolResult) -> str:
    return (
        "I can't see live sessions: I only know plays once they are recorded, not what is streaming right "
        "now. Plex, Jellyfin or Tautulli can show the current streams."
    )


TOOLS: list[Tool[Any]] = [
    Tool(
        name="now_playing",
        description=(
            "Who is watching what right now. Marquee has no live-sessions source, so this says honestly that it "
            "cannot see current streams."
        ),
        params=NowPlayingParams,
        modes=BOTH,
        question_type="analytics",
        run=now_playing,
        render=_render_now_playing,
        examples=("Who is watching right now?", "What's playing now?", "How many streams are active?"),
        routing="cue_only",
    ),
]
