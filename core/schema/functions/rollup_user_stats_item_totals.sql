-- Keeps user_stats_item_totals (core/schema/migrations/003_rollups.sql) exact
-- for every writer of user_stats: the ingest recompute in core/ingest/stats.py,
-- the demo generator's COPY, cascaded deletes. No hook can be forgotten and
-- nothing is stale.
--
-- Correctness under concurrency: the trigger first locks (or creates) the
-- affected rollup rows in one statement, then recomputes them from user_stats
-- in the next statement. That later statement takes a fresh snapshot, so it
-- sees every transaction that touched the same items and committed before the
-- lock was granted; a transaction still waiting for the lock recomputes after
-- this one commits.

-- Recompute the totals of these items from user_stats; items left without any
-- user_stats row lose their totals row.
CREATE OR REPLACE FUNCTION refresh_user_stats_item_totals(p_item_ids uuid[]) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    -- Lock in a fixed order so two writers of overlapping items cannot deadlock.
    INSERT INTO user_stats_item_totals AS t (media_item_id)
    SELECT DISTINCT i FROM unnest(p_item_ids) AS i ORDER BY i
    ON CONFLICT (media_item_id) DO UPDATE SET plays = t.plays;

    UPDATE user_stats_item_totals t
    SET plays = coalesce(s.plays, 0), stat_rows = coalesce(s.stat_rows, 0),
        rating_sum = coalesce(s.rating_sum, 0), ratings = coalesce(s.ratings, 0),
        last_played_at = s.last_played_at
    FROM unnest(p_item_ids) AS a(id)
    LEFT JOIN (
        SELECT us.media_item_id, sum(us.play_count) AS plays, count(*) AS stat_rows,
               sum(us.rating) AS rating_sum, count(us.rating) AS ratings,
               max(us.last_played_at) AS last_played_at
        FROM user_stats us
        WHERE us.media_item_id = ANY (p_item_ids)
        GROUP BY us.media_item_id
    ) s ON s.media_item_id = a.id
    WHERE t.media_item_id = a.id;

    DELETE FROM user_stats_item_totals WHERE media_item_id = ANY (p_item_ids) AND stat_rows = 0;
END
$$;

CREATE OR REPLACE FUNCTION user_stats_item_totals_after_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
DECLARE
    item_ids uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT media_item_id) INTO item_ids FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT media_item_id) INTO item_ids FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT media_item_id) INTO item_ids
        FROM (SELECT media_item_id FROM new_rows UNION SELECT media_item_id FROM old_rows) changed;
    END IF;
    IF item_ids IS NOT NULL THEN
        PERFORM refresh_user_stats_item_totals(item_ids);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION user_stats_item_totals_after_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    TRUNCATE user_stats_item_totals;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER user_stats_item_totals_insert AFTER INSERT ON user_stats
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_stats_item_totals_after_change();
CREATE OR REPLACE TRIGGER user_stats_item_totals_update AFTER UPDATE ON user_stats
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_stats_item_totals_after_change();
CREATE OR REPLACE TRIGGER user_stats_item_totals_delete AFTER DELETE ON user_stats
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_stats_item_totals_after_change();
CREATE OR REPLACE TRIGGER user_stats_item_totals_truncate AFTER TRUNCATE ON user_stats
    FOR EACH STATEMENT EXECUTE FUNCTION user_stats_item_totals_after_truncate();
