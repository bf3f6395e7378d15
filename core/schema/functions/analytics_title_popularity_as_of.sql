-- analytics.title_popularity for a member, from the server-wide counts stored
-- by the last refresh (title_popularity_snapshots, migration 013) for the
-- window [p_start, p_end): the member's own plays in that window are taken off
-- each title (their sessions, their seconds, and themselves as a viewer), then
-- a title needs at least min_group_size other viewers, as live. Personal mode
-- only; admins read analytics.title_popularity (or their tools' snapshots).
-- Titles are named as they were at the refresh (stored with the counts).
-- A window the refresh did not store has no rows: callers look it up first
-- (analytics.title_popularity_windows).

CREATE OR REPLACE FUNCTION analytics.title_popularity_as_of(p_start timestamptz, p_end timestamptz, p_min_viewers integer)
RETURNS TABLE (media_item_id uuid, title text, media_type text, year integer, library_name text,
               genres jsonb, viewers bigint, sessions bigint, watched_seconds bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH asker AS MATERIALIZED (
        SELECT analytics.current_scope_user() AS user_id,
               greatest(coalesce(analytics.current_scope_min_group_size(), 2), 1) AS min_group,
               greatest(coalesce(p_min_viewers, 1), 1) AS min_viewers
        WHERE analytics.current_scope_mode() = 'personal'
    ), own AS (
        SELECT coalesce(mi.parent_id, mi.id) AS top_id, count(*) AS sessions,
               sum(wh.watched_seconds)::bigint AS watched_seconds
        FROM asker a
        JOIN watch_history wh ON wh.user_id = a.user_id
        JOIN media_items mi ON mi.id = wh.media_item_id
        WHERE wh.started_at >= p_start AND wh.started_at < p_end
        GROUP BY 1
    ), per_title AS (
        -- Another viewer's title had at least as many viewers before the asker was taken off.
        SELECT s.title_id AS top_id, s.title, s.media_type, s.year, s.library_name, s.genres,
               s.viewers - (o.top_id IS NOT NULL)::integer AS viewers,
               s.sessions - coalesce(o.sessions, 0) AS sessions,
               s.watched_seconds - coalesce(o.watched_seconds, 0) AS watched_seconds
        FROM asker a
        JOIN title_popularity_snapshots s
          ON s.window_start = p_start AND s.window_end = p_end
         AND s.viewers >= greatest(a.min_group, a.min_viewers)
        LEFT JOIN own o ON o.top_id = s.title_id
    )
    SELECT p.top_id, p.title, p.media_type, p.year, p.library_name, p.genres, p.viewers, p.sessions, p.watched_seconds
    FROM per_title p
    CROSS JOIN asker a
    WHERE p.viewers >= a.min_viewers AND p.viewers >= a.min_group
$$;

-- The windows the last refresh stored, newest first.
CREATE OR REPLACE FUNCTION analytics.title_popularity_windows()
RETURNS TABLE (window_start timestamptz, window_end timestamptz, computed_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT w.window_start, w.window_end, w.computed_at FROM title_popularity_windows w
    WHERE analytics.current_scope_mode() = 'personal'
    ORDER BY w.window_end DESC, w.window_start DESC
$$;

-- Functions are executable by PUBLIC when created; only the engine may call these.
REVOKE EXECUTE ON FUNCTION analytics.title_popularity_as_of(p_start timestamptz, p_end timestamptz, p_min_viewers integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_popularity_as_of(p_start timestamptz, p_end timestamptz, p_min_viewers integer) TO marquee_engine;
REVOKE EXECUTE ON FUNCTION analytics.title_popularity_windows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_popularity_windows() TO marquee_engine;
