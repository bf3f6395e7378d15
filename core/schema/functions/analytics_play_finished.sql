-- Whether a play was finished, the one definition every count of finished
-- plays uses (user_stats.play_count, completed plays, a show's episodes done):
-- the service's own verdict (watch_history.service_watched) when it gave one,
-- else percent_complete of at least the configured percentage
-- (play_rules.watched_percent, from MARQUEE_WATCHED_PERCENT). NULL, which a
-- FILTER or WHERE treats as not finished, when neither is known.
--
-- Callers pass the percentage as (SELECT analytics.watched_percent()): an
-- uncorrelated sub-select is read once per query, and play_finished, plain
-- SQL, is inlined into the scan, so counting a million plays costs nothing extra.
-- The file's name sorts it before the analytics functions that call these.

CREATE OR REPLACE FUNCTION analytics.watched_percent() RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT watched_percent FROM play_rules
$$;

CREATE OR REPLACE FUNCTION analytics.play_finished(p_service_watched boolean, p_percent_complete numeric,
                                                   p_watched_percent numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(p_service_watched, p_percent_complete >= p_watched_percent)
$$;

-- Functions are executable by PUBLIC when created; the engine's tools count finished plays too.
REVOKE EXECUTE ON FUNCTION analytics.watched_percent() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.watched_percent() TO marquee_engine;
REVOKE EXECUTE ON FUNCTION analytics.play_finished(boolean, numeric, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.play_finished(boolean, numeric, numeric) TO marquee_engine;
