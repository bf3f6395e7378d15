"""Per-user message rate and daily model-token budget.

Both are counted from what the Assistant records anyway (the user's turns in
``chat_history``, the tokens on ``ai_conversation_feedback``), so there is no
counter to drift and a restart forgets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg


@dataclass(frozen=True)
class Limits:
    messages_per_minute: int
    daily_token_budget: int  # 0 = no budget


@dataclass(frozen=True)
class LimitExceeded:
    reason: str  # 'rate' or 'token_budget'
    message: str


# The day of the budget starts at midnight in the server's time zone ($4).
_USAGE = """
SELECT
    (SELECT count(*) FROM chat_history
      WHERE user_id = $1 AND role = 'user' AND created_at > $2::timestamptz - interval '1 minute') AS recent,
    (SELECT coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)), 0)
       FROM ai_conversation_feedback
      WHERE user_id = $1 AND created_at >= $3) AS tokens_today
"""


async def check_limits(
    conn: asyncpg.Connection, user_id: UUID, limits: Limits, now: datetime, timezone: ZoneInfo
) -> LimitExceeded | None:
    local_midnight = now.astimezone(timezone).replace(hour=0, minute=0, second=0, microsecond=0)
    row = await conn.fetchrow(_USAGE, user_id, now, local_midnight)
    if row["recent"] >= limits.messages_per_minute:
        return LimitExceeded(
            "rate",
            f"You're sending messages faster than I can keep up with (limit: {limits.messages_per_minute} "
            "a minute). Give me a moment and ask again.",
        )
    if limits.daily_token_budget and row["tokens_today"] >= limits.daily_token_budget:
        return LimitExceeded(
            "token_budget",
            "You've used today's question budget. It resets at midnight; see you then!",
        )
    return None
