"""Every table and column of shared/spec/schema.md (and of ai-capabilities.md) exists after migrating.

Other tools read and write these names directly; this file is the contract in
executable form. Columns may be added freely, never renamed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import asyncpg
import pytest

if TYPE_CHECKING:
    from conftest import SeededDatabase


@pytest.fixture
async def db_pool(
    request: pytest.FixtureRequest, migrated_database: SeededDatabase[None]
) -> AsyncIterator[asyncpg.Pool]:
    """The migrated schema, shared read-only; a test that inserts is marked ``writes_database``."""
    async with migrated_database.pool_for(request) as pool:
        yield pool


CONTRACT: dict[str, set[str]] = {
    "users": {
        "id", "username", "display_name", "email", "role", "created_at", "last_login_at",
        "login_count", "share_activity_with_admins",
    },
    "chat_accounts": {"platform", "platform_user_id", "user_id", "linked_at"},
    "media_items": {
        "id", "title", "media_type", "year", "parent_id", "season_number", "episode_number",
        "library_name", "metadata", "duration_seconds", "file_size_bytes", "added_at",
    },
    "watch_history": {
        "id", "user_id", "media_item_id", "started_at", "stopped_at", "watched_seconds", "percent_complete",
    },
    "user_stats": {
        "id", "user_id", "media_item_id", "play_count", "rating", "last_played_at", "attributed_to_request_id",
    },
    "content_requests": {
        "id", "title", "media_type", "media_item_id", "requested_by_user_id", "status", "requested_at",
        "approved_at", "approved_by_user_id", "declined_at", "decline_reason", "available_at",
    },
    "sync_schedule": {
        "integration", "enabled", "interval_seconds", "last_run_at", "last_success_at", "last_error",
        "consecutive_failures",
    },
    "webhook_log": {"id", "source", "event_type", "status", "error", "received_at"},
    "deletion_log": {"id", "media_item_id", "title", "media_type", "file_size_bytes", "deleted_at", "reason"},
    "api_logs": {
        "id", "user_id", "endpoint", "method", "status_code", "response_time_ms", "error_message", "created_at",
    },
    "bandwidth_logs": {
        "id", "user_id", "media_item_id", "bytes_transferred", "stream_duration_seconds", "created_at",
    },
    "chat_history": {"id", "user_id", "platform", "conversation_id", "role", "content", "mode", "created_at"},
    "ai_conversation_feedback": {
        "id", "chat_history_id", "user_id", "user_message", "ai_response", "confidence_score",
        "data_sources_used", "missing_data", "user_rating", "user_followed_up", "user_reported_wrong",
        "question_type", "complexity", "was_successful", "requires_human_review", "created_at",
        "platform", "reply_message_id", "mode", "engine", "latency_ms", "input_tokens", "output_tokens",
    },
    "ai_learning_queue": {
        "id", "question", "question_type", "why_failed", "missing_tables", "suggested_solution", "priority",
        "times_asked", "status", "resolved_at", "created_at",
    },
}  # fmt: skip

# Columns the contract says may be NULL; every other contract column is NOT NULL or has a default.
NULLABLE: dict[str, set[str]] = {
    "users": {"display_name", "email", "last_login_at"},
    "media_items": {"year", "parent_id", "season_number", "episode_number", "library_name",
                    "duration_seconds", "file_size_bytes"},
    "watch_history": {"stopped_at", "percent_complete"},
    "user_stats": {"rating", "last_played_at", "attributed_to_request_id"},
    "content_requests": {"media_item_id", "approved_at", "approved_by_user_id", "declined_at",
                         "decline_reason", "available_at"},
    "sync_schedule": {"last_run_at", "last_success_at", "last_error"},
    "webhook_log": {"event_type", "error"},
    "deletion_log": {"media_item_id", "media_type", "file_size_bytes", "reason"},
}  # fmt: skip

UUID_PRIMARY_KEYS = [t for t, cols in CONTRACT.items() if "id" in cols]


async def _columns(conn: asyncpg.Connection) -> dict[str, dict[str, asyncpg.Record]]:
    rows = await conn.fetch(
        """
        SELECT table_name, column_name, data_type, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'public'
        """
    )
    found: dict[str, dict[str, asyncpg.Record]] = {}
    for row in rows:
        found.setdefault(row["table_name"], {})[row["column_name"]] = row
    return found


async def test_every_contract_table_and_column_exists(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        found = await _columns(conn)
    missing = {
        table: sorted(columns - set(found.get(table, {})))
        for table, columns in CONTRACT.items()
        if columns - set(found.get(table, {}))
    }
    assert missing == {}


async def test_not_null_columns_are_not_null_or_defaulted(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        found = await _columns(conn)
    wrongly_nullable = []
    for table, columns in CONTRACT.items():
        if table in ("ai_conversation_feedback", "ai_learning_queue", "api_logs", "bandwidth_logs"):
            continue  # ai-capabilities.md leaves most of these nullable
        for column in columns - NULLABLE.get(table, set()):
            row = found[table][column]
            if row["is_nullable"] == "YES" and row["column_default"] is None:
                wrongly_nullable.append(f"{table}.{column}")
    assert wrongly_nullable == []


@pytest.mark.parametrize("table", UUID_PRIMARY_KEYS)
async def test_ids_are_generated_uuids(db_pool: asyncpg.Pool, table: str) -> None:
    async with db_pool.acquire() as conn:
        found = await _columns(conn)
    column = found[table]["id"]
    assert column["data_type"] == "uuid"
    assert "gen_random_uuid()" in (column["column_default"] or "")


async def test_times_are_timestamptz(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        found = await _columns(conn)
    not_tz = [
        f"{table}.{name}"
        for table, columns in CONTRACT.items()
        for name in columns
        if name.endswith("_at") and found[table][name]["data_type"] != "timestamp with time zone"
    ]
    assert not_tz == []


@pytest.mark.parametrize(
    ("table", "column", "bad_value"),
    [
        ("users", "role", "superuser"),
        ("chat_accounts", "platform", "irc"),
        ("media_items", "media_type", "podcast"),
        ("content_requests", "status", "lost"),
        ("content_requests", "media_type", "episode"),
        ("webhook_log", "status", "maybe"),
        ("chat_history", "role", "system"),
        ("chat_history", "mode", "god"),
        ("ai_learning_queue", "status", "forgotten"),
    ],
)
async def test_enumerated_columns_reject_unknown_values(
    db_pool: asyncpg.Pool, table: str, column: str, bad_value: str
) -> None:
    async with db_pool.acquire() as conn:
        constraints = await conn.fetch(
            """
            SELECT pg_get_constraintdef(c.oid) AS definition
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relname = $1 AND c.contype = 'c'
            """,
            table,
        )
    checks = [r["definition"] for r in constraints if column in r["definition"]]
    assert checks, f"no CHECK constraint on {table}.{column}"
    assert not any(f"'{bad_value}'" in definition for definition in checks)


@pytest.mark.writes_database
async def test_a_user_row_with_only_a_username_gets_the_contract_defaults(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        row = await conn.fetchrow("INSERT INTO users (username) VALUES ('newcomer') RETURNING *")
        assert row["role"] == "user"
        assert row["login_count"] == 0
        assert row["share_activity_with_admins"] is False
        assert row["created_at"] is not None
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute("INSERT INTO users (username) VALUES ('newcomer')")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("INSERT INTO users (username, role) VALUES ('x', 'root')")


@pytest.mark.writes_database
async def test_user_stats_is_unique_per_user_and_item(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        user_id = await conn.fetchval("INSERT INTO users (username) VALUES ('u') RETURNING id")
        item_id = await conn.fetchval(
            "INSERT INTO media_items (title, media_type) VALUES ('Film', 'movie') RETURNING id"
        )
        await conn.execute(
            "INSERT INTO user_stats (user_id, media_item_id) VALUES ($1, $2)", user_id, item_id
        )
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                "INSERT INTO user_stats (user_id, media_item_id) VALUES ($1, $2)", user_id, item_id
            )


async def test_per_user_and_time_range_queries_have_indexes(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        indexes = await conn.fetch("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'")
    by_table: dict[str, list[str]] = {}
    for row in indexes:
        by_table.setdefault(row["tablename"], []).append(row["indexdef"])

    def has_index_starting_with(table: str, columns: str) -> bool:
        return any(f"({columns}" in definition for definition in by_table.get(table, []))

    assert has_index_starting_with("watch_history", "user_id, started_at")
    assert has_index_starting_with("watch_history", "started_at")
    assert has_index_starting_with("user_stats", "user_id")
    assert has_index_starting_with("content_requests", "requested_by_user_id")
    assert has_index_starting_with("chat_history", "user_id")
    assert has_index_starting_with("media_items", "added_at")
    assert has_index_starting_with("webhook_log", "received_at")
    assert has_index_starting_with("api_logs", "created_at")
    assert has_index_starting_with("bandwidth_logs", "user_id, created_at")
