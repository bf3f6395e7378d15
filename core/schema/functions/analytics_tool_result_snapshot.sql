-- The stored answer of an admin tool (core/schema/migrations/013_tool_result_snapshots.sql)
-- for the caller's verified scope: admin mode only, and only a snapshot made with
-- the caller's own minimum group size (a smaller one could name a member's titles).

CREATE OR REPLACE FUNCTION analytics.tool_result_snapshot(p_tool text, p_params text, p_timezone text)
RETURNS TABLE (computed_at timestamptz, result jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT s.computed_at, s.result
    FROM tool_result_snapshots s
    WHERE s.tool = p_tool AND s.params = p_params AND s.timezone = p_timezone
      AND s.min_group_size = analytics.current_scope_min_group_size()
      AND analytics.current_scope_mode() = 'admin'
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.tool_result_snapshot(p_tool text, p_params text, p_timezone text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.tool_result_snapshot(p_tool text, p_params text, p_timezone text) TO marquee_engine;
