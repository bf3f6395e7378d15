"""Personal-mode tools on the hand-built server; expected answers worked out in fixture_server.py's numbers."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from core.tools.base import ToolResult
from core.tools.catalogue import ToolCatalogue

from .conftest import RunTool
from .fixture_server import FixtureServer


def titles(rows: list[dict]) -> list[str]:
    return [r["title"] for r in rows]


async def test_recommend_tonight_ranks_by_genre_affinity_rating_and_progress(
    ask: RunTool, catalogue: ToolCatalogue
) -> None:
    # Affinity: Comedy 1.0, Sci-Fi/Action/Crime/Drama 0.75, Family 0.5; Inception is finished.
    result = await ask("recommend_tonight", "alice", limit=10)
    assert titles(result.rows) == [
        "The Office",  # 0.6*1 + 0.4*0.89 + 0.2 in progress = 1.156
        "Breaking Bad",  # 0.6*0.75 + 0.4*0.95 + 0.2 = 1.03
        "The Matrix",  # 0.45 + 0.348 = 0.798
        "Arrival",  # 0.45 + 0.316 = 0.766
        "Paddington",  # 0.45 + 0.292 = 0.742
        "Old Flop",  # 0.6 + 0.124 = 0.724
        "New Show",  # 0.45 + 0.24 = 0.69
    ]
    assert result.rows[0]["score"] == pytest.approx(1.156)
    assert result.rows[0]["in_progress"] is True
    text = catalogue.get("recommend_tonight").render(result)
    assert "The Office" in text and "partway" in text
    assert text.startswith("Here is what I'd put on tonight, based on your taste and audience ratings:")


@pytest.mark.writes_database
async def test_recommend_tonight_without_genres_or_ratings_says_it_went_by_viewing_alone(
    ask: RunTool, seeded_pool: asyncpg.Pool, catalogue: ToolCatalogue
) -> None:
    # A library known only from play history: no genres, no audience ratings.
    await seeded_pool.execute("UPDATE media_items SET metadata = metadata - 'genres' - 'rating'")
    result = await ask("recommend_tonight", "alice", limit=3)
    assert titles(result.rows)[:2] == ["Breaking Bad", "The Office"]  # the shows in progress first
    assert result.summary["basis"].startswith("your viewing alone")
    assert result.coverage.missing_tables == ["media_items.metadata.genres", "media_items.metadata.rating"]
    text = catalogue.get("recommend_tonight").render(result)
    assert "based on your viewing alone" in text and "audience ratings" not in text.split("\n")[0]


async def test_recommend_tonight_filters_by_genre_and_kind(ask: RunTool) -> None:
    assert titles((await ask("recommend_tonight", "alice", genre="comedy", media_type="movie")).rows) == [
        "Paddington",
        "Old Flop",
    ]


async def test_recommend_tonight_without_history_says_so(ask: RunTool) -> None:
    result = await ask("recommend_tonight", "mia", limit=2)
    assert titles(result.rows) == ["Breaking Bad", "The Office"]  # audience rating alone
    assert any("no viewing history" in gap for gap in result.coverage.gaps)


async def test_similar_titles_finds_a_misspelt_title_and_shares_genres(ask: RunTool) -> None:
    result = await ask("similar_titles", "alice", title="inceptoin")
    assert result.summary["matched_title"] == "Inception (2010)"
    assert titles(result.rows) == ["The Matrix", "Arrival"]
    assert result.rows[0]["genre_overlap"] == pytest.approx(1.0)
    assert result.rows[1]["genre_overlap"] == pytest.approx(0.333)


async def test_similar_titles_unknown_title(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("similar_titles", "alice", title="zzzzqqq")
    assert result.rows == []
    assert "couldn't find" in catalogue.get("similar_titles").render(result)


async def test_top_genres_by_time_watched(ask: RunTool) -> None:
    result = await ask("top_genres", "alice")
    assert [(r["genre"], r["watched_seconds"]) for r in result.rows] == [
        ("Action", 8880),
        ("Sci-Fi", 8880),
        ("Crime", 6000),
        ("Drama", 6000),
        ("Comedy", 5960),
    ]


async def test_highly_rated_unwatched(ask: RunTool) -> None:
    assert titles((await ask("highly_rated_unwatched", "alice")).rows) == ["The Matrix", "Arrival"]
    assert titles((await ask("highly_rated_unwatched", "alice", min_rating=8.8)).rows) == []


async def test_new_in_library_groups_episodes_by_show(ask: RunTool) -> None:
    result = await ask("new_in_library", "alice")
    assert [(r["title"], r["new_episodes"]) for r in result.rows] == [("New Show", 2), ("Paddington", 0)]
    assert result.summary["new_movies"] == 1
    assert result.summary["new_episodes"] == 2


@pytest.mark.writes_database
async def test_new_in_library_leaves_out_items_of_unknown_arrival_and_says_so(
    ask: RunTool, seeded_pool: asyncpg.Pool, catalogue: ToolCatalogue
) -> None:
    # Paddington was first seen in someone's play history: when it arrived is not known.
    await seeded_pool.execute("UPDATE media_items SET added_at = NULL WHERE title = 'Paddington'")
    result = await ask("new_in_library", "alice")
    assert [r["title"] for r in result.rows] == ["New Show"]
    assert any(gap.startswith("media_items.added_at is unknown for 1 of") for gap in result.coverage.gaps)
    assert "media_items.added_at is unknown" in catalogue.get("new_in_library").render(result)


async def test_what_others_watch_counts_other_users_only(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("what_others_watch", "alice")
    assert [(r["title"], r["viewers"]) for r in result.rows] == [
        ("Inception", 2),
        ("The Matrix", 2),
        ("The Office", 2),
    ]
    assert all("username" not in r and "user_id" not in r for r in result.rows)
    assert "Inception" in catalogue.get("what_others_watch").render(result)


async def test_what_others_watch_drops_titles_below_min_group_size(
    ask: RunTool, scope_of, catalogue: ToolCatalogue
) -> None:
    # For bob: Inception and The Matrix were played by carol alone among the others this week.
    bob = await ask("what_others_watch", "bob")
    assert [(r["title"], r["viewers"]) for r in bob.rows] == [("The Office", 2)]
    strict = await ask("what_others_watch", "alice", scope=scope_of("alice", min_group_size=3))
    assert strict.rows == []
    assert "at least 3 other people" in catalogue.get("what_others_watch").render(strict)


async def test_trending_personal_excludes_the_asker(ask: RunTool) -> None:
    result = await ask("trending", "alice")
    assert [(r["title"], r["sessions"], r["previous_sessions"]) for r in result.rows] == [
        ("Inception", 2, 0),
        ("The Matrix", 2, 0),
        ("The Office", 2, 0),
    ]


async def test_unwatched_content(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("unwatched_content", "alice")
    assert result.summary["unwatched_titles"] == 4
    assert result.summary["total_titles"] == 8
    assert titles(result.rows) == ["New Show", "Arrival", "The Matrix", "Old Flop"]
    # The newest titles are their own paragraph and list, not part of the last library's line.
    assert "\n\nNewest among them:\n- New Show" in catalogue.get("unwatched_content").render(result)


async def test_watch_time_in_a_period(ask: RunTool, server: FixtureServer, catalogue: ToolCatalogue) -> None:
    result = await ask("watch_time", "alice", start=server.ago(30).isoformat())
    assert result.summary["sessions"] == 5
    assert result.summary["watched_seconds"] == 8880 + 3 * 1320 + 2000
    assert result.summary["completed"] == 4
    assert result.summary["titles"] == 3
    assert "4.1 hours" in catalogue.get("watch_time").render(result)
    # Per calendar month too (what the watch-time-over-months chart draws): the same totals.
    assert sum(m["watched_seconds"] for m in result.summary["by_month"]) == result.summary["watched_seconds"]
    assert sum(m["sessions"] for m in result.summary["by_month"]) == 5
    assert [m["month"] for m in result.summary["by_month"]] == sorted(
        m["month"] for m in result.summary["by_month"]
    )


async def test_watch_time_compares_with_the_same_span_just_before(
    ask: RunTool, server: FixtureServer, catalogue: ToolCatalogue
) -> None:
    # "am I watching more than before?": the 45 days before the asked 45 are summed by the same rules.
    now = server.ago(0).isoformat()
    recent = await ask("watch_time", "alice", start=server.ago(45).isoformat(), end=now)
    before = await ask(
        "watch_time", "alice", start=server.ago(90).isoformat(), end=server.ago(45).isoformat()
    )
    previous = recent.summary["previous"]
    assert before.summary["sessions"] > 0
    assert (previous["days"], previous["sessions"], previous["watched_seconds"]) == (
        45,
        before.summary["sessions"],
        before.summary["watched_seconds"],
    )
    more = recent.summary["watched_seconds"] > previous["watched_seconds"]
    assert f"That's {'more' if more else 'less'} than the 45 days before ({previous['label']}: " in (
        catalogue.get("watch_time").render(recent)
    )
    # Nothing to compare a span of over a year with.
    assert (await ask("watch_time", "alice", start=server.ago(400).isoformat())).summary["previous"] is None


def test_watch_time_says_so_when_nothing_was_watched_just_before(catalogue: ToolCatalogue) -> None:
    previous = {"label": "2 Oct – 1 Nov 2026", "days": 30, "sessions": 0, "watched_seconds": 0}
    summary = {"period": {"label": "1 Nov – 1 Dec 2026"}, "previous": previous, "sessions": 1}
    result = ToolResult(
        rows=[{"media_type": "movie", "sessions": 1, "watched_seconds": 5400}],
        summary={**summary, "watched_seconds": 5400, "completed": 1, "titles": 1},
    )
    assert (
        catalogue.get("watch_time")
        .render(result)
        .endswith("Up from nothing in the 30 days before (2 Oct – 1 Nov 2026).")
    )


async def test_average_rating(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("average_rating", "alice")
    assert result.summary["ratings"] == 2
    assert result.summary["average"] == pytest.approx(8.5)
    assert [(r["title"], r["rating"]) for r in result.rows] == [("Inception", 9.0), ("Breaking Bad", 8.0)]
    assert "8.5" in catalogue.get("average_rating").render(result)


async def test_watch_history_in_a_date_range(ask: RunTool, server: FixtureServer) -> None:
    # Whole days, end inclusive, as for "what did I watch last Christmas?".
    days = await ask(
        "watch_history",
        "alice",
        start=server.ago(61).date().isoformat(),
        end=server.ago(60).date().isoformat(),
    )
    assert [(r["title"], r["episode_number"]) for r in days.rows] == [
        ("Breaking Bad", 2),
        ("Breaking Bad", 1),
    ]
    everything = await ask("watch_history", "alice", limit=2)
    assert everything.summary["sessions"] == 7
    assert titles(everything.rows) == ["Paddington", "The Office"]


async def test_watch_time_by_hour_uses_the_configured_time_zone(
    ask: RunTool, scope_of, catalogue: ToolCatalogue
) -> None:
    # 20:00 UTC is 05:00 in Tokyo: Inception and two Breaking Bad episodes.
    result = await ask("watch_time_by_hour", "alice", scope=scope_of("alice", timezone="Asia/Tokyo"))
    assert {r["hour"]: r["watched_seconds"] for r in result.rows} == {5: 14880, 6: 3960, 21: 2000}
    assert result.summary["peak_hour"] == 5
    assert "05:00" in catalogue.get("watch_time_by_hour").render(result)
    # Plays per weekday, Monday first, in the same zone; the busiest is the one named.
    weekdays = result.summary["sessions_by_weekday"]
    order = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert [d["weekday"] for d in weekdays] == sorted((d["weekday"] for d in weekdays), key=order.index)
    assert sum(d["sessions"] for d in weekdays) == sum(r["sessions"] for r in result.rows)
    busiest = max(d["sessions"] for d in weekdays)
    assert result.summary["busiest_weekday"] in [d["weekday"] for d in weekdays if d["sessions"] == busiest]


async def test_time_to_finish_series_from_recent_pace(
    ask: RunTool, server: FixtureServer, catalogue: ToolCatalogue
) -> None:
    result = await ask("time_to_finish_series", "alice", title="the ofice")
    [office] = result.rows
    # One show is one sentence, not a one-item list.
    assert (
        catalogue.get("time_to_finish_series").render(result).startswith("The Office: 2 of 5 episodes left")
    )
    assert (office["episodes"], office["watched"], office["remaining"]) == (5, 3, 2)
    assert office["remaining_seconds"] == 2 * 1320
    # 3 episodes in the last 28 days: 2 left take 18.7 days.
    expected = (server.now + timedelta(days=2 / (3 / 28))).date()
    finish = server.now.date().fromisoformat(office["estimated_finish"])
    assert abs((finish - expected).days) <= 1


@pytest.mark.writes_database
async def test_time_to_finish_a_show_without_episode_lengths_is_unknown_not_zero(
    ask: RunTool, seeded_pool: asyncpg.Pool, catalogue: ToolCatalogue
) -> None:
    await seeded_pool.execute(
        "UPDATE media_items SET duration_seconds = NULL WHERE parent_id = "
        "(SELECT id FROM media_items WHERE title = 'The Office' AND media_type = 'show')"
    )
    result = await ask("time_to_finish_series", "alice", title="The Office")
    [office] = result.rows
    assert office["remaining"] == 2 and office["remaining_seconds"] is None
    text = catalogue.get("time_to_finish_series").render(result)
    assert text.startswith("The Office: 2 of 5 episodes left, of unknown length;")
    assert "0 minutes" not in text and "average" not in text
    assert "no episode of The Office has a known length, so the time left is unknown" in text


async def test_time_to_finish_every_show_in_progress(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("time_to_finish_series", "alice")
    assert [(r["title"], r["remaining"]) for r in result.rows] == [("The Office", 2), ("Breaking Bad", 2)]
    assert (
        catalogue.get("time_to_finish_series")
        .render(result)
        .startswith("Your shows in progress:\n- The Office")
    )
    # No Breaking Bad episode lately: the pace of all shows (3 in 28 days) applies.
    assert result.rows[1]["recent_episodes"] == 0
    assert result.rows[1]["estimated_finish"] is not None


async def test_abandoned_shows(ask: RunTool, catalogue: ToolCatalogue) -> None:
    result = await ask("abandoned_shows", "alice")
    assert [(r["title"], r["watched"], r["episodes"]) for r in result.rows] == [("Breaking Bad", 2, 4)]
    assert "Breaking Bad" in catalogue.get("abandoned_shows").render(result)
    assert (await ask("abandoned_shows", "alice", idle_days=90)).rows == []
    assert titles((await ask("abandoned_shows", "carol")).rows) == ["Breaking Bad"]
    assert (await ask("abandoned_shows", "bob")).rows == []


async def test_my_requests(ask: RunTool) -> None:
    result = await ask("my_requests", "alice")
    assert titles(result.rows) == ["Dune", "Breaking Bad"]
    assert result.summary["by_status"] == {"declined": 1, "available": 1}


async def test_request_turnaround(ask: RunTool, server: FixtureServer, catalogue: ToolCatalogue) -> None:
    result = await ask("request_turnaround", "alice", start=server.ago(600).isoformat())
    s = result.summary["server"]
    assert (s["requests"], s["approved"], s["declined"], s["available"], s["pending"]) == (6, 3, 2, 3, 1)
    assert s["avg_hours_to_approve"] == pytest.approx(26 / 3, abs=0.01)
    assert s["median_hours_to_approve"] == pytest.approx(12, abs=0.01)
    assert s["avg_hours_to_available"] == pytest.approx(40, abs=0.01)
    assert s["median_hours_to_available"] == pytest.approx(48, abs=0.01)
    assert result.summary["mine"]["median_hours_to_available"] == pytest.approx(48, abs=0.01)
    assert "2.0 days" in catalogue.get("request_turnaround").render(result)


async def test_fastest_approvers_names_admins(ask: RunTool, server: FixtureServer) -> None:
    result = await ask("fastest_approvers", "alice", start=server.ago(600).isoformat())
    assert [(r["username"], r["approved"], round(r["median_hours"])) for r in result.rows] == [
        ("mia", 1, 2),
        ("root", 2, 12),
    ]


async def test_declined_requests_personal_are_own(ask: RunTool) -> None:
    result = await ask("declined_requests", "alice")
    assert [(r["title"], r["decline_reason"]) for r in result.rows] == [
        ("Dune", "not available in good quality")
    ]
    assert (await ask("declined_requests", "bob")).rows == []


async def test_bandwidth_personal_is_own(ask: RunTool, server: FixtureServer) -> None:
    result = await ask("bandwidth_usage", "alice", start=server.ago(30).isoformat())
    assert (result.summary["streams"], result.summary["bytes"]) == (2, 3_000_000_000)
    assert result.rows == []


async def test_library_growth_personal(ask: RunTool, server: FixtureServer) -> None:
    result = await ask("library_growth", "alice", start=server.ago(365).isoformat())
    s = result.summary
    assert (s["titles_added"], s["episodes_added"], s["titles_before"]) == (4, 7, 4)
    assert s["growth_rate"] == pytest.approx(1.0)
    assert s["bytes_added"] == 7_000_000_000


async def test_similar_titles_finds_a_title_with_two_letters_swapped(ask: RunTool) -> None:
    # "Arrvial" shares too few trigrams with "Arrival" for pg_trgm; one swap is one edit.
    result = await ask("similar_titles", "alice", title="Arrvial")
    assert result.summary["matched_title"] == "Arrival (2016)"
