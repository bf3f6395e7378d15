"""The codebase stays ruff- and mypy-clean and keeps its layers apart; these run with the rest of the suite."""

from __future__ import annotations

import ast
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


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_core_imports_no_adapter_and_no_chat_or_web_platform_library() -> None:
    # The LLM client (anthropic) is the engine's own provider and lives in core/engines by design.
    forbidden = ("adapters", "bot", "discord", "nio", "aiohttp", "prometheus_client")
    offending = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "core").rglob("*.py")
        for module in _imported_modules(path)
        if module.split(".")[0] in forbidden
    }
    assert not offending, sorted(offending)


def test_adapters_run_no_sql_of_their_own() -> None:
    """Adapters call core for every read and write; a query method called in an adapter is a leak."""
    query_methods = {"execute", "executemany", "fetch", "fetchrow", "fetchval", "copy_records_to_table"}
    offending = {
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in (ROOT / "adapters").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in query_methods
    }
    assert not offending, sorted(offending)
