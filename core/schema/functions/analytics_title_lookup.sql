-- The queries of core/tools/title_lookup.py (finding the title someone means),
-- run as the owner. Under the engine's row-level security on media_items, the
-- planner may not evaluate lower(title) or the trigram operator % (neither is
-- leakproof) before the policy's own check, so it could use neither
-- media_items_lower_title_idx nor media_items_title_trgm_idx and filtered all
-- 23,000 movies and shows of the large demo server on every lookup (30-200 ms
-- for "similar to X", "what about X", "do we have X"). The policy lets any
-- scope see every item, and so do these: the engine's logins in any verified
-- scope, nothing without one; other callers (the owner) as the table would.

-- Whether the caller may see media items: as the policy media_items_any_scope decides for the engine.
CREATE OR REPLACE FUNCTION analytics.may_see_media_items() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT analytics.current_scope_mode() IS NOT NULL
        OR NOT EXISTS (SELECT FROM marquee_wall.engine_login WHERE role_name = session_user)
$$;

CREATE OR REPLACE FUNCTION analytics.title_exact(p_text text, p_types text[])
RETURNS TABLE (id uuid, title text, media_type text, year integer, metadata jsonb, score real)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT mi.id, mi.title, mi.media_type, mi.year, mi.metadata, 1.0::real
    FROM media_items mi
    WHERE lower(mi.title) = lower(p_text) AND mi.media_type IN ('movie', 'show') AND mi.media_type = ANY (p_types)
      AND analytics.may_see_media_items()
    ORDER BY mi.year DESC NULLS LAST
    LIMIT 1
$$;

-- A title containing the words, else by trigram similarity at p_threshold (for this transaction).
CREATE OR REPLACE FUNCTION analytics.title_fuzzy(p_text text, p_types text[], p_pattern text, p_threshold real)
RETURNS TABLE (id uuid, title text, media_type text, year integer, metadata jsonb, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    IF NOT analytics.may_see_media_items() THEN
        RETURN;
    END IF;
    PERFORM set_config('pg_trgm.similarity_threshold', p_threshold::text, true);
    RETURN QUERY
    SELECT mi.id, mi.title, mi.media_type, mi.year, mi.metadata, similarity(mi.title, p_text)
    FROM media_items mi
    WHERE mi.media_type = ANY (p_types)
      AND (mi.title % p_text OR mi.title ILIKE p_pattern)
    ORDER BY mi.title ILIKE p_pattern DESC, similarity(mi.title, p_text) DESC, mi.year DESC NULLS LAST
    LIMIT 1;
END
$$;

-- Up to 200 titles sharing a few trigrams (p_threshold), the most similar first.
CREATE OR REPLACE FUNCTION analytics.title_near(p_text text, p_types text[], p_threshold real)
RETURNS TABLE (id uuid, title text, media_type text, year integer, metadata jsonb, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    IF NOT analytics.may_see_media_items() THEN
        RETURN;
    END IF;
    PERFORM set_config('pg_trgm.similarity_threshold', p_threshold::text, true);
    RETURN QUERY
    SELECT mi.id, mi.title, mi.media_type, mi.year, mi.metadata, similarity(mi.title, p_text)
    FROM media_items mi
    WHERE mi.media_type = ANY (p_types) AND mi.title % p_text
    ORDER BY similarity(mi.title, p_text) DESC
    LIMIT 200;
END
$$;

-- Functions are executable by PUBLIC when created; only the engine may call these.
REVOKE EXECUTE ON FUNCTION analytics.may_see_media_items() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.may_see_media_items() TO marquee_engine;
REVOKE EXECUTE ON FUNCTION analytics.title_exact(p_text text, p_types text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_exact(p_text text, p_types text[]) TO marquee_engine;
REVOKE EXECUTE ON FUNCTION analytics.title_fuzzy(p_text text, p_types text[], p_pattern text, p_threshold real) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_fuzzy(p_text text, p_types text[], p_pattern text, p_threshold real) TO marquee_engine;
REVOKE EXECUTE ON FUNCTION analytics.title_near(p_text text, p_types text[], p_threshold real) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.title_near(p_text text, p_types text[], p_threshold real) TO marquee_engine;
