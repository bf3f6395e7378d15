-- Accounts per role, and how many of them started a play in the period: the
-- "users" and "active users" counts of admin_counts. The same figures as
-- counting analytics.user_activity's rows with sessions > 0, which totals
-- every play of the period per user (all of watch_history for "all time":
-- past the tools' statement timeout on the large demo server); here each
-- account is one probe of watch_history_user_started_cover_idx (issue 17).
-- Admin mode only, totals per role, never who.

CREATE OR REPLACE FUNCTION analytics.user_counts(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (role text, users bigint, active bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT u.role, count(*),
           count(*) FILTER (WHERE EXISTS (
               SELECT FROM watch_history wh
               WHERE wh.user_id = u.id AND wh.started_at >= p_start AND wh.started_at < p_end))
    FROM users u
    WHERE analytics.scope_mode() = 'admin'
    GROUP BY u.role
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.user_counts(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.user_counts(p_start timestamptz, p_end timestamptz) TO marquee_engine;
