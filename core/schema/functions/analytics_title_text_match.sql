-- search_library without embeddings: the titles whose text (title, summary,
-- genres, cast, directors, writers) matches the question's words, run as the
-- owner. Under the engine's row-level security on media_items the planner may
-- not evaluate @@ (not leakproof) before the policy's check, so it could not
-- use media_items_search_text_idx and read all 200,000 items of the large demo
-- server (about 850 ms). Visibility is the policy's, as in
-- analytics_title_lookup.sql: the engine in any verified scope, nothing
-- without one.
--
-- The text is media_items.search_text, stored when a title is written
-- (016_search_text.sql): the words are ORed and common ones match thousands of
-- titles, each of which is ranked, and ranking a stored vector costs a fraction
-- of rebuilding it from title and metadata. Only the sort keys of the matches
-- are taken before the top p_limit are chosen (a top-N heap sort over the
-- index's matches, as before); the rest of a row (year, genres) is read for
-- those alone, and they keep the order the sort gave them, ties included.
CREATE OR REPLACE FUNCTION analytics.title_text_match(p_query text, p_type text, p_limit integer)
RETURNS TABLE (id uuid, title text, media_type text, year integer, genres jsonb, audience_rating numeric, match numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    IF NOT analytics.may_see_media_items() THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH best AS MATERIALIZED (
        SELECT mi.id, round(ts_rank(mi.search_text, q)::numeric, 3) AS match,
               (mi.metadata ->> 'rating')::numeric AS audience_rating, mi.title
        FROM media_items mi, to_tsquery('english', p_query) q
        WHERE mi.media_type IN ('movie', 'show') AND mi.removed_at IS NULL
          AND mi.search_text @@ q
          AND (p_type IS NULL OR mi.media_type = p_type)
        ORDER BY 2 DESC, 3 DESC NULLS LAST, 4
        LIMIT p_limit
    )
    SELECT mi.id, mi.title, mi.media_type, mi.year, coalesce(mi.metadata -> 'genres', '[]'::jsonb),
           b.audience_rating, b.match
    FROM (SELECT best.*, row_number() OVER () AS place FROM best) b
    JOIN media_items mi ON mi.id = b.id
    ORDER BY b.place;
END
$$;

REVOKE EXECUTE ON FUNCTION analytics.title_text_match(p_query text, p_type text, p_limit integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_text_match(p_query text, p_type text, p_limit integer) TO marquee_engine;
