"""Admin-mode tools on the hand-built server: per-user totals, content, health, operations."""

from __future__ import annotations

import asyncpg
import pytest

from core.tools.catalogue import ToolCatalogue

from .conftest import RunTool
from .fixture_server import FixtureServer


def column(rows: list[dict], *names: str) -> list[tuple]:
    return [tuple(r[n] for n in names) for r in rows]


async def test_most_active_users(ask: RunTool, server: FixtureServer, catalogue: ToolCatalogue) -> None:
    result = await ask("most_active_users", "root", "admin", start=server.ago(30).isoformat())
    assert column(result.rows, "username", "sessions") == [
        ("alice", 5),
        ("bob", 3),
        ("carol", 2),
        ("dave", 1),
    ]
    assert "alice" in catalogue.get("most_active_users").render(result)


async def test_top_watchers(ask: RunTool, server: FixtureServer) -> None:
    result = await ask("top_watchers", "root", "admin", start=server.ago(30).isoformat())
    assert column(result.rows, "username", "watched_seconds") == [
        ("bob", 18360),
        ("carol", 17040),
        ("alice", 14840),
        ("dave", 1320),
    ]


async def test_top_raters(ask: RunTool) -> None:
    result = await ask("top_raters", "root", "admin")
    assert column(result.rows, "username", "ratings_given") == [("alice", 2), ("bob", 2), ("carol", 1)]
    assert result.rows[0]["avg_rating_given"] == pytest.approx(8.5)


async def test_top_requesters(ask: RunTool, server: FixtureServer) -> None:
    result = await ask("top_requesters", "root", "admin", start=server.ago(600).isoformat())
    assert column(result.rows, "username", "requests_made") == [
        ("alice", 2),
        ("bob", 2),
        ("carol", 1),
        ("dave", 1),
    ]


async def test_requested_content_watchers(ask: RunTool, server: FixtureServer) -> None:
    # alice: three The Office episodes (bob's request) and Paddington (carol's); dave: one Office episode.
    result = await ask("requested_content_watchers", "root", "admin", start=server.ago(30).isoformat())
    assert column(result.rows, "username", "requested_item_sessions") == [("alice", 4), ("dave", 1)]


async def test_admin_totals_never_carry_titles(ask: RunTool, server: FixtureServer) -> None:
    for tool in (
        "most_active_users",
        "top_watchers",
        "top_raters",
        "top_requesters",
        "requested_content_watchers",
    ):
        result = await ask(tool, "root", "admin", start=server.ago(600).isoformat())
        assert all("title" not in row for row in result.rows), tool


async def test_inactive_users(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("inactive_users", "root", "admin", days=30)
    assert [r["username"] for r in result.rows] == ["carol", "mia", "bob"]
    assert result.summary["never_logged_in"] == 1
    assert result.coverage.gaps == ["users.last_login_at is unknown for 1 of 6 users (17%)"]
    assert "never recorded" in catalogue.get("inactive_users").render(result)


@pytest.mark.writes_database
async def test_people_removed_from_the_server_are_not_counted_as_inactive(
    ask: RunTool, catalogue: ToolCatalogue, seeded_pool: asyncpg.Pool
) -> None:
    await seeded_pool.execute("UPDATE users SET removed_at = now() WHERE username = 'carol'")
    result = await ask("inactive_users", "root", "admin", days=30)
    assert [r["username"] for r in result.rows] == ["mia", "bob"]
    assert result.summary["users"] == 5 and result.summary["removed"] == 1
    assert "1 user removed from the server not counted" in catalogue.get("inactive_users").render(result)


async def test_user_watch_activity_only_for_users_who_opted_in(
    ask: RunTool, server: FixtureServer, catalogue: ToolCatalogue
) -> None:
    bob = await ask("user_watch_activity", "root", "admin", username="bob")
    assert sorted(r["title"] for r in bob.rows) == ["Inception", "The Matrix", "The Office"]
    alice = await ask("user_watch_activity", "root", "admin", username="alice")
    assert alice.rows == [] and alice.summary["shared"] is False
    assert "not opted in" in catalogue.get("user_watch_activity").render(alice)


async def test_requests_watched_by_others(ask: RunTool, server: FixtureServer) -> None:
    result = await ask("requests_watched_by_others", "root", "admin")
    assert column(result.rows, "username", "other_viewers", "other_sessions") == [
        ("bob", 2, 4),
        ("alice", 1, 1),
        ("carol", 1, 1),
    ]


async def test_content_discoverers(ask: RunTool) -> None:
    # bob: 2 viewers x 0.6 (nobody rated); alice: 1 x 10/10; carol: 1 x 0.6.
    result = await ask("content_discoverers", "root", "admin")
    assert column(result.rows, "username", "discovery_score") == [
        ("bob", 1.2),
        ("alice", 1.0),
        ("carol", 0.6),
    ]


async def test_power_users(ask: RunTool, server: FixtureServer, catalogue: ToolCatalogue) -> None:
    result = await ask("power_users", "root", "admin", start=server.ago(30).isoformat())
    assert column(result.rows, "username", "score") == [
        ("carol", 73.0),
        ("bob", 67.0),
        ("alice", 57.0),
        ("dave", 26.0),
    ]
    assert "score 73" in catalogue.get("power_users").render(result)


async def test_requesters_who_skip_their_requests(ask: RunTool) -> None:
    result = await ask("requesters_who_skip_their_requests", "root", "admin")
    assert column(result.rows, "username", "never_watched", "fulfilled") == [("carol", 1, 1)]


async def test_popular_content(ask: RunTool, server: FixtureServer) -> None:
    result = await ask("popular_content", "root", "admin")
    assert column(result.rows, "title", "viewers", "sessions") == [
        ("The Office", 3, 5),
        ("Inception", 3, 3),
        ("The Matrix", 2, 2),
        # Paddington (1 viewer, alice, who does not share) is left out: below min_group_size.
    ]


async def test_server_genres(ask: RunTool) -> None:
    result = await ask("server_genres", "root", "admin")
    assert column(result.rows, "genre", "watched_seconds") == [
        ("Action", 42960),
        ("Sci-Fi", 42960),
        ("Comedy", 6600),  # without alice's Paddington, played by her alone
    ]


async def test_never_watched_content(ask: RunTool) -> None:
    result = await ask("never_watched_content", "root", "admin")
    assert [r["title"] for r in result.rows] == ["Old Flop", "Arrival", "New Show"]
    assert (result.summary["movies"], result.summary["shows"]) == (2, 1)
    assert result.summary["size_bytes"] == 10_000_000_000
    assert any("file_size_bytes" in gap for gap in result.coverage.gaps)  # one New Show episode has no size


async def test_removal_candidates(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("removal_candidates", "root", "admin")
    assert column(result.rows, "title", "plays") == [("Old Flop", 0), ("Arrival", 0)]
    assert result.rows[0]["removal_score"] == pytest.approx(0.4 + 0.2 + 0.25 + 0.15 * 0.69, abs=0.002)
    assert result.rows[1]["removal_score"] == pytest.approx(0.4 + 0.2 * 200 / 730 + 0.15 * 0.21, abs=0.002)
    assert "Old Flop" in catalogue.get("removal_candidates").render(result)
    assert column((await ask("removal_candidates", "root", "admin", max_plays=2)).rows, "title") == [
        ("Old Flop",),
        ("Arrival",),  # 0.4 + 0.055 + 0.25 x 0.5 (size rank) + 0.032
        ("The Matrix",),  # two plays: 0 + 0.112 + 0 + 0.15 x 0.2 (users rated it 8)
    ]


async def test_storage_by_library_reports_unknown_sizes(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("storage_by_library", "root", "admin")
    assert column(result.rows, "library_name", "size_bytes", "files", "files_with_size") == [
        ("Movies", 14_000_000_000, 5, 4),
        ("TV Shows", 7_000_000_000, 11, 9),
    ]
    assert result.coverage.gaps == [
        "media_items.file_size_bytes is unknown for 3 of 16 movie and episode files (19%)"
    ]
    text = catalogue.get("storage_by_library").render(result)
    assert "Movies" in text and "unknown" in text


@pytest.mark.writes_database
async def test_storage_mostly_unknown_is_flagged_as_missing(ask: RunTool, seeded_pool) -> None:
    await seeded_pool.execute("UPDATE media_items SET file_size_bytes = NULL WHERE library_name = 'Movies'")
    await seeded_pool.execute("UPDATE media_items SET file_size_bytes = NULL WHERE media_type = 'episode'")
    result = await ask("storage_by_library", "root", "admin")
    assert "NULL for 100%" in result.coverage.gaps[0]
    assert result.coverage.missing_tables == ["media_items.file_size_bytes"]


async def test_integration_health(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("integration_health", "root", "admin")
    assert result.summary["failing"] == ["tautulli"]
    assert result.summary["webhook_sources_failing"] == ["plex"]
    text = catalogue.get("integration_health").render(result)
    assert "connection refused" in text and "plex: OK" in text
    plex = await ask("integration_health", "root", "admin", integration="Plex")
    assert [r["integration"] for r in plex.rows] == ["plex"]


async def test_webhook_counts(ask: RunTool, server: FixtureServer) -> None:
    result = await ask("webhook_counts", "root", "admin", start=server.ago(1).isoformat())
    assert result.summary["total"] == 5
    assert result.summary["by_status"] == {"processed": 4, "error": 1}


async def test_api_error_rate(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("api_error_rate", "root", "admin")
    assert (result.summary["calls"], result.summary["errors"], result.summary["client_errors"]) == (10, 2, 1)
    assert result.summary["error_rate"] == pytest.approx(0.2)
    assert column(result.rows, "endpoint", "errors") == [("/api/ai/chat", 2)]
    assert "20.0%" in catalogue.get("api_error_rate").render(result)


async def test_bandwidth_admin_totals_per_user(ask: RunTool, server: FixtureServer) -> None:
    result = await ask("bandwidth_usage", "root", "admin", start=server.ago(30).isoformat())
    assert (result.summary["streams"], result.summary["bytes"]) == (5, 6_100_000_000)
    assert column(result.rows, "username", "bytes") == [
        ("alice", 3_000_000_000),
        ("bob", 3_000_000_000),
        ("unknown user", 100_000_000),
        ("carol", 0),
    ]
    assert any("bytes_transferred" in gap for gap in result.coverage.gaps)


async def test_deletions(ask: RunTool, server: FixtureServer) -> None:
    result = await ask("deletions", "root", "admin", start=server.ago(30).isoformat())
    assert (result.summary["deletions"], result.summary["bytes_freed"]) == (2, 7_000_000_000)
    assert result.summary["by_reason"] == {"low plays": 1, "no reason recorded": 1}


async def test_admin_request_tools(ask: RunTool, server: FixtureServer) -> None:
    declined = await ask("declined_requests", "root", "admin")
    assert sorted(r["title"] for r in declined.rows) == ["Cats", "Dune"]
    assert all("username" not in r and "requested_by_user_id" not in r for r in declined.rows)
    turnaround = await ask("request_turnaround", "root", "admin", start=server.ago(600).isoformat())
    assert turnaround.summary["server"]["requests"] == 6 and "mine" not in turnaround.summary


async def test_trending_admin_counts_everyone(ask: RunTool) -> None:
    result = await ask("trending", "root", "admin")
    assert column(result.rows, "title", "sessions", "viewers", "previous_sessions") == [
        ("The Office", 5, 3, 0),
        ("Inception", 2, 2, 0),  # the week before, 1 viewer who does not share: not counted
        ("The Matrix", 2, 2, 0),
        # Paddington (alice alone) is below min_group_size.
    ]


async def test_library_facts_are_the_same_in_admin_mode(ask: RunTool, server: FixtureServer) -> None:
    new = await ask("new_in_library", "root", "admin")
    assert [(r["title"], r["new_episodes"]) for r in new.rows] == [("New Show", 2), ("Paddington", 0)]
    growth = await ask("library_growth", "root", "admin", start=server.ago(365).isoformat())
    assert (growth.summary["titles_added"], growth.summary["episodes_added"]) == (4, 7)
