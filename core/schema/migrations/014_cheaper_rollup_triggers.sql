-- The rollup triggers of 010 and 012, cheaper per statement for the bulk
-- writers (a sync writes plays 5,000 at a time, a few hundred statements in a row).
--
-- * The played items' titles are looked up by primary key for just the items
--   in the statement. Joining the transition table to media_items let the
--   planner hash all of media_items for every statement (50 ms a page on a
--   200 k-item library, a third of a first sync's rollup cost).
-- * Rows can only drop to zero sessions when some delta is negative, so the
--   clean-up DELETE runs only then.
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
