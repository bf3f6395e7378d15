-- Per-user, per-UTC-day totals of watch_history, for the admin rankings of
-- users over any period ("most active", "who watches the most"). Summing
-- every play of the period per user read 330,000 plays for the last 30 days of
-- the large demo server and 3.2 M for a year (0.3-3 s); this has one row per
-- user and day they played (about 940,000 rows for 5 M plays over two years).
--
-- A period rarely falls on UTC midnights (admin periods are whole days of the
-- asker's zone), so the rankings read the whole UTC days inside the period
-- here and the plays of the partial days at its two ends from watch_history:
-- the sums are exactly those of the plays. Kept exact by the statement-level
-- triggers in core/schema/functions/rollup_user_daily_plays.sql (user_monthly_plays too).
CREATE TABLE user_daily_plays (
    day              date   NOT NULL,
    user_id          uuid   NOT NULL,
    sessions         bigint NOT NULL,
    watched_seconds  bigint NOT NULL,
    -- The totals ride in the key's index: a period's days are an index-only scan.
    PRIMARY KEY (day, user_id) INCLUDE (sessions, watched_seconds)
);

-- Like the rollups of 003, read only through SECURITY DEFINER functions (admin mode), never
-- granted to the engine role.

-- A database with plays already: the rollup starts from them, the triggers keep it from here on.
INSERT INTO user_daily_plays (day, user_id, sessions, watched_seconds)
SELECT (started_at AT TIME ZONE 'UTC')::date, user_id, count(*), sum(watched_seconds)
FROM watch_history
GROUP BY 1, 2;

-- The same totals per user and UTC month: a year of days is 12 rows per user here instead of
-- 365 there (the whole months inside a period come from here, the rest from the days).
CREATE TABLE user_monthly_plays (
    month            date   NOT NULL CHECK (month = date_trunc('month', month::timestamp)::date),
    user_id          uuid   NOT NULL,
    sessions         bigint NOT NULL,
    watched_seconds  bigint NOT NULL,
    PRIMARY KEY (month, user_id) INCLUDE (sessions, watched_seconds)
);

INSERT INTO user_monthly_plays (month, user_id, sessions, watched_seconds)
SELECT date_trunc('month', day::timestamp)::date, user_id, sum(sessions), sum(watched_seconds)
FROM user_daily_plays
GROUP BY 1, 2;

-- Who rated an item and how, for the ratings others gave to what someone requested
-- (analytics.requester_influence): an index-only lookup per requested item instead of
-- reading and sorting every rating (190,000 on the large demo server) on each call.
CREATE INDEX user_stats_item_rating_idx ON user_stats (media_item_id) INCLUDE (user_id, rating)
    WHERE rating IS NOT NULL;

-- A user's plays of a period with what the rankings count of them (the items, whether each
-- was finished, the time): "most active" and "who watches the most" count completed plays
-- and distinct items of their leaders here, index-only. Same key as the index it replaces.
CREATE INDEX watch_history_user_started_cover_idx ON watch_history (user_id, started_at)
    INCLUDE (media_item_id, watched_seconds, percent_complete, service_watched);
DROP INDEX watch_history_user_started_idx;
