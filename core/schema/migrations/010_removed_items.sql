-- Items deleted from the media server. A library pass that no longer finds an
-- item marks its link to that server (media_external_ids.removed_at); the item
-- itself is removed (media_items.removed_at) once no media server still has it.
-- Removed items stay, with their plays: history still names them, while the
-- library's state (storage, unwatched, removal candidates, what is new) leaves
-- them out. An item found again is cleared.
ALTER TABLE media_items ADD COLUMN removed_at timestamptz;
ALTER TABLE media_external_ids ADD COLUMN removed_at timestamptz;

-- Few rows are ever removed: these keep "clear what came back", run for every
-- page a library sync writes, to a look-up in a tiny index.
CREATE INDEX media_external_ids_removed_idx ON media_external_ids (service, external_id)
    WHERE removed_at IS NOT NULL;
CREATE INDEX media_items_removed_idx ON media_items (id) WHERE removed_at IS NOT NULL;
