-- Faster cross-user aggregates for the admin tools (measured with
-- benchmarks/tools.py). Same privacy rules as 002: SECURITY DEFINER, search
-- path pinned, admin mode only, per-user totals and never titles.

-- Each admin leaderboard reads only the table it ranks by, instead of
-- analytics.user_activity computing every measure for every question.

-- Sessions and time watched per user in a period, and how many of those
-- sessions were of titles someone else requested.
CREATE FUNCTION analytics.user_watch_totals(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, role text, last_login_at timestamptz,
               sessions bigint, watched_seconds bigint, completed_plays bigint, distinct_items bigint,
               requested_item_sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH requested AS (
        SELECT media_item_id AS top_id, array_agg(DISTINCT requested_by_user_id) AS requesters
        FROM content_requests WHERE media_item_id IS NOT NULL
        GROUP BY media_item_id
    ), watch AS (
        SELECT wh.user_id, count(*) AS sessions, sum(wh.watched_seconds)::bigint AS watched_seconds,
               count(*) FILTER (WHERE wh.percent_complete >= 90) AS completed_plays,
               count(DISTINCT wh.media_item_id) AS distinct_items,
               count(*) FILTER (WHERE rq.top_id IS NOT NULL AND NOT (wh.user_id = ALL (rq.requesters)))
                   AS requested_item_sessions
        FROM watch_history wh
        JOIN media_items mi ON mi.id = wh.media_item_id
        LEFT JOIN requested rq ON rq.top_id = coalesce(mi.parent_id, mi.id)
        WHERE wh.started_at >= p_start AND wh.started_at < p_end
        GROUP BY wh.user_id
    )
    SELECT u.id, u.username, u.display_name, u.role, u.last_login_at, w.sessions, w.watched_seconds,
           w.completed_plays, w.distinct_items, w.requested_item_sessions
    FROM watch w JOIN users u ON u.id = w.user_id
    WHERE analytics.scope_mode() = 'admin'
$$;

-- Ratings given per user (lifetime: user_stats carries no rating time).
CREATE FUNCTION analytics.user_rating_totals()
RETURNS TABLE (user_id uuid, username text, display_name text, role text, last_login_at timestamptz,
               ratings_given bigint, avg_rating_given double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT u.id, u.username, u.display_name, u.role, u.last_login_at, r.ratings, r.average
    FROM (SELECT us.user_id, count(*) AS ratings, avg(us.rating)::double precision AS average
          FROM user_stats us WHERE us.rating IS NOT NULL GROUP BY us.user_id) r
    JOIN users u ON u.id = r.user_id
    WHERE analytics.scope_mode() = 'admin'
$$;

-- Requests made per user in a period.
CREATE FUNCTION analytics.user_request_totals(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, role text, last_login_at timestamptz,
               requests_made bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT u.id, u.username, u.display_name, u.role, u.last_login_at, q.requests
    FROM (SELECT requested_by_user_id AS user_id, count(*) AS requests FROM content_requests
          WHERE requested_at >= p_start AND requested_at < p_end GROUP BY requested_by_user_id) q
    JOIN users u ON u.id = q.user_id
    WHERE analytics.scope_mode() = 'admin'
$$;

-- requester_influence without the OR-join and the correlated EXISTS over a CTE
-- of 002 (quadratic on a big server): requested items and their episodes by
-- UNION ALL, sessions grouped once per (request, viewer).
CREATE OR REPLACE FUNCTION analytics.requester_influence(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, requests bigint, fulfilled bigint,
               fulfilled_watched_by_requester bigint, fulfilled_watched_by_others bigint,
               other_viewers bigint, other_sessions bigint, other_ratings bigint,
               other_avg_rating double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH reqs AS (
        SELECT cr.id, cr.requested_by_user_id AS requester, cr.media_item_id
        FROM content_requests cr
        WHERE cr.requested_at >= p_start AND cr.requested_at < p_end
    ), items AS (
        SELECT r.id AS request_id, r.requester, r.media_item_id AS item_id
        FROM reqs r WHERE r.media_item_id IS NOT NULL
        UNION ALL
        SELECT r.id, r.requester, e.id
        FROM reqs r JOIN media_items e ON e.parent_id = r.media_item_id
    ), plays AS (
        SELECT i.request_id, i.requester, wh.user_id, count(*) AS sessions
        FROM items i JOIN watch_history wh ON wh.media_item_id = i.item_id
        GROUP BY i.request_id, i.requester, wh.user_id
    ), rated AS (
        SELECT i.requester, us.rating
        FROM items i JOIN user_stats us ON us.media_item_id = i.item_id
        WHERE us.rating IS NOT NULL AND us.user_id <> i.requester
    ), per_request AS (
        SELECT r.id, r.requester, r.media_item_id IS NOT NULL AS fulfilled,
               coalesce(bool_or(p.user_id = r.requester), false) AS self_watched,
               coalesce(bool_or(p.user_id <> r.requester), false) AS others_watched
        FROM reqs r LEFT JOIN plays p ON p.request_id = r.id
        GROUP BY r.id, r.requester, r.media_item_id
    ), per_user AS (
        SELECT requester, count(*) AS requests, count(*) FILTER (WHERE fulfilled) AS fulfilled,
               count(*) FILTER (WHERE fulfilled AND self_watched) AS self_watched,
               count(*) FILTER (WHERE fulfilled AND others_watched) AS others_watched
        FROM per_request GROUP BY requester
    ), other_plays AS (
        SELECT requester, count(DISTINCT user_id) AS viewers, sum(sessions)::bigint AS sessions
        FROM plays WHERE user_id <> requester GROUP BY requester
    ), other_ratings AS (
        SELECT requester, count(*) AS ratings, avg(rating)::double precision AS avg_rating
        FROM rated GROUP BY requester
    )
    SELECT u.id, u.username, u.display_name, pu.requests, pu.fulfilled, pu.self_watched, pu.others_watched,
           coalesce(op.viewers, 0), coalesce(op.sessions, 0), coalesce(orr.ratings, 0), orr.avg_rating
    FROM per_user pu
    JOIN users u ON u.id = pu.requester
    LEFT JOIN other_plays op ON op.requester = pu.requester
    LEFT JOIN other_ratings orr ON orr.requester = pu.requester
    WHERE analytics.scope_mode() = 'admin'
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics TO marquee_engine;
