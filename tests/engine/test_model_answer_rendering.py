"""The model's free-text answers, through the real SDK and the Assistant, become the same structured
answer as the tools' and render as lists on every surface."""

from __future__ import annotations

import anthropic
import asyncpg

from adapters.chat.discord_rendering import discord_messages
from adapters.chat.matrix_rendering import reply_content
from core.answer import ItemList, Paragraph
from core.assistant import Assistant, AssistantConfig
from core.chat import ChatRequest
from core.engines.anthropic_engine import AnthropicEngine

from .doubles import People, RecordingToolRunner
from .fake_messages_api import FakeMessagesAPI, message, submit_answer

MODEL_MARKDOWN = (
    "Here are three picks for tonight:\n"
    "- **Alien** (1979), since you loved _Aliens_\n"
    "* Heat (1995)\n"
    "- Up (2009) — short and sweet\n"
    "Enjoy! <b>not html</b>"
)


async def test_a_models_markdown_list_is_a_list_everywhere_and_recorded_as_plain_text(
    db_pool: asyncpg.Pool,
    people: People,
    fake_api: tuple[FakeMessagesAPI, str],
    anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    api, _ = fake_api
    api.script(message([submit_answer(MODEL_MARKDOWN, 0.8)]))
    engine = AnthropicEngine(anthropic_client, "claude-sonnet-4-6")
    assistant = Assistant(db_pool, engine, lambda scope: RecordingToolRunner(scope), config=AssistantConfig())

    reply = await assistant.handle(ChatRequest("matrix", "@alice:example.org", "!room", "what tonight?"))

    answer = reply.structured
    assert [type(block) for block in answer.blocks] == [Paragraph, ItemList, Paragraph]
    assert answer.confidence is not None
    html = reply_content(answer, None)["formatted_body"]
    assert (
        html.count("<li>") == 3
        and "<li><strong>Alien</strong> (1979), since you loved <em>Aliens</em></li>" in html
    )
    assert "&lt;b&gt;not html&lt;/b&gt;" in html
    [discord] = discord_messages(answer)
    assert discord.embed is not None and discord.embed["title"] == "Here are three picks for tonight"
    stored = await db_pool.fetchval("SELECT ai_response FROM ai_conversation_feedback")
    assert stored == reply.plain_text
    assert stored.splitlines()[:3] == [
        "Here are three picks for tonight:",
        "",
        "- Alien (1979), since you loved Aliens",
    ]
