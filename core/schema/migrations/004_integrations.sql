-- What the media-service sync needs beyond 001.

-- A service's own per-user counters for an item (Jellyfin UserData, Plex user
-- ratings). user_stats is recomputed from watch_history and these, so a
-- service that reports only counters (Jellyfin has no per-play history) still
-- counts, and a re-sync overwrites its own numbers instead of adding to them.
CREATE TABLE media_user_state (
    service         text NOT NULL,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    media_item_id   uuid NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    play_count      integer CHECK (play_count IS NULL OR play_count >= 0),
    played          boolean,
    last_played_at  timestamptz,
    rating          numeric(3, 1) CHECK (rating IS NULL OR rating BETWEEN 0 AND 10),
    PRIMARY KEY (service, user_id, media_item_id)
);
CREATE INDEX media_user_state_pair_idx ON media_user_state (user_id, media_item_id);

-- A person seen through a new service is matched to an existing user by
-- e-mail, then by user name, both case-insensitively.
CREATE INDEX users_lower_email_idx ON users (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX users_lower_username_idx ON users (lower(username));

-- Requests are matched to media items (and back) by catalogue id.
CREATE INDEX content_requests_tmdb_idx ON content_requests (tmdb_id) WHERE tmdb_id IS NOT NULL;
CREATE INDEX content_requests_tvdb_idx ON content_requests (tvdb_id) WHERE tvdb_id IS NOT NULL;

-- (user, item) pairs whose user_stats row must be recomputed: filled in the
-- transaction that writes plays or counters, emptied by the set-based
-- recompute. A sync that fails halfway leaves its pairs here for the next
-- recompute instead of leaving user_stats stale. No foreign keys: the
-- recompute joins users and media_items, and a bulk sync writes a pair per
-- play, where per-row key checks would cost more than the pair itself.
CREATE TABLE user_stats_pending (
    user_id        uuid NOT NULL,
    media_item_id  uuid NOT NULL,
    PRIMARY KEY (user_id, media_item_id)
);

CREATE INDEX deletion_log_item_idx ON deletion_log (media_item_id) WHERE media_item_id IS NOT NULL;
