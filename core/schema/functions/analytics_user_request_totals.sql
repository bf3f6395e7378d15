-- Requests made per user in a period.

CREATE OR REPLACE FUNCTION analytics.user_request_totals(p_start timestamptz, p_end timestamptz)
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

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.user_request_totals(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.user_request_totals(p_start timestamptz, p_end timestamptz) TO marquee_engine;
