-- Semantic search and explained recommendations (issue 16).
--
-- Embeddings are optional: Marquee runs on a PostgreSQL without pgvector. So
-- nothing here needs the extension. This migration creates what works
-- everywhere: one bookkeeping row per embedded title (which model, which
-- dimension, the hash of the text that was embedded), the state of the
-- embedding job, and the full-text index the search falls back on.
--
-- The part that needs pgvector (CREATE EXTENSION vector, the `embedding`
-- column and its HNSW index for the configured dimension) is made by Marquee
-- when an embeddings endpoint is configured, before the first embedding run
-- (core/semantic/store.py, ensure_vector_store), idempotently and under the
-- migration lock. A server without pgvector, or an owner not allowed to create
-- the extension, gets one clear error in `marquee health` and the search falls
-- back to text matching; installing the extension later needs no migration.

CREATE TABLE media_embeddings (
    media_item_id  uuid PRIMARY KEY REFERENCES media_items (id) ON DELETE CASCADE,
    model          text NOT NULL,
    dimension      integer NOT NULL CHECK (dimension > 0),
    -- SHA-256 of the model name and the text embedded: a changed title, summary,
    -- genre or cast (or another model) changes it, and only then is it embedded again.
    content_hash   text NOT NULL,
    embedded_at    timestamptz NOT NULL DEFAULT now()
);

-- What the library is embedded with now, written by the embedding job; the
-- tools read it to know which vectors (model, dimension) they may compare.
CREATE TABLE embedding_state (
    only_row       boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    model          text NOT NULL,
    dimension      integer NOT NULL CHECK (dimension > 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The library is readable in any scope, and so are its vectors; no scope, nothing.
GRANT SELECT ON media_embeddings, embedding_state TO marquee_engine;
ALTER TABLE media_embeddings ENABLE ROW LEVEL SECURITY;
CREATE POLICY media_embeddings_any_scope ON media_embeddings FOR SELECT TO marquee_engine
    USING ((SELECT analytics.current_scope_mode()) IS NOT NULL);
ALTER TABLE embedding_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY embedding_state_any_scope ON embedding_state FOR SELECT TO marquee_engine
    USING ((SELECT analytics.current_scope_mode()) IS NOT NULL);

-- search_library without embeddings: words of the question against a title's
-- text (title, summary, genres, cast, directors, writers). The expression is
-- repeated verbatim in core/tools/semantic_search.py so the planner uses it.
CREATE INDEX media_items_search_text_idx ON media_items USING gin (
    to_tsvector('english'::regconfig,
        title || ' ' || coalesce(metadata ->> 'summary', '') || ' ' || coalesce(metadata ->> 'genres', '')
        || ' ' || coalesce(metadata ->> 'cast', '') || ' ' || coalesce(metadata ->> 'directors', '')
        || ' ' || coalesce(metadata ->> 'writers', ''))
) WHERE media_type IN ('movie', 'show');
