"""Real answers to render: every tool's own wording on a server, and the admin reports.

``tool_answers`` runs every tool of the catalogue in every mode it allows, as a
member with viewing history (personal) and as an admin (admin), over the last
year; a tool that needs a title gets the best-known show. Each answer is the
text the offline engine would send (``render_text``: the data's strings shown as typed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from core import admin_reports
from core.answer import Answer
from core.scope import Scope
from core.tools.answer_text import render_text
from core.tools.base import ToolInputError
from core.tools.catalogue import ToolCatalogue, build_catalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import run_tool


async def _asker(conn: asyncpg.Connection, role: str) -> tuple[UUID, str]:
    row = await conn.fetchrow(
        """
        SELECT u.id, u.username FROM users u
        LEFT JOIN watch_history w ON w.user_id = u.id
        WHERE u.role = $1 GROUP BY u.id ORDER BY count(w.*) DESC, u.username LIMIT 1
        """,
        role,
    )
    assert row is not None, f"the server has no {role}"
    return row["id"], row["username"]


async def tool_answers(pool: asyncpg.Pool, timezone: str = "UTC") -> dict[str, str]:
    """``{"tool_name/mode": text}`` for every tool and mode: the text as the tool wrote it."""
    catalogue = build_catalogue()
    async with pool.acquire() as conn:
        member = await _asker(conn, "user")
        admin = await _asker(conn, "admin")
        show = (
            await conn.fetchval(
                """
            SELECT i.title FROM media_items i JOIN watch_history w ON w.media_item_id = i.id
            WHERE i.media_type IN ('movie', 'show') GROUP BY i.title ORDER BY count(*) DESC, i.title LIMIT 1
            """
            )
            or "Alien"
        )
        sharing = await conn.fetchval(
            "SELECT username FROM users WHERE share_activity_with_admins ORDER BY username LIMIT 1"
        )
    end = datetime.now(UTC).date()
    period = {"start": (end - timedelta(days=365)).isoformat(), "end": end.isoformat()}
    answers: dict[str, str] = {}
    tools = ToolDatabase(pool, max_size=2)  # tools run behind the database wall, as in production
    try:
        await _answer_every_tool(tools, catalogue, answers, member, admin, show, sharing, period, timezone)
    finally:
        await tools.close()
    return answers


async def _answer_every_tool(
    tools: ToolDatabase,
    catalogue: ToolCatalogue,
    answers: dict[str, str],
    member: tuple[UUID, str],
    admin: tuple[UUID, str],
    show: str,
    sharing: str | None,
    period: dict[str, str],
    timezone: str,
) -> None:
    for tool in catalogue.tools.values():
        for mode in sorted(tool.modes):
            user_id, username = admin if mode == "admin" else member
            role = "admin" if mode == "admin" else "user"
            scope = Scope(user_id, username, role, mode, ZoneInfo(timezone))
            arguments: dict[str, object] = {}
            needed = {"title": show, "username": sharing or member[1], "query": "a slow-burn heist film"}
            for attempt in ({}, period, needed, {**period, **needed}):
                arguments = {k: v for k, v in attempt.items() if k in tool.params.model_fields}
                try:
                    result = await run_tool(tools, scope, catalogue, tool.name, arguments)
                    break
                except ToolInputError:
                    continue
            else:
                raise AssertionError(f"{tool.name} takes none of the arguments tried")
            answers[f"{tool.name}/{mode}"] = render_text(tool, result)


async def report_answers(pool: asyncpg.Pool) -> dict[str, Answer]:
    async with pool.acquire() as conn:
        entries = await admin_reports.learning_list(conn)
        reports = {
            "health": admin_reports.health_answer(await admin_reports.health(conn)),
            "insights": admin_reports.insights_answer(await admin_reports.insights(conn)),
            "learning list": admin_reports.learning_list_answer(entries),
        }
        if entries:
            entry = await admin_reports.learning_show(conn, str(entries[0]["id"]))
            reports["learning show"] = admin_reports.learning_entry_answer(entry)
    return reports
