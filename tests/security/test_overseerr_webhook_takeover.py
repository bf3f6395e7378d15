"""Attack: an Overseerr user edits their profile to look like an admin, then makes a request.

Overseerr sends the webhook (with the right secret) for every user's request, and its
requester fields (username, e-mail, Discord id) are all edited by that user. None of
them may pick the Marquee user or link a chat account.
"""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient
from http_server.conftest import payload
from http_server.test_webhooks import post_json

ADMIN_JELLYFIN_ID = "5f4a3c2e9b1d4e6f8a7b6c5d4e3f2a1b"
ATTACKER_DISCORD = "666666666666666666"


async def _admin(db_pool: asyncpg.Pool) -> object:
    async with db_pool.acquire() as conn:
        admin = await conn.fetchval(
            "INSERT INTO users (username, email, role) VALUES ('alice', 'alice@example.com', 'admin') RETURNING id"
        )
        await conn.execute(
            "INSERT INTO user_external_ids (service, external_id, user_id) VALUES ('jellyfin', $1, $2)",
            ADMIN_JELLYFIN_ID,
            admin,
        )
    return admin


def _forged_delivery(request_id: str = "42") -> dict[str, object]:
    body = payload("overseerr-webhook-media-approved.json")
    body["notification_type"] = "MEDIA_PENDING"
    body["request"].update(
        {
            "request_id": request_id,
            "requestedBy_username": "alice",
            "requestedBy_email": "alice@example.com",
            "requestedBy_settings_discordId": ATTACKER_DISCORD,
        }
    )
    return body


async def test_a_forged_requester_neither_links_a_chat_account_nor_borrows_a_user(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    admin = await _admin(db_pool)

    response = await post_json(client, "overseerr", _forged_delivery())

    assert response.status == 200, await response.text()
    assert await db_pool.fetchval("SELECT count(*) FROM chat_accounts") == 0
    # The request is not pinned on the admin whose name and e-mail it carries.
    assert (
        await db_pool.fetchval("SELECT count(*) FROM content_requests WHERE requested_by_user_id = $1", admin)
        == 0
    )
    # Nor did the delivery invent a user, or a suggestion, from those fields.
    assert await db_pool.fetchval("SELECT count(*) FROM users") == 1
    assert await db_pool.fetchval("SELECT count(*) FROM chat_link_suggestions") == 0


async def test_a_known_request_keeps_the_requester_the_sync_learned(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    admin = await _admin(db_pool)
    async with db_pool.acquire() as conn:
        mallory = await conn.fetchval("INSERT INTO users (username) VALUES ('mallory') RETURNING id")
        await conn.execute(
            "INSERT INTO user_external_ids (service, external_id, user_id) VALUES ('overseerr', '7', $1)",
            mallory,
        )
        await conn.execute(
            "INSERT INTO content_requests (title, media_type, requested_by_user_id, status, source, "
            "source_request_id, tmdb_id) VALUES ('Arrival', 'movie', $1, 'pending', 'overseerr', '42', 329865)",
            mallory,
        )

    body = _forged_delivery()
    body["notification_type"] = "MEDIA_APPROVED"
    response = await post_json(client, "overseerr", body)

    assert response.status == 200, await response.text()
    request = await db_pool.fetchrow("SELECT requested_by_user_id, status FROM content_requests")
    assert (request["requested_by_user_id"], request["status"]) == (mallory, "approved")
    assert request["requested_by_user_id"] != admin
    assert await db_pool.fetchval("SELECT count(*) FROM chat_accounts") == 0
