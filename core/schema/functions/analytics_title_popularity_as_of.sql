-- analytics.title_popularity for a member, from the server-wide counts stored
-- by the last refresh (title_popularity_snapshots, migration 013) for the
-- window [p_start, p_end): the member's own plays in that window are taken off
-- each title (their sessions, their seconds, and themselves as a viewer), then
-- a title needs at least min_group_size other viewers, as live. Personal mode
-- only; admins read analytics.title_popularity (or their tools' snapshots).
-- Titles are named as they were at the refresh (stored with the counts).
-- A window the refresh did not store has no rows: callers look it up first
-- (analytics.title_popularity_windows).

-- The first p_limit titles by viewers (p_order 'viewers': viewers, sessions, title) or by
-- sessions ('sessions': sessions, viewers, title), all descending but the title.
--
-- Only the asker's own titles change when their plays are taken off, and only
-- downwards; every other title keeps its stored counts and its order. So each
-- of the first p_limit titles is either one of the asker's k titles, or among
-- the first p_limit + k stored titles (in the same order) that pass the
-- group-size check: those candidates are read by index, not the whole window.
CREATE OR REPLACE FUNCTION analytics.title_popularity_top_as_of(
    p_start timestamptz, p_end timestamptz, p_min_viewers integer, p_order text, p_limit integer)
RETURNS TABLE (media_item_id uuid, title text, media_type text, year integer, library_name text,
               genres jsonb, viewers bigint, sessions bigint, watched_seconds bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    asker uuid := analytics.current_scope_user();
    min_group integer := greatest(coalesce(analytics.current_scope_min_group_size(), 2), 1);
    min_viewers integer := greatest(coalesce(p_min_viewers, 1), 1);
    at_least integer;
    own_titles bigint;
BEGIN
    IF analytics.current_scope_mode() IS DISTINCT FROM 'personal' OR p_order NOT IN ('viewers', 'sessions') THEN
        RETURN;
    END IF;
    at_least := greatest(min_group, min_viewers);
    SELECT count(DISTINCT coalesce(mi.parent_id, mi.id)) INTO own_titles
    FROM watch_history wh JOIN media_items mi ON mi.id = wh.media_item_id
    WHERE wh.user_id = asker AND wh.started_at >= p_start AND wh.started_at < p_end;

    RETURN QUERY
    WITH own AS MATERIALIZED (
        SELECT coalesce(mi.parent_id, mi.id) AS top_id, count(*) AS sessions,
               sum(wh.watched_seconds)::bigint AS watched_seconds
        FROM watch_history wh
        JOIN media_items mi ON mi.id = wh.media_item_id
        WHERE wh.user_id = asker AND wh.started_at >= p_start AND wh.started_at < p_end
        GROUP BY 1
    ), candidates AS (
        (SELECT s.title_id FROM title_popularity_snapshots s
         WHERE p_order = 'viewers' AND s.window_start = p_start AND s.window_end = p_end AND s.viewers >= at_least
         ORDER BY s.viewers DESC, s.sessions DESC, s.title
         LIMIT p_limit + own_titles)
        UNION
        (SELECT s.title_id FROM title_popularity_snapshots s
         WHERE p_order = 'sessions' AND s.window_start = p_start AND s.window_end = p_end AND s.viewers >= at_least
         ORDER BY s.sessions DESC, s.viewers DESC, s.title
         LIMIT p_limit + own_titles)
        UNION
        SELECT o.top_id FROM own o
    ), per_title AS (
        SELECT s.title_id AS top_id, s.title, s.media_type, s.year, s.library_name, s.genres,
               s.viewers - (o.top_id IS NOT NULL)::integer AS viewers,
               s.sessions - coalesce(o.sessions, 0) AS sessions,
               s.watched_seconds - coalesce(o.watched_seconds, 0) AS watched_seconds
        FROM candidates c
        JOIN title_popularity_snapshots s
          ON s.window_start = p_start AND s.window_end = p_end AND s.title_id = c.title_id AND s.viewers >= at_least
        LEFT JOIN own o ON o.top_id = s.title_id
    )
    SELECT p.top_id, p.title, p.media_type, p.year, p.library_name, p.genres, p.viewers, p.sessions, p.watched_seconds
    FROM per_title p
    WHERE p.viewers >= at_least
    ORDER BY CASE WHEN p_order = 'viewers' THEN p.viewers ELSE p.sessions END DESC,
             CASE WHEN p_order = 'viewers' THEN p.sessions ELSE p.viewers END DESC,
             p.title
    LIMIT p_limit;
END
$$;

-- The counts of just these titles (those that pass the group-size check).
CREATE OR REPLACE FUNCTION analytics.title_popularity_of_as_of(
    p_start timestamptz, p_end timestamptz, p_min_viewers integer, p_title_ids uuid[])
RETURNS TABLE (media_item_id uuid, viewers bigint, sessions bigint, watched_seconds bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH asker AS MATERIALIZED (
        SELECT analytics.current_scope_user() AS user_id,
               greatest(coalesce(analytics.current_scope_min_group_size(), 2), 1,
                        coalesce(p_min_viewers, 1)) AS at_least
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
        SELECT s.title_id AS top_id,
               s.viewers - (o.top_id IS NOT NULL)::integer AS viewers,
               s.sessions - coalesce(o.sessions, 0) AS sessions,
               s.watched_seconds - coalesce(o.watched_seconds, 0) AS watched_seconds
        FROM title_popularity_snapshots s
        LEFT JOIN own o ON o.top_id = s.title_id
        WHERE s.window_start = p_start AND s.window_end = p_end AND s.title_id = ANY (p_title_ids)
    )
    SELECT p.top_id, p.viewers, p.sessions, p.watched_seconds
    FROM per_title p CROSS JOIN asker a
    WHERE p.viewers >= a.at_least
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
REVOKE EXECUTE ON FUNCTION analytics.title_popularity_top_as_of(p_start timestamptz, p_end timestamptz, p_min_viewers integer, p_order text, p_limit integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_popularity_top_as_of(p_start timestamptz, p_end timestamptz, p_min_viewers integer, p_order text, p_limit integer) TO marquee_engine;
REVOKE EXECUTE ON FUNCTION analytics.title_popularity_of_as_of(p_start timestamptz, p_end timestamptz, p_min_viewers integer, p_title_ids uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_popularity_of_as_of(p_start timestamptz, p_end timestamptz, p_min_viewers integer, p_title_ids uuid[]) TO marquee_engine;
REVOKE EXECUTE ON FUNCTION analytics.title_popularity_windows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_popularity_windows() TO marquee_engine;
