"""Marquee is a release: `python -m build` makes an sdist and a wheel that pass `twine check`,
and the installed wheel migrates a database without the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", ".env"
)


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built from a copy of the tree (the build writes into its source)."""
    work = tmp_path_factory.mktemp("release")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    # No build isolation: the test extra pins the build backend, and the suite stays offline.
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", work / "dist", source, cwd=work)
    return work / "dist"


def _wheel(dist: Path) -> Path:
    [wheel] = dist.glob("marquee-*.whl")
    return wheel


def test_the_sdist_and_the_wheel_pass_twine_check(dist: Path) -> None:
    artifacts = sorted(dist.iterdir())
    assert sorted(a.suffix for a in artifacts) == [".gz", ".whl"]
    _run(BIN / "twine", "check", "--strict", *artifacts, cwd=dist)


def test_the_wheel_carries_the_schema_and_the_licence(dist: Path) -> None:
    shipped = set(zipfile.ZipFile(_wheel(dist)).namelist())
    schema = {path.relative_to(ROOT).as_posix() for path in (ROOT / "core" / "schema").rglob("*.sql")}
    assert schema and schema <= shipped
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in shipped)


def test_the_installed_wheel_migrates_a_database_outside_the_source_tree(
    dist: Path, empty_database_url: str, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    # Only Marquee comes from the wheel. Its dependencies are borrowed from this test
    # environment through a .pth line (a plain path: the editable install's own .pth hook
    # there is not run), so the test needs no network and no minutes of installing.
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index",
         _wheel(dist), cwd=tmp_path)  # fmt: skip
    site_packages = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
        ).stdout.strip()
    )
    (site_packages / "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    env = {key: value for key, value in os.environ.items() if not key.startswith(("MARQUEE_", "PYTHON"))}
    env |= {"MARQUEE_DATABASE_URL": empty_database_url, "MARQUEE_DATA_DIR": str(tmp_path / "data")}
    where = _run(python, "-c", "import core.migrations as m; print(m.__file__)", cwd=tmp_path, env=env)
    assert Path(where.stdout.strip()).is_relative_to(site_packages)

    result = _run(venv / "bin" / "marquee", "migrate", cwd=tmp_path, env=env)
    applied = [line.removeprefix("applied ") for line in result.stdout.splitlines()]
    schema = ROOT / "core" / "schema"
    assert applied == [
        path.relative_to(schema).as_posix()
        for kind in ("migrations", "functions")
        for path in sorted((schema / kind).glob("*.sql"))
    ]
    again = _run(venv / "bin" / "marquee", "migrate", cwd=tmp_path, env=env)
    assert again.stdout.strip() == "database is up to date"
