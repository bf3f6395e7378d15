-- search_library without embeddings: the titles whose text (title, summary,
-- genres, cast, directors, writers) matches the question's words, run as the
-- owner. Under the engine's row-level security on media_items the planner may
-- not evaluate to_tsvector or @@ (not leakproof) before the policy's check, so
-- it could not use media_items_search_text_idx and read all 200,000 items of
-- the large demo server (about 850 ms). Visibility is the policy's, as in
-- analytics_title_lookup.sql: the engine in any verified scope, nothing
-- without one. The expression must stay the index's (014_semantic_search.sql).
CREATE OR REPLACE FUNCTION analytics.title_text_match(p_query text, p_type text, p_limit integer)
RETURNS TABLE (id uuid, title text, media_type text, year integer, genres jsonb, audience_rating numeric, match numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    IF NOT analytics.may_see_media_items() THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT mi.id, mi.title, mi.media_type, mi.year, coalesce(mi.metadata -> 'genres', '[]'::jsonb),
           (mi.metadata ->> 'rating')::numeric,
           round(ts_rank(to_tsvector('english'::regconfig,
             mi.title || ' ' || coalesce(mi.metadata ->> 'summary', '') || ' ' || coalesce(mi.metadata ->> 'genres', '')
             || ' ' || coalesce(mi.metadata ->> 'cast', '') || ' ' || coalesce(mi.metadata ->> 'directors', '')
             || ' ' || coalesce(mi.metadata ->> 'writers', '')), q)::numeric, 3)
    FROM media_items mi, to_tsquery('english', p_query) q
    WHERE mi.media_type IN ('movie', 'show') AND mi.removed_at IS NULL
      AND to_tsvector('english'::regconfig,
             mi.title || ' ' || coalesce(mi.metadata ->> 'summary', '') || ' ' || coalesce(mi.metadata ->> 'genres', '')
             || ' ' || coalesce(mi.metadata ->> 'cast', '') || ' ' || coalesce(mi.metadata ->> 'directors', '')
             || ' ' || coalesce(mi.metadata ->> 'writers', '')) @@ q
      AND (p_type IS NULL OR mi.media_type = p_type)
    ORDER BY 7 DESC, 6 DESC NULLS LAST, 2
    LIMIT p_limit;
END
$$;

REVOKE EXECUTE ON FUNCTION analytics.title_text_match(p_query text, p_type text, p_limit integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_text_match(p_query text, p_type text, p_limit integer) TO marquee_engine;
