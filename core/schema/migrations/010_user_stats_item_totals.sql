-- Per-item totals of user_stats, kept current by triggers on user_stats.
--
-- "Never watched" and "what to remove" (analytics.title_engagement) summed all
-- 4.1 M user_stats rows of the large demo server on every call (2.4-2.8 s).
-- This rollup has one row per media item that has user_stats rows. Triggers
-- keep it exact for every writer (the ingest recompute in core/ingest/stats.py,
-- the demo generator's COPY, cascaded deletes), so no hook can be forgotten and
-- nothing is stale.
--
-- Correctness under concurrency: the trigger first locks (or creates) the
-- affected rollup rows in one statement, then recomputes them from user_stats
-- in the next statement. That later statement takes a fresh snapshot, so it
-- sees every transaction that touched the same items and committed before the
-- lock was granted; a transaction still waiting for the lock recomputes after
-- this one commits.
CREATE TABLE user_stats_item_totals (
    media_item_id   uuid PRIMARY KEY,
    plays           bigint NOT NULL DEFAULT 0,
    stat_rows       bigint NOT NULL DEFAULT 0,
    rating_sum      numeric NOT NULL DEFAULT 0,
    ratings         bigint NOT NULL DEFAULT 0,
    last_played_at  timestamptz
);

-- Recompute the totals of these items from user_stats; items left without any
-- user_stats row lose their totals row.
CREATE FUNCTION refresh_user_stats_item_totals(p_item_ids uuid[]) RETURNS void
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

CREATE FUNCTION user_stats_item_totals_after_change() RETURNS trigger
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

CREATE FUNCTION user_stats_item_totals_after_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    TRUNCATE user_stats_item_totals;
    RETURN NULL;
END
$$;

CREATE TRIGGER user_stats_item_totals_insert AFTER INSERT ON user_stats
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_stats_item_totals_after_change();
CREATE TRIGGER user_stats_item_totals_update AFTER UPDATE ON user_stats
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_stats_item_totals_after_change();
CREATE TRIGGER user_stats_item_totals_delete AFTER DELETE ON user_stats
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_stats_item_totals_after_change();
CREATE TRIGGER user_stats_item_totals_truncate AFTER TRUNCATE ON user_stats
    FOR EACH STATEMENT EXECUTE FUNCTION user_stats_item_totals_after_truncate();

INSERT INTO user_stats_item_totals (media_item_id, plays, stat_rows, rating_sum, ratings, last_played_at)
SELECT media_item_id, sum(play_count), count(*), coalesce(sum(rating), 0), count(rating), max(last_played_at)
FROM user_stats
GROUP BY media_item_id;

-- title_engagement of 007, reading the rollup instead of every user_stats row.
-- Same columns, same meaning, same privacy rule (admin mode only, no user ids).
CREATE OR REPLACE FUNCTION analytics.title_engagement(p_added_before timestamptz)
RETURNS TABLE (media_item_id uuid, title text, media_type text, year integer, library_name text,
               added_at timestamptz, audience_rating double precision, size_bytes bigint,
               files bigint, files_with_size bigint, plays bigint, stat_rows bigint,
               avg_user_rating double precision, last_played_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH per_title AS (
        SELECT coalesce(mi.parent_id, mi.id) AS top_id,
               sum(mi.file_size_bytes)::bigint AS size_bytes,
               count(*) FILTER (WHERE mi.media_type <> 'show') AS files,
               count(mi.file_size_bytes) AS files_with_size,
               coalesce(sum(s.plays), 0)::bigint AS plays,
               coalesce(sum(s.stat_rows), 0)::bigint AS stat_rows,
               (sum(s.rating_sum) / nullif(sum(s.ratings), 0))::double precision AS avg_user_rating,
               max(s.last_played_at) AS last_played_at
        FROM media_items mi
        LEFT JOIN user_stats_item_totals s ON s.media_item_id = mi.id
        GROUP BY coalesce(mi.parent_id, mi.id)
    )
    SELECT t.id, t.title, t.media_type, t.year, t.library_name, t.added_at,
           (t.metadata ->> 'rating')::double precision, p.size_bytes, p.files, p.files_with_size, p.plays,
           p.stat_rows, p.avg_user_rating, p.last_played_at
    FROM per_title p
    JOIN media_items t ON t.id = p.top_id
    WHERE t.media_type IN ('movie', 'show') AND t.added_at < p_added_before
      AND analytics.scope_mode() = 'admin'
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics TO marquee_engine;
