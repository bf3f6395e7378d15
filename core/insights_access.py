"""Who may open the AI-insights page: one-time sign-in links and the sessions they start.

A link is made for an admin asking ``/insights`` in the admin channel, or on the
host (``marquee insights --link``). Its token is shown once and only its SHA-256
is stored; it works once, before it expires, and only while the person it was
made for is still an admin. Redeeming it starts a session whose token lives in
the browser's cookie (again stored hashed). The CSRF token of a session is an
HMAC of the session token, so it needs no storage and dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote
from uuid import UUID

import asyncpg

from core.errors import UserFacingError

PAGE_PATH = "/admin/ai-insights"
SIGN_IN_PATH = PAGE_PATH + "/sign-in"
DEFAULT_LINK_TTL = timedelta(minutes=10)
DEFAULT_SESSION_TTL = timedelta(hours=12)
HOST_ACTOR = "host (marquee insights --link)"
# Used links and ended sessions are kept this long after they expire, then purged.
KEEP_EXPIRED = timedelta(days=7)


class SignInRefused(UserFacingError):
    """The link cannot sign anyone in; the reason is safe to show on the page."""


@dataclass(frozen=True)
class AdminSession:
    actor: str
    user_id: UUID | None
    expires_at: datetime
    csrf_token: str


@dataclass(frozen=True)
class SignInLinkConfig:
    public_base_url: str
    ttl: timedelta = DEFAULT_LINK_TTL


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def csrf_token_for(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"marquee insights csrf", hashlib.sha256).hexdigest()


def csrf_token_matches(session_token: str, submitted: str) -> bool:
    return hmac.compare_digest(csrf_token_for(session_token).encode(), submitted.encode())


def sign_in_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}{SIGN_IN_PATH}?token={quote(token, safe='')}"


async def issue_sign_in_link(
    conn: asyncpg.Connection, *, user_id: UUID | None, actor: str, ttl: timedelta = DEFAULT_LINK_TTL
) -> str:
    """A new one-time token for ``actor`` (an admin's user id, or None for the host operator)."""
    token = secrets.token_urlsafe(32)
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM insights_sign_in_links WHERE expires_at < now() - $1::interval", KEEP_EXPIRED
        )
        await conn.execute(
            "INSERT INTO insights_sign_in_links (token_hash, user_id, actor, expires_at) "
            "VALUES ($1, $2, $3, now() + $4::interval)",
            _hash(token),
            user_id,
            actor,
            ttl,
        )
    return token


_CLAIM_LINK = """
UPDATE insights_sign_in_links SET used_at = now()
WHERE token_hash = $1 AND used_at IS NULL
RETURNING user_id, actor, expires_at < now() AS expired,
          user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = user_id AND u.role = 'admin') AS admin
"""


async def redeem_sign_in_link(
    conn: asyncpg.Connection, token: str, session_ttl: timedelta = DEFAULT_SESSION_TTL
) -> tuple[str, AdminSession]:
    """Use the link up (whatever the outcome) and start a session; raises SignInRefused."""
    if not token or len(token) > 200:
        raise SignInRefused("This sign-in link is not valid.")
    async with conn.transaction():
        link = await conn.fetchrow(_CLAIM_LINK, _hash(token))
        if link is None:
            used = await conn.fetchval(
                "SELECT used_at IS NOT NULL FROM insights_sign_in_links WHERE token_hash = $1", _hash(token)
            )
            if used:
                raise SignInRefused("This sign-in link was already used. Ask for a new one with /insights.")
            raise SignInRefused("This sign-in link is not valid.")
        if link["expired"]:
            raise SignInRefused("This sign-in link has expired. Ask for a new one with /insights.")
        if not link["admin"]:
            raise SignInRefused("This page is only for admins of this server.")
        session_token = secrets.token_urlsafe(32)
        await conn.execute(
            "DELETE FROM insights_sessions WHERE expires_at < now() - $1::interval", KEEP_EXPIRED
        )
        expires_at = await conn.fetchval(
            "INSERT INTO insights_sessions (token_hash, user_id, actor, expires_at) "
            "VALUES ($1, $2, $3, now() + $4::interval) RETURNING expires_at",
            _hash(session_token),
            link["user_id"],
            link["actor"],
            session_ttl,
        )
    return session_token, AdminSession(
        link["actor"], link["user_id"], expires_at, csrf_token_for(session_token)
    )


_SESSION = """
SELECT s.user_id, s.actor, s.expires_at FROM insights_sessions s
WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now()
  AND (s.user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id AND u.role = 'admin'))
"""


async def session_for(conn: asyncpg.Connection, session_token: str) -> AdminSession | None:
    """The live session of that cookie, or None (unknown, ended, expired, or no longer an admin)."""
    if not session_token or len(session_token) > 200:
        return None
    row = await conn.fetchrow(_SESSION, _hash(session_token))
    if row is None:
        return None
    return AdminSession(row["actor"], row["user_id"], row["expires_at"], csrf_token_for(session_token))


async def end_session(conn: asyncpg.Connection, session_token: str) -> None:
    await conn.execute(
        "UPDATE insights_sessions SET ended_at = now() WHERE token_hash = $1 AND ended_at IS NULL",
        _hash(session_token),
    )
