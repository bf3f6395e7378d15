-- The measures "power users" ranks every user by, without the rest of
-- analytics.user_activity: that function also counts, for every play in the
-- period, whether someone else requested the title (a correlated lookup per
-- play, over a second on the large demo server) which the ranking never reads.
-- Every user is returned, active or not, because the ranks are among all users.
-- Admin mode only, totals per user, no titles.

CREATE OR REPLACE FUNCTION analytics.user_power_measures(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, watched_seconds bigint, distinct_items bigint,
               ratings_given bigint, requests_made bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH watch AS (
        SELECT wh.user_id, sum(wh.watched_seconds)::bigint AS watched_seconds,
               count(DISTINCT wh.media_item_id) AS distinct_items
        FROM watch_history wh
        WHERE wh.started_at >= p_start AND wh.started_at < p_end
        GROUP BY wh.user_id
    ), ratings AS (
        SELECT us.user_id, count(*) AS ratings_given
        FROM user_stats us WHERE us.rating IS NOT NULL GROUP BY us.user_id
    ), requests AS (
        SELECT requested_by_user_id AS user_id, count(*) AS requests_made
        FROM content_requests WHERE requested_at >= p_start AND requested_at < p_end
        GROUP BY requested_by_user_id
    )
    SELECT u.id, u.username, u.display_name, coalesce(w.watched_seconds, 0), coalesce(w.distinct_items, 0),
           coalesce(r.ratings_given, 0), coalesce(q.requests_made, 0)
    FROM users u
    LEFT JOIN watch w ON w.user_id = u.id
    LEFT JOIN ratings r ON r.user_id = u.id
    LEFT JOIN requests q ON q.user_id = u.id
    WHERE analytics.scope_mode() = 'admin'
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.user_power_measures(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.user_power_measures(p_start timestamptz, p_end timestamptz) TO marquee_engine;
