-- Request timing across the server: counts and durations only.

CREATE OR REPLACE FUNCTION analytics.request_timing(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (requests bigint, approved bigint, declined bigint, available bigint, pending bigint,
               avg_hours_to_approve double precision, median_hours_to_approve double precision,
               avg_hours_to_available double precision, median_hours_to_available double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT count(*),
           count(*) FILTER (WHERE approved_at IS NOT NULL),
           count(*) FILTER (WHERE status = 'declined'),
           count(*) FILTER (WHERE available_at IS NOT NULL),
           count(*) FILTER (WHERE status = 'pending'),
           avg(extract(epoch FROM approved_at - requested_at) / 3600),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM approved_at - requested_at) / 3600),
           avg(extract(epoch FROM available_at - requested_at) / 3600),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM available_at - requested_at) / 3600)
    FROM content_requests
    WHERE requested_at >= p_start AND requested_at < p_end
      AND analytics.scope_mode() IN ('personal', 'admin')
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.request_timing(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.request_timing(p_start timestamptz, p_end timestamptz) TO marquee_engine;
