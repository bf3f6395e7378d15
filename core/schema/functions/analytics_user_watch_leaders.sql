-- The users who played the most in a period, ranked by sessions (then time
-- watched) or by time watched, top p_limit only: the rows
-- analytics.user_watch_totals gives for them, in the order the rankings use.
--
-- Sessions and time watched of every user come from user_monthly_plays for
-- the whole UTC months inside the period, from user_daily_plays for the other
-- whole UTC days and from watch_history for the partial days at its ends (the
-- five parts split [p_start, p_end) exactly), so the sums are those of the
-- plays without reading every play (or every day) of the period.
-- Completed plays and distinct items do not add up across days: they are
-- counted from the plays of the p_limit leaders only.
-- Admin mode only, totals per user, no titles.

CREATE OR REPLACE FUNCTION analytics.user_watch_leaders(p_start timestamptz, p_end timestamptz, p_rank_by text,
                                                        p_limit integer)
RETURNS TABLE (user_id uuid, username text, display_name text, role text, last_login_at timestamptz,
               sessions bigint, watched_seconds bigint, completed_plays bigint, distinct_items bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH days AS MATERIALIZED (
        -- [first_day, end_day): the UTC days wholly inside the period (none when first_day = end_day);
        -- [first_month, end_month): the UTC months wholly inside those days (none when equal).
        SELECT first_day, end_day, first_month, greatest(first_month, date_trunc('month', end_day::timestamp)::date) AS end_month,
               first_day::timestamp AT TIME ZONE 'UTC' AS first_day_at, end_day::timestamp AT TIME ZONE 'UTC' AS end_day_at
        FROM (SELECT first_day, end_day, (date_trunc('month', (first_day - 1)::timestamp) + interval '1 month')::date AS first_month
              FROM (SELECT first_day, greatest(first_day, (p_end AT TIME ZONE 'UTC')::date) AS end_day
                    FROM (SELECT ((p_start AT TIME ZONE 'UTC') - interval '1 microsecond' + interval '1 day')::date
                                 AS first_day) f) d) m
    ), totals AS (
        SELECT parts.user_id, sum(parts.sessions)::bigint AS sessions, sum(parts.watched_seconds)::bigint AS watched_seconds
        FROM (
            SELECT r.user_id, r.sessions, r.watched_seconds
            FROM days JOIN user_monthly_plays r ON r.month >= days.first_month AND r.month < days.end_month
            UNION ALL
            SELECT r.user_id, r.sessions, r.watched_seconds
            FROM days JOIN user_daily_plays r ON r.day >= days.first_day AND r.day < least(days.end_day, days.first_month)
            UNION ALL
            SELECT r.user_id, r.sessions, r.watched_seconds
            FROM days JOIN user_daily_plays r ON r.day >= greatest(days.first_day, days.end_month) AND r.day < days.end_day
            UNION ALL
            SELECT wh.user_id, 1, wh.watched_seconds
            FROM days JOIN watch_history wh
                ON wh.started_at >= p_start AND wh.started_at < least(p_end, days.first_day_at)
            UNION ALL
            SELECT wh.user_id, 1, wh.watched_seconds
            FROM days JOIN watch_history wh
                ON wh.started_at >= greatest(p_start, days.end_day_at) AND wh.started_at < p_end
        ) parts
        GROUP BY parts.user_id
    ), leaders AS (
        SELECT t.user_id, u.username, u.display_name, u.role, u.last_login_at, t.sessions, t.watched_seconds
        FROM totals t JOIN users u ON u.id = t.user_id
        WHERE analytics.scope_mode() = 'admin'
          AND CASE WHEN p_rank_by = 'sessions' THEN t.sessions > 0 ELSE t.watched_seconds > 0 END
        ORDER BY CASE WHEN p_rank_by = 'sessions' THEN t.sessions END DESC NULLS LAST, t.watched_seconds DESC,
                 u.username
        LIMIT p_limit
    )
    SELECT l.user_id, l.username, l.display_name, l.role, l.last_login_at, l.sessions, l.watched_seconds,
           p.completed_plays, p.distinct_items
    FROM leaders l
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE analytics.play_finished(wh.service_watched, wh.percent_complete,
                                                       (SELECT analytics.watched_percent()))) AS completed_plays,
               -- DISTINCT in a subquery is hashed; count(DISTINCT ...) would sort every play of the leader.
               (SELECT count(*) FROM (SELECT DISTINCT i.media_item_id FROM watch_history i
                                      WHERE i.user_id = l.user_id AND i.started_at >= p_start
                                        AND i.started_at < p_end) items) AS distinct_items
        FROM watch_history wh
        WHERE wh.user_id = l.user_id AND wh.started_at >= p_start AND wh.started_at < p_end
    ) p
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.user_watch_leaders(timestamptz, timestamptz, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.user_watch_leaders(timestamptz, timestamptz, text, integer) TO marquee_engine;
