"""The codebase stays ruff- and mypy-clean; these run with the rest of the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_ruff_finds_nothing() -> None:
    result = _run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    # No cache: a stale incremental cache can report errors that are not there.
    result = _run(str(BIN / "mypy"), "--cache-dir=/dev/null")
    assert result.returncode == 0, result.stdout + result.stderr
