"""``marquee sync [SERVICE]`` runs the configured jobs now and prints each result."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.cli import main

from .fakes import FakePlex, serve


async def test_sync_command_runs_plex_and_prints_counts(
    database_url: str,
    db_pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with serve(FakePlex()) as url:
        monkeypatch.setenv("MARQUEE_DATABASE_URL", database_url)
        monkeypatch.setenv("MARQUEE_PLEX_URL", url)
        monkeypatch.setenv("MARQUEE_PLEX_TOKEN", "plex-token")
        code = await asyncio.to_thread(main, ["sync", "plex"])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, out
    assert out.startswith("plex: ok in ") and "items_new 8" in out and "plays_new 2" in out
    assert await db_pool.fetchval("SELECT count(*) FROM media_items") == 8
    # Progress goes to stderr (plain lines when it is not a terminal), ending at each stage's total.
    assert "plex Movies (movies): 2/2" in captured.err and "plex TV Shows (episodes): 4/4" in captured.err
    assert "plex play history: 8/8" in captured.err  # entries read; those of deleted items are skipped


async def test_sync_command_names_the_missing_settings(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARQUEE_DATABASE_URL", database_url)
    for name in ("PLEX_URL", "PLEX_TOKEN", "JELLYFIN_URL", "TAUTULLI_URL", "OVERSEERR_URL", "JELLYSEERR_URL"):
        monkeypatch.delenv(f"MARQUEE_{name}", raising=False)
    code = await asyncio.to_thread(main, ["sync", "jellyfin"])
    assert code == 2
    assert "jellyfin is not configured: set MARQUEE_JELLYFIN_URL" in capsys.readouterr().err


async def test_sync_command_exit_code_is_1_when_a_job_fails(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakePlex()
    fake.failure = "unauthorized"
    async with serve(fake) as url:
        monkeypatch.setenv("MARQUEE_DATABASE_URL", database_url)
        monkeypatch.setenv("MARQUEE_PLEX_URL", url)
        monkeypatch.setenv("MARQUEE_PLEX_TOKEN", "wrong-token")
        code = await asyncio.to_thread(main, ["sync"])
    out = capsys.readouterr().out
    assert code == 1 and "plex: FAILED" in out and "refused the token" in out
    assert "wrong-token" not in out
