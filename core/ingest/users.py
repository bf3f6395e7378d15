"""Users seen through the media services: one ``users`` row per person, whatever the service.

People are matched only by ids that no user can edit: the id each service gives
them (Plex account id, Jellyfin user id, Overseerr user id) and the links a
service reports between those ids (Tautulli's Plex account ids, Overseerr's
``plexId``/``jellyfinUserId``). A username, display name or e-mail address is
typed in by the user and decides nothing: two accounts with the same name on two
services stay two users until an immutable id links them.
"""

from __future__ import annotations

import uuid

import asyncpg

from core import link_consent
from core.ingest.records import UserRecord

# The record's own id first, then its aliases in order: the service's own id
# for the person decides when the ids disagree.
_FIND_BY_EXTERNAL_ID = """
SELECT e.user_id
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(service, external_id, position)
JOIN user_external_ids e ON e.service = t.service AND e.external_id = t.external_id
ORDER BY t.position
LIMIT 1
"""

_INSERT_USER = """
INSERT INTO users (username, display_name, email, role, last_login_at, removed_at)
VALUES ($1, $2, $3, CASE WHEN $4 THEN 'admin' ELSE 'user' END, $5, CASE WHEN NOT $6 THEN now() END)
ON CONFLICT (username) DO NOTHING
RETURNING id
"""

# Fill what is missing, never blank what another service reported; only
# write when something changed, so a re-sync leaves the row alone.
_UPDATE_USER = """
UPDATE users SET
    display_name = COALESCE($2, display_name),
    email = COALESCE(email, $3),
    role = CASE WHEN $4 THEN 'admin' ELSE role END,
    last_login_at = GREATEST(last_login_at, $5),
    -- Removed when the service says so (first time kept), back when it lists them as active again.
    removed_at = CASE WHEN $6 THEN NULL WHEN NOT $6 THEN COALESCE(removed_at, now()) ELSE removed_at END
WHERE id = $1
  AND (display_name IS DISTINCT FROM COALESCE($2, display_name)
       OR email IS DISTINCT FROM COALESCE(email, $3)
       OR ($4 AND role <> 'admin')
       OR last_login_at IS DISTINCT FROM GREATEST(last_login_at, $5)
       OR ($6 AND removed_at IS NOT NULL)
       OR (NOT $6 AND removed_at IS NULL))
"""

_LINK_EXTERNAL_IDS = """
INSERT INTO user_external_ids (service, external_id, user_id)
SELECT service, external_id, $3 FROM unnest($1::text[], $2::text[]) AS t(service, external_id)
ON CONFLICT (service, external_id) DO NOTHING
"""


async def upsert_user(conn: asyncpg.Connection, record: UserRecord) -> uuid.UUID:
    """The id of the one ``users`` row for this person, creating or completing it as needed.

    A Discord id the record carries (from the user's own settings) is only a
    suggestion: its owner confirms it in a DM (``core.link_consent``).
    """
    own = [(record.service, record.external_id)] if record.external_id is not None else []
    ids = [*own, *record.aliases]
    services = [service for service, _ in ids]
    external_ids = [external_id for _, external_id in ids]
    user_id: uuid.UUID | None = None
    if ids:
        user_id = await conn.fetchval(_FIND_BY_EXTERNAL_ID, services, external_ids)
    if user_id is None:
        user_id = await _insert_user(conn, record)
    else:
        await conn.execute(
            _UPDATE_USER,
            user_id,
            record.display_name,
            record.email or None,
            record.is_admin,
            record.last_login_at,
            record.is_active,
        )
    if ids:
        await conn.execute(_LINK_EXTERNAL_IDS, services, external_ids, user_id)
    if record.discord_id:
        await link_consent.suggest(conn, "discord", record.discord_id, user_id, record.service)
    return user_id


async def _insert_user(conn: asyncpg.Connection, record: UserRecord) -> uuid.UUID:
    # A different person may already hold this user name on another service.
    for username in (
        record.username,
        f"{record.username} ({record.service})",
        f"{record.username} ({uuid.uuid4().hex[:6]})",
    ):
        user_id: uuid.UUID | None = await conn.fetchval(
            _INSERT_USER,
            username,
            record.display_name,
            record.email or None,
            record.is_admin,
            record.last_login_at,
            record.is_active,
        )
        if user_id is not None:
            return user_id
    raise RuntimeError(f"could not find a free user name for {record.username!r}")  # pragma: no cover
