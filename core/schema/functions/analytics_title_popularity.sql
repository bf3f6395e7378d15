-- Titles (movies, and shows with their episodes rolled up) played in a period,
-- with how many distinct users played them. Names nobody. In personal mode the
-- asker's own plays are not counted and a title needs at least
-- min_group_size other viewers; in admin mode p_min_viewers applies.

CREATE OR REPLACE FUNCTION analytics.title_popularity(p_start timestamptz, p_end timestamptz, p_min_viewers integer)
RETURNS TABLE (media_item_id uuid, title text, media_type text, year integer, library_name text,
               genres jsonb, viewers bigint, sessions bigint, watched_seconds bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH plays AS (
        SELECT coalesce(mi.parent_id, mi.id) AS top_id, wh.user_id, wh.watched_seconds
        FROM watch_history wh
        JOIN media_items mi ON mi.id = wh.media_item_id
        WHERE wh.started_at >= p_start AND wh.started_at < p_end
          AND analytics.scope_mode() IN ('personal', 'admin')
          AND (analytics.scope_mode() = 'admin' OR wh.user_id IS DISTINCT FROM analytics.scope_user_id())
    ), per_title AS (
        SELECT top_id, count(DISTINCT user_id) AS viewers, count(*) AS sessions,
               sum(watched_seconds)::bigint AS watched_seconds
        FROM plays GROUP BY top_id
    )
    SELECT t.id, t.title, t.media_type, t.year, t.library_name, coalesce(t.metadata -> 'genres', '[]'::jsonb),
           p.viewers, p.sessions, p.watched_seconds
    FROM per_title p
    JOIN media_items t ON t.id = p.top_id
    WHERE p.viewers >= CASE WHEN analytics.scope_mode() = 'personal'
                            THEN greatest(analytics.scope_min_group_size(), coalesce(p_min_viewers, 1))
                            ELSE greatest(coalesce(p_min_viewers, 1), 1) END
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.title_popularity(p_start timestamptz, p_end timestamptz, p_min_viewers integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_popularity(p_start timestamptz, p_end timestamptz, p_min_viewers integer) TO marquee_engine;
