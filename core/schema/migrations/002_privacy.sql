-- The second privacy wall: the answer engine's tools run as marquee_engine, a
-- role without BYPASSRLS, inside a transaction that sets the asker's id and
-- mode (set_config(..., true), i.e. SET LOCAL). Row-level-security policies on
-- the per-user tables make even a hand-written SELECT under that role return
-- only what the scope allows:
--   personal -> the asker's own rows;
--   admin    -> rows of users who opted in (share_activity_with_admins), and
--               never chat_history or ai_conversation_feedback (chat text);
--   no scope -> nothing.
-- Aggregates across users that tools legitimately need (anonymous "what others
-- watch", per-user totals for admins) go through the SECURITY DEFINER
-- functions of the "analytics" schema (core/schema/functions/analytics_*.sql):
-- they run as the migrating user (the table owner, to whom RLS does not
-- apply), with search_path pinned, return only aggregates, and carry their
-- privacy rule (mode check, min_group_size) inside. Each grants EXECUTE to
-- marquee_engine only.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'marquee_engine') THEN
        CREATE ROLE marquee_engine NOLOGIN NOINHERIT NOBYPASSRLS;
    END IF;
END
$$;
-- So that a non-superuser database owner (docker compose) can SET ROLE to it.
GRANT marquee_engine TO CURRENT_USER;

CREATE SCHEMA IF NOT EXISTS analytics;
REVOKE ALL ON SCHEMA analytics FROM PUBLIC;
GRANT USAGE ON SCHEMA analytics TO marquee_engine;

-- The scope of the current transaction. Plain (inlinable) SQL functions, so a
-- policy "user_id = analytics.scope_user_id()" can still use an index. They
-- live here, not in core/schema/functions/, because the policies below depend
-- on them: changing one is a new migration.
CREATE FUNCTION analytics.scope_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('marquee.user_id', true), '')::uuid $$;

CREATE FUNCTION analytics.scope_mode() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('marquee.mode', true), '') $$;

CREATE FUNCTION analytics.scope_min_group_size() RETURNS integer
    LANGUAGE sql STABLE
    AS $$ SELECT greatest(coalesce(nullif(current_setting('marquee.min_group_size', true), '')::integer, 2), 1) $$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics TO marquee_engine;

-- Grants: what the tools read, nothing else ------------------------------------

-- users: no email.
GRANT SELECT (id, username, display_name, role, created_at, last_login_at, login_count,
              share_activity_with_admins) ON users TO marquee_engine;
GRANT SELECT ON media_items, media_external_ids, sync_schedule, webhook_log, deletion_log TO marquee_engine;
-- api_logs: not who made the call.
GRANT SELECT (id, endpoint, method, status_code, response_time_ms, error_message, created_at)
    ON api_logs TO marquee_engine;
GRANT SELECT ON watch_history, user_stats, content_requests, bandwidth_logs, chat_history,
                ai_conversation_feedback TO marquee_engine;

-- Policies on the per-user tables ------------------------------------------------

ALTER TABLE watch_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY watch_history_personal ON watch_history FOR SELECT TO marquee_engine
    USING (analytics.scope_mode() = 'personal' AND user_id = analytics.scope_user_id());
CREATE POLICY watch_history_admin_opted_in ON watch_history FOR SELECT TO marquee_engine
    USING (analytics.scope_mode() = 'admin'
           AND user_id IN (SELECT id FROM users WHERE share_activity_with_admins));

ALTER TABLE user_stats ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_stats_personal ON user_stats FOR SELECT TO marquee_engine
    USING (analytics.scope_mode() = 'personal' AND user_id = analytics.scope_user_id());
CREATE POLICY user_stats_admin_opted_in ON user_stats FOR SELECT TO marquee_engine
    USING (analytics.scope_mode() = 'admin'
           AND user_id IN (SELECT id FROM users WHERE share_activity_with_admins));

ALTER TABLE content_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY content_requests_personal ON content_requests FOR SELECT TO marquee_engine
    USING (analytics.scope_mode() = 'personal' AND requested_by_user_id = analytics.scope_user_id());
CREATE POLICY content_requests_admin_opted_in ON content_requests FOR SELECT TO marquee_engine
    USING (analytics.scope_mode() = 'admin'
           AND requested_by_user_id IN (SELECT id FROM users WHERE share_activity_with_admins));

ALTER TABLE bandwidth_logs ENABLE ROW LEVEL SECURITY;
CREATE POLICY bandwidth_logs_personal ON bandwidth_logs FOR SELECT TO marquee_engine
    USING (analytics.scope_mode() = 'personal' AND user_id = analytics.scope_user_id());
CREATE POLICY bandwidth_logs_admin_opted_in ON bandwidth_logs FOR SELECT TO marquee_engine
    USING (analytics.scope_mode() = 'admin'
           AND user_id IN (SELECT id FROM users WHERE share_activity_with_admins));

-- Chat text: the asker's own in personal mode, nobody's in admin mode.
ALTER TABLE chat_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY chat_history_personal ON chat_history FOR SELECT TO marquee_engine
    USING (analytics.scope_mode() = 'personal' AND user_id = analytics.scope_user_id());

ALTER TABLE ai_conversation_feedback ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_conversation_feedback_personal ON ai_conversation_feedback FOR SELECT TO marquee_engine
    USING (analytics.scope_mode() = 'personal' AND user_id = analytics.scope_user_id());
