"""One definition of "the tools found nothing" (ToolResult.is_empty), read by both engines' assessments."""

from __future__ import annotations

from .conftest import RunTool


async def test_a_period_without_plays_is_empty_although_the_summary_names_the_period(ask: RunTool) -> None:
    result = await ask("watch_time", "alice", start="2001-01-01", end="2001-01-31")
    assert result.rows == [] and result.summary["period"]["label"] and result.summary["sessions"] == 0
    assert result.is_empty


async def test_a_period_with_plays_is_not_empty(ask: RunTool) -> None:
    result = await ask("watch_time", "alice", start="2001-01-01")
    assert result.summary["sessions"] > 0
    assert not result.is_empty
