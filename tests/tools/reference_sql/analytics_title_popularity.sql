-- Titles (movies, and shows with their episodes rolled up) played in a period,
-- with how many distinct users played them. Names nobody. In personal mode the
-- asker's own plays are not counted. A title needs at least min_group_size
-- viewers in either mode: in admin mode too (a one-second window next to the
-- per-user totals of the same window would otherwise name what a member
-- watched), unless every viewer counted shares their activity with admins. The
-- scope is read once, not once per play. (The tools also widen admin windows
-- to whole days, core/tools/periods.py.)

CREATE OR REPLACE FUNCTION analytics.title_popularity(p_start timestamptz, p_end timestamptz, p_min_viewers integer)
RETURNS TABLE (media_item_id uuid, title text, media_type text, year integer, library_name text,
               genres jsonb, viewers bigint, sessions bigint, watched_seconds bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH asker AS MATERIALIZED (
        SELECT analytics.current_scope_mode() AS mode, analytics.current_scope_user() AS user_id,
               greatest(coalesce(analytics.current_scope_min_group_size(), 2), 1) AS min_group
    ), plays AS (
        SELECT coalesce(mi.parent_id, mi.id) AS top_id, wh.user_id, wh.watched_seconds
        FROM asker a
        JOIN watch_history wh ON a.mode = 'admin' OR wh.user_id IS DISTINCT FROM a.user_id
        JOIN media_items mi ON mi.id = wh.media_item_id
        WHERE wh.started_at >= p_start AND wh.started_at < p_end
          AND a.mode IN ('personal', 'admin')
    ), per_title AS (
        SELECT p.top_id, count(DISTINCT p.user_id) AS viewers, count(*) AS sessions,
               sum(p.watched_seconds)::bigint AS watched_seconds,
               bool_and(u.share_activity_with_admins) AS all_share_with_admins
        FROM plays p JOIN users u ON u.id = p.user_id
        GROUP BY p.top_id
    )
    SELECT t.id, t.title, t.media_type, t.year, t.library_name, coalesce(t.metadata -> 'genres', '[]'::jsonb),
           p.viewers, p.sessions, p.watched_seconds
    FROM per_title p
    JOIN media_items t ON t.id = p.top_id
    CROSS JOIN asker a
    WHERE p.viewers >= greatest(coalesce(p_min_viewers, 1), 1)
      AND (p.viewers >= a.min_group OR (a.mode = 'admin' AND p.all_share_with_admins))
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.title_popularity(p_start timestamptz, p_end timestamptz, p_min_viewers integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_popularity(p_start timestamptz, p_end timestamptz, p_min_viewers integer) TO marquee_engine;
