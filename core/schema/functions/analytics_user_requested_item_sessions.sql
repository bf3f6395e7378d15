-- Sessions per user, in a period, of titles (or their episodes) that someone
-- else requested: starts from the requested titles, not from every play.

CREATE OR REPLACE FUNCTION analytics.user_requested_item_sessions(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, role text, last_login_at timestamptz,
               requested_item_sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH requested AS (
        SELECT media_item_id AS top_id, array_agg(DISTINCT requested_by_user_id) AS requesters
        FROM content_requests WHERE media_item_id IS NOT NULL
        GROUP BY media_item_id
    ), items AS (
        SELECT r.top_id AS item_id, r.requesters FROM requested r
        UNION ALL
        SELECT e.id, r.requesters FROM requested r JOIN media_items e ON e.parent_id = r.top_id
    ), sessions AS (
        SELECT wh.user_id, count(*) AS sessions
        FROM items i JOIN watch_history wh ON wh.media_item_id = i.item_id
        WHERE wh.started_at >= p_start AND wh.started_at < p_end AND NOT (wh.user_id = ALL (i.requesters))
        GROUP BY wh.user_id
    )
    SELECT u.id, u.username, u.display_name, u.role, u.last_login_at, s.sessions
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE analytics.scope_mode() = 'admin'
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.user_requested_item_sessions(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.user_requested_item_sessions(p_start timestamptz, p_end timestamptz) TO marquee_engine;
