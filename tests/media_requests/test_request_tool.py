"""The anthropic engine starts a request through the typed tool (the real SDK against the fake Messages
API); the member's number and "yes" then go through the same flow as on the offline path."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp import web
from engine.fake_messages_api import FakeMessagesAPI, message, submit_answer, tool_use

from bot.integrations import request_service
from bot.settings import load_settings
from bot.wiring import build_assistant
from core.chat import ChatRequest
from core.media_requests.tool import TOOL_NAME

from .conftest import Members
from .fake_overseerr import API_KEY, FakeOverseerr, serving


@pytest.fixture
async def messages_api() -> AsyncIterator[tuple[FakeMessagesAPI, str]]:
    api = FakeMessagesAPI()
    app = web.Application()
    app.router.add_post("/v1/messages", api.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield api, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def said(text: str) -> ChatRequest:
    return ChatRequest("console", "alice", "dm", text, is_direct_message=True)


async def test_the_model_offers_matches_and_only_the_members_yes_requests(
    db_pool: asyncpg.Pool,
    database_url: str,
    members: Members,
    overseerr: FakeOverseerr,
    messages_api: tuple[FakeMessagesAPI, str],
) -> None:
    api, base_url = messages_api
    api.script(
        message([tool_use(TOOL_NAME, {"query": "Dune Part Three", "media_type": "movie"}, "toolu_req")]),
        message([submit_answer("I found **Dune: Part Three** (2026). Reply 1 to pick it.", 0.9)]),
    )
    async with serving(overseerr) as url:
        settings = load_settings(
            database_url=database_url,
            engine="anthropic",
            anthropic_api_key="test",
            anthropic_base_url=base_url,
            overseerr_url=url,
            overseerr_api_key=API_KEY,
        )
        client = request_service(settings)
        assert client is not None
        try:
            assistant = await build_assistant(settings, db_pool, requests=client)
            first = await assistant.handle(said("we really need the new Dune film on here"))
            assert "Reply 1 to pick it" in first.text
            assert overseerr.posted == []
            summary = await assistant.handle(said("1"))
            assert "Request Dune: Part Three (2026) on Overseerr as you?" in summary.plain_text
            done = await assistant.handle(said("yes"))
        finally:
            await client.close()
    assert "Requested Dune: Part Three (2026)" in done.plain_text
    assert overseerr.posted == [{"mediaType": "movie", "mediaId": 8000001}] and overseerr.posted_as == [2]
    offered = {tool["name"] for tool in api.requests[0]["tools"]}
    assert TOOL_NAME in offered
    tool_result = json.dumps(api.requests[1]["messages"][-1]["content"])
    assert "Dune: Part Three" in tool_result and "nothing is requested yet" in tool_result
    # Only two model calls: the number and the "yes" never reached the model.
    assert len(api.requests) == 2
