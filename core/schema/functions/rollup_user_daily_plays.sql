-- Keeps user_daily_plays and user_monthly_plays
-- (core/schema/migrations/017_live_rankings.sql) current: sessions and time
-- watched per user and UTC day (and month) of started_at.
--
-- Like title_viewer_sessions, the triggers apply deltas, which commute, so
-- concurrent writers never lose counts: the upserts lock each row, rows are
-- touched in key order so two writers cannot deadlock, and rows that reach
-- zero sessions are removed (only when some delta is negative). A play's day
-- and user are its own columns: nothing else is looked up, and deleting a
-- user or an item reaches these tables through the cascaded delete of the plays.

CREATE OR REPLACE FUNCTION user_daily_plays_after_plays_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
DECLARE
    days date[];
    user_ids uuid[];
    sessions bigint[];
    seconds bigint[];
BEGIN
    -- The change per (day, user): each operation sees only its own transition tables.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(day), array_agg(user_id), array_agg(s), array_agg(w) INTO days, user_ids, sessions, seconds
        FROM (SELECT (started_at AT TIME ZONE 'UTC')::date AS day, user_id, count(*) AS s, sum(watched_seconds) AS w
              FROM new_rows GROUP BY 1, 2) c;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(day), array_agg(user_id), array_agg(s), array_agg(w) INTO days, user_ids, sessions, seconds
        FROM (SELECT (started_at AT TIME ZONE 'UTC')::date AS day, user_id, -count(*) AS s, -sum(watched_seconds) AS w
              FROM old_rows GROUP BY 1, 2) c;
    ELSE
        SELECT array_agg(day), array_agg(user_id), array_agg(s), array_agg(w) INTO days, user_ids, sessions, seconds
        FROM (SELECT day, user_id, sum(s) AS s, sum(w) AS w
              FROM (SELECT (started_at AT TIME ZONE 'UTC')::date AS day, user_id, 1 AS s,
                           watched_seconds::bigint AS w FROM new_rows
                    UNION ALL
                    SELECT (started_at AT TIME ZONE 'UTC')::date, user_id, -1, -watched_seconds::bigint
                    FROM old_rows) both_sides
              GROUP BY 1, 2
              HAVING sum(s) <> 0 OR sum(w) <> 0) c;
    END IF;
    IF days IS NULL THEN
        RETURN NULL;
    END IF;

    INSERT INTO user_daily_plays AS t (day, user_id, sessions, watched_seconds)
    SELECT d.day, d.user_id, d.s, d.w
    FROM unnest(days, user_ids, sessions, seconds) AS d(day, user_id, s, w)
    ORDER BY d.day, d.user_id
    ON CONFLICT (day, user_id) DO UPDATE
        SET sessions = t.sessions + excluded.sessions, watched_seconds = t.watched_seconds + excluded.watched_seconds;
    INSERT INTO user_monthly_plays AS t (month, user_id, sessions, watched_seconds)
    SELECT date_trunc('month', d.day::timestamp)::date, d.user_id, sum(d.s), sum(d.w)
    FROM unnest(days, user_ids, sessions, seconds) AS d(day, user_id, s, w)
    GROUP BY 1, 2
    HAVING sum(d.s) <> 0 OR sum(d.w) <> 0
    ORDER BY 1, 2
    ON CONFLICT (month, user_id) DO UPDATE
        SET sessions = t.sessions + excluded.sessions, watched_seconds = t.watched_seconds + excluded.watched_seconds;

    IF EXISTS (SELECT FROM unnest(sessions) AS s WHERE s < 0) THEN
        DELETE FROM user_daily_plays t
        USING unnest(days, user_ids) AS d(day, user_id)
        WHERE t.day = d.day AND t.user_id = d.user_id AND t.sessions <= 0;
        DELETE FROM user_monthly_plays t
        USING unnest(days, user_ids) AS d(day, user_id)
        WHERE t.month = date_trunc('month', d.day::timestamp)::date AND t.user_id = d.user_id AND t.sessions <= 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION user_daily_plays_after_plays_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    TRUNCATE user_daily_plays, user_monthly_plays;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER user_daily_plays_insert AFTER INSERT ON watch_history
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_daily_plays_after_plays_change();
CREATE OR REPLACE TRIGGER user_daily_plays_update AFTER UPDATE ON watch_history
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_daily_plays_after_plays_change();
CREATE OR REPLACE TRIGGER user_daily_plays_delete AFTER DELETE ON watch_history
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_daily_plays_after_plays_change();
CREATE OR REPLACE TRIGGER user_daily_plays_truncate AFTER TRUNCATE ON watch_history
    FOR EACH STATEMENT EXECUTE FUNCTION user_daily_plays_after_plays_truncate();
