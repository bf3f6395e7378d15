-- People removed from the media server (a friend whose share was revoked:
-- Tautulli's users.is_active = 0) are kept, with their history, but marked:
-- "who hasn't logged in" is about people who still could.
ALTER TABLE users ADD COLUMN removed_at timestamptz;
GRANT SELECT (removed_at) ON users TO marquee_engine;

-- When an item arrived is unknown for items first seen in play history (Tautulli):
-- NULL says so, where now() claimed they had all just arrived. The library
-- syncs fill it (Plex addedAt, Jellyfin DateCreated); the earliest known wins.
-- The default stays for writers that do know the row is new.
ALTER TABLE media_items ALTER COLUMN added_at DROP NOT NULL;
