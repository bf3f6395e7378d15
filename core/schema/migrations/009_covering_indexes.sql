-- Index-only scans for the server-wide aggregates over a period (trending,
-- what others watch, admin leaderboards, library growth): the plain indexes on
-- watch_history.started_at and media_items.added_at make every matching row a
-- random heap fetch (72,000 of them for a week of the large demo server).
CREATE INDEX watch_history_started_cover_idx ON watch_history (started_at)
    INCLUDE (media_item_id, user_id, watched_seconds, percent_complete);
CREATE INDEX media_items_added_cover_idx ON media_items (added_at) INCLUDE (media_type, file_size_bytes);

-- Sessions and time per user no longer join every play to its title to find
-- requested ones: "most active" and "watches the most" only need
-- watch_history (an index-only scan now). "Who watches requested content" gets
-- its own function.
DROP FUNCTION analytics.user_watch_totals(timestamptz, timestamptz);

CREATE FUNCTION analytics.user_watch_totals(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, role text, last_login_at timestamptz,
               sessions bigint, watched_seconds bigint, completed_plays bigint, distinct_items bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT u.id, u.username, u.display_name, u.role, u.last_login_at, w.sessions, w.watched_seconds,
           w.completed_plays, w.distinct_items
    FROM (SELECT wh.user_id, count(*) AS sessions, sum(wh.watched_seconds)::bigint AS watched_seconds,
                 count(*) FILTER (WHERE wh.percent_complete >= 90) AS completed_plays,
                 count(DISTINCT wh.media_item_id) AS distinct_items
          FROM watch_history wh
          WHERE wh.started_at >= p_start AND wh.started_at < p_end
          GROUP BY wh.user_id) w
    JOIN users u ON u.id = w.user_id
    WHERE analytics.scope_mode() = 'admin'
$$;

-- Sessions per user, in a period, of titles (or their episodes) that someone
-- else requested: starts from the requested titles, not from every play.
CREATE FUNCTION analytics.user_requested_item_sessions(p_start timestamptz, p_end timestamptz)
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

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics TO marquee_engine;
