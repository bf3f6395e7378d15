"""Attack: an Overseerr user copies an admin's username, display name and e-mail, and sets their own Discord id.

The sync reads those fields with the API key, but the user edits them. Only the ids
nobody can edit (the Overseerr user id and its plexId/jellyfinUserId link) may decide
which Marquee user an Overseerr user is; the Discord id in their notification settings
is only a suggestion that the Discord account's owner must confirm.
"""

from __future__ import annotations

import asyncpg
from media.fakes import FakeJellyfin, FakePlex, FakeSeerr, seerr_user, serve
from media.test_services_sync import jellyfin_job, seerr_job

from adapters.media.plex import PlexSettings, PlexSyncJob
from core.sync.jobs import run_job

ALICE_JELLYFIN_ID = "5f4a3c2e9b1d4e6f8a7b6c5d4e3f2a1b"  # alice is a Jellyfin administrator
ATTACKER_DISCORD = "666666666666666666"


async def test_copied_names_and_email_do_not_make_an_overseerr_user_the_admin(db_pool: asyncpg.Pool) -> None:
    async with serve(FakeJellyfin()) as jellyfin_url:
        assert (await run_job(db_pool, jellyfin_job(jellyfin_url))).ok
    alice = await db_pool.fetchval("SELECT id FROM users WHERE username = 'alice'")
    await db_pool.execute("UPDATE users SET email = 'alice@example.com' WHERE id = $1", alice)

    seerr = FakeSeerr()
    mallory = seerr_user(3, "alice@example.com", "alice", plexUsername="alice", displayName="alice")
    seerr.users = [mallory]
    seerr.discord_ids = {3: ATTACKER_DISCORD}
    seerr.media_requests = [
        {"id": 21, "status": 1, "type": "movie", "createdAt": "2026-04-01T10:00:00.000Z",
         "updatedAt": "2026-04-01T10:00:00.000Z", "requestedBy": mallory, "modifiedBy": None,
         "media": {"id": 9, "tmdbId": 329865, "status": 2}},
    ]  # fmt: skip
    async with serve(seerr) as url:
        result = await run_job(db_pool, seerr_job(url))
        assert result.ok, result.error

    # The attacker's Discord account is linked to nobody, least of all the admin.
    assert await db_pool.fetchval("SELECT count(*) FROM chat_accounts") == 0
    # The Overseerr user is their own Marquee user, not alice.
    owner = await db_pool.fetchval(
        "SELECT user_id FROM user_external_ids WHERE service = 'overseerr' AND external_id = '3'"
    )
    assert owner is not None and owner != alice
    assert await db_pool.fetchval("SELECT role FROM users WHERE id = $1", owner) == "user"
    requester = await db_pool.fetchval("SELECT requested_by_user_id FROM content_requests")
    assert requester == owner
    # Its Discord id is kept only as a suggestion for that account's owner to confirm.
    suggestion = await db_pool.fetchrow("SELECT platform_user_id, user_id FROM chat_link_suggestions")
    assert (suggestion["platform_user_id"], suggestion["user_id"]) == (ATTACKER_DISCORD, owner)


async def test_an_overseerr_user_is_matched_by_its_jellyfin_user_id_whatever_its_name(
    db_pool: asyncpg.Pool,
) -> None:
    async with serve(FakeJellyfin()) as jellyfin_url:
        assert (await run_job(db_pool, jellyfin_job(jellyfin_url))).ok
    alice = await db_pool.fetchval("SELECT id FROM users WHERE username = 'alice'")

    seerr = FakeSeerr()
    renamed = seerr_user(2, "someone@example.com", "not-alice-at-all", jellyfinUserId=ALICE_JELLYFIN_ID)
    seerr.users = [renamed]
    seerr.media_requests = []
    async with serve(seerr) as url:
        assert (await run_job(db_pool, seerr_job(url, "jellyseerr"))).ok

    assert (
        await db_pool.fetchval(
            "SELECT user_id FROM user_external_ids WHERE service = 'jellyseerr' AND external_id = '2'"
        )
        == alice
    )


async def test_an_overseerr_user_is_matched_by_its_plex_id_whatever_its_name(db_pool: asyncpg.Pool) -> None:
    async with serve(FakePlex()) as plex_url:  # accounts: PlexUser (1), Kids (3972737)
        assert (await run_job(db_pool, PlexSyncJob(PlexSettings(url=plex_url, token="plex-token")))).ok
    kids = await db_pool.fetchval("SELECT id FROM users WHERE username = 'Kids'")

    seerr = FakeSeerr()
    # Named like the server owner, but signed in with the Kids account.
    seerr.users = [seerr_user(5, "kids@example.com", "PlexUser", plexId=3972737)]
    seerr.media_requests = []
    async with serve(seerr) as url:
        assert (await run_job(db_pool, seerr_job(url))).ok

    assert (
        await db_pool.fetchval(
            "SELECT user_id FROM user_external_ids WHERE service = 'overseerr' AND external_id = '5'"
        )
        == kids
    )
