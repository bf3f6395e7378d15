-- Per-user totals for admins over a period: how much, never which titles.
-- sessions/watched/completed/distinct_items count watch_history rows started in
-- the period; ratings_given is lifetime (user_stats has no rating time);
-- requests_made counts requests made in the period; requested_item_sessions
-- counts the user's sessions of titles someone else requested.

CREATE OR REPLACE FUNCTION analytics.user_activity(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, role text, created_at timestamptz,
               last_login_at timestamptz, login_count integer, sessions bigint, watched_seconds bigint,
               completed_plays bigint, distinct_items bigint, ratings_given bigint,
               avg_rating_given double precision, requests_made bigint, requested_item_sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH watch AS (
        SELECT wh.user_id, count(*) AS sessions, sum(wh.watched_seconds)::bigint AS watched_seconds,
               count(*) FILTER (WHERE analytics.play_finished(wh.service_watched, wh.percent_complete,
                                                       (SELECT analytics.watched_percent()))) AS completed_plays,
               count(DISTINCT wh.media_item_id) AS distinct_items,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM content_requests cr
                   WHERE cr.media_item_id = coalesce(mi.parent_id, mi.id)
                     AND cr.requested_by_user_id <> wh.user_id)) AS requested_item_sessions
        FROM watch_history wh
        JOIN media_items mi ON mi.id = wh.media_item_id
        WHERE wh.started_at >= p_start AND wh.started_at < p_end
        GROUP BY wh.user_id
    ), ratings AS (
        SELECT us.user_id, count(us.rating) AS ratings_given, avg(us.rating)::double precision AS avg_rating
        FROM user_stats us WHERE us.rating IS NOT NULL GROUP BY us.user_id
    ), requests AS (
        SELECT requested_by_user_id AS user_id, count(*) AS requests_made
        FROM content_requests WHERE requested_at >= p_start AND requested_at < p_end
        GROUP BY requested_by_user_id
    )
    SELECT u.id, u.username, u.display_name, u.role, u.created_at, u.last_login_at, u.login_count,
           coalesce(w.sessions, 0), coalesce(w.watched_seconds, 0), coalesce(w.completed_plays, 0),
           coalesce(w.distinct_items, 0), coalesce(r.ratings_given, 0), r.avg_rating,
           coalesce(q.requests_made, 0), coalesce(w.requested_item_sessions, 0)
    FROM users u
    LEFT JOIN watch w ON w.user_id = u.id
    LEFT JOIN ratings r ON r.user_id = u.id
    LEFT JOIN requests q ON q.user_id = u.id
    WHERE analytics.scope_mode() = 'admin'
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.user_activity(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.user_activity(p_start timestamptz, p_end timestamptz) TO marquee_engine;
