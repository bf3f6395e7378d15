"""Who is asking: chat accounts, the scope of a question, linking and the privacy opt-in.

The scope comes only from the ``chat_accounts``/``users`` rows and from where the
message arrived, never from what the message says.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from core import link_consent
from core.chat import ChatRequest, Platform
from core.errors import UserFacingError
from core.scope import Mode, Role, Scope

PLATFORMS: tuple[Platform, ...] = ("discord", "matrix", "console")


@dataclass(frozen=True)
class Identity:
    user_id: UUID
    username: str
    role: Role
    share_activity_with_admins: bool

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class AdminModeRefused(UserFacingError):
    """A non-admin asked for admin mode; the reason is safe to show."""


class UnknownUser(UserFacingError):
    """No ``users`` row has that username."""


class AlreadyLinked(UserFacingError):
    """The chat account is linked to another user; nothing relinks it."""


class UnknownPlatform(UserFacingError):
    """A link names a chat platform Marquee does not have."""


_RESOLVE = """
SELECT u.id, u.username, u.role, u.share_activity_with_admins
FROM chat_accounts ca JOIN users u ON u.id = ca.user_id
WHERE ca.platform = $1 AND ca.platform_user_id = $2
"""


async def resolve_sender(conn: asyncpg.Connection, platform: str, platform_user_id: str) -> Identity | None:
    row = await conn.fetchrow(_RESOLVE, platform, platform_user_id)
    if row is None:
        return None
    return Identity(row["id"], row["username"], row["role"], row["share_activity_with_admins"])


def requested_mode(request: ChatRequest) -> Mode:
    """Admin mode is asked for by the place (admin channel) or an explicit admin command, never by text."""
    return "admin" if request.is_admin_channel or request.explicit_admin else "personal"


def build_scope(identity: Identity, request: ChatRequest, timezone: ZoneInfo, min_group_size: int) -> Scope:
    mode = requested_mode(request)
    if mode == "admin" and not identity.is_admin:
        raise AdminModeRefused(
            "Admin mode is only for admins of this server. Ask me about your own viewing in a direct message."
        )
    return Scope(
        user_id=identity.user_id,
        username=identity.username,
        role=identity.role,
        mode=mode,
        timezone=timezone,
        min_group_size=min_group_size,
    )


def link_instructions(platform: str, platform_user_id: str) -> str:
    return (
        "Hi! I don't know who you are on this media server yet, so I can't answer questions.\n\n"
        f"Ask an admin to link your account: `marquee link {platform} {platform_user_id} <your server username>` "
        f"(or `link {platform} {platform_user_id} <username>` in the admin channel). "
        "Your chat id above is all they need."
    )


_LINK = """
INSERT INTO chat_accounts (platform, platform_user_id, user_id)
SELECT $1, $2, u.id FROM users u WHERE u.username = $3
ON CONFLICT (platform, platform_user_id) DO NOTHING
RETURNING user_id
"""

_CURRENT_LINK = """
SELECT u.id, u.username FROM chat_accounts ca JOIN users u ON u.id = ca.user_id
WHERE ca.platform = $1 AND ca.platform_user_id = $2
"""


async def link_account(
    conn: asyncpg.Connection,
    platform: str,
    platform_user_id: str,
    username: str,
    *,
    linked_by: str,
    method: str = "admin",
) -> UUID:
    """Link a chat identity to the user ``username``, recording ``linked_by`` in the audit trail.

    Raises ``UnknownUser``, or ``AlreadyLinked`` when the account is linked to someone
    else: a link is never moved, so a mistaken or hostile link cannot take an account
    over. Linking an account to the user it already belongs to changes nothing.
    """
    if platform not in PLATFORMS:
        raise UnknownPlatform(f"unknown platform {platform!r} (one of {', '.join(PLATFORMS)})")
    async with conn.transaction():
        user_id: UUID | None = await conn.fetchval(_LINK, platform, platform_user_id, username)
        if user_id is not None:
            await link_consent.audit(conn, platform, platform_user_id, user_id, "linked", method, linked_by)
            await conn.execute(
                "DELETE FROM chat_link_suggestions WHERE platform = $1 AND platform_user_id = $2",
                platform,
                platform_user_id,
            )
            return user_id
        current = await conn.fetchrow(_CURRENT_LINK, platform, platform_user_id)
        if current is None:
            raise UnknownUser(f"no user named {username!r} on this server")
        if current["username"] == username:
            linked: UUID = current["id"]
            return linked
        await link_consent.audit(conn, platform, platform_user_id, None, "refused", method, linked_by)
    raise AlreadyLinked(
        f"{platform} account {platform_user_id} is already linked to {current['username']!r}; "
        "a link is never moved to another user"
    )


async def unlink_account(
    conn: asyncpg.Connection, platform: str, platform_user_id: str, *, unlinked_by: str
) -> str:
    """Remove a chat account's link (the one way to correct a wrong link); returns the user it had."""
    async with conn.transaction():
        row = await conn.fetchrow(
            "DELETE FROM chat_accounts ca USING users u WHERE u.id = ca.user_id "
            "AND ca.platform = $1 AND ca.platform_user_id = $2 RETURNING u.id, u.username",
            platform,
            platform_user_id,
        )
        if row is None:
            raise UnknownUser(f"{platform} account {platform_user_id} is not linked")
        await link_consent.audit(
            conn, platform, platform_user_id, row["id"], "unlinked", "admin", unlinked_by
        )
    username: str = row["username"]
    return username


async def known_on(conn: asyncpg.Connection, user_id: UUID) -> list[str]:
    """The services that know this user by an id, e.g. ``['jellyfin', 'overseerr']``: what an admin checks."""
    services: list[str] = await conn.fetchval(
        "SELECT coalesce(array_agg(DISTINCT service ORDER BY service), '{}') FROM user_external_ids "
        "WHERE user_id = $1",
        user_id,
    )
    return services


async def console_identity(conn: asyncpg.Connection, username: str) -> Identity:
    """The terminal speaks as ``username``: its console chat account is that username, linked on first use.

    Whoever runs the CLI already holds the database, so linking the console
    account is no privilege beyond what they have.
    """
    await link_account(conn, "console", username, username, linked_by="console", method="console")
    identity = await resolve_sender(conn, "console", username)
    assert identity is not None
    return identity


async def default_console_username(conn: asyncpg.Connection) -> str | None:
    """The first admin of the server: who the CLI speaks as without ``--as``."""
    username: str | None = await conn.fetchval(
        "SELECT username FROM users WHERE role = 'admin' ORDER BY created_at, username LIMIT 1"
    )
    return username


async def set_share_activity(conn: asyncpg.Connection, user_id: UUID, share: bool) -> None:
    await conn.execute("UPDATE users SET share_activity_with_admins = $2 WHERE id = $1", user_id, share)
