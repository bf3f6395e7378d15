"""Per-user message rate and daily model-token budget, enforced before the engine runs.

A message is admitted in one transaction that holds the lock of the user's row of the day in
``user_daily_usage``: it checks the rate (the user's turns in ``chat_history`` of the last
minute) and the budget (tokens used plus tokens reserved by answers still in flight), records
the question turn and reserves tokens. Concurrent messages of one user queue on that lock, so
they cannot all pass a budget that only one fits in. Once answered, the reservation is settled
with the real usage in the transaction that records the answer; a message whose answer was
never recorded keeps its reservation counted (spend that cannot be measured is not forgotten).

The day's row starts from the tokens already on ``ai_conversation_feedback`` that day, so a
budget carries over a restart or an upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

# Tokens set aside for one answer until its real usage is known: about what a tool-using
# answer of the model costs. A budget smaller than this still admits one answer at a time.
DEFAULT_TOKEN_RESERVATION = 20_000


@dataclass(frozen=True)
class Limits:
    messages_per_minute: int
    daily_token_budget: int  # 0 = no budget
    token_reservation: int = DEFAULT_TOKEN_RESERVATION


@dataclass(frozen=True)
class LimitExceeded:
    reason: str  # 'rate' or 'token_budget'
    message: str


@dataclass(frozen=True)
class Question:
    """What admission records before the engine runs."""

    user_id: UUID
    platform: str
    conversation_id: str
    text: str
    mode: str
    asked_at: datetime


@dataclass(frozen=True)
class Admission:
    question_turn_id: UUID
    usage_date: date
    tokens_reserved: int


# Creates the day's row (from what the day's answers already used) and locks it until commit.
_LOCK_DAY = """
INSERT INTO user_daily_usage (user_id, usage_date, tokens_used)
SELECT $1, $2, coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)), 0)
FROM ai_conversation_feedback
WHERE user_id = $1 AND created_at >= $3 AND created_at < $4
ON CONFLICT (user_id, usage_date) DO UPDATE SET updated_at = now()
RETURNING tokens_used, tokens_reserved
"""
_RECENT_MESSAGES = """
SELECT count(*) FROM chat_history
WHERE user_id = $1 AND role = 'user' AND created_at > $2::timestamptz - interval '1 minute'
"""
_RESERVE = """
UPDATE user_daily_usage
SET messages = messages + 1, tokens_reserved = tokens_reserved + $3, updated_at = now()
WHERE user_id = $1 AND usage_date = $2
"""
_RECORD_QUESTION = """
INSERT INTO chat_history (user_id, platform, conversation_id, role, content, mode, created_at)
VALUES ($1, $2, $3, 'user', $4, $5, $6)
RETURNING id
"""
_SETTLE = """
UPDATE user_daily_usage
SET tokens_reserved = greatest(tokens_reserved - $3, 0), tokens_used = tokens_used + $4, updated_at = now()
WHERE user_id = $1 AND usage_date = $2
"""


def _day_of(now: datetime, timezone: ZoneInfo) -> tuple[date, datetime, datetime]:
    """The budget's day in the server's time zone, and the instants it starts and ends."""
    local = now.astimezone(timezone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)  # wall-clock arithmetic: the next midnight, on a DST day too
    return local.date(), start, end


async def admit(
    conn: asyncpg.Connection, question: Question, limits: Limits, timezone: ZoneInfo
) -> Admission | LimitExceeded:
    """Check both limits and, when they allow it, record the question and reserve its tokens (one transaction)."""
    usage_date, day_start, day_end = _day_of(question.asked_at, timezone)
    async with conn.transaction():
        usage = await conn.fetchrow(_LOCK_DAY, question.user_id, usage_date, day_start, day_end)
        recent = await conn.fetchval(_RECENT_MESSAGES, question.user_id, question.asked_at)
        if recent >= limits.messages_per_minute:
            return LimitExceeded(
                "rate",
                f"You're sending messages faster than I can keep up with (limit: {limits.messages_per_minute} "
                "a minute). Give me a moment and ask again.",
            )
        reserved = 0
        if limits.daily_token_budget:
            left = limits.daily_token_budget - usage["tokens_used"] - usage["tokens_reserved"]
            if left <= 0:
                return LimitExceeded(
                    "token_budget",
                    "You've used today's question budget. It resets at midnight; see you then!",
                )
            reserved = min(limits.token_reservation, left)
        await conn.execute(_RESERVE, question.user_id, usage_date, reserved)
        turn_id: UUID = await conn.fetchval(
            _RECORD_QUESTION,
            question.user_id,
            question.platform,
            question.conversation_id,
            question.text,
            question.mode,
            question.asked_at,
        )
    return Admission(turn_id, usage_date, reserved)


async def settle(conn: asyncpg.Connection, user_id: UUID, admission: Admission, tokens_used: int) -> None:
    """Replace the reservation by the real usage; call in the transaction that records the answer."""
    await conn.execute(_SETTLE, user_id, admission.usage_date, admission.tokens_reserved, max(tokens_used, 0))
