"""Attack carried over from before: an Overseerr account merged into an admin by a look-alike name.

A database written by earlier versions (which also matched people by e-mail and user
name) may hold such a merge. Migration 015 drops Overseerr/Jellyseerr id links of users
that another service knows too, so the next sync re-learns them from immutable ids
only, and the merged account's Discord id cannot be offered as the admin's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
from media.fakes import FakeSeerr, seerr_user, serve
from media.test_services_sync import seerr_job

from core.db import create_pool
from core.migrations import apply_migrations, default_migrations_dir
from core.sync.jobs import run_job

ATTACKER_DISCORD = "666666666666666666"


async def test_a_name_merged_overseerr_account_is_split_off_by_the_upgrade(
    empty_database_url: str, tmp_path: Path
) -> None:
    before = tmp_path / "migrations"
    before.mkdir()
    for sql in sorted(default_migrations_dir().glob("*.sql")):
        if int(sql.name.split("_", 1)[0]) < 15:
            shutil.copy(sql, before / sql.name)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await apply_migrations(conn, before)
        admin = await conn.fetchval(
            "INSERT INTO users (username, role) VALUES ('alice', 'admin') RETURNING id"
        )
        bob = await conn.fetchval("INSERT INTO users (username) VALUES ('bob') RETURNING id")
        await conn.executemany(
            "INSERT INTO user_external_ids (service, external_id, user_id) VALUES ($1, $2, $3)",
            [
                ("jellyfin", "5f4a3c2e9b1d4e6f8a7b6c5d4e3f2a1b", admin),
                ("overseerr", "3", admin),  # mallory, merged by the name "alice"
                ("overseerr", "4", bob),  # known only through Overseerr: nothing to doubt
            ],
        )

        await apply_migrations(conn)

        links = await conn.fetch("SELECT service, external_id, user_id FROM user_external_ids ORDER BY 1, 2")
        assert [(r["service"], r["external_id"], r["user_id"]) for r in links] == [
            ("jellyfin", "5f4a3c2e9b1d4e6f8a7b6c5d4e3f2a1b", admin),
            ("overseerr", "4", bob),
        ]
    finally:
        await conn.close()

    pool = await create_pool(empty_database_url, max_size=4)
    try:
        seerr = FakeSeerr()
        seerr.users = [seerr_user(3, "alice@example.com", "alice")]
        seerr.discord_ids = {3: ATTACKER_DISCORD}
        seerr.media_requests = []
        async with serve(seerr) as url:
            assert (await run_job(pool, seerr_job(url))).ok
        suggested = await pool.fetchval("SELECT user_id FROM chat_link_suggestions")
        assert suggested is not None and suggested != admin
    finally:
        await pool.close()
