-- What happened to each user's requests (made in the period) once they were
-- fulfilled: whether the requester played them, whether anyone else did.
-- The first columns of analytics.requester_influence, for "requesters who skip
-- their requests", which needs nothing else: two index probes per request,
-- none of the counting of other viewers and ratings (250 ms -> 40 ms on the
-- large demo server, issue 17). Admin only; no titles.
--
-- A request for a movie or a show reads its title's rows of the rollup
-- title_viewer_sessions; a request pointing at a single episode reads that
-- episode's own plays.

CREATE OR REPLACE FUNCTION analytics.requester_follow_through(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, requests bigint, fulfilled bigint,
               fulfilled_watched_by_requester bigint, fulfilled_watched_by_others bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH reqs AS MATERIALIZED (
        SELECT cr.requested_by_user_id AS requester, cr.media_item_id,
               coalesce((SELECT mi.parent_id IS NOT NULL FROM media_items mi WHERE mi.id = cr.media_item_id), false)
                   AS is_episode
        FROM content_requests cr
        WHERE cr.requested_at >= p_start AND cr.requested_at < p_end
    ), per_request AS (
        SELECT r.requester, r.media_item_id IS NOT NULL AS fulfilled,
               CASE WHEN r.is_episode
                    THEN EXISTS (SELECT FROM watch_history wh
                                 WHERE wh.media_item_id = r.media_item_id AND wh.user_id = r.requester)
                    ELSE EXISTS (SELECT FROM title_viewer_sessions v
                                 WHERE v.title_id = r.media_item_id AND v.user_id = r.requester)
               END AS self_watched,
               CASE WHEN r.is_episode
                    THEN EXISTS (SELECT FROM watch_history wh
                                 WHERE wh.media_item_id = r.media_item_id AND wh.user_id <> r.requester)
                    ELSE EXISTS (SELECT FROM title_viewer_sessions v
                                 WHERE v.title_id = r.media_item_id AND v.user_id <> r.requester)
               END AS others_watched
        FROM reqs r
    ), per_user AS (
        SELECT requester, count(*) AS requests, count(*) FILTER (WHERE fulfilled) AS fulfilled,
               count(*) FILTER (WHERE fulfilled AND self_watched) AS self_watched,
               count(*) FILTER (WHERE fulfilled AND others_watched) AS others_watched
        FROM per_request GROUP BY requester
    )
    SELECT u.id, u.username, u.display_name, pu.requests, pu.fulfilled, pu.self_watched, pu.others_watched
    FROM per_user pu
    JOIN users u ON u.id = pu.requester
    WHERE analytics.scope_mode() = 'admin'
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.requester_follow_through(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.requester_follow_through(p_start timestamptz, p_end timestamptz) TO marquee_engine;
