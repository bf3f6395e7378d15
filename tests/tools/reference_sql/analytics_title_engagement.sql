-- Lifetime engagement of every title (movie or show) added before a time:
-- plays and user_stats rows, size (a show's is its episodes' sum) and how much
-- of that size is known. For "never watched" and "what to remove".
--
-- Reads the per-item rollup user_stats_item_totals, not every user_stats row
-- (4.1 M rows on the large demo server, 2.4-2.8 s a call). "stat_rows" is the
-- number of user_stats rows behind the title (per episode for a show), which
-- is all "never watched" and "what to remove" need. Admin mode only, no user ids.

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

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.title_engagement(p_added_before timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_engagement(p_added_before timestamptz) TO marquee_engine;
