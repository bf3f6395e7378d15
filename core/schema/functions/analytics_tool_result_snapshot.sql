-- The stored answer of a tool (core/schema/migrations/013_tool_result_snapshots.sql)
-- for the caller's verified scope: only a snapshot made in the caller's mode (a
-- member never reads an admin answer) and with the caller's own minimum group
-- size (a smaller one could name a member's titles). Members' snapshots are of
-- library-wide tools only (core/tools/snapshots.py).

CREATE OR REPLACE FUNCTION analytics.tool_result_snapshot(p_tool text, p_params text, p_timezone text)
RETURNS TABLE (computed_at timestamptz, result jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT s.computed_at, s.result
    FROM tool_result_snapshots s
    WHERE s.tool = p_tool AND s.mode = analytics.current_scope_mode()
      AND s.params = p_params AND s.timezone = p_timezone
      AND s.min_group_size = analytics.current_scope_min_group_size()
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.tool_result_snapshot(p_tool text, p_params text, p_timezone text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.tool_result_snapshot(p_tool text, p_params text, p_timezone text) TO marquee_engine;
