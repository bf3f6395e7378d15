-- Lifetime sessions per (title, viewer), kept current by triggers.
--
-- analytics.requester_influence (requests watched by others, content
-- discoverers, power users, requesters who skip their requests) grouped every
-- play of every requested title on every call: 2.5 M plays on the large demo
-- server, over 2 s. Rolled up per title (a show's episodes count for the show)
-- and viewer they are about 450 k rows in all.
--
-- The triggers apply deltas (+n / -n sessions), which commute, so concurrent
-- writers never lose counts: the upsert locks each row, and rows are touched in
-- key order so two writers cannot deadlock. Rows that reach zero are removed.
-- A title is coalesce(parent_id, id) of the played item at the time of play;
-- re-parenting an item moves its sessions, deleting an item removes them.
CREATE TABLE title_viewer_sessions (
    title_id  uuid NOT NULL,
    user_id   uuid NOT NULL,
    sessions  bigint NOT NULL,
    PRIMARY KEY (title_id, user_id)
);

-- Adds each (title, viewer, delta) to the rollup; the same key may come several times.
CREATE FUNCTION apply_title_viewer_deltas(p_title_ids uuid[], p_user_ids uuid[], p_deltas bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    INSERT INTO title_viewer_sessions AS t (title_id, user_id, sessions)
    SELECT d.title_id, d.user_id, sum(d.delta)
    FROM unnest(p_title_ids, p_user_ids, p_deltas) AS d(title_id, user_id, delta)
    GROUP BY d.title_id, d.user_id
    HAVING sum(d.delta) <> 0
    ORDER BY d.title_id, d.user_id
    ON CONFLICT (title_id, user_id) DO UPDATE SET sessions = t.sessions + excluded.sessions;

    DELETE FROM title_viewer_sessions t
    USING unnest(p_title_ids, p_user_ids) AS d(title_id, user_id)
    WHERE t.title_id = d.title_id AND t.user_id = d.user_id AND t.sessions <= 0;
END
$$;

CREATE FUNCTION title_viewer_sessions_after_plays_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
DECLARE
    title_ids uuid[];
    user_ids uuid[];
    deltas bigint[];
BEGIN
    -- Plays whose item is already gone (a cascaded delete) were taken off by
    -- the media_items trigger before the item went.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(k.title_id), array_agg(k.user_id), array_agg(k.delta) INTO title_ids, user_ids, deltas
        FROM (SELECT coalesce(mi.parent_id, mi.id) AS title_id, n.user_id, count(*) AS delta
              FROM new_rows n JOIN media_items mi ON mi.id = n.media_item_id
              GROUP BY 1, 2) k;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(k.title_id), array_agg(k.user_id), array_agg(k.delta) INTO title_ids, user_ids, deltas
        FROM (SELECT coalesce(mi.parent_id, mi.id) AS title_id, o.user_id, -count(*) AS delta
              FROM old_rows o JOIN media_items mi ON mi.id = o.media_item_id
              GROUP BY 1, 2) k;
    ELSE
        SELECT array_agg(k.title_id), array_agg(k.user_id), array_agg(k.delta) INTO title_ids, user_ids, deltas
        FROM (SELECT coalesce(mi.parent_id, mi.id) AS title_id, c.user_id, sum(c.delta) AS delta
              FROM (SELECT media_item_id, user_id, 1 AS delta FROM new_rows
                    UNION ALL
                    SELECT media_item_id, user_id, -1 FROM old_rows) c
              JOIN media_items mi ON mi.id = c.media_item_id
              GROUP BY 1, 2
              HAVING sum(c.delta) <> 0) k;
    END IF;
    IF title_ids IS NOT NULL THEN
        PERFORM apply_title_viewer_deltas(title_ids, user_ids, deltas);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION title_viewer_sessions_after_plays_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    TRUNCATE title_viewer_sessions;
    RETURN NULL;
END
$$;

-- An item about to be deleted takes its plays off its title first: once it is
-- gone, the cascaded delete of its plays can no longer tell which title they were of.
CREATE FUNCTION title_viewer_sessions_before_item_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
DECLARE
    user_ids uuid[];
    deltas bigint[];
BEGIN
    SELECT array_agg(p.user_id), array_agg(-p.plays) INTO user_ids, deltas
    FROM (SELECT user_id, count(*) AS plays FROM watch_history WHERE media_item_id = OLD.id GROUP BY user_id) p;
    IF user_ids IS NOT NULL THEN
        PERFORM apply_title_viewer_deltas(
            array_fill(coalesce(OLD.parent_id, OLD.id), ARRAY[cardinality(user_ids)]), user_ids, deltas);
    END IF;
    RETURN OLD;
END
$$;

-- An item moved under another title (or out from under one) moves its plays.
CREATE FUNCTION title_viewer_sessions_after_item_reparent() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
DECLARE
    user_ids uuid[];
    plays bigint[];
    n integer;
BEGIN
    SELECT array_agg(p.user_id), array_agg(p.plays) INTO user_ids, plays
    FROM (SELECT user_id, count(*) AS plays FROM watch_history WHERE media_item_id = NEW.id GROUP BY user_id) p;
    IF user_ids IS NOT NULL THEN
        n := cardinality(user_ids);
        PERFORM apply_title_viewer_deltas(
            array_fill(coalesce(OLD.parent_id, OLD.id), ARRAY[n]) || array_fill(coalesce(NEW.parent_id, NEW.id), ARRAY[n]),
            user_ids || user_ids,
            (SELECT array_agg(-x) FROM unnest(plays) AS x) || plays);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER title_viewer_sessions_insert AFTER INSERT ON watch_history
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION title_viewer_sessions_after_plays_change();
CREATE TRIGGER title_viewer_sessions_update AFTER UPDATE ON watch_history
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION title_viewer_sessions_after_plays_change();
CREATE TRIGGER title_viewer_sessions_delete AFTER DELETE ON watch_history
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION title_viewer_sessions_after_plays_change();
CREATE TRIGGER title_viewer_sessions_truncate AFTER TRUNCATE ON watch_history
    FOR EACH STATEMENT EXECUTE FUNCTION title_viewer_sessions_after_plays_truncate();
CREATE TRIGGER title_viewer_sessions_item_delete BEFORE DELETE ON media_items
    FOR EACH ROW EXECUTE FUNCTION title_viewer_sessions_before_item_delete();
CREATE TRIGGER title_viewer_sessions_item_reparent AFTER UPDATE OF parent_id ON media_items
    FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION title_viewer_sessions_after_item_reparent();

INSERT INTO title_viewer_sessions (title_id, user_id, sessions)
SELECT coalesce(mi.parent_id, mi.id), wh.user_id, count(*)
FROM watch_history wh JOIN media_items mi ON mi.id = wh.media_item_id
GROUP BY 1, 2;

-- requester_influence of 006, reading per-title sessions instead of every
-- play. A request for a movie or a show reads its title's rows; a request
-- pointing at a single episode still counts that episode's own plays.
CREATE OR REPLACE FUNCTION analytics.requester_influence(p_start timestamptz, p_end timestamptz)
RETURNS TABLE (user_id uuid, username text, display_name text, requests bigint, fulfilled bigint,
               fulfilled_watched_by_requester bigint, fulfilled_watched_by_others bigint,
               other_viewers bigint, other_sessions bigint, other_ratings bigint,
               other_avg_rating double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH reqs AS (
        SELECT cr.id, cr.requested_by_user_id AS requester, cr.media_item_id, mi.parent_id IS NOT NULL AS is_episode
        FROM content_requests cr
        LEFT JOIN media_items mi ON mi.id = cr.media_item_id
        WHERE cr.requested_at >= p_start AND cr.requested_at < p_end
    ), items AS (
        SELECT r.id AS request_id, r.requester, r.media_item_id AS item_id
        FROM reqs r WHERE r.media_item_id IS NOT NULL
        UNION ALL
        SELECT r.id, r.requester, e.id
        FROM reqs r JOIN media_items e ON e.parent_id = r.media_item_id
    ), plays AS (
        SELECT r.id AS request_id, r.requester, v.user_id, v.sessions
        FROM reqs r JOIN title_viewer_sessions v ON v.title_id = r.media_item_id
        WHERE NOT r.is_episode
        UNION ALL
        SELECT r.id, r.requester, wh.user_id, count(*)
        FROM reqs r JOIN watch_history wh ON wh.media_item_id = r.media_item_id
        WHERE r.is_episode
        GROUP BY r.id, r.requester, wh.user_id
    ), rated AS (
        SELECT i.requester, us.rating
        FROM items i JOIN user_stats us ON us.media_item_id = i.item_id
        WHERE us.rating IS NOT NULL AND us.user_id <> i.requester
    ), per_request AS (
        SELECT r.id, r.requester, r.media_item_id IS NOT NULL AS fulfilled,
               coalesce(bool_or(p.user_id = r.requester), false) AS self_watched,
               coalesce(bool_or(p.user_id <> r.requester), false) AS others_watched
        FROM reqs r LEFT JOIN plays p ON p.request_id = r.id
        GROUP BY r.id, r.requester, r.media_item_id
    ), per_user AS (
        SELECT requester, count(*) AS requests, count(*) FILTER (WHERE fulfilled) AS fulfilled,
               count(*) FILTER (WHERE fulfilled AND self_watched) AS self_watched,
               count(*) FILTER (WHERE fulfilled AND others_watched) AS others_watched
        FROM per_request GROUP BY requester
    ), other_plays AS (
        SELECT requester, count(DISTINCT user_id) AS viewers, sum(sessions)::bigint AS sessions
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

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics TO marquee_engine;
