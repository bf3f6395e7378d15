-- Rollups the tools read instead of scanning every row, kept exact by the
-- statement-level triggers in core/schema/functions/rollup_*.sql. Both start
-- empty with their base tables; the triggers maintain them from the first write.

-- Per-item totals of user_stats. "Never watched" and "what to remove"
-- (analytics.title_engagement) summed all 4.1 M user_stats rows of the large
-- demo server on every call (2.4-2.8 s); this has one row per media item that
-- has user_stats rows.
CREATE TABLE user_stats_item_totals (
    media_item_id   uuid PRIMARY KEY,
    plays           bigint NOT NULL DEFAULT 0,
    stat_rows       bigint NOT NULL DEFAULT 0,
    rating_sum      numeric NOT NULL DEFAULT 0,
    ratings         bigint NOT NULL DEFAULT 0,
    last_played_at  timestamptz
);

-- Lifetime sessions per (title, viewer), a show's episodes counting for the
-- show. analytics.requester_influence (requests watched by others, content
-- discoverers, power users, requesters who skip their requests) grouped every
-- play of every requested title on every call: 2.5 M plays on the large demo
-- server, over 2 s. Rolled up per title and viewer they are about 450 k rows.
CREATE TABLE title_viewer_sessions (
    title_id  uuid NOT NULL,
    user_id   uuid NOT NULL,
    sessions  bigint NOT NULL,
    PRIMARY KEY (title_id, user_id)
);
