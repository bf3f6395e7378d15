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
-- functions of the "analytics" schema below: they run as the migrating user
-- (the table owner, to whom RLS does not apply), return only aggregates, and
-- carry their privacy rule (mode check, min_group_size) inside.

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
-- policy "user_id = analytics.scope_user_id()" can still use an index.
CREATE FUNCTION analytics.scope_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('marquee.user_id', true), '')::uuid $$;

CREATE FUNCTION analytics.scope_mode() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('marquee.mode', true), '') $$;

CREATE FUNCTION analytics.scope_min_group_size() RETURNS integer
    LANGUAGE sql STABLE
    AS $$ SELECT greatest(coalesce(nullif(current_setting('marquee.min_group_size', true), '')::integer, 2), 1) $$;

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

-- Aggregates across users (SECURITY DEFINER, search_path pinned) ---------------

-- Titles (movies, and shows with their episodes rolled up) played in a period,
-- with how many distinct users played them. Names nobody. In personal mode the
-- asker's own plays are not counted and a title needs at least
-- min_group_size other viewers; in admin mode p_min_viewers applies.
CREATE FUNCTION analytics.title_popularity(p_start timestamptz, p_end timestamptz, p_min_viewers integer)
RETURNS TABLE (media_item_id uuid, title text, media_type text, year integer, library_name text,
               genres jsonb, viewers bigint, sessions bigint, watched_seconds bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH plays AS (
        SELECT coalesce(mi.parent_id, mi.id) AS top_id, wh.user_id, wh.watched_seconds
        FROM watch_history wh
        JOIN media_items mi ON mi.id = wh.media_item_id
        WHERE wh.started_at >= p_start AND wh.started_at < p_end
          AND analytics.scope_mode() IN ('personal', 'admin')
          AND (analytics.scope_mode() = 'admin' OR wh.user_id IS DISTINCT FROM analytics.scope_user_id())
    ), per_title AS (
        SELECT top_id, count(DISTINCT user_id) AS viewers, count(*) AS sessions,
               sum(watched_seconds)::bigint AS watched_seconds
        FROM plays GROUP BY top_id
    )
    SELECT t.id, t.title, t.media_type, t.year, t.library_name, coalesce(t.metadata -> 'genres', '[]'::jsonb),
           p.viewers, p.sessions, p.watched_seconds
    FROM per_title p
    JOIN media_items t ON t.id = p.top_id
    WHERE p.viewers >= CASE WHEN analytics.scope_mode() = 'personal'
                            THEN greatest(analytics.scope_min_group_size(), coalesce(p_min_viewers, 1))
                            ELSE greatest(coalesce(p_min_viewers, 1), 1) END
$$;

-- Request timing across the server: counts and durations only.
CREATE FUNCTION analytics.request_timing(p_start timestamptz, p_end timestamptz)
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

-- How quickly each approver approves. Approvers are admins and may be named.
CREATE FUNCTION analytics.approver_speed(p_start timestamptz, p_end timestamptz)
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

-- Declined requests for admins: titles and reasons, never who asked.
CREATE FUNCTION analytics.declined_requests(p_start timestamptz, p_end timestamptz)
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

-- Per-user totals for admins over a period: how much, never which titles.
-- sessions/watched/completed/distinct_items count watch_history rows started in
-- the period; ratings_given is lifetime (user_stats has no rating time);
-- requests_made counts requests made in the period; requested_item_sessions
-- counts the user's sessions of titles someone else requested.
CREATE FUNCTION analytics.user_activity(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, role text, created_at timestamptz,
               last_login_at timestamptz, login_count integer, sessions bigint, watched_seconds bigint,
               completed_plays bigint, distinct_items bigint, ratings_given bigint,
               avg_rating_given double precision, requests_made bigint, requested_item_sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH watch AS (
        SELECT wh.user_id, count(*) AS sessions, sum(wh.watched_seconds)::bigint AS watched_seconds,
               count(*) FILTER (WHERE wh.percent_complete >= 90) AS completed_plays,
               count(DISTINCT wh.media_item_id) AS distinct_items,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM content_requests cr
                   WHERE cr.media_item_id = coalesce(mi.parent_id, mi.id)
                     AND cr.requested_by_user_id <> wh.user_id)) AS requested_item_sessions
        FROM watch_history wh
        JOIN media_items mi ON mi.id = wh.media_item_id
        WHERE wh.started_at >= p_start AND wh.started_at < p_end
        GROUP BY wh.user_id
    ), ratings AS (
        SELECT us.user_id, count(us.rating) AS ratings_given, avg(us.rating)::double precision AS avg_rating
        FROM user_stats us WHERE us.rating IS NOT NULL GROUP BY us.user_id
    ), requests AS (
        SELECT requested_by_user_id AS user_id, count(*) AS requests_made
        FROM content_requests WHERE requested_at >= p_start AND requested_at < p_end
        GROUP BY requested_by_user_id
    )
    SELECT u.id, u.username, u.display_name, u.role, u.created_at, u.last_login_at, u.login_count,
           coalesce(w.sessions, 0), coalesce(w.watched_seconds, 0), coalesce(w.completed_plays, 0),
           coalesce(w.distinct_items, 0), coalesce(r.ratings_given, 0), r.avg_rating,
           coalesce(q.requests_made, 0), coalesce(w.requested_item_sessions, 0)
    FROM users u
    LEFT JOIN watch w ON w.user_id = u.id
    LEFT JOIN ratings r ON r.user_id = u.id
    LEFT JOIN requests q ON q.user_id = u.id
    WHERE analytics.scope_mode() = 'admin'
$$;

-- What happened to each user's requests (made in the period) after they
-- arrived: how many other people played them, how often, how others rated
-- them, and whether the requester watched them at all. Admin only; no titles.
CREATE FUNCTION analytics.requester_influence(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, requests bigint, fulfilled bigint,
               fulfilled_watched_by_requester bigint, fulfilled_watched_by_others bigint,
               other_viewers bigint, other_sessions bigint, other_ratings bigint,
               other_avg_rating double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH reqs AS (
        SELECT cr.id, cr.requested_by_user_id AS requester, cr.media_item_id
        FROM content_requests cr
        WHERE cr.requested_at >= p_start AND cr.requested_at < p_end
    ), items AS (
        -- the requested title and, for a show, its episodes
        SELECT r.id AS request_id, r.requester, mi.id AS item_id
        FROM reqs r JOIN media_items mi ON mi.id = r.media_item_id OR mi.parent_id = r.media_item_id
        WHERE r.media_item_id IS NOT NULL
    ), plays AS (
        SELECT i.request_id, i.requester, wh.user_id
        FROM items i JOIN watch_history wh ON wh.media_item_id = i.item_id
    ), rated AS (
        SELECT i.request_id, i.requester, us.user_id, us.rating
        FROM items i JOIN user_stats us ON us.media_item_id = i.item_id
        WHERE us.rating IS NOT NULL AND us.user_id <> i.requester
    ), per_request AS (
        SELECT r.id, r.requester, r.media_item_id IS NOT NULL AS fulfilled,
               EXISTS (SELECT 1 FROM plays p WHERE p.request_id = r.id AND p.user_id = r.requester) AS self_watched,
               EXISTS (SELECT 1 FROM plays p WHERE p.request_id = r.id AND p.user_id <> r.requester) AS others_watched
        FROM reqs r
    ), per_user AS (
        SELECT requester, count(*) AS requests, count(*) FILTER (WHERE fulfilled) AS fulfilled,
               count(*) FILTER (WHERE fulfilled AND self_watched) AS self_watched,
               count(*) FILTER (WHERE fulfilled AND others_watched) AS others_watched
        FROM per_request GROUP BY requester
    ), other_plays AS (
        SELECT requester, count(DISTINCT user_id) AS viewers, count(*) AS sessions
        FROM plays WHERE user_id <> requester GROUP BY requester
    ), other_ratings AS (
        SELECT requester, count(*) AS ratings, avg(rating)::double precision AS avg_rating
        FROM rated GROUP BY requester
    )
    SELECT u.id, u.username, u.display_name, pu.requests, pu.fulfilled, pu.self_watched, pu.others_watched,
           coalesce(op.viewers, 0), coalesce(op.sessions, 0), coalesce(orr.ratings, 0), orr.avg_rating
    FROM per_user pu
    JOIN users u ON u.id = pu.requester
    LEFT JOIN other_plays op ON op.requester = pu.requester
    LEFT JOIN other_ratings orr ON orr.requester = pu.requester
    WHERE analytics.scope_mode() = 'admin'
$$;

-- Lifetime engagement of every title (movie or show) added before a time:
-- plays and viewers from user_stats, size (a show's is its episodes' sum) and
-- how much of that size is known. For "never watched" and "what to remove".
CREATE FUNCTION analytics.title_engagement(p_added_before timestamptz)
RETURNS TABLE (media_item_id uuid, title text, media_type text, year integer, library_name text,
               added_at timestamptz, audience_rating double precision, size_bytes bigint,
               files bigint, files_with_size bigint, plays bigint, viewers bigint,
               avg_user_rating double precision, last_played_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH files AS (
        SELECT coalesce(mi.parent_id, mi.id) AS top_id, mi.id, mi.file_size_bytes
        FROM media_items mi WHERE mi.media_type IN ('movie', 'episode')
    ), sizes AS (
        SELECT top_id, sum(file_size_bytes)::bigint AS size_bytes, count(*) AS files,
               count(file_size_bytes) AS files_with_size
        FROM files GROUP BY top_id
    ), plays AS (
        SELECT f.top_id, sum(us.play_count)::bigint AS plays, count(DISTINCT us.user_id) AS viewers,
               avg(us.rating)::double precision AS avg_rating, max(us.last_played_at) AS last_played_at
        FROM user_stats us JOIN files f ON f.id = us.media_item_id
        GROUP BY f.top_id
    )
    SELECT t.id, t.title, t.media_type, t.year, t.library_name, t.added_at,
           (t.metadata ->> 'rating')::double precision, s.size_bytes, coalesce(s.files, 0),
           coalesce(s.files_with_size, 0), coalesce(p.plays, 0), coalesce(p.viewers, 0), p.avg_rating,
           p.last_played_at
    FROM media_items t
    LEFT JOIN sizes s ON s.top_id = t.id
    LEFT JOIN plays p ON p.top_id = t.id
    WHERE t.media_type IN ('movie', 'show') AND t.added_at < p_added_before
      AND analytics.scope_mode() = 'admin'
$$;

-- Bandwidth per user for admins (a NULL user is a deleted account).
CREATE FUNCTION analytics.bandwidth_by_user(p_start timestamptz, p_end timestamptz)
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

-- Functions are executable by PUBLIC by default; only the engine may call these.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics TO marquee_engine;

-- Indexes the tools need ------------------------------------------------------------

-- Recommendations and "highly rated": titles by audience rating.
CREATE INDEX media_items_top_rating_idx ON media_items (((metadata ->> 'rating')::numeric) DESC NULLS LAST)
    WHERE media_type IN ('movie', 'show');
-- Per-user ratings ("my average rating", "who rates the most").
CREATE INDEX user_stats_user_rating_idx ON user_stats (user_id) INCLUDE (rating, media_item_id)
    WHERE rating IS NOT NULL;
-- Requests by approval / decline time.
CREATE INDEX content_requests_declined_idx ON content_requests (declined_at) WHERE status = 'declined';
