-- Title lookups try an exact, case-insensitive match before the trigram search
-- (core/tools/title_lookup.py): a common word in a title makes the trigram
-- search visit tens of thousands of rows on a large library.
CREATE INDEX media_items_lower_title_idx ON media_items (lower(title)) WHERE media_type IN ('movie', 'show');
