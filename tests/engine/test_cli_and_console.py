"""The CLI commands and the console chat, end to end on a real database with the real wiring
(offline engine, real tool catalogue)."""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from rich.console import Console

from adapters.chat.console import ConsoleChat
from bot.cli import main
from bot.settings import load_settings
from bot.wiring import build_assistant
from core.chat import ChatCore
from core.errors import APOLOGY

from .doubles import People


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[None]:
    monkeypatch.setenv("MARQUEE_DATABASE_URL", database_url)
    monkeypatch.delenv("MARQUEE_ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("MARQUEE_ENGINE", "offline")
    yield


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_ask_json_answers_as_the_given_user_and_feedback_applies(
    env: None, db_pool: asyncpg.Pool, people: People, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli("ask", "--as", "alice", "--json", "What did I request?") == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {
        "answer",
        "confidence",
        "data_sources_used",
        "missing_data",
        "question_type",
        "feedback_id",
    }
    assert out["answer"] and 0 <= out["confidence"] <= 1
    assert "**" not in out["answer"]  # plain text: scripts read it as it is
    row = await db_pool.fetchrow("SELECT user_id, mode, engine FROM ai_conversation_feedback")
    assert (row["user_id"], row["mode"], row["engine"]) == (people.alice, "personal", "offline")
    # the console account was linked on first use
    assert (
        await db_pool.fetchval("SELECT user_id FROM chat_accounts WHERE platform = 'console'") == people.alice
    )

    assert await cli("feedback", out["feedback_id"], "wrong") == 0
    assert await cli("feedback", out["feedback_id"], "wrong") == 0
    assert "already recorded" in capsys.readouterr().out
    assert await db_pool.fetchval("SELECT user_reported_wrong FROM ai_conversation_feedback") is True


async def test_ask_refuses_unknown_users_and_admin_mode_for_members(
    env: None, people: People, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli("ask", "--as", "nobody", "hello") == 1
    assert "no user named 'nobody'" in capsys.readouterr().err
    assert await cli("ask", "--as", "alice", "--admin", "Which users are most active?") == 3
    assert "only for admins" in capsys.readouterr().err


async def test_admin_commands_in_the_terminal(
    env: None, db_pool: asyncpg.Pool, people: People, capsys: pytest.CaptureFixture[str]
) -> None:
    await db_pool.execute(
        "INSERT INTO sync_schedule (integration, last_run_at, last_error, consecutive_failures) "
        "VALUES ('plex', now(), 'HTTP 401 Unauthorized', 3)"
    )
    await db_pool.execute(
        "INSERT INTO ai_learning_queue (question, question_type, why_failed) "
        "VALUES ('What is the storage usage by library?', 'analytics', 'missing_data')"
    )
    assert await cli("health") == 1  # plex is failing
    health = capsys.readouterr().out
    assert "HTTP 401" in health
    # One fact per line, as the terminal shows it, not one run-on paragraph.
    lines = [line.strip() for line in health.splitlines()]
    for label in ("Webhooks today:", "API error rate (24 h):", "Answers (24 h):", "Database:"):
        assert sum(line.startswith(label) for line in lines) == 1, (label, health)
    assert any(line.startswith("• plex:") for line in lines)
    assert await cli("learning") == 0
    assert "storage usage" in capsys.readouterr().out
    entry = str(await db_pool.fetchval("SELECT id FROM ai_learning_queue"))
    assert await cli("learning", "wont-fix", entry[:8], "no", "file", "sizes") == 0
    assert await db_pool.fetchval("SELECT status FROM ai_learning_queue") == "wont_fix"
    assert await cli("learning", "show", "ffff0000") == 1
    assert await cli("insights") == 0
    assert "Suggested database improvements" in capsys.readouterr().out
    assert await cli("link", "matrix", "@carol:example.org", "carol") == 0
    assert await cli("link", "matrix", "@x:example.org", "nobody") == 1
    # A linked account is never moved; unlinking first is the way to correct it, and both are audited.
    assert await cli("link", "matrix", "@carol:example.org", "alice") == 1
    assert await cli("unlink", "matrix", "@carol:example.org") == 0
    assert await cli("unlink", "matrix", "@carol:example.org") == 1
    assert await cli("link", "matrix", "@carol:example.org", "alice") == 0
    actions = await db_pool.fetch(
        "SELECT action, actor FROM chat_account_links_audit WHERE platform_user_id = '@carol:example.org' ORDER BY id"
    )
    assert [(a["action"], a["actor"]) for a in actions] == [
        ("linked", "cli"), ("refused", "cli"), ("unlinked", "cli"), ("linked", "cli"),
    ]  # fmt: skip


@pytest.fixture
async def console_assistant(db_pool: asyncpg.Pool, people: People, database_url: str) -> ChatCore:
    """The offline assistant, with the console user "root" linked to the admin root."""
    assistant = await build_assistant(load_settings(database_url=database_url, engine="offline"), db_pool)
    await db_pool.execute(
        "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ('console', 'root', $1)",
        people.root,
    )
    return assistant


async def console_session(core: ChatCore, lines: list[str]) -> str:
    """One console session of "root" typing ``lines``; returns what it printed."""
    typed = iter(lines)

    async def read_line(prompt: str) -> str | None:
        return next(typed)

    output = Console(record=True, width=100, force_terminal=False)
    await ConsoleChat(core, "root", console=output, read_line=read_line).run()
    return output.export_text()


async def test_the_console_chat_answers_reacts_and_runs_admin_commands(
    db_pool: asyncpg.Pool, console_assistant: ChatCore
) -> None:
    text = await console_session(
        console_assistant,
        ["What did I request?", "/up", "/up", "/undo", "/health", "/admin", "/quit", "never read"],
    )

    assert "confidence" in text and "Thanks!" in text and "Already recorded." in text
    assert "Reaction removed." in text and "Integrations" in text and "Admin mode on." in text
    row = await db_pool.fetchrow(
        "SELECT user_rating, reply_message_id, platform FROM ai_conversation_feedback"
    )
    assert row["user_rating"] is None and row["platform"] == "console"
    assert row["reply_message_id"].startswith("console:") and row["reply_message_id"].endswith(":1")


async def test_a_second_console_session_answers_like_the_first(
    db_pool: asyncpg.Pool, console_assistant: ChatCore
) -> None:
    # Feedback rows outlive a session: the next session's replies must not reuse their ids.
    for _ in range(2):
        assert "Thanks!" in await console_session(console_assistant, ["What did I request?", "/up", "/quit"])
    ratings = await db_pool.fetch("SELECT user_rating FROM ai_conversation_feedback")
    assert [r["user_rating"] for r in ratings] == [5, 5]


async def test_demo_ends_in_the_console_chat_as_the_demo_admin(
    env: None, db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("What should I watch tonight?\n/up\n/quit\n"))

    assert await cli("demo") == 0

    out = capsys.readouterr().out
    assert "Demo server ready" in out and "Chatting as" in out and "Thanks!" in out
    # no embeddings in the demo: the recommendations say why from genres, people and years
    assert "because you finished" in out or "because you rated" in out
    row = await db_pool.fetchrow(
        "SELECT u.role, f.user_rating, f.platform FROM ai_conversation_feedback f JOIN users u ON u.id = f.user_id"
    )
    assert (row["role"], row["user_rating"], row["platform"]) == ("admin", 5, "console")


class _CoreThatFails:
    """A chat core whose answers fail, as when the database goes away mid-session."""

    async def handle(self, request: object) -> object:
        raise ConnectionError("the database went away")


async def test_a_failing_answer_is_one_message_and_the_session_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = await console_session(_CoreThatFails(), ["What did I request?", "/quit"])  # type: ignore[arg-type]
    assert APOLOGY.split(".")[0] in text and "Traceback" not in text
    assert "the database went away" in caplog.text


async def test_a_follow_up_in_the_console_reuses_the_last_understood_question(
    db_pool: asyncpg.Pool, console_assistant: ChatCore
) -> None:
    text = await console_session(
        console_assistant, ["what did I watch last month?", "and the month before?", "/quit"]
    )
    assert "I can't answer that" not in text
    rows = await db_pool.fetch(
        "SELECT user_message, data_sources_used, reasoning FROM ai_conversation_feedback ORDER BY created_at"
    )
    assert [r["user_message"] for r in rows] == ["what did I watch last month?", "and the month before?"]
    follow_up = rows[1]
    assert "tool:watch_history" in follow_up["data_sources_used"]
    # The answer says which window it used: the month before last month.
    assert "the month before (" in text


async def test_an_out_of_domain_question_is_queued_with_what_data_would_help(
    db_pool: asyncpg.Pool, console_assistant: ChatCore
) -> None:
    text = await console_session(console_assistant, ["what's the weather", "/quit"])
    assert "I can't answer that" in text
    row = await db_pool.fetchrow("SELECT why_failed, suggested_solution FROM ai_learning_queue")
    assert row["why_failed"] == "unsupported_question"
    assert "weather service" in row["suggested_solution"]


async def test_the_console_saves_an_answers_chart_and_prints_where(
    db_pool: asyncpg.Pool, console_assistant: ChatCore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    await db_pool.execute(
        "INSERT INTO media_items (title, media_type, year, library_name, file_size_bytes) "
        "VALUES ('Arrival', 'movie', 2016, 'Movies', 4000000000)"
    )
    typed = iter(["/admin", "What's the storage usage by library?", "/quit"])

    async def read_line(prompt: str) -> str | None:
        return next(typed)

    output = Console(record=True, width=400, force_terminal=False)
    await ConsoleChat(console_assistant, "root", console=output, read_line=read_line).run()
    text = output.export_text()

    assert "Movies" in text  # the answer itself
    found = re.search(r"A chart of this answer: (\S+\.png)", text)
    assert found is not None, text
    chart = Path(found.group(1))
    assert chart.parent == tmp_path and chart.name.startswith("marquee-storage-by-library-")
    assert (await asyncio.to_thread(chart.read_bytes)).startswith(b"\x89PNG\r\n\x1a\n")
