"""A failing service leaves its error in sync_schedule and every other row as it was."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg
import pytest

from adapters.media.jellyfin import JellyfinSettings, JellyfinSyncJob
from adapters.media.overseerr import SeerrSettings, SeerrSyncJob
from adapters.media.plex import PlexSettings, PlexSyncJob
from adapters.media.tautulli import TautulliSettings, TautulliSyncJob, is_key_refusal, unsanitized
from core.sync.jobs import SyncContext, SyncError, run_job

from .fakes import FakeJellyfin, FakePlex, FakeSeerr, FakeTautulli, serve
from .snapshot import differences, snapshot


@dataclass
class FailingJob:
    error: Exception
    name: str = "plex"
    interval_seconds: int = 3600

    async def run(self, context: SyncContext) -> dict[str, int]:
        raise self.error


async def test_a_bug_in_a_sync_job_logs_its_traceback_at_the_default_level(
    db_pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="core.sync")
    result = await run_job(db_pool, FailingJob(KeyError("Metadata")))

    assert not result.ok and result.error == "KeyError: 'Metadata'"
    [failure] = [r for r in caplog.records if r.name == "core.sync.jobs" and "failed" in r.getMessage()]
    assert failure.levelno >= logging.WARNING and failure.exc_info is not None
    assert failure.exc_info[0] is KeyError


async def test_an_expected_sync_failure_is_one_line_without_a_traceback(
    db_pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="core.sync")
    result = await run_job(db_pool, FailingJob(SyncError("Plex is unreachable on /accounts: timed out")))

    assert not result.ok and result.error == "Plex is unreachable on /accounts: timed out"
    [failure] = [r for r in caplog.records if r.name == "core.sync.jobs" and "failed" in r.getMessage()]
    assert failure.levelno == logging.WARNING and failure.exc_info is None


def plex_job(url: str) -> PlexSyncJob:
    # A short timeout and no waiting between retries keep the failure cases fast.
    return PlexSyncJob(
        PlexSettings(url=url, token="plex-token", page_size=2, timeout_seconds=0.3, retry_delay_seconds=0.01)
    )


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("unauthorized", "Plex refused the token (HTTP 401 on /accounts); check MARQUEE_PLEX_TOKEN"),
        ("slow", "Plex is unreachable on /accounts: timed out"),
        ("garbage", "Plex answered something that is not JSON on /accounts"),
    ],
)
async def test_failing_plex_records_the_error_and_keeps_the_data(
    db_pool: asyncpg.Pool, failure: str, expected: str
) -> None:
    fake = FakePlex()
    async with serve(fake) as url:
        assert (await run_job(db_pool, plex_job(url))).ok
        before = await snapshot(db_pool)
        fake.failure = failure
        job = plex_job(url)
        result = await run_job(db_pool, job)
        assert not result.ok and result.error is not None and expected in result.error
        assert "plex-token" not in result.error
        second = await run_job(db_pool, job)
        assert not second.ok
    row = await db_pool.fetchrow("SELECT * FROM sync_schedule WHERE integration = 'plex'")
    assert expected in row["last_error"]
    assert row["consecutive_failures"] == 2 and row["last_run_at"] > row["last_success_at"]
    assert differences(before, await snapshot(db_pool)) == {}

    fake.failure = None
    async with serve(fake) as url:
        assert (await run_job(db_pool, plex_job(url))).ok
    row = await db_pool.fetchrow("SELECT * FROM sync_schedule WHERE integration = 'plex'")
    assert row["last_error"] is None and row["consecutive_failures"] == 0


async def test_a_failure_halfway_keeps_the_pages_already_written(db_pool: asyncpg.Pool) -> None:
    fake = FakePlex()
    fake.sections.append({"key": "9", "title": "Broken", "type": "movie"})
    async with serve(fake) as url:
        app_items = fake.items
        app_items[("9", 1)] = [{"ratingKey": "77", "type": "movie"}]  # no title: not what Plex sends
        result = await run_job(db_pool, plex_job(url))
    assert not result.ok and "Metadata.0.title" in (result.error or "")
    # Users and the sections before the broken one are in; nothing half-written from the broken page.
    assert await db_pool.fetchval("SELECT count(*) FROM users") == 2
    assert await db_pool.fetchval("SELECT count(*) FROM media_items WHERE library_name = 'Movies'") == 2


@pytest.mark.parametrize("service", ["jellyfin", "tautulli", "overseerr"])
async def test_other_services_refusing_the_key_is_a_clear_error(db_pool: asyncpg.Pool, service: str) -> None:
    fakes = {"jellyfin": FakeJellyfin, "tautulli": FakeTautulli, "overseerr": FakeSeerr}
    fake = fakes[service]()
    fake.failure = "unauthorized"
    async with serve(fake) as url:
        job = {
            "jellyfin": lambda: JellyfinSyncJob(JellyfinSettings(url=url, api_key="jellyfin-key")),
            "tautulli": lambda: TautulliSyncJob(TautulliSettings(url=url, api_key="tautulli-key", pause_seconds=0)),
            "overseerr": lambda: SeerrSyncJob(
                SeerrSettings(service="overseerr", url=url, api_key="seerr-key")
            ),
        }[service]()
        result = await run_job(db_pool, job)
    # Each says which setting to fix, whatever status the service refuses a key with (Tautulli: 400).
    expected = {
        "jellyfin": "Jellyfin refused the API key (HTTP 401 on /Users); check MARQUEE_JELLYFIN_API_KEY",
        "tautulli": "Tautulli refused the API key (HTTP 400 on /api/v2); check MARQUEE_TAUTULLI_API_KEY",
        "overseerr": "Overseerr refused the API key (HTTP 401 on /user); check MARQUEE_OVERSEERR_API_KEY",
    }[service]
    assert not result.ok and result.error == expected
    assert "-key" not in (result.error or "")
    assert await db_pool.fetchval("SELECT last_error FROM sync_schedule WHERE integration = $1", service)


@pytest.mark.parametrize(
    ("status", "body", "refused"),
    [
        (400, b'{"response": {"result": "error", "message": "Invalid apikey", "data": {}}}', True),
        (
            401,
            b'{"response": {"result": "error", "message": "Parameter apikey is required", "data": {}}}',
            True,
        ),
        (
            400,
            b'{"response": {"result": "error", "message": "Unknown command: get_nothing.", "data": {}}}',
            False,
        ),
        (400, b"<html>Bad Request</html>", False),
        (500, b"", False),
    ],
)
def test_only_tautullis_own_wrong_key_answers_blame_the_key(status: int, body: bytes, refused: bool) -> None:
    assert is_key_refusal(status, body) is refused


async def test_tautulli_error_envelope_is_reported(db_pool: asyncpg.Pool) -> None:
    fake = FakeTautulli()
    async with serve(fake) as url:
        job = TautulliSyncJob(TautulliSettings(url=url, api_key="tautulli-key", pause_seconds=0))
        fake.users = "not a list"  # type: ignore[assignment]
        result = await run_job(db_pool, job)
    assert not result.ok and "Tautulli answered /api/v2 with something unexpected" in (result.error or "")


def test_tautullis_html_sanitising_is_undone() -> None:
    # Tautulli's web side turns < and > into entities and leaves & alone.
    assert unsanitized("&lt;Uncut&gt; Tom & Jerry") == "<Uncut> Tom & Jerry"
    assert unsanitized("Tom &amp; Jerry") == "Tom &amp; Jerry"
