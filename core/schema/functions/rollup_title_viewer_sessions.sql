-- Keeps title_viewer_sessions (core/schema/migrations/003_rollups.sql)
-- current: lifetime sessions per (title, viewer), a show's episodes counting
-- for the show.
--
-- The triggers apply deltas (+n / -n sessions), which commute, so concurrent
-- writers never lose counts: the upsert locks each row, and rows are touched in
-- key order so two writers cannot deadlock. Rows that reach zero are removed.
-- A title is coalesce(parent_id, id) of the played item at the time of play;
-- re-parenting an item moves its sessions, deleting an item removes them.
--
-- Cheap per statement for the bulk writers (a sync writes plays 5,000 at a
-- time, a few hundred statements in a row):
-- * The played items' titles are looked up by primary key for just the items
--   in the statement. Joining the transition table to media_items let the
--   planner hash all of media_items for every statement (50 ms a page on a
--   200 k-item library, a third of a first sync's rollup cost).
-- * Rows can only drop to zero sessions when some delta is negative, so the
--   clean-up DELETE runs only then.

-- Adds each (title, viewer, delta) to the rollup; the same key may come several times.
CREATE OR REPLACE FUNCTION apply_title_viewer_deltas(p_title_ids uuid[], p_user_ids uuid[], p_deltas bigint[]) RETURNS void
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

    IF EXISTS (SELECT FROM unnest(p_deltas) AS delta WHERE delta < 0) THEN
        DELETE FROM title_viewer_sessions t
        USING unnest(p_title_ids, p_user_ids) AS d(title_id, user_id)
        WHERE t.title_id = d.title_id AND t.user_id = d.user_id AND t.sessions <= 0;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION title_viewer_sessions_after_plays_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
DECLARE
    item_ids uuid[];
    user_ids uuid[];
    deltas bigint[];
    title_ids uuid[];
BEGIN
    -- The change per (item, viewer): each operation sees only its own transition tables.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(media_item_id), array_agg(user_id), array_agg(delta) INTO item_ids, user_ids, deltas
        FROM (SELECT media_item_id, user_id, count(*) AS delta FROM new_rows GROUP BY 1, 2) c;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(media_item_id), array_agg(user_id), array_agg(delta) INTO item_ids, user_ids, deltas
        FROM (SELECT media_item_id, user_id, -count(*) AS delta FROM old_rows GROUP BY 1, 2) c;
    ELSE
        SELECT array_agg(media_item_id), array_agg(user_id), array_agg(delta) INTO item_ids, user_ids, deltas
        FROM (SELECT media_item_id, user_id, sum(delta) AS delta
              FROM (SELECT media_item_id, user_id, 1 AS delta FROM new_rows
                    UNION ALL
                    SELECT media_item_id, user_id, -1 FROM old_rows) both_sides
              GROUP BY 1, 2
              HAVING sum(delta) <> 0) c;
    END IF;
    IF item_ids IS NULL THEN
        RETURN NULL;
    END IF;
    -- Per title: the played items' titles by primary key. Plays whose item is
    -- already gone (a cascaded delete) were taken off by the media_items
    -- trigger before the item went, and find no title here.
    WITH changed AS (
        SELECT * FROM unnest(item_ids, user_ids, deltas) AS c(media_item_id, user_id, delta)
    ), titles AS (
        SELECT id, coalesce(parent_id, id) AS title_id FROM media_items
        WHERE id = ANY (ARRAY(SELECT DISTINCT unnest(item_ids)))
    )
    SELECT array_agg(k.title_id), array_agg(k.user_id), array_agg(k.delta) INTO title_ids, user_ids, deltas
    FROM (SELECT t.title_id, c.user_id, sum(c.delta) AS delta
          FROM changed c JOIN titles t ON t.id = c.media_item_id
          GROUP BY 1, 2
          HAVING sum(c.delta) <> 0) k;
    IF title_ids IS NOT NULL THEN
        PERFORM apply_title_viewer_deltas(title_ids, user_ids, deltas);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION title_viewer_sessions_after_plays_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    TRUNCATE title_viewer_sessions;
    RETURN NULL;
END
$$;

-- An item about to be deleted takes its plays off its title first: once it is
-- gone, the cascaded delete of its plays can no longer tell which title they were of.
CREATE OR REPLACE FUNCTION title_viewer_sessions_before_item_delete() RETURNS trigger
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
CREATE OR REPLACE FUNCTION title_viewer_sessions_after_item_reparent() RETURNS trigger
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

CREATE OR REPLACE TRIGGER title_viewer_sessions_insert AFTER INSERT ON watch_history
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION title_viewer_sessions_after_plays_change();
CREATE OR REPLACE TRIGGER title_viewer_sessions_update AFTER UPDATE ON watch_history
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION title_viewer_sessions_after_plays_change();
CREATE OR REPLACE TRIGGER title_viewer_sessions_delete AFTER DELETE ON watch_history
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION title_viewer_sessions_after_plays_change();
CREATE OR REPLACE TRIGGER title_viewer_sessions_truncate AFTER TRUNCATE ON watch_history
    FOR EACH STATEMENT EXECUTE FUNCTION title_viewer_sessions_after_plays_truncate();
CREATE OR REPLACE TRIGGER title_viewer_sessions_item_delete BEFORE DELETE ON media_items
    FOR EACH ROW EXECUTE FUNCTION title_viewer_sessions_before_item_delete();
CREATE OR REPLACE TRIGGER title_viewer_sessions_item_reparent AFTER UPDATE OF parent_id ON media_items
    FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION title_viewer_sessions_after_item_reparent();
