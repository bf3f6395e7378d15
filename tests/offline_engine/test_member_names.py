"""A misspelt member name is read as the member an admin meant; a member's question never touches other members' names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from core.engines.base import Turn
from core.engines.offline.engine import OfflineEngine
from core.engines.offline.member_names import closest_member
from core.member_directory import MemberDirectory
from core.scope import Scope
from core.tools.base import Coverage, ToolResult
from core.tools.catalogue import build_catalogue

NOW = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
MEMBERS = ("alice", "bob", "carol", "dave", "erin", "Alicia")


def scope(mode: str, role: str = "admin") -> Scope:
    return Scope(user_id=uuid4(), username="asker", role=role, mode=mode)  # type: ignore[arg-type]


class Names:
    """The server's usernames, counting who asked for them."""

    def __init__(self) -> None:
        self.reads = 0

    async def __call__(self) -> Sequence[str]:
        self.reads += 1
        return MEMBERS


class Runner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def definitions(self) -> list[dict[str, Any]]:
        return []

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        self.calls.append((name, arguments))
        summary = {"period": {"label": "this month"}, "username": arguments["username"], "found": False}
        return ToolResult(name, arguments, [], Coverage(), summary)


@pytest.fixture(scope="module")
def engine() -> OfflineEngine:
    return OfflineEngine(build_catalogue(), clock=lambda: NOW)


@pytest.mark.parametrize(
    ("question", "member"),
    [
        ("how much has alcie watched this month", "alice"),
        ("what did carlo watch yesterday", "carol"),
        ("show me daev's viewing history", "dave"),
        ("what is user eirn watching", "erin"),
    ],
)
def test_an_admins_misspelt_member_name_is_read_as_the_member(
    engine: OfflineEngine, question: str, member: str
) -> None:
    route = engine.understand(question, scope("admin"), [], NOW, MEMBERS)
    assert route.kind == "tool" and route.tool is not None and route.tool.name == "user_watch_activity"
    assert route.params["username"] == member
    assert list(route.corrected.values()) == [member]


def test_a_follow_up_naming_a_misspelt_member_is_corrected_too(engine: OfflineEngine) -> None:
    history = [Turn("user", "what has bob been watching")]
    route = engine.understand("and for alcie?", scope("admin"), history, NOW, MEMBERS)
    assert route.params["username"] == "alice" and route.corrected == {"alcie": "alice"}


@pytest.mark.parametrize("mode,role", [("personal", "user"), ("personal", "admin")])
def test_a_members_question_is_never_compared_with_member_names(
    engine: OfflineEngine, mode: str, role: str
) -> None:
    # Even handed the names, the engine does not use them outside an admin's admin mode.
    for question in ("how much has alcie watched this month", "show me daev's viewing history"):
        route = engine.understand(question, scope(mode, role), [], NOW, MEMBERS)
        assert route.corrected == {} and "alice" not in str(route.params) and "dave" not in str(route.params)
        assert route.kind == "needs_admin"


async def test_the_answer_says_how_the_name_was_read_and_members_never_cause_a_read_of_the_names() -> None:
    names = Names()
    engine = OfflineEngine(build_catalogue(), clock=lambda: NOW, member_names=names)
    admin_runner, member_runner = Runner(), Runner()

    admin = await engine.answer("how much has alcie watched this month", scope("admin"), [], admin_runner)
    member = await engine.answer(
        "how much has alcie watched this month", scope("personal", "user"), [], member_runner
    )

    assert (
        admin_runner.calls[0][0] == "user_watch_activity" and admin_runner.calls[0][1]["username"] == "alice"
    )
    assert admin.text.startswith("(I read “alcie” as alice.)")
    assert names.reads == 1  # the admin's question only
    assert member_runner.calls == [] and "alice" not in member.text


@pytest.mark.parametrize(
    ("asked", "member"),
    [
        ("alcie", "alice"),
        ("ALCIE", "alice"),
        ("alicia", "Alicia"),  # an exact name, whatever its case, is that member
        ("bbo", None),  # too short to tell from other names
        ("zelda", None),  # nobody like that
        ("alic", "alice"),  # closer to alice than to Alicia
    ],
)
def test_closest_member(asked: str, member: str | None) -> None:
    assert closest_member(asked, MEMBERS) == member


def test_a_name_equally_close_to_two_members_is_not_guessed() -> None:
    assert closest_member("annx", ("anna", "anne")) is None


def test_titles_and_other_words_are_never_read_as_names(engine: OfflineEngine) -> None:
    route = engine.understand("did I finish Alien", scope("personal"), [], NOW, ("alien-fan", "alice"))
    assert route.params.get("title") == "Alien" and route.corrected == {}
    route = engine.understand("how many users are there", scope("admin"), [], NOW, ("users1", "user"))
    assert route.corrected == {}


async def test_the_member_directory_reads_current_members_and_keeps_them_a_while(db_pool: asyncpg.Pool) -> None:
    await db_pool.execute(
        "INSERT INTO users (username, removed_at) VALUES ('alice', NULL), ('bob', NULL), ('gone', now())"
    )
    directory = MemberDirectory(db_pool)
    assert list(await directory.usernames()) == ["alice", "bob"]
    await db_pool.execute("INSERT INTO users (username) VALUES ('carol')")
    assert list(await directory.usernames()) == ["alice", "bob"]  # read again after REFRESH_SECONDS
    assert "carol" in await MemberDirectory(db_pool, refresh_seconds=0).usernames()
