"""No play is ever lost: any plays, any syncs, any server zone, Marquee ends with exactly the server's plays.

The fake Tautulli files plays by the server's local day, writes a play only
once its stream has stopped (a few minutes late, like Tautulli's activity
monitor), and lists the streams still running in get_activity.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.media.history_window import LONGEST_STREAM, first_day, next_anchor
from adapters.media.tautulli import TautulliSettings, TautulliSyncJob
from core.db import create_pool
from core.sync.jobs import run_job

from .fakes import FakeTautulli, serve, tautulli_local_day, tautulli_play

# West to east, half and quarter hours included.
ZONES = ["Pacific/Pago_Pago", "America/Los_Angeles", "America/St_Johns", "UTC", "Asia/Kathmandu",
         "Asia/Tokyo", "Pacific/Auckland", "Pacific/Kiritimati"]  # fmt: skip
BASE = int(datetime(2026, 3, 27, tzinfo=UTC).timestamp())  # around the spring clock changes
USERS = [(133788, "Jon Snow"), (8008135, "DanyKhaleesi69")]


@given(
    zone=st.sampled_from(ZONES),
    anchor=st.integers(BASE, BASE + 400 * 86400),
    later=st.integers(0, 400 * 86400),
)
def test_the_first_day_asked_for_holds_every_play_started_since_the_anchor(
    zone: str, anchor: int, later: int
) -> None:
    anchor_at = datetime.fromtimestamp(anchor, UTC)
    assert tautulli_local_day(anchor + later, zone) >= first_day(anchor_at).isoformat()
    # ...and reaches back at least two days before the anchor, in the server's own zone.
    two_days_before = (anchor_at.astimezone(ZoneInfo(zone)) - timedelta(days=2)).date()
    assert first_day(anchor_at) <= two_days_before


def test_the_anchor_waits_while_something_streams_but_not_forever() -> None:
    quiet, busy = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 2, tzinfo=UTC)
    assert next_anchor(quiet, busy, streams_in_progress=0) == busy
    assert next_anchor(quiet, busy, streams_in_progress=2) == quiet
    much_later = busy + LONGEST_STREAM * 3
    assert next_anchor(quiet, much_later, streams_in_progress=1) == much_later - LONGEST_STREAM


@dataclass(frozen=True)
class Play:
    user: int
    started: int
    seconds: int
    write_delay: int  # Tautulli writes the row when it notices the stop

    @property
    def written_at(self) -> int:
        return self.started + self.seconds + self.write_delay


plays_strategy = st.lists(
    st.builds(
        Play,
        user=st.sampled_from([u for u, _ in USERS]),
        started=st.integers(BASE, BASE + 4 * 86400),
        # Mostly evenings' lengths, sometimes a stream left paused for days.
        seconds=st.one_of(st.integers(60, 4 * 3600), st.integers(4 * 3600, 6 * 86400)),
        write_delay=st.integers(0, 600),
    ),
    max_size=12,
)


@st.composite
def timelines(draw: st.DrawFn) -> tuple[list[Play], list[int]]:
    """Plays, and syncs often landing during or just after one of them, where plays get lost."""
    plays = draw(plays_strategy)
    anywhere = st.integers(BASE, BASE + 10 * 86400)
    near = (
        st.tuples(st.sampled_from(plays), st.floats(0, 1.2)).map(
            lambda pick: pick[0].started + int(pick[0].seconds * pick[1])
        )
        if plays
        else anywhere
    )
    return plays, draw(st.lists(st.one_of(anywhere, near, near), min_size=1, max_size=8))


async def sync_through(database_url: str, zone: str, plays: list[Play], sync_times: list[int]) -> set[str]:
    """Run the real sync job at each time against a server in ``zone``; returns the play ids Marquee ends with."""
    fake = FakeTautulli(zone=zone)
    names = dict(USERS)
    rows = [
        tautulli_play(
            number + 1, play.user, names[play.user], 5000 + number, play.started,
            stopped=play.started + play.seconds, play_duration=play.seconds, media_type="movie",
            title=f"Film {number}", grandparent_rating_key="", grandparent_title="", parent_rating_key="",
            media_index="", parent_media_index="",
        )
        for number, play in enumerate(plays)
    ]  # fmt: skip
    pool = await create_pool(database_url, max_size=3)
    try:
        await pool.execute("TRUNCATE users, media_items, sync_schedule CASCADE")
        async with serve(fake) as url:
            end = max([p.written_at for p in plays] + sync_times) + 60
            for now in [*sorted(sync_times), end]:  # a last sync once everything is written
                fake.history = [row for row, play in zip(rows, plays, strict=True) if play.written_at <= now]
                fake.sessions = [
                    {
                        "session_key": str(n),
                        "user_id": play.user,
                        "rating_key": str(5000 + n),
                        "bandwidth": "800",
                    }
                    for n, play in enumerate(plays)
                    if play.started <= now < play.started + play.seconds
                ]
                at = datetime.fromtimestamp(now, UTC)
                job = TautulliSyncJob(
                    TautulliSettings(url=url, api_key="tautulli-key", page_size=3, pause_seconds=0), clock=lambda at=at: at
                )
                result = await run_job(pool, job)
                assert result.ok, result.error
        return {r["source_id"] for r in await pool.fetch("SELECT source_id FROM watch_history")}
    finally:
        await pool.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zone=st.sampled_from(ZONES), timeline=timelines())
def test_marquee_ends_with_exactly_the_servers_plays(
    database_url: str, zone: str, timeline: tuple[list[Play], list[int]]
) -> None:
    plays, sync_times = timeline
    unique = list({(p.user, p.started): p for p in plays}.values())  # one stream per user and second
    expected = {f"{p.user}:{5000 + n}:{p.started}" for n, p in enumerate(unique)}
    assert asyncio.run(sync_through(database_url, zone, unique, sync_times)) == expected


async def test_a_stream_running_for_days_is_read_once_it_stops(database_url: str) -> None:
    # Paused on Friday night, finished on Thursday; a sync ran every evening in between.
    long_play = Play(user=133788, started=BASE + 20 * 3600, seconds=6 * 86400, write_delay=30)
    evening = Play(user=8008135, started=BASE + 86400 + 20 * 3600, seconds=3600, write_delay=30)
    syncs = [BASE + day * 86400 + 23 * 3600 for day in range(8)]
    read = await sync_through(database_url, "America/Los_Angeles", [long_play, evening], syncs)
    assert read == {f"133788:5000:{long_play.started}", f"8008135:5001:{evening.started}"}


async def test_a_cursor_from_before_the_window_keeps_its_place(db_pool: asyncpg.Pool) -> None:
    # Earlier versions saved the UTC day of the newest play read; it becomes the anchor.
    fake = FakeTautulli()
    async with serve(fake) as url:
        job = TautulliSyncJob(TautulliSettings(url=url, api_key="tautulli-key", pause_seconds=0))
        assert (await run_job(db_pool, job)).ok
        await db_pool.execute(
            "UPDATE sync_schedule SET cursor = '{\"after\": \"2016-05-10\"}' WHERE integration = 'tautulli'"
        )
        assert (await run_job(db_pool, job)).ok
    history = [r for r in fake.requests if "cmd=get_history" in r]
    assert "after=2016-05-07" in history[-1]
    cursor = await db_pool.fetchval("SELECT cursor FROM sync_schedule WHERE integration = 'tautulli'")
    assert "after" not in cursor and "quiet_at" in cursor


class CountingTautulli(FakeTautulli):
    """Notes how many calls it is answering at once and when each starts and ends."""

    def __init__(self) -> None:
        super().__init__()
        self.answering = 0
        self.most_at_once = 0
        self.calls: list[tuple[float, float]] = []

    async def api_handler(self, request: web.Request) -> web.Response:
        self.answering += 1
        self.most_at_once = max(self.most_at_once, self.answering)
        began = time.monotonic()
        try:
            await asyncio.sleep(0.05)  # a server that takes a moment, so overlapping calls would overlap
            return await super().api_handler(request)
        finally:
            self.answering -= 1
            self.calls.append((began, time.monotonic()))


async def test_tautulli_answers_one_call_at_a_time_with_a_pause_between(db_pool: asyncpg.Pool) -> None:
    fake = CountingTautulli()
    noon = int(time.time()) // 86400 * 86400 - 5 * 86400 + 12 * 3600
    # A play resumed the next day: the window of that day completes it with a call of its own,
    # while the next window is being read ahead.
    fake.history = [
        tautulli_play(1, 133788, "Jon", 5000, noon, percent_complete=40, watched_status=0),
        tautulli_play(2, 133788, "Jon", 5000, noon + 86400, reference_id=1),
        *(tautulli_play(3 + day, 133788, "Jon", 5001 + day, noon + (2 + day) * 86400) for day in range(3)),
    ]
    async with serve(fake) as url:
        chosen = TautulliSettings(url=url, api_key="tautulli-key", page_size=1, pause_seconds=0.1)
        assert (await run_job(db_pool, TautulliSyncJob(chosen))).ok
    assert len(fake.calls) > 5
    assert fake.most_at_once == 1
    calls = sorted(fake.calls)
    assert all(later[0] - earlier[1] >= 0.09 for earlier, later in itertools.pairwise(calls))
