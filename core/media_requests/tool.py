"""``find_title_to_request``: the request flow as a typed tool of the ``anthropic`` engine.

The model calls it when a member asks for a title in words the plain-words
check did not catch ("we should really get that new Villeneuve film"). It
searches, keeps the numbered matches as the conversation's pending choice and
returns them; the member's next reply (a number, seasons, "yes") is handled
by the request flow before any engine, exactly as on the offline path. The
tool cannot create a request: only the member's own "yes" does.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, Field, ValidationError

from core.chat import ChatRequest
from core.engines.base import ToolRunner
from core.media_requests.flow import RequestFlow, match_status
from core.media_requests.intent import RequestIntent
from core.tools.base import Coverage, ToolInputError, ToolResult

TOOL_NAME = "find_title_to_request"


class FindTitleParams(BaseModel):
    query: str = Field(
        min_length=1, max_length=120, description="The title as the member said it, e.g. 'Dune Part Three'"
    )
    media_type: Literal["movie", "tv"] | None = Field(
        default=None, description="'movie' or 'tv' when the member said which; omit otherwise"
    )
    in_4k: bool = Field(default=False, description="true when the member asked for the 4K version")


DEFINITION: dict[str, Any] = {
    "name": TOOL_NAME,
    "description": (
        "Start a request for a movie or show the member wants added to the server (Overseerr). "
        "Searches and returns up to five numbered matches, with whether each is already available or "
        "requested. Show the numbered list to the member and tell them to reply with the number; "
        "Marquee then asks for seasons and confirmation itself. This never requests anything by itself, "
        "and always for the member who asked."
    ),
    "input_schema": FindTitleParams.model_json_schema(),
}


class RequestToolRunner:
    """The asker's scoped tool runner plus ``find_title_to_request`` for this conversation."""

    def __init__(
        self, inner: ToolRunner, flow: RequestFlow, pool: asyncpg.Pool, user_id: UUID, request: ChatRequest
    ) -> None:
        self.inner = inner
        self.flow = flow
        self.pool = pool
        self.user_id = user_id
        self.request = request

    def definitions(self) -> list[dict[str, Any]]:
        return [*self.inner.definitions(), DEFINITION]

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if name != TOOL_NAME:
            return await self.inner.run(name, arguments)
        try:
            params = FindTitleParams.model_validate(arguments or {})
        except ValidationError as error:
            raise ToolInputError(f"invalid arguments for {TOOL_NAME}: {error.errors()[0]['msg']}") from error
        reply, matches, asker = await self.flow.offer(
            self.pool,
            self.user_id,
            self.request,
            RequestIntent(params.query, params.media_type, in_4k=params.in_4k),
        )
        rows = [
            {
                "number": index,
                "title": match.title,
                "year": match.year,
                "type": "movie" if match.kind == "movie" else "show",
                "status": match_status(match, asker) if asker is not None else None,
                "overview": match.overview[:200],
            }
            for index, match in enumerate(matches, start=1)
        ]
        summary: dict[str, Any] = (
            {
                "next_step": f"The member replies with a number from 1 to {len(rows)}; nothing is requested yet."
            }
            if rows
            else {"message_for_member": reply.plain_text}
        )
        return ToolResult(
            TOOL_NAME, params.model_dump(), rows, Coverage(tables_used=["overseerr.search"]), summary
        )
