"""The catalogue as engines see it, and how run_tool refuses bad calls."""

from __future__ import annotations

import uuid

import pytest
from pydantic import BaseModel, Field

from core.scope import Scope
from core.tools.base import Tool, ToolInputError, ToolNotAllowed, ToolResult, UnknownTool
from core.tools.catalogue import ToolCatalogue
from core.tools.database_wall import ToolDatabase
from core.tools.scoped_connection import ScopedToolRunner, run_tool

SPEC_TOOLS = {
    # user-level questions of ai-capabilities.md
    "recommend_tonight", "similar_titles", "top_genres", "highly_rated_unwatched", "new_in_library",
    "what_others_watch", "trending", "unwatched_content", "watch_time", "average_rating", "watch_history",
    "watch_time_by_hour", "time_to_finish_series", "abandoned_shows", "my_requests", "request_turnaround",
    "fastest_approvers", "declined_requests",
    # admin questions
    "most_active_users", "inactive_users", "top_watchers", "top_raters", "top_requesters",
    "requested_content_watchers", "requests_watched_by_others", "content_discoverers", "power_users",
    "requesters_who_skip_their_requests", "popular_content", "server_genres", "never_watched_content",
    "removal_candidates", "storage_by_library", "integration_health", "webhook_counts", "api_error_rate",
    "bandwidth_usage", "deletions", "library_growth",
}  # fmt: skip


def test_every_spec_question_has_a_tool(catalogue: ToolCatalogue) -> None:
    assert SPEC_TOOLS <= set(catalogue.tools)


def test_definitions_have_the_anthropic_shape(catalogue: ToolCatalogue) -> None:
    for mode in ("personal", "admin"):
        definitions = catalogue.definitions(mode)
        assert {d["name"] for d in definitions} == {t.name for t in catalogue.for_mode(mode)}
        for definition in definitions:
            assert set(definition) == {"name", "description", "input_schema"}
            assert definition["input_schema"]["type"] == "object"
            assert len(definition["description"]) > 30


def test_personal_tools_take_no_user_id(catalogue: ToolCatalogue) -> None:
    for tool in catalogue.for_mode("personal"):
        assert not any("user" in field for field in tool.params.model_fields), tool.name


def test_every_tool_has_examples_for_the_router(catalogue: ToolCatalogue) -> None:
    for tool in catalogue.tools.values():
        assert len(set(tool.examples)) >= 3, tool.name


async def test_run_tool_refuses_unknown_disallowed_and_invalid_calls(
    tool_database: ToolDatabase, catalogue: ToolCatalogue
) -> None:
    scope = Scope(user_id=uuid.uuid4(), username="ghost", role="user", mode="personal")
    with pytest.raises(UnknownTool):
        await run_tool(tool_database, scope, catalogue, "drop_tables", {})
    with pytest.raises(ToolNotAllowed):
        await run_tool(tool_database, scope, catalogue, "top_watchers", {})
    with pytest.raises(ToolInputError, match="limit"):
        await run_tool(tool_database, scope, catalogue, "watch_history", {"limit": "lots"})
    with pytest.raises(ToolInputError, match="title"):
        await run_tool(tool_database, scope, catalogue, "similar_titles", {})


async def test_scoped_runner_lists_and_runs_the_scope_tools(
    tool_database: ToolDatabase, catalogue: ToolCatalogue
) -> None:
    scope = Scope(user_id=uuid.uuid4(), username="ghost", role="user", mode="personal")
    runner = ScopedToolRunner(tool_database, scope, catalogue)
    assert "top_watchers" not in {d["name"] for d in runner.definitions()}
    result = await runner.run("watch_time", {"start": "2025-12-24", "end": "2025-12-26"})
    assert result.summary["sessions"] == 0
    assert result.summary["period"]["label"] == "24–26 Dec 2025"


class _CountParams(BaseModel):
    limit: int = Field(default=5, ge=1)
    genre: str | None = None


async def _finds_one_row(conn: object, scope: Scope, p: _CountParams) -> ToolResult:
    # A tool says only what it found; it does not name itself or repeat its parameters.
    return ToolResult(rows=[{"n": p.limit}])


async def test_run_tool_names_the_tool_and_its_validated_parameters_on_the_result(
    tool_database: ToolDatabase,
) -> None:
    tool = Tool(
        name="count_things",
        description="Counts things, for this test only.",
        params=_CountParams,
        modes=frozenset({"personal"}),
        question_type="analytics",
        run=_finds_one_row,
        render=lambda result: "",
    )
    scope = Scope(user_id=uuid.uuid4(), username="ghost", role="user", mode="personal")
    result = await run_tool(tool_database, scope, ToolCatalogue([tool]), "count_things", {"genre": "Drama"})
    assert result.tool == "count_things"
    # The defaults the model filled in are part of what was asked, in JSON form.
    assert result.params == {"limit": 5, "genre": "Drama"}
    assert result.rows == [{"n": 5}]


async def test_every_catalogue_tool_result_names_its_tool(
    tool_database: ToolDatabase, catalogue: ToolCatalogue
) -> None:
    scope = Scope(user_id=uuid.uuid4(), username="ghost", role="user", mode="personal")
    result = await run_tool(tool_database, scope, catalogue, "watch_history", {})
    assert result.tool == "watch_history"
    assert result.params["limit"] == catalogue.get("watch_history").params().model_dump()["limit"]
