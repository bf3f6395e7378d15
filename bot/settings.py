"""Marquee's settings: environment variables with the prefix ``MARQUEE_`` or a ``.env`` file.

Every setting is documented in the README's configuration reference. Secrets are
``SecretStr`` so that they never appear in a log line or a repr.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SettingsSourceError

from core.errors import UserFacingError

ENV_PREFIX = "MARQUEE_"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("marquee", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `KEY=` in .env or compose means "not set", not "set to the empty string".
        env_ignore_empty=True,
    )

    # --- core -----------------------------------------------------------------
    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL 14+ URL; unset means the embedded PostgreSQL in the data directory.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir, description="Embedded database, keys, sync tokens."
    )
    timezone: str = Field(default="UTC", description="IANA time zone used for hour-of-day and date answers.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    db_pool_max_size: int = Field(default=10, ge=1, le=200)

    # --- answer engine ----------------------------------------------------------
    engine: Literal["auto", "anthropic", "openai", "offline"] = Field(
        default="auto",
        description="auto: anthropic when its API key is set, else openai when its base URL is set, else offline.",
    )
    anthropic_api_key: SecretStr | None = None
    anthropic_model: str = "claude-sonnet-4-6"
    anthropic_base_url: str | None = None
    anthropic_timeout_seconds: float = Field(default=60.0, gt=0)
    anthropic_max_tool_rounds: int = Field(default=6, ge=1, le=20)
    # any OpenAI-compatible Chat Completions server: Ollama, llama.cpp, vLLM, LM Studio, OpenRouter
    openai_base_url: str | None = Field(
        default=None, description="e.g. http://localhost:11434/v1 (Ollama) or https://openrouter.ai/api/v1."
    )
    openai_api_key: SecretStr | None = Field(default=None, description="Only for servers that need one.")
    openai_model: str = "qwen2.5:7b"
    openai_timeout_seconds: float = Field(default=120.0, gt=0)
    openai_max_tool_rounds: int = Field(default=4, ge=1, le=20)
    openai_max_tools: int = Field(
        default=32, ge=1, description="Most catalogue tools sent per question (small models lose track)."
    )
    # semantic search: any OpenAI-compatible /v1/embeddings endpoint (Ollama, llama.cpp, vLLM, OpenAI)
    embeddings_base_url: str | None = Field(
        default=None,
        description="e.g. http://localhost:11434/v1 (Ollama); unset means no embeddings (search matches words).",
    )
    embeddings_api_key: SecretStr | None = Field(default=None, description="Only for endpoints that need one.")
    embeddings_model: str = "nomic-embed-text"
    embeddings_dimension: int = Field(
        default=768, ge=1, le=4000, description="Length of the model's vectors (nomic-embed-text: 768)."
    )
    embeddings_batch_size: int = Field(default=64, ge=1, le=2048, description="Titles per embeddings call.")
    embeddings_timeout_seconds: float = Field(default=60.0, gt=0)
    embeddings_interval_seconds: int = Field(
        default=3600, ge=60, description="How often marquee run embeds new and changed titles."
    )
    min_group_size: int = Field(default=2, ge=1, description="Fewest other users before a title is shown.")
    rate_limit_messages_per_minute: int = Field(default=10, ge=1)
    max_question_chars: int = Field(
        default=2000, ge=50, le=100_000, description="Longer questions are refused with a clear reply."
    )
    daily_token_budget_per_user: int = Field(default=200_000, ge=0)
    learning_queue_entries_per_member_per_day: int = Field(
        default=20, ge=0, description="New learning-queue entries one member's questions may add in 24 hours."
    )
    learning_queue_max_question_chars: int = Field(
        default=500,
        ge=50,
        description="Longer questions are kept in the learning queue truncated, with a marker.",
    )
    chat_charts: bool = Field(
        default=True,
        description="Send a PNG chart next to answers a picture says better (Discord attachment, Matrix image).",
    )

    # --- offline engine: reading dates in questions ----------------------------------
    holiday_country: str = Field(
        default="US", description="ISO country whose holidays 'last Christmas', 'over Thanksgiving' refer to."
    )
    holiday_subdivision: str | None = Field(default=None, description="State/province for regional holidays.")
    southern_hemisphere: bool = Field(default=False, description="'Summer' means December to February.")

    # --- discord ------------------------------------------------------------------
    discord_token: SecretStr | None = None
    discord_admin_channel_id: int | None = None
    discord_admin_role_id: int | None = None
    discord_allowed_channel_ids: list[int] = Field(default_factory=list)

    # --- matrix -------------------------------------------------------------------
    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_access_token: SecretStr | None = None
    matrix_password: SecretStr | None = None
    matrix_device_id: str | None = None
    matrix_admin_rooms: list[str] = Field(default_factory=list)
    matrix_allowed_users: list[str] = Field(default_factory=list)
    matrix_allowed_homeservers: list[str] = Field(
        default_factory=list, description="With no allowed users or homeservers: the bot's own homeserver."
    )
    matrix_device_name: str = "Marquee"
    matrix_store_pickle_key: SecretStr | None = Field(
        default=None,
        description="Encrypts the Matrix key store; unset means a random key generated once in the data directory.",
    )
    matrix_catch_up_seconds: int = Field(
        default=3600,
        ge=0,
        description=(
            "After a restart, answer messages that arrived up to this long ago; older ones get a short "
            '"I was offline" note instead (one per room).'
        ),
    )

    # --- media services -------------------------------------------------------------
    plex_url: str | None = None
    plex_token: SecretStr | None = None
    jellyfin_url: str | None = None
    jellyfin_api_key: SecretStr | None = None
    tautulli_url: str | None = None
    tautulli_api_key: SecretStr | None = None
    overseerr_url: str | None = None
    overseerr_api_key: SecretStr | None = None
    jellyseerr_url: str | None = None
    jellyseerr_api_key: SecretStr | None = None
    sync_interval_seconds: int = Field(default=900, ge=30)
    requests_enabled: bool = Field(
        default=True,
        description="Let members request titles from chat through Overseerr (or Jellyseerr when only it "
        "is configured); needs the service's URL and API key.",
    )
    request_confirmation_minutes: int = Field(
        default=10,
        ge=1,
        le=120,
        description="How long a request in progress waits for the member's next reply.",
    )
    pending_request_digest_hours: int = Field(
        default=0,
        ge=0,
        le=168,
        description="Every this many hours, one admin message listing the requests of that period still "
        "waiting for approval; 0 (the default) is off.",
    )
    discord_announcement_channels: dict[str, int] = Field(
        default_factory=dict,
        description='New media announced per library: JSON {"library name": Discord channel id}; empty is off.',
    )
    matrix_announcement_rooms: dict[str, str] = Field(
        default_factory=dict,
        description='New media announced per library: JSON {"library name": "!room:id"}; empty is off.',
    )
    announcement_quiet_minutes: int = Field(
        default=5,
        ge=1,
        le=240,
        description="A library's new items are announced once none has arrived for this long (a season is one message).",
    )
    webhook_silence_alert_minutes: int = Field(
        default=0,
        ge=0,
        description="One admin message when a webhook source that delivered before sends nothing for longer "
        "than this, one when it is back; 0 (the default) is off.",
    )
    media_timeout_seconds: float = Field(default=30.0, gt=0, description="Per HTTP call to a media service.")
    tautulli_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Per call to Tautulli (a window of history is one call; a big server takes a while).",
    )
    tautulli_page_size: int = Field(
        default=10_000,
        ge=100,
        le=100_000,
        description="History rows per call to Tautulli; a first sync's date windows are sized to hold about this many.",
    )
    tautulli_pause_seconds: float = Field(
        default=0.5, ge=0, description="Pause between two calls to Tautulli (never more than one at a time)."
    )
    watched_percent: float = Field(
        default=90,
        gt=0,
        le=100,
        description="A play counts as finished from this percentage of its length on, when the service "
        "does not say itself (Tautulli's watched status, Plex's history and Jellyfin's played flag do).",
    )
    snapshot_refresh_minutes: int = Field(
        default=5,
        ge=1,
        le=1440,
        description="How often marquee run recomputes the stored answers of the slow server-wide admin "
        "tools (core/tools/snapshots.py); one is served while at most twice this old.",
    )
    plex_sync_history: bool | None = Field(
        default=None,
        description="Read plays from Plex's history; unset means yes unless Tautulli is configured "
        "(Tautulli's history is richer and would count the same plays again).",
    )

    # --- webhook server -----------------------------------------------------------
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8787, ge=1, le=65535)
    webhook_secret: SecretStr | None = Field(
        default=None, description="Webhook token for every source without its own *_webhook_secret."
    )
    plex_webhook_secret: SecretStr | None = None
    jellyfin_webhook_secret: SecretStr | None = None
    tautulli_webhook_secret: SecretStr | None = None
    overseerr_webhook_secret: SecretStr | None = None
    jellyseerr_webhook_secret: SecretStr | None = None
    radarr_webhook_secret: SecretStr | None = None
    sonarr_webhook_secret: SecretStr | None = None
    webhook_max_body_bytes: int = Field(default=1_048_576, ge=1024)

    # --- AI-insights page (served by the webhook server) --------------------------
    public_url: str | None = Field(
        default=None,
        description="The address people reach Marquee's HTTP server at (behind a reverse proxy, its https "
        "URL); sign-in links start with it. Unset: http://localhost:<http_port>.",
    )
    insights_link_minutes: int = Field(default=10, ge=1, le=60, description="A sign-in link works this long.")
    insights_session_hours: int = Field(default=12, ge=1, le=168, description="A page session lasts this long.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)"
            ) from None
        return value

    @field_validator("public_url")
    @classmethod
    def _plain_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = urlsplit(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
            raise ValueError("must be an http(s) address such as https://marquee.example.org (no ? or #)")
        return value.strip().rstrip("/")

    @field_validator(
        "plex_url",
        "jellyfin_url",
        "tautulli_url",
        "overseerr_url",
        "jellyseerr_url",
        "anthropic_base_url",
        "openai_base_url",
        "embeddings_base_url",
        "matrix_homeserver",
    )
    @classmethod
    def _http_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if http_address_problem(value.strip()):
            raise ValueError(
                "must be an http(s) address such as http://192.168.1.10:8181 or https://media.example.org/tautulli"
            )
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            problem = postgres_url_problem(value.get_secret_value())
            if problem:
                raise ValueError(problem)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def public_base_url(self) -> str:
        """Where a browser reaches the HTTP server: the public URL, else this host's own port."""
        if self.public_url:
            return self.public_url
        host = "localhost" if self.http_host in ("0.0.0.0", "::", "") else self.http_host
        return f"http://{host}:{self.http_port}"


_SHAPE = "postgresql://user:password@host:5432/database"


def http_address_problem(url: str) -> bool:
    """Whether ``url`` is not an http(s) address with a host (and, if given, a port number)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        return True
    return parts.scheme not in ("http", "https") or not parts.hostname or bool(parts.fragment)


def postgres_url_problem(url: str) -> str | None:
    """What is wrong with a PostgreSQL URL, in words that never repeat any part of it (it may hold a password)."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in ("postgres", "postgresql"):
        return f"not a PostgreSQL URL (expected {_SHAPE})"
    try:
        urlsplit(url)
    except ValueError:  # an unclosed [ of an IPv6 address, which asyncpg would raise as a traceback
        return f"not a PostgreSQL URL (expected {_SHAPE}; an IPv6 host is written [::1])"
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    hosts = netloc.rpartition("@")[2]
    for host in hosts.split(","):  # libpq URLs may list several hosts
        port = host.rpartition("]")[2] if host.startswith("[") else host
        _, colon, number = port.partition(":")
        if colon and not (number.isdigit() and 0 < int(number) < 65536):
            return (
                f"the port is not a number (expected {_SHAPE}; "
                "characters such as @ : / in the password are written percent-encoded)"
            )
    return None


# pydantic-settings reports an unparsable JSON value (a list setting) only by field name.
_UNPARSABLE_FIELD = re.compile(r'error parsing value for field "(?P<field>\w+)"')


class SettingsError(UserFacingError):
    """A setting is missing or wrong; the message names it in one line."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation error into one line that names the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except SettingsSourceError as exc:
        match = _UNPARSABLE_FIELD.search(str(exc))
        name = ENV_PREFIX + match["field"].upper() if match else "a setting"
        raise SettingsError(
            f'{name}: not valid JSON (a list is written as ["first", "second"] or [1, 2])'
        ) from None
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            env_name = ENV_PREFIX + field.split(".")[0].upper()
            problems.append(f"{env_name}: {error['msg']}")
        raise SettingsError("; ".join(problems)) from None
