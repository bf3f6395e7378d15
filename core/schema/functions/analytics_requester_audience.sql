-- How many other people played what each user requested (requests made in
-- the period), and how often: the other_viewers and other_sessions of
-- analytics.requester_influence, without the ratings and per-request flags,
-- for "requests watched by others" and "power users". Only requesters whose
-- requests someone else played. Admin only; totals per requester, no titles.
--
-- A request counts its title's rows of title_viewer_sessions (a request for a
-- single episode, that episode's own plays); a title requested twice by the
-- same person counts twice, as in requester_influence. Viewers are grouped
-- once per (requester, viewer) in memory (work_mem), not sorted for a
-- count(DISTINCT).

CREATE OR REPLACE FUNCTION analytics.requester_audience(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, other_viewers bigint, other_sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp SET work_mem = '64MB'
AS $$
    WITH reqs AS MATERIALIZED (
        SELECT cr.id, cr.requested_by_user_id AS requester, cr.media_item_id,
               coalesce((SELECT mi.parent_id IS NOT NULL FROM media_items mi WHERE mi.id = cr.media_item_id), false)
                   AS is_episode
        FROM content_requests cr
        WHERE cr.requested_at >= p_start AND cr.requested_at < p_end AND cr.media_item_id IS NOT NULL
    ), other_plays_per_request AS (
        SELECT r.requester, v.user_id, v.sessions
        FROM reqs r JOIN title_viewer_sessions v ON v.title_id = r.media_item_id
        WHERE NOT r.is_episode AND v.user_id <> r.requester
        UNION ALL
        SELECT r.requester, wh.user_id, count(*)
        FROM reqs r JOIN watch_history wh ON wh.media_item_id = r.media_item_id
        WHERE r.is_episode AND wh.user_id <> r.requester
        GROUP BY r.id, r.requester, wh.user_id
    ), per_other_viewer AS (
        SELECT requester, user_id, sum(sessions) AS sessions
        FROM other_plays_per_request GROUP BY requester, user_id
    )
    SELECT requester, count(*), sum(sessions)::bigint
    FROM per_other_viewer
    WHERE analytics.scope_mode() = 'admin'
    GROUP BY requester
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.requester_audience(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.requester_audience(p_start timestamptz, p_end timestamptz) TO marquee_engine;
