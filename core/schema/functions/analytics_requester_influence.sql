-- What happened to each user's requests (made in the period) after they
-- arrived: how many other people played them, how often, how others rated
-- them, and whether the requester watched them at all. Admin only; no titles.
--
-- Plays come from the per-title rollup title_viewer_sessions, not from every
-- play (2.5 M plays on the large demo server took over 2 s): a request for a
-- movie or a show reads its title's rows; a request pointing at a single
-- episode still counts that episode's own plays. Requested items and their
-- episodes are joined by UNION ALL, not an OR-join (quadratic on a big server).
--
-- A request's item, its episodes and their ratings are looked up per request
-- by index (the LATERAL ... OFFSET 0 subqueries keep the planner from hashing
-- whole tables; the ratings by user_stats_item_rating_idx, index-only): planned
-- without the period's values, the function otherwise read all of media_items
-- twice and sorted every rating on each call, 0.1-0.3 s even for a month of requests.

CREATE OR REPLACE FUNCTION analytics.requester_influence(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, requests bigint, fulfilled bigint,
               fulfilled_watched_by_requester bigint, fulfilled_watched_by_others bigint,
               other_viewers bigint, other_sessions bigint, other_ratings bigint,
               other_avg_rating double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH reqs AS (
        SELECT cr.id, cr.requested_by_user_id AS requester, cr.media_item_id,
               (SELECT mi.parent_id FROM media_items mi WHERE mi.id = cr.media_item_id) IS NOT NULL AS is_episode
        FROM content_requests cr
        WHERE cr.requested_at >= p_start AND cr.requested_at < p_end
    ), items AS (
        SELECT r.id AS request_id, r.requester, r.media_item_id AS item_id
        FROM reqs r WHERE r.media_item_id IS NOT NULL
        UNION ALL
        SELECT r.id, r.requester, e.id
        FROM reqs r CROSS JOIN LATERAL (
            SELECT e.id FROM media_items e WHERE e.parent_id = r.media_item_id OFFSET 0) e
    ), plays AS (
        SELECT r.id AS request_id, r.requester, v.user_id, v.sessions
        FROM reqs r JOIN title_viewer_sessions v ON v.title_id = r.media_item_id
        WHERE NOT r.is_episode
        UNION ALL
        SELECT r.id, r.requester, wh.user_id, count(*)
        FROM reqs r JOIN watch_history wh ON wh.media_item_id = r.media_item_id
        WHERE r.is_episode
        GROUP BY r.id, r.requester, wh.user_id
    ), rated AS (
        SELECT i.requester, us.rating
        FROM items i CROSS JOIN LATERAL (
            SELECT us.user_id, us.rating FROM user_stats us
            WHERE us.media_item_id = i.item_id AND us.rating IS NOT NULL OFFSET 0) us
        WHERE us.user_id <> i.requester
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

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.requester_influence(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.requester_influence(p_start timestamptz, p_end timestamptz) TO marquee_engine;
