-- search_library's word match (issue 17): each movie's and show's searchable
-- text as a stored tsvector, so a search reads it instead of building it again.
--
-- The words of a question are ORed, so common words match thousands of titles;
-- analytics.title_text_match ranks every match with ts_rank, and with only the
-- expression index of 014_semantic_search.sql it rebuilt each match's tsvector
-- from title and metadata to do so (86-90 ms p95 on the large demo server, for
-- 6,500 matches of "a slow-burn heist film"). PostgreSQL computes the column on
-- every insert and update, so no writer has to know about it (and none may
-- write it).
--
-- The expression is the old index's, word for word: the same titles match and
-- rank the same. Episodes are never searched (the index is partial) and get
-- NULL, which spares the sync and the demo generator the text of 130,000
-- episodes on a large server. Adding the column rewrites media_items once
-- (5 s on the large demo server) and empties its visibility map, hence:
-- vacuum after: media_items
--
-- The expression index goes first (the rewrite would rebuild it for nothing);
-- the column's index takes its name and its place.
DROP INDEX media_items_search_text_idx;

ALTER TABLE media_items ADD COLUMN search_text tsvector GENERATED ALWAYS AS (
    CASE WHEN media_type IN ('movie', 'show') THEN
        to_tsvector('english'::regconfig,
            title || ' ' || coalesce(metadata ->> 'summary', '') || ' ' || coalesce(metadata ->> 'genres', '')
            || ' ' || coalesce(metadata ->> 'cast', '') || ' ' || coalesce(metadata ->> 'directors', '')
            || ' ' || coalesce(metadata ->> 'writers', ''))
    END
) STORED;

CREATE INDEX media_items_search_text_idx ON media_items USING gin (search_text)
    WHERE media_type IN ('movie', 'show');
