"""``marquee run``: the configured chat adapters in one process until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli import CommandError
from bot.runtime import NoAdapterConfigured, run_marquee
from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run the configured chat adapters (Discord, Matrix) until stopped with Ctrl-C or SIGTERM"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(run_marquee(settings))
    except NoAdapterConfigured as exc:
        raise CommandError(str(exc), code=2) from None
