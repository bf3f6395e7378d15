-- People removed from the media server (a friend whose share was revoked:
-- Tautulli's users.is_active = 0) are kept, with their history, but marked:
-- "who hasn't logged in" is about people who still could.
ALTER TABLE users ADD COLUMN removed_at timestamptz;
GRANT SELECT (removed_at) ON users TO marquee_engine;
