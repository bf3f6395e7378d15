"""A request in progress, kept in the database per (member, platform, conversation) until it expires."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg

from core.media_requests.service import Match

Stage = Literal["choose", "seasons", "confirm"]
SeasonChoice = list[int] | Literal["all"] | None


@dataclass
class PendingRequest:
    stage: Stage
    matches: list[Match]
    chosen: int | None = None  # index into matches
    seasons: SeasonChoice = None
    is_4k: bool = False

    @property
    def match(self) -> Match:
        assert self.chosen is not None
        return self.matches[self.chosen]


_LOAD = """
SELECT stage, candidates, chosen, seasons, is_4k FROM pending_media_requests
WHERE user_id = $1 AND platform = $2 AND conversation_id = $3 AND expires_at > $4
"""
_SAVE = """
INSERT INTO pending_media_requests (user_id, platform, conversation_id, stage, candidates, chosen, seasons, expires_at,
                                    is_4k)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9)
ON CONFLICT (user_id, platform, conversation_id) DO UPDATE SET
    stage = excluded.stage, candidates = excluded.candidates, chosen = excluded.chosen,
    seasons = excluded.seasons, expires_at = excluded.expires_at, is_4k = excluded.is_4k
"""
_CLEAR = """
DELETE FROM pending_media_requests WHERE user_id = $1 AND platform = $2 AND conversation_id = $3 RETURNING 1
"""
# Expired rows of anyone are swept on the way; the primary key makes the member's own lookup cheap.
_SWEEP = "DELETE FROM pending_media_requests WHERE expires_at <= $1"


def _match(raw: dict[str, object]) -> Match:
    return Match(
        tmdb_id=int(raw["tmdb_id"]),  # type: ignore[call-overload]
        kind="tv" if raw["kind"] == "tv" else "movie",
        title=str(raw["title"]),
        year=int(raw["year"]) if raw.get("year") is not None else None,  # type: ignore[call-overload]
        overview=str(raw.get("overview") or ""),
        availability=raw.get("availability", "unknown"),  # type: ignore[arg-type]
        requested_by=tuple(int(i) for i in raw.get("requested_by") or ()),  # type: ignore[attr-defined]
        availability_4k=raw.get("availability_4k", "unknown"),  # type: ignore[arg-type]
    )


async def load(
    conn: asyncpg.Pool | asyncpg.Connection, user_id: UUID, platform: str, conversation_id: str, now: datetime
) -> PendingRequest | None:
    row = await conn.fetchrow(_LOAD, user_id, platform, conversation_id, now)
    if row is None:
        return None
    seasons = json.loads(row["seasons"]) if row["seasons"] is not None else None
    return PendingRequest(
        stage=row["stage"],
        matches=[_match(raw) for raw in json.loads(row["candidates"])],
        chosen=row["chosen"],
        seasons=seasons,
        is_4k=row["is_4k"],
    )


async def save(
    conn: asyncpg.Pool | asyncpg.Connection,
    user_id: UUID,
    platform: str,
    conversation_id: str,
    pending: PendingRequest,
    now: datetime,
    lifetime: timedelta,
) -> None:
    await conn.execute(_SWEEP, now)
    await conn.execute(
        _SAVE,
        user_id,
        platform,
        conversation_id,
        pending.stage,
        json.dumps([asdict(match) for match in pending.matches]),
        pending.chosen,
        json.dumps(pending.seasons) if pending.seasons is not None else None,
        now + lifetime,
        pending.is_4k,
    )


async def clear(
    conn: asyncpg.Pool | asyncpg.Connection, user_id: UUID, platform: str, conversation_id: str
) -> bool:
    """Drop the request in progress; True when there was one (whoever clears it first owns it)."""
    return await conn.fetchval(_CLEAR, user_id, platform, conversation_id) is not None
