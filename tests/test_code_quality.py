"""The codebase keeps its layers apart. (ruff and mypy run as their own CI steps, before pytest: see .ci/run.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def test_adapters_never_import_bot() -> None:
    """``bot/`` is the composition root: it builds each adapter's config and hands it in, never the reverse."""
    offending = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "adapters").rglob("*.py")
        for module in _imported_modules(path)
        if module.split(".")[0] == "bot"
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


def test_media_adapters_hand_their_pages_to_the_page_writer() -> None:
    """A media sync fetches and maps; ``core.sync.page_writer`` holds the connection, transaction and cursor."""
    mapped_only = {"core.ingest.records", "core.ingest.webhooks"}
    offending = {
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in (ROOT / "adapters" / "media").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"acquire", "transaction"}
    } | {
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "adapters" / "media").rglob("*.py")
        for module in _imported_modules(path)
        if (module.startswith("core.ingest.") and module not in mapped_only) or module == "core.db"
    }
    assert not offending, sorted(offending)


def test_the_marquee_command_loads_no_chat_library_until_an_adapter_starts() -> None:
    """Every ``marquee`` command would otherwise pay for importing discord.py and matrix-nio."""
    probe = "import sys; from bot.cli import build_parser; build_parser(); print(sorted(set(sys.modules) & {'discord', 'nio'}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
