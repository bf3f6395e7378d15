-- Whether a play was finished: the media service's own verdict where it gives
-- one, a percentage otherwise.
--
-- watch_history.service_watched is what the service said about this play:
-- Tautulli's watched_status (1 = watched, by its own percentage and credits
-- markers), Plex's history (every entry is a view Plex marked watched),
-- Jellyfin's PlayedToCompletion. NULL when the service did not say; the play
-- then counts as finished from play_rules.watched_percent (the setting
-- MARQUEE_WATCHED_PERCENT, written here at every start) of its length on.
-- The rule is applied where plays are counted (analytics.play_finished in
-- core/schema/functions/analytics_play_finished.sql), never stored per play,
-- so a changed setting is one row here and a recompute of user_stats.
ALTER TABLE watch_history ADD COLUMN service_watched boolean;

-- Plex's rows from before this column: its history lists only views it marked watched.
UPDATE watch_history SET service_watched = true WHERE source = 'plex';

-- One row: the rule for plays no service gave a verdict on.
CREATE TABLE play_rules (
    only_row         boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    watched_percent  numeric NOT NULL DEFAULT 90 CHECK (watched_percent > 0 AND watched_percent <= 100)
);
INSERT INTO play_rules DEFAULT VALUES;

-- The period aggregates stay index-only scans with the verdict in the index.
CREATE INDEX watch_history_started_cover_v2_idx ON watch_history (started_at)
    INCLUDE (media_item_id, user_id, watched_seconds, percent_complete, service_watched);
DROP INDEX watch_history_started_cover_idx;
