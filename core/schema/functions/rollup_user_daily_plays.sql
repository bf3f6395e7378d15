-- Keeps user_daily_plays (core/schema/migrations/017_live_rankings.sql)
-- current: sessions and time watched per user and UTC day of started_at.
--
-- Like title_viewer_sessions, the triggers apply deltas, which commute, so
-- concurrent writers never lose counts: the upsert locks each row, rows are
-- touched in key order so two writers cannot deadlock, and rows that reach
-- zero sessions are removed (only when some delta is negative). A play's day
-- and user are its own columns: nothing else is looked up, and deleting a
-- user or an item reaches this table through the cascaded delete of the plays.

CREATE OR REPLACE FUNCTION user_daily_plays_after_plays_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
DECLARE
    any_negative boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_daily_plays AS t (day, user_id, sessions, watched_seconds)
        SELECT (started_at AT TIME ZONE 'UTC')::date, user_id, count(*), sum(watched_seconds)
        FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (day, user_id) DO UPDATE
            SET sessions = t.sessions + excluded.sessions, watched_seconds = t.watched_seconds + excluded.watched_seconds;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO user_daily_plays AS t (day, user_id, sessions, watched_seconds)
        SELECT (started_at AT TIME ZONE 'UTC')::date, user_id, -count(*), -sum(watched_seconds)
        FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (day, user_id) DO UPDATE
            SET sessions = t.sessions + excluded.sessions, watched_seconds = t.watched_seconds + excluded.watched_seconds;
        any_negative := true;
    ELSE
        INSERT INTO user_daily_plays AS t (day, user_id, sessions, watched_seconds)
        SELECT day, user_id, sum(sessions), sum(watched_seconds)
        FROM (SELECT (started_at AT TIME ZONE 'UTC')::date AS day, user_id, 1 AS sessions,
                     watched_seconds::bigint AS watched_seconds FROM new_rows
              UNION ALL
              SELECT (started_at AT TIME ZONE 'UTC')::date, user_id, -1, -watched_seconds::bigint FROM old_rows) both_sides
        GROUP BY 1, 2
        HAVING sum(sessions) <> 0 OR sum(watched_seconds) <> 0
        ORDER BY 1, 2
        ON CONFLICT (day, user_id) DO UPDATE
            SET sessions = t.sessions + excluded.sessions, watched_seconds = t.watched_seconds + excluded.watched_seconds;
        any_negative := EXISTS (SELECT FROM old_rows);
    END IF;
    IF any_negative THEN
        DELETE FROM user_daily_plays t
        USING (SELECT DISTINCT (started_at AT TIME ZONE 'UTC')::date AS day, user_id FROM old_rows) d
        WHERE t.day = d.day AND t.user_id = d.user_id AND t.sessions <= 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION user_daily_plays_after_plays_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    TRUNCATE user_daily_plays;
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
