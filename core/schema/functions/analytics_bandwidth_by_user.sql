-- Bandwidth per user for admins (a NULL user is a deleted account).

CREATE OR REPLACE FUNCTION analytics.bandwidth_by_user(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, streams bigint, bytes bigint, logged_bytes bigint,
               stream_seconds bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT b.user_id, u.username, count(*), coalesce(sum(b.bytes_transferred), 0)::bigint,
           count(b.bytes_transferred), coalesce(sum(b.stream_duration_seconds), 0)::bigint
    FROM bandwidth_logs b LEFT JOIN users u ON u.id = b.user_id
    WHERE b.created_at >= p_start AND b.created_at < p_end
      AND analytics.scope_mode() = 'admin'
    GROUP BY b.user_id, u.username
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.bandwidth_by_user(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.bandwidth_by_user(p_start timestamptz, p_end timestamptz) TO marquee_engine;
