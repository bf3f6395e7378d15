-- Sessions and time watched per user in a period: only watch_history (an
-- index-only scan), for "most active" and "watches the most"; "who watches
-- requested content" has its own function (user_requested_item_sessions).

CREATE OR REPLACE FUNCTION analytics.user_watch_totals(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, role text, last_login_at timestamptz,
               sessions bigint, watched_seconds bigint, completed_plays bigint, distinct_items bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT u.id, u.username, u.display_name, u.role, u.last_login_at, w.sessions, w.watched_seconds,
           w.completed_plays, w.distinct_items
    FROM (SELECT wh.user_id, count(*) AS sessions, sum(wh.watched_seconds)::bigint AS watched_seconds,
                 count(*) FILTER (WHERE analytics.play_finished(wh.service_watched, wh.percent_complete,
                                                       (SELECT analytics.watched_percent()))) AS completed_plays,
                 count(DISTINCT wh.media_item_id) AS distinct_items
          FROM watch_history wh
          WHERE wh.started_at >= p_start AND wh.started_at < p_end
          GROUP BY wh.user_id) w
    JOIN users u ON u.id = w.user_id
    WHERE analytics.scope_mode() = 'admin'
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.user_watch_totals(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.user_watch_totals(p_start timestamptz, p_end timestamptz) TO marquee_engine;
