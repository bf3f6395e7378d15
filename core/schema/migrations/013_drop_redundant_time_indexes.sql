-- 009's covering indexes lead with the same column as these plain ones, so every
-- query these served uses the covering index instead; dropping them saves a
-- write per row on the ingest path (1,000,000 plays in a first Plex sync).
DROP INDEX IF EXISTS watch_history_started_idx;
DROP INDEX IF EXISTS media_items_added_at_idx;
