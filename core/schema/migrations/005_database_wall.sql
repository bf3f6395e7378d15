-- The database wall, for real. Until now the engine's tools ran on the owner's
-- (often superuser) connection behind SET LOCAL ROLE, with the scope in plain
-- settings: SQL running there could set_config() itself another user, RESET
-- ROLE back to the owner, or COPY ... TO PROGRAM. From here on:
--
-- * The tools run on their own pool that LOGS IN as a per-database role
--   (marquee_wall.engine_login.role_name): LOGIN, no SUPERUSER, CREATEDB,
--   CREATEROLE, REPLICATION or BYPASSRLS, a member of marquee_engine only
--   (whose grants and policies it inherits), never of the owner: no SET ROLE
--   or RESET ROLE leads anywhere with more rights.
-- * Its password is HMAC(signing key, 'engine login password:' || role name),
--   set here and re-set by Marquee when a login fails (a restored dump, a new
--   server): nothing to configure, nothing to store outside the database.
-- * The scope is a token signed (HMAC-SHA256) with a key in
--   marquee_wall.engine_login, which only the owner can read. The SECURITY
--   DEFINER function analytics.enter_scope(token) checks it and writes the
--   scope to marquee_wall.active_scope, keyed by backend pid and bound to the
--   current transaction; only the owner can write there. Policies and the
--   analytics functions read the scope only through analytics.current_scope_*
--   (SECURITY DEFINER too), so SQL on the engine connection can neither forge
--   nor widen it: no valid token, no scope; no scope, no rows.
-- * Every table the engine role can read now has row-level security,
--   including users, sync_schedule, webhook_log, api_logs and deletion_log.
--
-- Roles are cluster-wide; the role name is derived from the name of the
-- database that ran this migration, so several Marquee databases on one
-- server each get their own, and a database cloned from a migrated template
-- (the tests) shares the template's role, key and password.

CREATE SCHEMA marquee_wall;
REVOKE ALL ON SCHEMA marquee_wall FROM PUBLIC;

CREATE TABLE marquee_wall.engine_login (
    only_row     boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    role_name    name NOT NULL,
    signing_key  bytea NOT NULL CHECK (length(signing_key) = 32)
);
REVOKE ALL ON marquee_wall.engine_login FROM PUBLIC;

-- gen_random_uuid() draws from the server's strong random source (PostgreSQL 13+):
-- two of them hashed give a 256-bit key without the pgcrypto extension.
INSERT INTO marquee_wall.engine_login (role_name, signing_key)
VALUES (left('marquee_engine_' || regexp_replace(lower(current_database()), '[^a-z0-9_]', '_', 'g'), 52)
            || '_' || left(md5(current_database()), 6),
        sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())));

-- RFC 2104 HMAC over the built-in sha256(): the same as Python's hmac.new(key, message, sha256).
CREATE FUNCTION marquee_wall.hmac_sha256(p_key bytea, p_message bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    block bytea := CASE WHEN length(p_key) > 64 THEN sha256(p_key) ELSE p_key END;
    inner_pad bytea;
    outer_pad bytea;
BEGIN
    block := block || decode(repeat('00', 64 - length(block)), 'hex');
    inner_pad := block;
    outer_pad := block;
    FOR i IN 0..63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(block, i) # 54);
        outer_pad := set_byte(outer_pad, i, get_byte(block, i) # 92);
    END LOOP;
    RETURN sha256(outer_pad || sha256(inner_pad || p_message));
END
$$;

CREATE FUNCTION marquee_wall.engine_login_password() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT encode(marquee_wall.hmac_sha256(signing_key, convert_to('engine login password:' || role_name, 'UTF8')), 'hex')
    FROM marquee_wall.engine_login
$$;

-- Create the engine login role, or bring an existing one back to what it must be.
-- Run by the owner (this migration, and Marquee when the engine cannot log in).
CREATE FUNCTION marquee_wall.ensure_engine_login() RETURNS name
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    login name;
    member_of record;
    unsafe text;
BEGIN
    SELECT role_name INTO STRICT login FROM marquee_wall.engine_login;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = login) THEN
        -- The defaults are NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS.
        EXECUTE format('CREATE ROLE %I LOGIN INHERIT PASSWORD %L', login, marquee_wall.engine_login_password());
    ELSE
        EXECUTE format('ALTER ROLE %I LOGIN INHERIT PASSWORD %L', login, marquee_wall.engine_login_password());
    END IF;
    SELECT concat_ws(', ', CASE WHEN rolsuper THEN 'SUPERUSER' END, CASE WHEN rolcreaterole THEN 'CREATEROLE' END,
                     CASE WHEN rolcreatedb THEN 'CREATEDB' END, CASE WHEN rolreplication THEN 'REPLICATION' END,
                     CASE WHEN rolbypassrls THEN 'BYPASSRLS' END)
    INTO unsafe FROM pg_roles WHERE rolname IN (login, 'marquee_engine') AND (rolsuper OR rolcreaterole
        OR rolcreatedb OR rolreplication OR rolbypassrls) LIMIT 1;
    IF unsafe <> '' THEN
        RAISE EXCEPTION 'the engine role % has %: remove it (ALTER ROLE), the database wall depends on it', login, unsafe;
    END IF;
    -- A member of marquee_engine and of nothing else: no role to SET ROLE to.
    FOR member_of IN
        SELECT r.rolname AS granted, m.rolname AS grantee
        FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
        WHERE (m.rolname = login AND r.rolname <> 'marquee_engine') OR m.rolname = 'marquee_engine'
    LOOP
        EXECUTE format('REVOKE %I FROM %I', member_of.granted, member_of.grantee);
    END LOOP;
    IF NOT pg_has_role(login, 'marquee_engine', 'USAGE') THEN
        EXECUTE format('GRANT marquee_engine TO %I', login);
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), login);
    RETURN login;
END
$$;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA marquee_wall FROM PUBLIC;

SELECT marquee_wall.ensure_engine_login();

-- The engine role must not create objects a SECURITY DEFINER function could pick up
-- (the default from PostgreSQL 15 on; older servers let everyone create in public).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The verified scope of each backend's current transaction. Unlogged: it is
-- worthless after a crash, and a tool call should not wait for the disk.
CREATE UNLOGGED TABLE marquee_wall.active_scope (
    backend_pid     integer PRIMARY KEY,
    transaction_id  bigint NOT NULL,
    user_id         uuid NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('personal', 'admin')),
    min_group_size  integer NOT NULL CHECK (min_group_size >= 1)
);
REVOKE ALL ON marquee_wall.active_scope FROM PUBLIC;

-- Token: user_id.mode.min_group_size.backend_pid.expires_epoch.hex(hmac of the first five, joined by '.').
-- Bound to one backend and a few minutes, so even a token that leaked is of no use elsewhere.
CREATE FUNCTION analytics.enter_scope(p_token text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[];
    signed text;
    asker uuid;
BEGIN
    IF p_token IS NULL OR length(p_token) > 256 THEN
        RAISE EXCEPTION 'scope token refused: malformed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    parts := string_to_array(p_token, '.');
    IF cardinality(parts) <> 6 THEN
        RAISE EXCEPTION 'scope token refused: malformed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    signed := array_to_string(parts[1:5], '.');
    IF encode(marquee_wall.hmac_sha256((SELECT signing_key FROM marquee_wall.engine_login),
                                       convert_to(signed, 'UTF8')), 'hex') IS DISTINCT FROM parts[6] THEN
        RAISE EXCEPTION 'scope token refused: bad signature' USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Signed by Marquee, so well-formed from here on.
    IF parts[4]::integer <> pg_backend_pid() THEN
        RAISE EXCEPTION 'scope token refused: issued for another connection' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF to_timestamp(parts[5]::bigint) < clock_timestamp() THEN
        RAISE EXCEPTION 'scope token refused: expired' USING ERRCODE = 'insufficient_privilege';
    END IF;
    asker := parts[1]::uuid;
    IF parts[2] = 'admin' AND NOT EXISTS (SELECT FROM public.users WHERE id = asker AND role = 'admin') THEN
        RAISE EXCEPTION 'scope token refused: admin mode for a non-admin' USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO marquee_wall.active_scope (backend_pid, transaction_id, user_id, mode, min_group_size)
    VALUES (pg_backend_pid(), txid_current(), asker, parts[2], greatest(parts[3]::integer, 1))
    ON CONFLICT (backend_pid) DO UPDATE
        SET transaction_id = EXCLUDED.transaction_id, user_id = EXCLUDED.user_id, mode = EXCLUDED.mode,
            min_group_size = EXCLUDED.min_group_size;
END
$$;

-- The scope of this backend's current transaction, or NULL. Policies call these
-- as (SELECT ...) so they run once per query, not once per row.
CREATE FUNCTION analytics.current_scope_user() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT user_id FROM marquee_wall.active_scope
    WHERE backend_pid = pg_backend_pid() AND transaction_id = txid_current_if_assigned()
$$;

CREATE FUNCTION analytics.current_scope_mode() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT mode FROM marquee_wall.active_scope
    WHERE backend_pid = pg_backend_pid() AND transaction_id = txid_current_if_assigned()
$$;

CREATE FUNCTION analytics.current_scope_min_group_size() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT min_group_size FROM marquee_wall.active_scope
    WHERE backend_pid = pg_backend_pid() AND transaction_id = txid_current_if_assigned()
$$;

-- The names every analytics function already uses now read the verified scope.
CREATE OR REPLACE FUNCTION analytics.scope_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT analytics.current_scope_user() $$;

CREATE OR REPLACE FUNCTION analytics.scope_mode() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT analytics.current_scope_mode() $$;

CREATE OR REPLACE FUNCTION analytics.scope_min_group_size() RETURNS integer
    LANGUAGE sql STABLE
    AS $$ SELECT greatest(coalesce(analytics.current_scope_min_group_size(), 2), 1) $$;

-- Policies: the per-user tables of 002, reading the scope once per query ------------

ALTER POLICY watch_history_personal ON watch_history
    USING ((SELECT analytics.current_scope_mode()) = 'personal' AND user_id = (SELECT analytics.current_scope_user()));
ALTER POLICY watch_history_admin_opted_in ON watch_history
    USING ((SELECT analytics.current_scope_mode()) = 'admin'
           AND user_id IN (SELECT id FROM users WHERE share_activity_with_admins));
ALTER POLICY user_stats_personal ON user_stats
    USING ((SELECT analytics.current_scope_mode()) = 'personal' AND user_id = (SELECT analytics.current_scope_user()));
ALTER POLICY user_stats_admin_opted_in ON user_stats
    USING ((SELECT analytics.current_scope_mode()) = 'admin'
           AND user_id IN (SELECT id FROM users WHERE share_activity_with_admins));
ALTER POLICY content_requests_personal ON content_requests
    USING ((SELECT analytics.current_scope_mode()) = 'personal'
           AND requested_by_user_id = (SELECT analytics.current_scope_user()));
ALTER POLICY content_requests_admin_opted_in ON content_requests
    USING ((SELECT analytics.current_scope_mode()) = 'admin'
           AND requested_by_user_id IN (SELECT id FROM users WHERE share_activity_with_admins));
ALTER POLICY bandwidth_logs_personal ON bandwidth_logs
    USING ((SELECT analytics.current_scope_mode()) = 'personal' AND user_id = (SELECT analytics.current_scope_user()));
ALTER POLICY bandwidth_logs_admin_opted_in ON bandwidth_logs
    USING ((SELECT analytics.current_scope_mode()) = 'admin'
           AND user_id IN (SELECT id FROM users WHERE share_activity_with_admins));
ALTER POLICY chat_history_personal ON chat_history
    USING ((SELECT analytics.current_scope_mode()) = 'personal' AND user_id = (SELECT analytics.current_scope_user()));
ALTER POLICY ai_conversation_feedback_personal ON ai_conversation_feedback
    USING ((SELECT analytics.current_scope_mode()) = 'personal' AND user_id = (SELECT analytics.current_scope_user()));

-- Policies: the tables that had none -------------------------------------------------

-- users: admin mode sees everyone (per-user totals are its job); personal mode
-- sees the asker and the admins (approvers may be named), nobody else.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_admin ON users FOR SELECT TO marquee_engine
    USING ((SELECT analytics.current_scope_mode()) = 'admin');
CREATE POLICY users_personal ON users FOR SELECT TO marquee_engine
    USING ((SELECT analytics.current_scope_mode()) = 'personal'
           AND (id = (SELECT analytics.current_scope_user()) OR role = 'admin'));

-- The library: any scope, no scope nothing.
ALTER TABLE media_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY media_items_any_scope ON media_items FOR SELECT TO marquee_engine
    USING ((SELECT analytics.current_scope_mode()) IS NOT NULL);
ALTER TABLE media_external_ids ENABLE ROW LEVEL SECURITY;
CREATE POLICY media_external_ids_any_scope ON media_external_ids FOR SELECT TO marquee_engine
    USING ((SELECT analytics.current_scope_mode()) IS NOT NULL);

-- Operations: admin mode only.
ALTER TABLE sync_schedule ENABLE ROW LEVEL SECURITY;
CREATE POLICY sync_schedule_admin ON sync_schedule FOR SELECT TO marquee_engine
    USING ((SELECT analytics.current_scope_mode()) = 'admin');
ALTER TABLE webhook_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_log_admin ON webhook_log FOR SELECT TO marquee_engine
    USING ((SELECT analytics.current_scope_mode()) = 'admin');
ALTER TABLE api_logs ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_logs_admin ON api_logs FOR SELECT TO marquee_engine
    USING ((SELECT analytics.current_scope_mode()) = 'admin');
ALTER TABLE deletion_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY deletion_log_admin ON deletion_log FOR SELECT TO marquee_engine
    USING ((SELECT analytics.current_scope_mode()) = 'admin');

-- No inference by narrow windows (issue 10, item 6): analytics.title_popularity
-- (functions/analytics_title_popularity.sql) now needs min_group_size viewers per
-- title in admin mode too, unless every viewer counted shares their activity.


REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics TO marquee_engine;
