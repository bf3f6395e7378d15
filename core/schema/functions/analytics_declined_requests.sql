-- Declined requests for admins: titles and reasons, never who asked.

CREATE OR REPLACE FUNCTION analytics.declined_requests(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (title text, media_type text, requested_at timestamptz, declined_at timestamptz,
               decline_reason text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT title, media_type, requested_at, declined_at, decline_reason
    FROM content_requests
    WHERE status = 'declined'
      AND coalesce(declined_at, requested_at) >= p_start AND coalesce(declined_at, requested_at) < p_end
      AND analytics.scope_mode() = 'admin'
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.declined_requests(p_start timestamptz, p_end timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.declined_requests(p_start timestamptz, p_end timestamptz) TO marquee_engine;
