-- How quickly each approver approves. Approvers are admins and may be named.

CREATE OR REPLACE FUNCTION analytics.approver_speed(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (approver_id uuid, username text, display_name text, approved bigint,
               avg_hours double precision, median_hours double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT u.id, u.username, u.display_name, count(*),
           avg(extract(epoch FROM cr.approved_at - cr.requested_at) / 3600),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM cr.approved_at - cr.requested_at) / 3600)
    FROM content_requests cr
    JOIN users u ON u.id = cr.approved_by_user_id
    WHERE cr.approved_at IS NOT NULL
      AND cr.requested_at >= p_start AND cr.requested_at < p_end
      AND analytics.scope_mode() IN ('personal', 'admin')
    GROUP BY u.id, u.username, u.display_name
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.approver_speed(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.approver_speed(p_start timestamptz, p_end timestamptz) TO marquee_engine;
