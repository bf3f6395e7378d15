"""``marquee sync [SERVICE]``: run the media-service sync jobs now and print each one's result."""

from __future__ import annotations

import argparse
import asyncio

from adapters.media.services import SERVICE_BY_NAME, SYNCED_SERVICES
from bot.cli import CommandError
from bot.database import open_database
from bot.integrations import build_sync_jobs
from bot.progress import progress_display
from bot.settings import Settings
from core.sync.jobs import run_job


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sync", help="sync the configured media services now (all, or one)")
    parser.add_argument("service", nargs="?", choices=SYNCED_SERVICES, help="only this service")
    parser.set_defaults(handler=run)


async def _sync(settings: Settings, service: str | None) -> int:
    jobs = build_sync_jobs(settings)
    if service is not None:
        jobs = [job for job in jobs if job.name == service]
        if not jobs:
            key = SERVICE_BY_NAME[service].key_setting.upper()
            raise CommandError(
                f"{service} is not configured: set MARQUEE_{service.upper()}_URL and MARQUEE_{service.upper()}_{key}",
                code=2,
            )
    if not jobs:
        raise CommandError(
            "no media service is configured (e.g. MARQUEE_PLEX_URL and MARQUEE_PLEX_TOKEN)", code=2
        )
    pool = await open_database(settings)
    failures = 0
    try:
        for job in jobs:
            # A first sync of a large library takes minutes: show how far it is.
            with progress_display() as show:
                result = await run_job(pool, job, progress=show)
            if result.ok:
                counts = ", ".join(f"{name} {value}" for name, value in result.counts.items())
                print(f"{job.name}: ok in {result.seconds:.1f}s ({counts})")
            else:
                failures += 1
                print(f"{job.name}: FAILED after {result.seconds:.1f}s: {result.error}")
    finally:
        await pool.close()
    return 1 if failures else 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_sync(settings, args.service))
    except KeyboardInterrupt:
        # Every window read so far is saved with its cursor: the next run goes on from there.
        raise CommandError("sync interrupted; run it again to resume where it stopped", code=130) from None
