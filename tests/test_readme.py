"""The README stays true: every setting is documented, and the quick start matches CI."""

from __future__ import annotations

from pathlib import Path

from bot.cli import build_parser
from bot.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_reference() -> None:
    undocumented = [
        ENV_PREFIX + name.upper()
        for name in Settings.model_fields
        if f"`{ENV_PREFIX}{name.upper()}`" not in README
    ]
    assert undocumented == []


def test_every_command_is_in_the_readme() -> None:
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    missing = [name for name in subparsers.choices if f"marquee {name}" not in README]  # type: ignore[attr-defined]
    assert missing == []


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/pytest" in README
    assert ci.rstrip().splitlines()[-1] == ".venv/bin/pytest"


def test_ci_runs_the_readme_lint_and_type_checks() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in (".venv/bin/ruff check .", ".venv/bin/mypy"):
        assert f"\n{command} " in README
        assert command in ci_lines
