-- analytics.title_engagement of 002 joined every user_stats row to every file
-- and counted distinct viewers per title: over 15 s on the large demo server
-- (3 M user_stats rows). This version aggregates user_stats per item first
-- (one hash aggregate), then rolls items up to their title. "viewers" becomes
-- stat_rows: user_stats rows behind the title (per episode for a show), which
-- is all "never watched" and "what to remove" need. Same privacy rule: admin
-- mode only, no user ids.

DROP FUNCTION analytics.title_engagement(timestamptz);

CREATE FUNCTION analytics.title_engagement(p_added_before timestamptz)
RETURNS TABLE (media_item_id uuid, title text, media_type text, year integer, library_name text,
               added_at timestamptz, audience_rating double precision, size_bytes bigint,
               files bigint, files_with_size bigint, plays bigint, stat_rows bigint,
               avg_user_rating double precision, last_played_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH item_stats AS (
        SELECT us.media_item_id, sum(us.play_count) AS plays, count(*) AS stat_rows,
               sum(us.rating) AS rating_sum, count(us.rating) AS ratings, max(us.last_played_at) AS last_played_at
        FROM user_stats us
        GROUP BY us.media_item_id
    ), per_title AS (
        SELECT coalesce(mi.parent_id, mi.id) AS top_id,
               sum(mi.file_size_bytes)::bigint AS size_bytes,
               count(*) FILTER (WHERE mi.media_type <> 'show') AS files,
               count(mi.file_size_bytes) AS files_with_size,
               coalesce(sum(s.plays), 0)::bigint AS plays,
               coalesce(sum(s.stat_rows), 0)::bigint AS stat_rows,
               (sum(s.rating_sum) / nullif(sum(s.ratings), 0))::double precision AS avg_user_rating,
               max(s.last_played_at) AS last_played_at
        FROM media_items mi
        LEFT JOIN item_stats s ON s.media_item_id = mi.id
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
